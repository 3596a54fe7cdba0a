"""The small rules the hostile-input battery leans on, at their edges."""

from __future__ import annotations

import pytest

from kiosk.domain.din import BagNumberError, normalise_bag_number
from kiosk.domain.validation import has_hidden_characters


@pytest.mark.parametrize(
    ("text", "allowed", "hidden"),
    [
        ("Tension limite, revoir dans 1 h", "", False),
        ("ضغط مرتفع قليلا", "", False),
        ("می\u200cخواهم", "", False),  # ZWNJ: typed by Persian and Arabic keyboards
        ("\u200fسطر\u200e", "", False),  # RLM, LRM
        ("two\nlines", "\n\r\t", False),
        ("two\nlines", "", True),
        ("nul\x00", "\n", True),
        ("bell\x07", "", True),
        ("del\x7f", "", True),
        ("abc\u202edcba", "", True),  # right-to-left override
        ("abc\u2066x\u2069", "", True),  # isolates
        ("broken \ufffd bytes", "", True),
        ("private \ue000", "", True),
        ("unassigned \U000e0080", "", True),
    ],
)
def test_hidden_characters(text, allowed, hidden):
    assert has_hidden_characters(text, allowed) is hidden


@pytest.mark.parametrize("label", ["G123498654321", "kh-2026/000154", "A1 B2.C3", "=G1234+5*"])
def test_a_bag_number_without_format_is_label_text(label):
    # A scanned code's leading "=" (ISBT 128's data identifier) is not kept: never a formula.
    assert normalise_bag_number(label, "any") == label.upper().removeprefix("=")


@pytest.mark.parametrize(
    "label", ["<script>", "G12'34", "G12;34", '"G1234"', "-G1234", "G1234\u202e"]
)
def test_a_bag_number_without_format_is_never_markup(label):
    with pytest.raises(BagNumberError):
        normalise_bag_number(label, "any")
