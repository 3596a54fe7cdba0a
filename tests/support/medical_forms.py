"""A screening and a donation as the staff's forms post them, all valid."""

from __future__ import annotations

GOOD_SCREENING = {
    "weight_kg": "68",
    "systolic": "125",
    "diastolic": "80",
    "pulse": "72",
    "hemoglobin_g_dl": "13.1",
    "decision": "eligible",
}


GOOD_DONATION = {
    "bag_number": "G123498654321",
    "bag_type": "triple",
    "volume_ml": "450",
    "started_at": "09:10",
    "ended_at": "09:20",
    "outcome": "complete",
    "adverse_event": "none",
}
