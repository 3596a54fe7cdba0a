"""What the benchmark's donors and staff type: valid forms, each donor unique by serial."""

from __future__ import annotations

from functools import cache

from kiosk.domain.questionnaire import load_questions

CATEGORIES = ("civil_servant", "police", "auxiliary_forces", "citizen", "other")


@cache
def nothing_to_report() -> dict[str, str]:
    """The questionnaire answered as a donor with nothing to report answers it."""
    return {
        f"q_{q.code}": q.expected if q.expected in ("yes", "no") else "no" for q in load_questions()
    }


def donor_form(serial: int) -> dict[str, str]:
    """A valid registration; `serial` (below 1,000,000) makes the CIN and phone unique."""
    return {
        "first_name": "Fatima" if serial % 2 else "فاطمة",
        "last_name": "Zahra" if serial % 2 else "الزهراء",
        "sex": "F" if serial % 3 else "M",
        "birth_date": f"{1965 + serial % 35}-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
        "cin": f"BK{serial:06d}",
        "phone": f"06{serial:08d}",
        "category": CATEGORIES[serial % len(CATEGORIES)],
        "consent": "yes",
        **nothing_to_report(),
    }


def screening_form(csrf_token: str) -> dict[str, str]:
    """A healthy donor's measurements, and the doctor's yes."""
    return {
        "csrf_token": csrf_token,
        "weight_kg": "72",
        "systolic": "122",
        "diastolic": "78",
        "pulse": "70",
        "hemoglobin_g_dl": "14.1",
        "decision": "eligible",
        # Where a rule's finding says otherwise (an age limit, say), the doctor writes why.
        "note": "Seen and examined; fit to give today.",
    }


def donation_form(csrf_token: str, bag_number: str, started: str, ended: str) -> dict[str, str]:
    """A complete donation; times are HH:MM at the venue."""
    return {
        "csrf_token": csrf_token,
        "bag_number": bag_number,
        "bag_type": "triple",
        "volume_ml": "450",
        "started_at": started,
        "ended_at": ended,
        "outcome": "complete",
        "adverse_event": "none",
    }
