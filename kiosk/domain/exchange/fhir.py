"""`fhir.json`: the day's visits as an HL7 FHIR R4 Bundle, for a machine at the regional centre.

Built from the rows of `visits.csv` (the same mapping, not a second copy of it), plus what a row
does not carry: the questionnaire's answers and when the visit ended and the screening was done.

The Bundle is of type `collection`: a set of resources to read and import, with no server
semantics. A `transaction` would ask the receiver to be a FHIR server that runs a request per
entry, which the centre need not have; it can still post the resources one by one if it does.

Ids are deterministic: the same data gives the same file. Every id is a UUID 5 of a name that
says what the resource is (a Patient by its CIN, everything else by the visit's key: campaign
code, day, queue number), and every reference is the `urn:uuid:` fullUrl of its target. A donor
with a CIN has the same Patient id in every bundle, so the centre can merge sessions.

Every resource validates against the official FHIR R4 JSON schema (the tests check it with
HL7's fhir.schema.json): free text goes through `fhir_string`, whose only spaces are those the
schema's `string` type allows.
"""

from __future__ import annotations

import io
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.domain.exchange.columns import Row, Value
from kiosk.domain.exchange.files import floats_written_alike, json_bytes
from kiosk.domain.exchange.rows import iso_time, visits_in_scope
from kiosk.domain.journey import FINAL_STAGES, Stage
from kiosk.domain.questionnaire import Answer, answers_from_json, load_questions
from kiosk.models import Screening, Visit

# No public register names the Moroccan national ID card (CIN/CNIE) with a URI: this one is
# ours, documented in docs/bundle-format.md, with the HL7 v2 type "NI" (national unique identifier).
CIN_SYSTEM = "urn:nabd:ma:cin"
VISIT_SYSTEM = "urn:nabd:visit"  # value: campaign code/day/queue number
BAG_NUMBER_SYSTEM = "urn:nabd:bag-number"  # the ISBT 128 DIN where the centre uses it
IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORIES = "http://terminology.hl7.org/CodeSystem/observation-category"
LOINC = "http://loinc.org"
# The code system of the codes that are Nabd's own (the doctor's decision and its reasons, the
# elements that carry them, the donated volume): one stable URL, documented in
# docs/bundle-format.md. No domain is ours, so it is under ".invalid" (RFC 6761), which no one
# can ever register: a name for the system, not a page to fetch.
NABD_CODES = "https://nabd.invalid/fhir/CodeSystem/nabd"
UCUM = "http://unitsofmeasure.org"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:nabd:fhir")

GENDERS = {"F": "female", "M": "male"}


@dataclass(frozen=True)
class Measurement:
    column: str  # of visits.csv
    loinc: str
    display: str
    unit: str
    ucum: str
    category: str


@dataclass(frozen=True)
class Panel:
    """One Observation whose measurements are its components, none of them its value."""

    loinc: str
    display: str
    category: str
    components: tuple[Measurement, ...]


# Blood pressure is one Observation, the LOINC panel, with systolic and diastolic as components
# (as FHIR's vital-signs profile has it), not two unrelated Observations.
BLOOD_PRESSURE = Panel(
    "85354-9",
    "Blood pressure panel with all children optional",
    "vital-signs",
    (
        Measurement("systolic", "8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]", ""),
        Measurement("diastolic", "8462-4", "Diastolic blood pressure", "mmHg", "mm[Hg]", ""),
    ),
)
MEASUREMENTS: tuple[Measurement | Panel, ...] = (
    Measurement("weight_kg", "29463-7", "Body weight", "kg", "kg", "vital-signs"),
    BLOOD_PRESSURE,
    Measurement("pulse", "8867-4", "Heart rate", "beats/minute", "/min", "vital-signs"),
    Measurement(
        "hemoglobin_g_dl",
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        "g/dL",
        "g/dL",
        "laboratory",
    ),
)

# The doctor's decision, as visits.csv writes it, and its English display. A deferred visit has
# its decision; only a visit not yet screened has none.
DECISION_CODE = ("donor-decision", "Blood donor eligibility decision")
DECISION_DISPLAYS = {
    "eligible": "Eligible to donate",
    "deferred_temporary": "Deferred until a date",
    "deferred_permanent": "Deferred permanently",
}
REASON_CODE = ("deferral-reason", "Deferral reason")
UNTIL_CODE = ("deferral-until", "Deferred until: may donate again from this day")
REASON_DISPLAYS = {
    "low_hemoglobin": "Low haemoglobin",
    "low_weight": "Low weight",
    "blood_pressure": "Blood pressure out of range",
    "recent_donation": "Recent donation",
    "recent_procedure": "Recent procedure (dental care, cupping, tattoo, piercing)",
    "recent_vaccine": "Recent vaccination",
    "recent_surgery": "Recent surgery",
    "infection": "Infection",
    "medication": "Medication",
    "pregnancy": "Pregnancy",
    "malaria_risk": "Malaria risk",
    "infection_risk": "Risk of a transfusion-transmissible infection",
    "chronic_illness": "Chronic illness",
    "age": "Age",
    "other": "Other reason",
}
VOLUME_CODE = ("donated-volume", "Volume of blood collected")

# Spaces that FHIR's `string` (pattern `[ \r\n\t\S]+`) refuses: every other Unicode space, as
# JavaScript's `\s` and Python's `\s` know them. The French questions put a no-break space
# before "?"; in fhir.json it is a plain space. A zero-width no-break space goes.
_OTHER_SPACES = re.compile(
    "[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


def fhir_string(text: str) -> str:
    """`text` as a FHIR string: other spaces made plain spaces, zero-width ones dropped."""
    return _OTHER_SPACES.sub(" ", text).replace("\ufeff", "")


# The visit's stage → Encounter.status. A deferred donor's visit is over: "finished".
ENCOUNTER_STATUS = {
    Stage.WAITING_INTERVIEW: "arrived",
    Stage.WAITING_COLLECTION: "arrived",
    Stage.NO_SHOW: "arrived",
    Stage.INTERVIEW: "in-progress",
    Stage.COLLECTION: "in-progress",
    Stage.REST: "in-progress",
    Stage.DONE: "finished",
    Stage.DEFERRED: "finished",
    Stage.LEFT: "cancelled",
}
# The donation's outcome → Procedure.status: a partial donation or a failed venipuncture was
# begun and ended early.
PROCEDURE_STATUS = {"complete": "completed", "partial": "stopped", "failed_venipuncture": "stopped"}


@dataclass(frozen=True)
class VisitExtras:
    """What a row of visits.csv does not carry."""

    answers: dict[str, Answer]
    ended_at: str | None  # when the visit reached a final stage
    screened_at: str | None


# For a visit registered between the two queries of an export: its row is not in the bundle anyway.
NOTHING_MORE = VisitExtras({}, None, None)


def fhir_bundle(
    session: Session,
    campaign_id: int,
    day: date | None,
    visits: Sequence[Row],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The Bundle of these visit rows (those of `visit_rows` for the same campaign and day)."""
    entries = list(bundle_entries(session, campaign_id, day, visits, zone))
    return {**_bundle_head(visits), "entry": entries}


def fhir_json(
    session: Session,
    campaign_id: int,
    day: date | None,
    visits: Sequence[Row],
    zone: ZoneInfo,
) -> tuple[bytes, dict[str, int]]:
    """`fhir.json`: the bytes of `json_bytes(fhir_bundle(…))`, written entry by entry so that
    the whole Bundle is never in memory as objects, and its resources counted by type."""
    floats_alike = floats_written_alike(visits)  # a resource's floats are those of its row
    types: Counter[str] = Counter()
    out = io.BytesIO()
    head = json_bytes(_bundle_head(visits))
    out.write(head.removesuffix(b"\n}\n") + b',\n  "entry": [')
    separator = ENTRY_INDENT
    for item in bundle_entries(session, campaign_id, day, visits, zone):
        types[item["resource"]["resourceType"]] += 1
        # An entry sits two levels deep in the Bundle; JSON text holds no raw newline but
        # those between its lines.
        lines = json_bytes(item, floats_alike=floats_alike)[:-1].replace(b"\n", ENTRY_INDENT)
        out.write(separator + lines)
        separator = b"," + ENTRY_INDENT
    out.write(b"\n  ]\n}\n" if types else b"]\n}\n")
    return out.getvalue(), dict(sorted(types.items()))


def count_resources(fhir: Any) -> dict[str, int]:
    """The resources of a FHIR Bundle by type; ValueError if it is not one."""
    if not isinstance(fhir, dict) or fhir.get("resourceType") != "Bundle":
        raise ValueError("not a FHIR Bundle")
    entries = fhir.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("the Bundle's entries are not a list of objects")
    types = Counter(str((entry.get("resource") or {}).get("resourceType")) for entry in entries)
    return dict(sorted(types.items()))


ENTRY_INDENT = b"\n    "


def _bundle_head(visits: Sequence[Row]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(NAMESPACE, "bundle/" + _scope_name(visits))),
        "type": "collection",
    }


def bundle_entries(
    session: Session,
    campaign_id: int,
    day: date | None,
    visits: Sequence[Row],
    zone: ZoneInfo,
) -> Iterator[dict[str, Any]]:
    """The Bundle's entries one by one: each donor's Patient before their first visit."""
    extras = visit_extras(session, campaign_id, day, zone)
    patients: set[str] = set()
    for row in visits:
        patient = patient_resource(row)
        if patient["id"] not in patients:
            patients.add(patient["id"])
            yield entry(patient)
        found = extras.get(visit_key(row), NOTHING_MORE)
        for resource in visit_resources(row, found):
            yield entry(resource)


def visit_extras(
    session: Session, campaign_id: int, day: date | None, zone: ZoneInfo
) -> dict[str, VisitExtras]:
    rows = session.execute(
        select(
            Visit.queue_day,
            Visit.queue_number,
            Visit.answers,
            Visit.stage,
            Visit.stage_changed_at,
            Screening.at,
        )
        .outerjoin(Screening, Screening.visit_id == Visit.id)
        .where(*visits_in_scope(campaign_id, day))
    )
    return {
        f"{queue_day.isoformat()}/{number}": VisitExtras(
            answers=answers_from_json(answers),
            ended_at=iso_time(changed_at, zone) if stage in FINAL_STAGES else None,
            screened_at=iso_time(screened_at, zone),
        )
        for queue_day, number, answers, stage, changed_at, screened_at in rows
    }


def visit_key(row: Mapping[str, Value]) -> str:
    return f"{row['campaign_date']}/{row['queue_number']}"


def _scope_name(visits: Sequence[Row]) -> str:
    days = sorted({str(row["campaign_date"]) for row in visits})
    codes = sorted({str(row["campaign_code"]) for row in visits})
    return ",".join(codes) + "/" + ",".join(days)


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def reference(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def resource_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _visit_name(row: Mapping[str, Value]) -> str:
    return f"visit/{row['campaign_code']}/{visit_key(row)}"


def patient_id(row: Mapping[str, Value]) -> str:
    """By the CIN where there is one (the same in every bundle); else by the visit."""
    cin = row["donor_cin"]
    return resource_id(f"patient/cin/{cin}" if cin else f"patient/{_visit_name(row)}")


# --- the resources ------------------------------------------------------------------------------


def patient_resource(row: Mapping[str, Value]) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id(row)}
    if row["donor_cin"]:
        patient["identifier"] = [
            {
                "use": "official",
                "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "NI"}], "text": "CIN"},
                "system": CIN_SYSTEM,
                "value": row["donor_cin"],
            }
        ]
    patient["name"] = [
        {
            "use": "official",
            "family": fhir_string(str(row["last_name"])),
            "given": [fhir_string(str(row["first_name"]))],
        }
    ]
    if row["phone"]:
        patient["telecom"] = [{"system": "phone", "value": row["phone"]}]
    patient["gender"] = GENDERS.get(str(row["sex"]), "unknown")
    patient["birthDate"] = row["birth_date"]
    return patient


def visit_resources(row: Mapping[str, Value], extras: VisitExtras) -> list[dict[str, Any]]:
    """The visit's Encounter, then what happened in it."""
    encounter = encounter_resource(row, extras)
    subject, context = reference(patient_id(row)), reference(encounter["id"])
    resources = [encounter]
    resources += observations(row, extras, subject, context)
    if row["decision"]:
        resources.append(decision_resource(row, extras, subject, context))
    if extras.answers:
        resources.append(questionnaire_response(row, extras.answers, subject, context))
    if row["bag_number"]:
        procedure = procedure_resource(row, subject, context)
        resources.append(procedure)
        if row["volume_ml"] is not None:
            resources.append(volume_resource(row, procedure, subject, context))
    return resources


def encounter_resource(row: Mapping[str, Value], extras: VisitExtras) -> dict[str, Any]:
    period = {"start": row["registered_at"]}
    if extras.ended_at:
        period["end"] = extras.ended_at
    return {
        "resourceType": "Encounter",
        "id": resource_id(_visit_name(row)),
        "identifier": [
            {
                "system": VISIT_SYSTEM,
                "value": f"{row['campaign_code']}/{visit_key(row)}",
            }
        ],
        "status": ENCOUNTER_STATUS.get(str(row["stage_final"]), "unknown"),
        # "field": outside a healthcare setting and outside the patient's home.
        "class": {"system": ACT_CODES, "code": "FLD", "display": "field"},
        "type": [{"text": "Blood donation visit"}],
        "subject": reference(patient_id(row)),
        "period": period,
        "location": [{"location": {"display": fhir_string(str(row["site"]))}}],
    }


def observations(
    row: Mapping[str, Value], extras: VisitExtras, subject: dict, context: dict
) -> list[dict[str, Any]]:
    """One per measurement taken, none for a measurement that is missing; the blood pressure
    panel with the components taken (none when neither is)."""
    taken = []
    for measurement in MEASUREMENTS:
        if isinstance(measurement, Panel):
            components = [part for part in measurement.components if row[part.column] is not None]
            if components:
                taken.append(_panel(row, measurement, components, extras, subject, context))
        elif row[measurement.column] is not None:
            observation = _observation_head(row, measurement, extras, subject, context)
            observation["valueQuantity"] = _quantity(row, measurement)
            taken.append(observation)
    return taken


def _panel(
    row: Mapping[str, Value],
    panel: Panel,
    components: Sequence[Measurement],
    extras: VisitExtras,
    subject: dict,
    context: dict,
) -> dict[str, Any]:
    observation = _observation_head(row, panel, extras, subject, context)
    observation["component"] = [
        {"code": _loinc(part), "valueQuantity": _quantity(row, part)} for part in components
    ]
    return observation


def _observation_head(
    row: Mapping[str, Value],
    measurement: Measurement | Panel,
    extras: VisitExtras,
    subject: dict,
    context: dict,
) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(f"{_visit_name(row)}/observation/{measurement.loinc}"),
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORIES, "code": measurement.category}]}
        ],
        "code": _loinc(measurement),
        "subject": subject,
        "encounter": context,
    }
    if extras.screened_at:
        observation["effectiveDateTime"] = extras.screened_at
    return observation


def _loinc(measurement: Measurement | Panel) -> dict[str, Any]:
    return {
        "coding": [{"system": LOINC, "code": measurement.loinc, "display": measurement.display}],
        "text": measurement.display,
    }


def _quantity(row: Mapping[str, Value], measurement: Measurement) -> dict[str, Any]:
    return {
        "value": row[measurement.column],
        "unit": measurement.unit,
        "system": UCUM,
        "code": measurement.ucum,
    }


def _ours(code: str, display: str | None) -> dict[str, Any]:
    """A CodeableConcept of one code of Nabd's own system (with its display, if it has one)."""
    coding = {"system": NABD_CODES, "code": code}
    if display:
        coding["display"] = display
        return {"coding": [coding], "text": display}
    return {"coding": [coding]}


def decision_resource(
    row: Mapping[str, Value], extras: VisitExtras, subject: dict, context: dict
) -> dict[str, Any]:
    """The doctor's decision: an Observation whose value is the decision, with the deferral's
    reason and, for a temporary one, the day the donor may give again as components."""
    decision = str(row["decision"])
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(f"{_visit_name(row)}/decision"),
        "status": "final",
        "code": _ours(*DECISION_CODE),
        "subject": subject,
        "encounter": context,
    }
    if extras.screened_at:
        observation["effectiveDateTime"] = extras.screened_at
    if row["interviewer"]:
        observation["performer"] = [{"display": fhir_string(str(row["interviewer"]))}]
    observation["valueCodeableConcept"] = _ours(decision, DECISION_DISPLAYS.get(decision))
    components = []
    if row["deferral_reason"]:
        reason = str(row["deferral_reason"])
        components.append(
            {
                "code": _ours(*REASON_CODE),
                "valueCodeableConcept": _ours(reason, REASON_DISPLAYS.get(reason)),
            }
        )
    if row["deferral_until"]:
        components.append({"code": _ours(*UNTIL_CODE), "valueDateTime": row["deferral_until"]})
    if components:
        observation["component"] = components
    return observation


def volume_resource(
    row: Mapping[str, Value], procedure: dict[str, Any], subject: dict, context: dict
) -> dict[str, Any]:
    """The volume collected, in mL: an Observation that is part of the donation's Procedure."""
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(f"{_visit_name(row)}/volume"),
        "partOf": [reference(procedure["id"])],
        "status": "final",
        "code": _ours(*VOLUME_CODE),
        "subject": subject,
        "encounter": context,
    }
    if row["donation_ended_at"]:
        observation["effectiveDateTime"] = row["donation_ended_at"]
    observation["valueQuantity"] = {
        "value": row["volume_ml"],
        "unit": "mL",
        "system": UCUM,
        "code": "mL",
    }
    return observation


def questionnaire_response(
    row: Mapping[str, Value], answers: Mapping[str, Answer], subject: dict, context: dict
) -> dict[str, Any]:
    """The answers in the questions' order (linkId: the question's code); a "yes" with a date
    carries the date as a nested item `<code>_date`."""
    texts = {question.code: fhir_string(question.text_fr) for question in load_questions()}
    codes = [code for code in texts if code in answers]
    codes += sorted(set(answers) - set(texts))  # a question since removed from the set
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id(f"{_visit_name(row)}/questionnaire-response"),
        "status": "completed",
        "subject": subject,
        "encounter": context,
        "authored": row["registered_at"],
        "item": [_answer_item(code, texts.get(code), answers[code]) for code in codes],
    }


def _answer_item(code: str, text: str | None, answer: Answer) -> dict[str, Any]:
    value: dict[str, Any] = {"valueBoolean": answer.answer == "yes"}
    if answer.date is not None:
        value["item"] = [
            {"linkId": f"{code}_date", "answer": [{"valueDate": answer.date.isoformat()}]}
        ]
    item: dict[str, Any] = {"linkId": code}
    if text:
        item["text"] = text
    item["answer"] = [value]
    return item


def procedure_resource(row: Mapping[str, Value], subject: dict, context: dict) -> dict[str, Any]:
    outcome = str(row["donation_outcome"])
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": resource_id(f"{_visit_name(row)}/procedure"),
        "identifier": [
            {
                "type": {"text": "Donation Identification Number (bag number)"},
                "system": BAG_NUMBER_SYSTEM,
                "value": row["bag_number"],
            }
        ],
        "status": PROCEDURE_STATUS.get(outcome, "unknown"),
        "code": {"text": "Whole blood donation"},
        "subject": subject,
        "encounter": context,
        "performedPeriod": {
            "start": row["donation_started_at"],
            "end": row["donation_ended_at"],
        },
        "outcome": {"text": outcome},
        "usedCode": [{"text": f"{row['bag_type']} bag"}],
    }
    if row["phlebotomist"]:
        procedure["performer"] = [{"actor": {"display": fhir_string(str(row["phlebotomist"]))}}]
    if row["adverse_event"] and row["adverse_event"] != "none":
        procedure["complication"] = [{"text": str(row["adverse_event"])}]
    return procedure
