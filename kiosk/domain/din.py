"""Bag numbers: read from the centre's pre-printed labels, checked, never generated here.

A campaign says how its bag numbers are checked (`Campaign.bag_numbers`):

- "any": whatever the centre prints, as long as it is a short printable text;
- "isbt128": an ISBT 128 Donation Identification Number (DIN), whose printed check character
  is verified with ISO/IEC 7064 MOD 37-2;
- "regex:PATTERN": the centre's own format, as a Python regular expression the whole number must
  match.

That a number is not used twice is checked against the database, not here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kiosk.domain.validation import Invalid

BAG_NUMBER_MAX_LENGTH = 40  # Donation.bag_number
POLICY_MAX_LENGTH = 200  # Campaign.bag_numbers
REGEX_PREFIX = "regex:"

# ISO/IEC 7064 MOD 37-2: the characters' values, and the check character of each remainder.
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_MODULUS = 37
_RADIX = 2
_DIN_CHARACTERS = re.compile(r"[0-9A-Z]{13}")

# Facility (a letter and four letters or digits), year (2 digits), sequence (6 digits); then,
# as printed under the barcode, the two flag characters and the boxed check character. The
# barcode itself carries "=" before the DIN and the flags after it, but no check character.
_DIN_TEXT = re.compile(
    r"(?P<din>[A-Z][A-Z0-9]{4}[0-9]{2}[0-9]{6})(?P<flags>[0-9]{2})?(?P<check>[0-9A-Z*])?"
)


class BagNumberError(Invalid):
    """A bag number the campaign's policy refuses; `code` says why (for the translated message).

    Codes: bag_required, bag_too_long, bag_characters, bag_format, din_format, din_check.
    """


@dataclass(frozen=True)
class Din:
    din: str  # the 13 characters, upper-case
    flags: str | None  # the two flag characters, if they were given
    check: str | None  # the printed check character, if it was given (then it is right)


# With no format set, a bag number is still what a label or a scanner gives: letters, digits and
# the separators labels print; never markup, quotes or semicolons.
_LABEL_TEXT = re.compile(r"[A-Z0-9][A-Z0-9 ./=+*_-]*")


def check_character(din13: str) -> str:
    """The MOD 37-2 check character of a 13-character DIN (upper-case letters and digits)."""
    if not _DIN_CHARACTERS.fullmatch(din13):
        raise ValueError(f"not 13 characters of 0-9 and A-Z: {din13!r}")
    remainder = 0
    for character in din13:
        remainder = (remainder + _ALPHABET.index(character)) * _RADIX % _MODULUS
    # The check value makes the checksum of the whole, check character included, come to 1.
    return _ALPHABET[(_MODULUS + 1 - remainder) % _MODULUS]


def parse_din(text: str) -> Din:
    """Reads a DIN as scanned ("=" + DIN + flags) or typed from the label (DIN, flags, check
    character, in any spacing). Lower case is read as upper case."""
    compact = "".join(text.split()).upper().removeprefix("=")
    found = _DIN_TEXT.fullmatch(compact)
    if found is None:
        raise BagNumberError("din_format")
    din, check = found["din"], found["check"]
    if check is not None and check != check_character(din):
        raise BagNumberError("din_check")
    return Din(din=din, flags=found["flags"], check=check)


def parse_policy(text: str) -> str:
    """The policy in its stored form, or ValueError with a one-line message (for the CLI and
    the coordinator's page)."""
    policy = text.strip()
    if policy.lower() in ("any", "isbt128"):
        return policy.lower()
    if not policy.lower().startswith(REGEX_PREFIX):
        raise ValueError(
            f"bag-number policy must be any, isbt128 or regex:PATTERN, not {_one_line(policy)}"
        )
    if len(policy) > POLICY_MAX_LENGTH:
        raise ValueError(f"bag-number policy longer than {POLICY_MAX_LENGTH} characters")
    pattern = policy[len(REGEX_PREFIX) :]
    if not pattern:
        raise ValueError("regex:PATTERN needs a pattern after the colon")
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"regex:PATTERN is not a valid regular expression: {error}") from None
    return REGEX_PREFIX + pattern


def normalise_bag_number(text: str, policy: str) -> str:
    """The bag number as stored, or BagNumberError. An unknown policy is ValueError (a
    configuration mistake, not the phlebotomist's)."""
    policy = parse_policy(policy)
    # A scanned ISBT 128 code starts with its data identifier "=": not part of the number (and
    # a cell starting with "=" is a formula to a spreadsheet).
    number = text.strip().removeprefix("=").strip()
    if not number:
        raise BagNumberError("bag_required")
    if policy == "isbt128":
        return parse_din(number).din
    if policy == "any":
        number = number.upper()
    if len(number) > BAG_NUMBER_MAX_LENGTH:
        raise BagNumberError("bag_too_long", max=BAG_NUMBER_MAX_LENGTH)
    if any(unicodedata.category(character).startswith("C") for character in number):
        raise BagNumberError("bag_characters")
    if policy.startswith(REGEX_PREFIX) and not re.fullmatch(policy[len(REGEX_PREFIX) :], number):
        raise BagNumberError("bag_format")
    if policy == "any" and not _LABEL_TEXT.fullmatch(number):
        raise BagNumberError("bag_format")
    return number


def _one_line(text: str) -> str:
    return repr(" ".join(text.split())[:60])
