"""Bag numbers: ISBT 128 DINs with their MOD 37-2 check character, and the campaign's policies."""

from __future__ import annotations

import pytest

from kiosk.domain.din import (
    BagNumberError,
    Din,
    check_character,
    normalise_bag_number,
    parse_din,
    parse_policy,
)

VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def checksum(text: str) -> int:
    """ISO/IEC 7064 pure system by its definition: each character's value times 2 to the power
    of its position counted from the right (the last character at 0), summed, modulo 37."""
    return sum(VALUES.index(char) * 2 ** (len(text) - 1 - i) for i, char in enumerate(text)) % 37


def by_definition(din13: str) -> str:
    """The one character that makes the checksum of the 14 characters come to 1."""
    (found,) = [candidate for candidate in VALUES if checksum(din13 + candidate) == 1]
    return found


DINS = [
    "G123498654321",  # the worked example of the design notes
    "A999926000001",
    "W000026123456",
    "B0A1K26999999",
    "Z9Z9Z00000000",
    "AAAAA99999999",
    "M123426000100",
    "P000000000000",
]


def test_the_worked_example():
    assert check_character("G123498654321") == "H"
    assert by_definition("G123498654321") == "H"


@pytest.mark.parametrize("din", DINS)
def test_check_character_agrees_with_the_definition(din):
    assert check_character(din) == by_definition(din)


def test_every_check_value_is_reachable_including_the_star():
    """The last sequence digit moves the checksum by one step, so 37 neighbours cover all."""
    seen = {check_character(f"A00002600{n:04d}") for n in range(0, 2000)}
    assert seen == set(VALUES)


@pytest.mark.parametrize("bad", ["G12349865432", "g123498654321", "G12349865432$", ""])
def test_check_character_wants_13_upper_case_characters(bad):
    with pytest.raises(ValueError):
        check_character(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("G123498654321", Din("G123498654321", None, None)),
        ("=G123498654321", Din("G123498654321", None, None)),
        ("=G12349865432100", Din("G123498654321", "00", None)),  # as the barcode carries it
        ("G12349865432100H", Din("G123498654321", "00", "H")),
        ("G123498654321H", Din("G123498654321", None, "H")),  # flags left out
        ("G1234 98 654321 00 H", Din("G123498654321", "00", "H")),  # as printed on the label
        ("g123498654321h", Din("G123498654321", None, "H")),  # lower case is read as upper
        ("=g12349865432107", Din("G123498654321", "07", None)),
        ("\tG123498654321 00\n", Din("G123498654321", "00", None)),
    ],
)
def test_dins_as_scanned_or_typed(text, expected):
    assert parse_din(text) == expected


@pytest.mark.parametrize("din", DINS)
def test_each_known_good_din_with_its_check_character(din):
    check = by_definition(din)
    assert parse_din(f"{din}00{check}") == Din(din, "00", check)
    assert parse_din(f"={din} 01 {check.lower()}") == Din(din, "01", check)


@pytest.mark.parametrize(
    "text",
    [
        "G123498654321G",  # the check character of the example is H
        "G12349865432100I",
        "G123498654321*",
        "G1234 98 654322 00 H",  # one sequence digit changed
        "G1234 89 654321 00 H",  # two digits swapped
    ],
)
def test_a_wrong_check_character_is_refused(text):
    with pytest.raises(BagNumberError) as raised:
        parse_din(text)
    assert raised.value.code == "din_check"


@pytest.mark.parametrize("din", DINS)
def test_every_other_check_character_is_refused(din):
    for wrong in VALUES.replace(by_definition(din), ""):
        with pytest.raises(BagNumberError) as raised:
            parse_din(f"{din}00{wrong}")
        assert raised.value.code == "din_check", wrong


@pytest.mark.parametrize(
    "text",
    [
        "",
        "=",
        "G12349865432",  # 12 characters
        "G1234986543210000H",  # too long
        "G1234AB654321",  # letters in the year
        "G12349865432A",  # a letter in the sequence
        "1123498654321",  # the facility starts with a letter
        "G-1234-98-654321",  # hyphens are not separators
        "==G123498654321",
        "G123498654321=",
        "G1234986543210AH",  # flags are digits
        "G123498654321\u2060",  # an invisible word joiner is not a space
        "G123498654321$",
        "G12349865432１",  # a full-width digit
    ],
)
def test_what_is_not_a_din(text):
    with pytest.raises(BagNumberError) as raised:
        parse_din(text)
    assert raised.value.code == "din_format"


def test_bag_number_errors_are_value_errors_with_a_code():
    with pytest.raises(ValueError) as raised:
        parse_din("nonsense")
    assert isinstance(raised.value, BagNumberError)
    assert raised.value.code == "din_format"


# The policies.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  crts-2026-000123 ", "CRTS-2026-000123"),
        ("12 345", "12 345"),
        ("x" * 40, "X" * 40),
        ("G12349865432100Z", "G12349865432100Z"),  # not checked under "any"
        # A scanned ISBT 128 code's data identifier "=" is not kept: never a formula in a CSV.
        ("=G12349865432100", "G12349865432100"),
        ("=1+1", "1+1"),
    ],
)
def test_policy_any_keeps_printable_text_upper_cased(text, expected):
    assert normalise_bag_number(text, "any") == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bag_required"),
        ("=", "bag_required"),
        ("==1+1", "bag_format"),
        ("   \t ", "bag_required"),
        ("x" * 41, "bag_too_long"),
        ("AB\x00123", "bag_characters"),
        ("AB\t123", "bag_characters"),
        ("AB\u200b123", "bag_characters"),  # an invisible zero-width space
    ],
)
def test_policy_any_refuses(text, code):
    with pytest.raises(BagNumberError) as raised:
        normalise_bag_number(text, "any")
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=G12349865432100", "G123498654321"),  # scanned: no check character to verify
        ("G1234 98 654321 00 H", "G123498654321"),
        ("g123498654321", "G123498654321"),
        ("G123498654321H", "G123498654321"),
    ],
)
def test_policy_isbt128_stores_the_13_characters(text, expected):
    assert normalise_bag_number(text, "isbt128") == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bag_required"),
        ("G1234 98 654321 00 G", "din_check"),
        ("G12349865432", "din_format"),
        ("CRTS-2026-000123", "din_format"),
    ],
)
def test_policy_isbt128_refuses(text, code):
    with pytest.raises(BagNumberError) as raised:
        normalise_bag_number(text, "isbt128")
    assert raised.value.code == code


def test_policy_regex_needs_a_full_match_of_the_stripped_text():
    policy = r"regex:MK-\d{6}"
    assert normalise_bag_number("  MK-000123 ", policy) == "MK-000123"
    for text in ("MK-0001234", "xMK-000123", "mk-000123", "MK-00012"):
        with pytest.raises(BagNumberError) as raised:
            normalise_bag_number(text, policy)
        assert raised.value.code == "bag_format"


def test_policy_regex_still_refuses_empty_long_and_invisible_numbers():
    for text, code in [
        ("", "bag_required"),
        ("1" * 41, "bag_too_long"),
        ("1\x002", "bag_characters"),
    ]:
        with pytest.raises(BagNumberError) as raised:
            normalise_bag_number(text, r"regex:.*")
        assert raised.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("any", "any"),
        (" ISBT128 ", "isbt128"),
        ("Any", "any"),
        (r"regex:MK-\d{6}", r"regex:MK-\d{6}"),
        (r"REGEX:[A-Z]{2}\d+", r"regex:[A-Z]{2}\d+"),
    ],
)
def test_policies_given_on_the_command_line(text, expected):
    assert parse_policy(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must be any, isbt128 or regex:PATTERN"),
        ("isbt", "must be any, isbt128 or regex:PATTERN"),
        ("regex", "must be any, isbt128 or regex:PATTERN"),
        ("regex:", "needs a pattern"),
        ("regex:  ", "needs a pattern"),
        ("regex:(", "not a valid regular expression"),
        ("regex:[A-", "not a valid regular expression"),
        ("regex:" + "x" * 200, "longer than 200"),
        ("bogus\nsecond line", "must be any"),
    ],
)
def test_bad_policies_are_refused_in_one_line(text, message):
    with pytest.raises(ValueError) as raised:
        parse_policy(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_normalising_with_a_bad_policy_is_a_configuration_error():
    with pytest.raises(ValueError) as raised:
        normalise_bag_number("G123498654321", "isbt")
    assert not isinstance(raised.value, BagNumberError)
