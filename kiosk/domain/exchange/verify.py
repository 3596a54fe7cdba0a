"""The check of a bundle against its manifest: every file there with its size and SHA-256,
nothing else, and the counts (visits, figures, FHIR resources) those of the files. Opens plain
and encrypted bundles alike (`bundle_members`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyzipper

from kiosk.domain.exchange.columns import (
    EVENTS_CSV,
    FHIR_JSON,
    MANIFEST,
    MEMBER_NAMES,
    SIGNATURE,
    VISITS_JSON,
    schema_version_problem,
)
from kiosk.domain.exchange.fhir import count_resources
from kiosk.domain.exchange.figures import session_figures
from kiosk.domain.exchange.signing import SignatureProblem, Signer, check_signature

MANIFEST_MAX_BYTES = 1_000_000
# What the files of one bundle may take once unpacked: a day is a few megabytes.
BUNDLE_MAX_BYTES = 500_000_000

# What reading a damaged or foreign ZIP can raise.
_UNREADABLE = (
    zipfile.BadZipFile,
    pyzipper.BadZipFile,  # pyzipper's own copy of zipfile, with its own exceptions
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


# What visits.json may hold before it is parsed (a day has a few hundred visits, a whole
# campaign a few thousand, each a flat object of some 35 values): a 30 MB file of `{},` or
# `0,` would otherwise become tens of millions of Python objects.
VISITS_MAX_OBJECTS = 100_000
VISITS_MAX_VALUES = 5_000_000
JSON_MAX_DEPTH = 20  # visits.json is 3 deep; deeper nesting is refused before parsing
# fhir.json holds some 80 objects and 100 values per visit, 9 deep: the bounds let in some
# 60,000 visits (a day has a few hundred, the 10,000-visit benchmark far fewer than this).
FHIR_MAX_OBJECTS = 5_000_000
FHIR_MAX_VALUES = 8_000_000
FHIR_MAX_DEPTH = 32


class BundleProblem(ValueError):
    """A bundle that cannot be checked any further; the message says why."""


@dataclass(frozen=True)
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    files: int = 0  # files checked against the manifest
    encrypted: bool = False
    signer: Signer | None = None  # whose key signed the manifest; None: unsigned

    @property
    def ok(self) -> bool:
        return not self.problems


def bundle_members(data: bytes, passphrase: str | None = None) -> dict[str, bytes]:
    """Every file of a bundle by name, in the ZIP's order, decrypted with the passphrase if the
    bundle is encrypted. A plain bundle opens whether a passphrase is given or not (it protects
    nothing there; `verify_bundle` says whether a bundle was encrypted). BundleProblem, with a
    one-line message, for anything that is not a whole, readable bundle."""
    members, _ = _read_bundle(data, passphrase, keep=None)
    return {name: member.content or b"" for name, member in members.items()}


def read_manifest(data: bytes, passphrase: str | None = None) -> dict[str, Any]:
    """The manifest of a bundle, checked for shape; BundleProblem if there is none to trust."""
    members, _ = _read_bundle(data, passphrase, keep=frozenset({MANIFEST}))
    return _manifest(members)


def verify_bundle(data: bytes, passphrase: str | None = None) -> VerifyReport:
    """Every file the manifest lists is there with its size and SHA-256, nothing else is, and the
    counts agree with the files. A damaged or foreign file gives problems, never an exception."""
    return checked_bundle(data, passphrase)[0]


def checked_bundle(
    data: bytes, passphrase: str | None = None
) -> tuple[VerifyReport, dict[str, bytes]]:
    """The check of `verify_bundle`, and the files the centre reads next (the manifest, its
    signature, visits.json and events.csv), from one pass over the ZIP: every member is hashed
    as it streams out, and only those files are kept."""
    try:
        members, encrypted = _read_bundle(data, passphrase, keep=KEPT)
        manifest = _manifest(members)
    except BundleProblem as problem:
        return VerifyReport([str(problem)]), {}
    listed = manifest["files"]
    problems = [
        problem
        for name, expected in listed.items()
        for problem in _member_problems(members, name, expected)
    ]
    problems += [
        f"{name}: in the ZIP but not in the manifest"
        for name in members
        if name not in (MANIFEST, SIGNATURE) and name not in listed
    ]
    signer = None
    if SIGNATURE in members:
        try:
            signer = check_signature(members[SIGNATURE].content or b"", _content(members, MANIFEST))
        except SignatureProblem as problem:
            problems.append(str(problem))
    if not problems:
        problems += _count_problems(members, manifest)
    contents = {
        name: member.content
        for name, member in members.items()
        if member.content is not None and name != FHIR_JSON
    }
    return VerifyReport(problems, len(listed), encrypted, signer), contents


@dataclass(frozen=True)
class _Member:
    size: int
    sha256: str
    content: bytes | None  # kept only for the files read after the check


# The files whose bytes are kept after hashing: those read after the check (fhir.json only to
# count its resources). visits.csv and visits.xlsx are hashed and let go.
KEPT = frozenset({MANIFEST, SIGNATURE, VISITS_JSON, EVENTS_CSV, FHIR_JSON})
_CHUNK = 1 << 20


def _content(members: Mapping[str, _Member], name: str) -> bytes:
    member = members.get(name)
    return b"" if member is None or member.content is None else member.content


def _read_bundle(
    data: bytes, passphrase: str | None, keep: frozenset[str] | None
) -> tuple[dict[str, _Member], bool]:
    """The members (hashed; the bytes of those in `keep`, of all when None), and whether they
    were encrypted."""
    try:
        with pyzipper.AESZipFile(io.BytesIO(data)) as bundle:
            infos = bundle.infolist()
            _check_listing(infos)
            encrypted = _encrypted(infos)
            if encrypted and not passphrase:
                raise BundleProblem("the bundle is encrypted: its passphrase is needed")
            password = passphrase.encode("utf-8") if encrypted and passphrase else None
            return {
                info.filename: _read_member(
                    bundle, info, password, keep is None or info.filename in keep
                )
                for info in infos
            }, encrypted
    except BundleProblem:
        raise
    except _UNREADABLE as error:
        raise BundleProblem(f"not a readable ZIP file ({error})") from None


def _check_listing(infos: Sequence[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.filename not in MEMBER_NAMES:
            raise BundleProblem(f"{info.filename!r}: not a file a bundle holds")
    names = Counter(info.filename for info in infos)
    for name, n in names.items():
        if n > 1:
            raise BundleProblem(f"{name}: appears {n} times in the ZIP")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > BUNDLE_MAX_BYTES:
        raise BundleProblem(
            f"the files would take {unpacked} bytes unpacked, too many for a bundle"
        )


def _encrypted(infos: Sequence[zipfile.ZipInfo]) -> bool:
    """All members are encrypted, or none is: a mix means someone changed the bundle."""
    flags = {bool(info.flag_bits & 0x1) for info in infos}
    if len(flags) > 1:
        raise BundleProblem("some files of the ZIP are encrypted and some are not")
    return flags == {True}


def _read_member(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, password: bytes | None, keep: bool
) -> _Member:
    """The member hashed as it streams out of the ZIP, never more bytes than the ZIP lists for
    it; its bytes kept only if asked."""
    if info.filename == MANIFEST and info.file_size > MANIFEST_MAX_BYTES:
        raise BundleProblem(f"{MANIFEST} is too large ({info.file_size} bytes)")
    digest = hashlib.sha256()
    size = 0
    kept = io.BytesIO() if keep else None
    try:
        with bundle.open(info, pwd=password) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > info.file_size:
                    raise BundleProblem(f"{info.filename}: unpacks to more than the ZIP says")
                digest.update(chunk)
                if kept is not None:
                    kept.write(chunk)
    except RuntimeError:
        # What reading with a password that fails the check raises; the passphrase is the same
        # for every member, so the first member tells.
        if password is not None:
            raise BundleProblem("wrong passphrase") from None
        raise
    except BundleProblem:
        raise
    except _UNREADABLE as error:
        raise BundleProblem(f"{info.filename}: cannot be read ({error})") from None
    return _Member(size, digest.hexdigest(), kept.getvalue() if kept is not None else None)


def _manifest(members: Mapping[str, _Member]) -> dict[str, Any]:
    if MANIFEST not in members:
        raise BundleProblem(f"{MANIFEST} is missing")
    content = _content(members, MANIFEST)
    if len(content) > MANIFEST_MAX_BYTES:
        raise BundleProblem(f"{MANIFEST} is too large ({len(content)} bytes)")
    try:
        manifest = json.loads(content.decode("utf-8"))
    except ValueError as error:  # not UTF-8, not JSON
        raise BundleProblem(f"{MANIFEST} is not valid JSON ({error})") from None
    _check_manifest_shape(manifest)
    return manifest


def _check_manifest_shape(manifest: Any) -> None:
    if not isinstance(manifest, dict):
        raise BundleProblem(f"{MANIFEST} is not a JSON object")
    problem = schema_version_problem(manifest.get("schema_version"), MANIFEST)
    if problem is not None:  # the manifest is the bundle: its name goes without saying
        raise BundleProblem(problem.removeprefix(f"{MANIFEST}: "))
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(map(_is_file_entry, files.values())):
        raise BundleProblem(f"{MANIFEST} has no valid list of files")


def _is_file_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("bytes"), int)
        and not isinstance(entry.get("bytes"), bool)
    )


def _member_problems(
    members: Mapping[str, _Member], name: str, expected: Mapping[str, Any]
) -> list[str]:
    member = members.get(name)
    if member is None:
        return [f"{name}: listed in the manifest but missing"]
    if member.size != expected["bytes"]:
        return [f"{name}: {member.size} bytes, the manifest says {expected['bytes']}"]
    if member.sha256 != expected["sha256"].lower():
        return [f"{name}: SHA-256 does not match the manifest"]
    return []


def visits_json_problem(content: bytes) -> str | None:
    """Why visits.json is refused before it is parsed (too many objects or values, nested too
    deep), or None: the work to read it stays bounded whatever the file holds."""
    return json_problem(content, VISITS_JSON, VISITS_MAX_OBJECTS, VISITS_MAX_VALUES, JSON_MAX_DEPTH)


def json_problem(
    content: bytes, name: str, most_objects: int, most_values: int, deepest_allowed: int
) -> str | None:
    """Why a JSON member is refused before it is parsed, or None. Brackets and commas inside
    strings are counted too: the bounds are far above what a real file holds."""
    objects = content.count(b"{") + content.count(b"[")
    if objects > most_objects:
        return f"{name}: more than {most_objects} objects, too many for a bundle"
    if content.count(b",") > most_values:
        return f"{name}: more than {most_values} values, too many for a bundle"
    depth = deepest = 0
    for byte in content.translate(None, delete=_NOT_BRACKETS):
        depth += 1 if byte in b"{[" else -1
        if depth > deepest:
            deepest = depth
            if deepest > deepest_allowed:
                return f"{name}: nested more than {deepest_allowed} deep"
    return None


def finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent, refused (ValueError) if it is not finite or
    has more digits than any measurement."""
    value = float(text)
    if len(text) > 32 or not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:
        raise ValueError(f"the number {text[:20]}… is out of range")
    return int(text)


def no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a number a bundle holds")


def load_bounded_json(content: bytes) -> Any:
    """JSON whose numbers are finite and of bounded size (ValueError otherwise)."""
    return json.loads(
        content.decode("utf-8"),
        parse_float=finite_float,
        parse_int=bounded_int,
        parse_constant=no_constant,
    )


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def _count_problems(members: Mapping[str, _Member], manifest: Mapping[str, Any]) -> list[str]:
    """The number of visits in the manifest is the number in visits.json, its figures (when it
    has any) are those of these visits, and its FHIR resources those in fhir.json."""
    if VISITS_JSON not in manifest["files"]:
        return []
    content = _content(members, VISITS_JSON)
    problem = visits_json_problem(content)
    if problem is not None:
        return [problem]
    try:
        visits = load_bounded_json(content)["visits"]
        counted = manifest["counts"]["visits"]
    except MALFORMED as error:
        return [f"{VISITS_JSON} or the manifest's counts cannot be read ({_one_line(error)})"]
    if not isinstance(visits, list):
        return [f"{VISITS_JSON} holds no list of visits"]
    if counted != len(visits):
        return [f"the manifest counts {counted} visits, {VISITS_JSON} holds {len(visits)}"]
    problems = _figure_problems(manifest, visits)
    del visits  # ten thousand rows, not to be held while fhir.json is read
    return problems + _fhir_count_problems(members, manifest)


# What reading a hostile value can raise, besides the kinds the reader raises itself.
MALFORMED = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())[:120]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _figure_problems(manifest: Mapping[str, Any], visits: list) -> list[str]:
    """Only the sections the manifest has, and new known values only if they are 0: a later Nabd
    that counts more still verifies an older bundle."""
    listed = manifest.get("figures")
    if listed is None:
        return []
    try:
        figures = session_figures(visits)
    except MALFORMED as error:
        return [f"{VISITS_JSON} holds visits whose figures cannot be counted ({_one_line(error)})"]
    if not isinstance(listed, dict) or any(
        not isinstance(items, dict)
        or {item: n for item, n in figures.get(section, {}).items() if n or item in items} != items
        for section, items in listed.items()
    ):
        return [f"the manifest's figures are not those of the visits in {VISITS_JSON}"]
    return []


def _fhir_count_problems(members: Mapping[str, _Member], manifest: Mapping[str, Any]) -> list[str]:
    """The resources the manifest counts by type are those in fhir.json."""
    if FHIR_JSON not in manifest["files"]:
        return []
    content = _content(members, FHIR_JSON)
    problem = json_problem(content, FHIR_JSON, FHIR_MAX_OBJECTS, FHIR_MAX_VALUES, FHIR_MAX_DEPTH)
    if problem is not None:
        return [problem]
    try:
        fhir = json.loads(
            content.decode("utf-8"),
            object_hook=_what_counting_reads,
            parse_float=finite_float,
            parse_int=bounded_int,
            parse_constant=no_constant,
        )
        found = count_resources(fhir)
        counted = manifest["counts"]["fhir_resources"]
    except MALFORMED as error:
        return [f"{FHIR_JSON} or the manifest's counts cannot be read ({_one_line(error)})"]
    if counted != found:
        return [f"the manifest counts {counted} FHIR resources, {FHIR_JSON} holds {found}"]
    return []


def _what_counting_reads(item: dict[str, Any]) -> dict[str, Any]:
    """Of each JSON object, only what `count_resources` reads: a day's fhir.json is some 90 MB,
    whole it would take six times that in memory."""
    return {key: item[key] for key in ("resourceType", "entry", "resource") if key in item}
