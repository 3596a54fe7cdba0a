"""fhir.json: the day's visits as a FHIR Bundle, checked with the `fhir.resources` library.

fhir.resources 8 ships models for R5, R4B and STU3, not for R4 (4.0.1). The resources used here
(Patient, Encounter, Observation, QuestionnaireResponse, Procedure, Bundle) have the same elements
in R4 and R4B, so the R4B models check the R4 file.
"""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from kiosk.domain.exchange.columns import FHIR_JSON, MANIFEST
from kiosk.domain.exchange.fhir import (
    CIN_SYSTEM,
    LOINC,
    UCUM,
    VisitExtras,
    observations,
    patient_id,
)
from kiosk.domain.exchange.verify import verify_bundle
from tests.support.simulated_day import (
    FATIMA,
    FATIMAS_ANSWERS,
    HASSAN,
    bundle_of,
    members,
    rezip,
)


@pytest.fixture
def visits(answered_day):
    """The simulated day, with Fatima's answers to the questionnaire: visit ids by first name."""
    return answered_day


@pytest.fixture
def fhir(visits) -> dict:
    campaign_id, _ = visits
    return json.loads(members(bundle_of(campaign_id))[FHIR_JSON])


def resources(fhir: dict, kind: str) -> list[dict]:
    return [
        entry["resource"] for entry in fhir["entry"] if entry["resource"]["resourceType"] == kind
    ]


def patient_with(fhir: dict, family: str) -> dict:
    return next(p for p in resources(fhir, "Patient") if p["name"][0]["family"] == family)


def of_patient(fhir: dict, kind: str, patient: dict) -> list[dict]:
    target = f"urn:uuid:{patient['id']}"
    return [
        resource
        for resource in resources(fhir, kind)
        if resource["subject"] == {"reference": target}
    ]


def test_the_whole_bundle_validates_with_fhir_resources(fhir):
    bundle = Bundle.model_validate(fhir)
    assert bundle.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert sorted(set(kinds)) == [
        "Encounter",
        "Observation",
        "Patient",
        "Procedure",
        "QuestionnaireResponse",
    ]
    assert len(kinds) == len(fhir["entry"])


def test_the_validation_does_catch_what_is_wrong(fhir):
    """The models refuse unknown elements and missing required ones: the check above can fail."""
    observation = resources(fhir, "Observation")[0]
    del observation["code"]
    with pytest.raises(ValidationError, match="code"):
        Bundle.model_validate(fhir)
    observation["code"] = {"text": "weight"}
    observation["valueQuantity"]["units"] = "kg"
    with pytest.raises(ValidationError, match="units"):
        Bundle.model_validate(fhir)


def test_every_full_url_is_its_id_and_every_reference_resolves(fhir):
    full_urls = {entry["fullUrl"] for entry in fhir["entry"]}
    assert len(full_urls) == len(fhir["entry"])
    for entry in fhir["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    references = [
        resource[field]["reference"]
        for entry in fhir["entry"]
        for resource in [entry["resource"]]
        for field in ("subject", "encounter")
        if field in resource
    ]
    assert references and set(references) <= full_urls


def test_the_donor_is_a_patient_with_the_cin_as_identifier(fhir):
    fatima = patient_with(fhir, FATIMA.last_name)
    assert fatima["identifier"] == [
        {
            "use": "official",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}
                ],
                "text": "CIN",
            },
            "system": CIN_SYSTEM,
            "value": "AB123456",
        }
    ]
    assert fatima["name"] == [{"use": "official", "family": "الزهراء", "given": ["فاطمة"]}]
    assert fatima["gender"] == "female" and fatima["birthDate"] == "1990-05-17"
    assert fatima["telecom"] == [{"system": "phone", "value": "+212612345678"}]
    youssef = patient_with(fhir, 'Amrani, dit "Jo"')
    assert "identifier" not in youssef and "telecom" not in youssef
    assert youssef["gender"] == "male"


def test_the_measurements_are_loinc_observations_with_ucum_units(fhir):
    fatima = patient_with(fhir, FATIMA.last_name)
    measured = [
        observation
        for observation in of_patient(fhir, "Observation", fatima)
        if observation["code"]["coding"][0]["system"] == LOINC
    ]
    found = {
        (
            part["code"]["coding"][0]["system"],
            part["code"]["coding"][0]["code"],
            part["valueQuantity"]["system"],
            part["valueQuantity"]["code"],
            part["valueQuantity"]["value"],
        )
        for observation in measured
        for part in observation.get("component", [observation])
    }
    assert found == {
        (LOINC, "29463-7", UCUM, "kg", 68.0),
        (LOINC, "8480-6", UCUM, "mm[Hg]", 125),  # components of the panel 85354-9
        (LOINC, "8462-4", UCUM, "mm[Hg]", 80),
        (LOINC, "8867-4", UCUM, "/min", 72),
        (LOINC, "718-7", UCUM, "g/dL", 13.1),
    }
    (encounter,) = of_patient(fhir, "Encounter", fatima)
    for observation in measured:
        assert observation["status"] == "final"
        assert observation["encounter"] == {"reference": f"urn:uuid:{encounter['id']}"}
        assert observation["effectiveDateTime"] == "2026-11-24T09:50:00+00:00"


def test_no_observation_for_a_measurement_not_taken(fhir):
    hassan = patient_with(fhir, HASSAN.last_name)  # still waiting: not screened
    assert of_patient(fhir, "Observation", hassan) == []
    assert of_patient(fhir, "Procedure", hassan) == []
    row = {"campaign_code": "KHE", "campaign_date": "2026-11-24", "queue_number": 9}
    row |= {"donor_cin": None, "weight_kg": 70.5, "systolic": None, "diastolic": 80}
    row |= {"pulse": None, "hemoglobin_g_dl": 14.2}
    taken = observations(row, VisitExtras({}, None, None), {}, {})
    assert [o["code"]["coding"][0]["code"] for o in taken] == ["29463-7", "85354-9", "718-7"]
    assert all("effectiveDateTime" not in observation for observation in taken)


def test_the_donation_is_a_procedure_carrying_the_bag_number(fhir):
    (procedure,) = resources(fhir, "Procedure")
    assert procedure["identifier"][0]["value"] == "G123498654321"
    assert procedure["status"] == "completed"
    assert procedure["performedPeriod"] == {
        "start": "2026-11-24T09:53:00+00:00",
        "end": "2026-11-24T10:01:00+00:00",
    }
    assert procedure["subject"]["reference"] == (
        f"urn:uuid:{patient_with(fhir, FATIMA.last_name)['id']}"
    )
    assert procedure["performer"] == [{"actor": {"display": "inf.said"}}]
    assert "complication" not in procedure


def test_the_encounter_follows_the_visit(fhir):
    statuses = {
        family: [
            (encounter["status"], encounter["period"])
            for encounter in of_patient(fhir, "Encounter", patient_with(fhir, family))
        ]
        for family in (FATIMA.last_name, 'Amrani, dit "Jo"', HASSAN.last_name)
    }
    assert statuses == {
        FATIMA.last_name: [
            ("finished", {"start": "2026-11-24T09:31:00+00:00", "end": "2026-11-24T10:20:00+00:00"})
        ],
        'Amrani, dit "Jo"': [
            ("finished", {"start": "2026-11-24T09:32:30+00:00", "end": "2026-11-24T09:58:00+00:00"})
        ],
        HASSAN.last_name: [("arrived", {"start": "2026-11-24T09:33:00+00:00"})],
    }
    (encounter, *_) = resources(fhir, "Encounter")
    assert encounter["identifier"] == [
        {"system": "urn:nabd:visit", "value": "KHE-2026-11-24/2026-11-24/1"}
    ]
    assert encounter["class"]["code"] == "FLD"


def test_the_answers_are_a_questionnaire_response_with_typed_values(fhir):
    (response,) = resources(fhir, "QuestionnaireResponse")
    fatima = patient_with(fhir, FATIMA.last_name)
    assert response["subject"] == {"reference": f"urn:uuid:{fatima['id']}"}
    assert response["status"] == "completed"
    assert [item["linkId"] for item in response["item"]] == list(FATIMAS_ANSWERS)
    by_code = {item["linkId"]: item for item in response["item"]}
    assert by_code["feeling_well"]["answer"] == [{"valueBoolean": True}]
    assert by_code["fever_or_infection"]["answer"] == [{"valueBoolean": False}]
    assert by_code["vaccine"]["answer"] == [
        {
            "valueBoolean": True,
            "item": [{"linkId": "vaccine_date", "answer": [{"valueDate": "2026-10-01"}]}],
        }
    ]
    assert by_code["vaccine"]["text"].startswith("Avez-vous")


def test_ids_are_the_same_from_one_export_to_the_next(visits):
    campaign_id, _ = visits
    first = members(bundle_of(campaign_id))[FHIR_JSON]
    assert members(bundle_of(campaign_id))[FHIR_JSON] == first
    same_cin = {"donor_cin": "AB123456", "campaign_code": "OTHER", "campaign_date": "2027-01-05"}
    assert patient_id(same_cin | {"queue_number": 40}) == patient_id(
        same_cin | {"queue_number": 2, "campaign_code": "KHE-2026-11-24"}
    )


def test_the_manifest_counts_the_resources_and_verify_checks_them(visits):
    campaign_id, _ = visits
    bundle = bundle_of(campaign_id)
    files = members(bundle)
    manifest = json.loads(files[MANIFEST])
    assert manifest["counts"]["fhir_resources"] == {
        "Encounter": 3,
        "Observation": 11,
        "Patient": 3,
        "Procedure": 1,
        "QuestionnaireResponse": 1,
    }
    manifest["counts"]["fhir_resources"]["Observation"] = 10
    tampered = rezip(bundle, **{MANIFEST: json.dumps(manifest).encode()})
    assert verify_bundle(tampered).problems == [
        "the manifest counts {'Encounter': 3, 'Observation': 10, 'Patient': 3, 'Procedure': 1, "
        "'QuestionnaireResponse': 1} FHIR resources, fhir.json holds {'Encounter': 3, "
        "'Observation': 11, 'Patient': 3, 'Procedure': 1, 'QuestionnaireResponse': 1}"
    ]
