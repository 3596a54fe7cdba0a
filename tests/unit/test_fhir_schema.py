"""fhir.json against the official FHIR R4 JSON schema (HL7's fhir.schema.json, kept in
tests/data/fhir/ with its origin), as a centre's tool checks it, and with `fhir.resources`; and
what it carries: the doctor's decision, the donated volume, the blood pressure panel.

Each resource is checked against its own type's definition of the schema (the schema's
`ResourceList` would try all 146 types for each one), and the Bundle around them against the
Bundle's definition. The validators are made once for the module.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from jsonschema import Draft6Validator

from kiosk.domain.exchange.columns import FHIR_JSON
from kiosk.domain.exchange.fhir import (
    DECISION_DISPLAYS,
    IDENTIFIER_TYPES,
    LOINC,
    NABD_CODES,
    OBSERVATION_CATEGORIES,
    REASON_DISPLAYS,
    UCUM,
    VisitExtras,
    fhir_string,
    observations,
)
from kiosk.domain.medical import DECISIONS, DEFERRAL_REASONS
from kiosk.domain.questionnaire import load_questions
from tests.support.simulated_day import FATIMA, bundle_of, members
from tests.support.venue_day import venue_bundle

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "fhir" / "fhir.schema.json"
# The code systems fhir.json may name: HL7's, LOINC, UCUM and Nabd's own.
KNOWN_SYSTEMS = {IDENTIFIER_TYPES, LOINC, UCUM, NABD_CODES, OBSERVATION_CATEGORIES}
KNOWN_SYSTEMS.add("http://terminology.hl7.org/CodeSystem/v3-ActCode")


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


@functools.cache
def validator(resource_type: str) -> Draft6Validator:
    """The schema's definition of one type, its references resolved within the whole schema."""
    return Draft6Validator({**schema(), "$ref": f"#/definitions/{resource_type}"})


def schema_errors(fhir: dict[str, Any]) -> list[str]:
    """Every error of the Bundle and of each of its resources, one line each."""
    shell = {**fhir, "entry": [{"fullUrl": entry["fullUrl"]} for entry in fhir["entry"]]}
    found = [f"Bundle: {error.message}" for error in validator("Bundle").iter_errors(shell)]
    for entry in fhir["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        for error in validator(kind).iter_errors(resource):
            where = "/".join(map(str, error.absolute_path))
            found.append(f"{kind} {resource['id']} {where}: {error.message[:200]}")
    return found


@pytest.fixture(scope="module")
def venue_day(tmp_path_factory):
    """A day of every outcome: complete, partial and failed donations, temporary and permanent
    deferrals, no-shows, donors who left and donors still waiting."""
    return venue_bundle(tmp_path_factory.mktemp("venue"), donors=40, still_waiting=4)


@pytest.fixture(scope="module")
def venue_fhir(venue_day) -> dict[str, Any]:
    return json.loads(members(venue_day.bundle)[FHIR_JSON])


@pytest.fixture
def answered_fhir(answered_day) -> dict[str, Any]:
    """The simulated day, where Fatima answered the questionnaire in French."""
    campaign_id, _ = answered_day
    return json.loads(members(bundle_of(campaign_id))[FHIR_JSON])


def resources(fhir: dict, kind: str) -> list[dict]:
    return [
        entry["resource"] for entry in fhir["entry"] if entry["resource"]["resourceType"] == kind
    ]


def by_code(fhir: dict, code: str) -> list[dict]:
    return [
        observation
        for observation in resources(fhir, "Observation")
        if observation["code"]["coding"][0]["code"] == code
    ]


def queue_number(fhir: dict, resource: dict) -> int:
    """The queue number of the visit a resource belongs to (through its Encounter)."""
    encounters = {f"urn:uuid:{e['id']}": e for e in resources(fhir, "Encounter")}
    encounter = encounters[resource["encounter"]["reference"]]
    return int(encounter["identifier"][0]["value"].rsplit("/", 1)[1])


def test_every_resource_of_a_venue_day_validates_against_the_r4_schema(venue_fhir):
    kinds = {entry["resource"]["resourceType"] for entry in venue_fhir["entry"]}
    assert kinds == {"Patient", "Encounter", "Observation", "Procedure"}
    assert schema_errors(venue_fhir) == []


def test_the_questionnaire_in_french_validates_against_the_r4_schema(answered_fhir):
    (response,) = resources(answered_fhir, "QuestionnaireResponse")
    texts = [item["text"] for item in response["item"]]
    assert texts and all(text.endswith(" ?") and "\xa0" not in text for text in texts)
    assert schema_errors(answered_fhir) == []
    # The kiosk itself keeps French typography: the no-break space is only left out of FHIR.
    assert any("\u00a0?" in question.text_fr for question in load_questions())


def test_the_schema_check_does_catch_what_is_wrong(answered_fhir):
    """The check above can fail: a no-break space before "?", an unknown element, a bad code."""
    (response,) = resources(answered_fhir, "QuestionnaireResponse")
    response["item"][0]["text"] = "Vous sentez-vous bien\u00a0?"
    patient = resources(answered_fhir, "Patient")[0]
    patient["gender"] = "femme"
    observation = resources(answered_fhir, "Observation")[0]
    observation["valueQuantity"]["units"] = "kg"
    errors = "\n".join(schema_errors(answered_fhir))
    assert "QuestionnaireResponse" in errors and "does not match" in errors
    assert "'femme' is not one of" in errors
    assert "'units' was unexpected" in errors


def test_the_venue_day_validates_with_fhir_resources(venue_fhir):
    bundle = Bundle.model_validate(venue_fhir)
    assert len(bundle.entry) == len(venue_fhir["entry"])


def test_fhir_strings_have_only_the_spaces_the_schema_allows():
    assert fhir_string("Fièvre\u00a0? oui\u202f!\tnon\r\n") == "Fièvre ? oui !\tnon\r\n"
    assert fhir_string("\ufeffAmrani\u2007Jo") == "Amrani Jo"


def test_every_decision_is_an_observation_with_its_coded_reason(venue_day, venue_fhir):
    decisions = {queue_number(venue_fhir, o): o for o in by_code(venue_fhir, "donor-decision")}
    screened = {
        number
        for number, kind in venue_day.kinds.items()
        if kind not in ("waiting", "left", "no_show")
    }
    assert set(decisions) == screened
    for number, observation in decisions.items():
        kind = venue_day.kinds[number]
        coding = observation["valueCodeableConcept"]["coding"][0]
        assert observation["code"]["coding"][0]["system"] == NABD_CODES
        assert coding["system"] == NABD_CODES
        assert observation["status"] == "final" and "effectiveDateTime" in observation
        assert observation["performer"] == [{"display": "dr.amrani"}]
        components = {
            c["code"]["coding"][0]["code"]: c.get("valueCodeableConcept", c.get("valueDateTime"))
            for c in observation.get("component", [])
        }
        if kind.startswith("deferred"):
            assert coding["code"] == kind
            assert components["deferral-reason"]["coding"][0]["system"] == NABD_CODES
            assert components["deferral-reason"]["coding"][0]["code"] in DEFERRAL_REASONS
        else:
            assert coding == {
                "system": NABD_CODES,
                "code": "eligible",
                "display": "Eligible to donate",
            }
            assert components == {}
        if kind == "deferred_temporary":
            assert components["deferral-until"] > "2026-11-24"
        else:
            assert "deferral-until" not in components


def test_a_temporary_deferral_carries_its_reason_and_date(answered_fhir):
    """Youssef, deferred for his blood pressure until 24 December: not missing data."""
    (youssef,) = [
        o
        for o in by_code(answered_fhir, "donor-decision")
        if o["valueCodeableConcept"]["coding"][0]["code"] != "eligible"
    ]
    assert youssef["valueCodeableConcept"] == {
        "coding": [
            {"system": NABD_CODES, "code": "deferred_temporary", "display": "Deferred until a date"}
        ],
        "text": "Deferred until a date",
    }
    assert youssef["component"] == [
        {
            "code": {
                "coding": [
                    {"system": NABD_CODES, "code": "deferral-reason", "display": "Deferral reason"}
                ],
                "text": "Deferral reason",
            },
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": NABD_CODES,
                        "code": "blood_pressure",
                        "display": "Blood pressure out of range",
                    }
                ],
                "text": "Blood pressure out of range",
            },
        },
        {
            "code": {
                "coding": [
                    {
                        "system": NABD_CODES,
                        "code": "deferral-until",
                        "display": "Deferred until: may donate again from this day",
                    }
                ],
                "text": "Deferred until: may donate again from this day",
            },
            "valueDateTime": "2026-12-24",
        },
    ]


def test_every_decision_and_reason_has_a_display():
    assert set(DECISION_DISPLAYS) == set(DECISIONS)
    assert set(REASON_DISPLAYS) == set(DEFERRAL_REASONS)


def test_the_donated_volume_is_a_quantity_in_millilitres(venue_day, venue_fhir):
    procedures = {f"urn:uuid:{p['id']}": p for p in resources(venue_fhir, "Procedure")}
    volumes = by_code(venue_fhir, "donated-volume")
    assert len(volumes) == len(procedures) == len(venue_day.bags)
    for volume in volumes:
        (part_of,) = volume["partOf"]
        procedure = procedures[part_of["reference"]]
        assert volume["encounter"] == procedure["encounter"]
        assert volume["effectiveDateTime"] == procedure["performedPeriod"]["end"]
        quantity = volume["valueQuantity"]
        assert quantity["unit"] == "mL" and quantity["system"] == UCUM
        assert quantity["code"] == "mL" and isinstance(quantity["value"], int)
        assert 50 <= quantity["value"] <= 600
        assert "note" not in procedure


def test_blood_pressure_is_the_loinc_panel_with_its_two_components(answered_fhir):
    fatima_id = next(
        p["id"]
        for p in resources(answered_fhir, "Patient")
        if p["name"][0]["family"] == FATIMA.last_name
    )
    (panel,) = [
        o
        for o in by_code(answered_fhir, "85354-9")
        if o["subject"]["reference"] == f"urn:uuid:{fatima_id}"
    ]
    assert panel["code"]["coding"][0]["system"] == LOINC
    assert panel["category"][0]["coding"][0]["code"] == "vital-signs"
    assert "valueQuantity" not in panel
    assert [
        (c["code"]["coding"][0]["system"], c["code"]["coding"][0]["code"], c["valueQuantity"])
        for c in panel["component"]
    ] == [
        (LOINC, "8480-6", {"value": 125, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}),
        (LOINC, "8462-4", {"value": 80, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}),
    ]
    assert by_code(answered_fhir, "8480-6") == by_code(answered_fhir, "8462-4") == []


def test_a_panel_carries_only_the_pressure_taken():
    row = {"campaign_code": "KHE", "campaign_date": "2026-11-24", "queue_number": 9}
    row |= {"weight_kg": None, "systolic": None, "diastolic": 80, "pulse": None}
    row |= {"hemoglobin_g_dl": None}
    (panel,) = observations(row, VisitExtras({}, None, None), {}, {})
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8462-4"]
    row["diastolic"] = None
    assert observations(row, VisitExtras({}, None, None), {}, {}) == []


def test_every_code_system_is_known_and_ours_is_documented(venue_fhir, answered_fhir):
    def systems(node: Any):
        if isinstance(node, dict):
            if "system" in node and "code" in node:
                yield node["system"]
            for value in node.values():
                yield from systems(value)
        elif isinstance(node, list):
            for value in node:
                yield from systems(value)

    found = set(systems(venue_fhir)) | set(systems(answered_fhir))
    assert NABD_CODES in found and found <= KNOWN_SYSTEMS
    assert NABD_CODES in (ROOT / "docs" / "bundle-format.md").read_text(encoding="utf-8")
