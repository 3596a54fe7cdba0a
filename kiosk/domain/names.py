"""Names that belong to the campaign, given in each language: its site ("Khénifra", "خنيفرة"),
its regional centre ("CRTS Meknès", "المركز الجهوي لتحاقن الدم بمكناس") and its desks
("Médecin 1", "الطبيب 1").

Each named thing keeps its one name as before (the campaign's `site`, the desk's `name`: what the
exports, the command line and the desk picker use) and, beside it, a small JSON object of names
per language (`{"ar": "…", "fr": "…"}`) in a nullable text column. A page asks for the name in
its language and gets the one name when none was given for it. A third language (Tamazight,
`zgh`) is one more key, not another column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from kiosk.domain.validation import has_hidden_characters

# A language code as the app spells it: "ar", "fr", "zgh".
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class NameProblem(ValueError):
    """A name in a language that cannot be stored; `code` says why (a message key)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse(raw: str | None) -> dict[str, str]:
    """The stored names per language; {} for nothing stored or anything unreadable (a page must
    still show the one name)."""
    if not raw:
        return {}
    try:
        names = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(names, dict):
        return {}
    return {
        language: name
        for language, name in names.items()
        if isinstance(language, str)
        and _LANGUAGE.match(language)
        and isinstance(name, str)
        and name.strip()
    }


def dump(names: Mapping[str, str]) -> str | None:
    """What the column stores: the non-empty names, or None (NULL) for none."""
    kept = {language: name for language, name in sorted(names.items()) if name}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None


def in_language(raw: str | None, language: str | None, fallback: str) -> str:
    """The name in `language` (a locale like "ar_MA" is read as "ar"), else the one name."""
    if not language:
        return fallback
    return parse(raw).get(str(language).split("_")[0].split("-")[0]) or fallback


def clean(name: str | None, longest: int) -> str:
    """A name as typed, made ready to store: inner spaces collapsed; "" for none. Raises
    NameProblem ("too_long", "hidden_characters") for what cannot be stored."""
    name = " ".join((name or "").split())
    if len(name) > longest:
        raise NameProblem("too_long")
    if has_hidden_characters(name):
        raise NameProblem("hidden_characters")
    return name


def with_names(raw: str | None, given: Mapping[str, str | None], longest: int) -> str | None:
    """The stored names with those `given` (language → name; an empty one removes it), each
    checked as `clean` does."""
    names = parse(raw)
    for language, name in given.items():
        if not _LANGUAGE.match(language):
            raise NameProblem("language")
        cleaned = clean(name, longest)
        if cleaned:
            names[language] = cleaned
        else:
            names.pop(language, None)
    return dump(names)
