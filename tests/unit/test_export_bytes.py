"""The fast ways of writing the bundle write the bytes the plain ways wrote: `json_bytes` (orjson)
those of `json.dumps(…, indent=2)`, `fhir_json` (entry by entry) those of the whole Bundle
dumped at once. The reference here is the json module itself, so any difference shows."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kiosk.db import db
from kiosk.domain.export import (
    FHIR_JSON,
    MANIFEST,
    count_resources,
    floats_written_alike,
    json_bytes,
    visit_rows,
)
from kiosk.domain.fhir import fhir_bundle, fhir_json
from kiosk.models import Campaign
from tests.unit.test_export import CAMPAIGN_DAY, ZONE, bundle_of, members
from tests.unit.test_fhir import visits  # noqa: F401  (the simulated day, with answers)


def dumped(data) -> bytes:
    """How the bundle's JSON files were written before orjson."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats()  # NaN, infinities, 5e-324, 1e-05: where orjson writes otherwise
    | st.floats(min_value=30, max_value=250)  # the measurements
    | st.text(),  # control characters, quotes, backslashes, Arabic, U+2028
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_json_bytes_are_those_of_json_dumps(data):
    assert json_bytes(data) == dumped(data)


@given(st.dictionaries(st.integers() | st.booleans() | st.none(), st.integers(), min_size=1))
def test_keys_that_are_not_strings_are_written_as_json_dumps_writes_them(data):
    assert json_bytes(data) == dumped(data)


def test_which_floats_orjson_writes_alike():
    assert floats_written_alike({"a": [55.5, 12.0, 1e15, 0.0001, 0, "1e-05", None]})
    assert not floats_written_alike({"a": [55.5, {"b": 1e-05}]})
    assert not floats_written_alike([float("nan")])
    assert not floats_written_alike((float("inf"),))


def test_fhir_json_is_the_whole_bundle_dumped_at_once(app, visits):  # noqa: F811
    campaign_id, _ = visits
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        rows = visit_rows(db.session, campaign, CAMPAIGN_DAY, ZONE)
        whole = fhir_bundle(db.session, campaign_id, CAMPAIGN_DAY, rows, ZONE)
        content, types = fhir_json(db.session, campaign_id, CAMPAIGN_DAY, rows, ZONE)
        assert content == dumped(whole)
        assert types == count_resources(whole)
        assert "QuestionnaireResponse" in types  # Fatima's answers are in it
        files = members(bundle_of(campaign_id))
    assert files[FHIR_JSON] == content
    assert json.loads(files[MANIFEST])["counts"]["fhir_resources"] == types


def test_fhir_json_of_a_day_without_visits(app, visits):  # noqa: F811
    campaign_id, _ = visits
    with app.app_context():
        whole = fhir_bundle(db.session, campaign_id, CAMPAIGN_DAY, [], ZONE)
        content, types = fhir_json(db.session, campaign_id, CAMPAIGN_DAY, [], ZONE)
    assert content == dumped(whole)
    assert types == {}
