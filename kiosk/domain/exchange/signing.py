"""The venue's identity: an Ed25519 key made once in the instance folder, and the signature over
a bundle's manifest that it gives (`signature.json`, a member of the bundle).

The private key never leaves the instance folder (mode 0600) and is never exported. The public
key is one line of base64 (`kiosk venue key`); its fingerprint is the first 16 hex digits of the
SHA-256 of the public key's raw bytes. Ed25519 signatures are deterministic: the same manifest
gives the same signature, so a bundle's bytes still depend only on its data (and `generated_at`).

What a signature proves: the manifest (and so, through its SHA-256 list, every file it names)
was made by whoever holds that venue's private key. What it does not: that the values are true,
that the key was not stolen from the venue's laptop, or that the centre trusts that key; the
centre's list of trusted venues (`kiosk central trust`) says that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALGORITHM = "Ed25519"
KEY_FILE = "venue-signing-key.pem"
SIGNATURE_MAX_BYTES = 10_000


class SignatureProblem(ValueError):
    """A signature member that cannot be read or does not verify; the message says why."""


def venue_key(instance_path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The venue's private key, made on first use in the instance folder (readable by its owner
    only)."""
    path = Path(instance_path) / KEY_FILE
    try:
        return _load(path.read_bytes())
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return _load(path.read_bytes())
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)
    return key


def _load(pem: bytes) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{KEY_FILE} does not hold an Ed25519 key")
    return key


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as one line of base64 (its 32 raw bytes)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def fingerprint(public: str) -> str:
    """The short fingerprint of a public key given as `public_text`: 16 hex digits in groups."""
    digest = hashlib.sha256(_raw_public(public)).hexdigest()[:16]
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def read_public(text: str) -> str:
    """A public key as typed (base64 of 32 bytes), normalised; SignatureProblem if it is not."""
    _raw_public(text.strip())
    return text.strip()


def _raw_public(public: str) -> bytes:
    try:
        raw = base64.b64decode(public.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SignatureProblem("the public key is not base64") from None
    if len(raw) != 32:
        raise SignatureProblem("the public key is not an Ed25519 key (32 bytes)")
    return raw


def signature_member(key: Ed25519PrivateKey, manifest: bytes) -> bytes:
    """`signature.json`: the algorithm, the public key, its fingerprint and the signature over the
    manifest's exact bytes."""
    public = public_text(key)
    document = {
        "algorithm": ALGORITHM,
        "public_key": public,
        "fingerprint": fingerprint(public),
        "signature": base64.b64encode(key.sign(manifest)).decode("ascii"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Signer:
    public_key: str
    fingerprint: str


def check_signature(member: bytes, manifest: bytes) -> Signer:
    """Who signed this manifest; SignatureProblem if the member is malformed or the signature
    does not verify over the manifest's bytes."""
    if len(member) > SIGNATURE_MAX_BYTES:
        raise SignatureProblem("signature.json is too large")
    try:
        document: Any = json.loads(member.decode("utf-8"))
    except ValueError:
        raise SignatureProblem("signature.json is not valid JSON") from None
    if not isinstance(document, dict) or document.get("algorithm") != ALGORITHM:
        raise SignatureProblem("signature.json: not an Ed25519 signature")
    public, signed = document.get("public_key"), document.get("signature")
    if not isinstance(public, str) or not isinstance(signed, str):
        raise SignatureProblem("signature.json: no public key or signature")
    raw = _raw_public(public)
    try:
        signature = base64.b64decode(signed.encode("ascii"), validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, manifest)
    except (binascii.Error, UnicodeEncodeError, ValueError, InvalidSignature):
        raise SignatureProblem("the signature does not verify over the manifest") from None
    return Signer(public, fingerprint(public))
