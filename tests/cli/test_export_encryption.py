"""The encrypted bundle: AES-256 written, read back with the passphrase, refused without it."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
import pyzipper

from kiosk.db import db
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.exchange.columns import MANIFEST, VISITS_CSV
from kiosk.domain.exchange.files import zip_bytes
from kiosk.domain.exchange.verify import BundleProblem, bundle_members, read_manifest, verify_bundle
from tests.support.simulated_day import bundle_of, members, simulate_day

PASSPHRASE = "sel-et-sucre 2026"


@pytest.fixture
def kiosk(app, tmp_path, kiosk_command):
    """`kiosk …` on the app's instance, after the simulated day."""
    with app.app_context():
        simulate_day(current_campaign(db.session).id)
    return kiosk_command(tmp_path / "instance")


def encrypted_bundle(campaign_id: int) -> bytes:
    return bundle_of(campaign_id, passphrase=PASSPHRASE)


def test_an_encrypted_bundle_reads_back_as_the_plain_one(campaign_id):
    plain = members(bundle_of(campaign_id))
    encrypted = encrypted_bundle(campaign_id)
    assert bundle_members(encrypted, PASSPHRASE) == plain
    report = verify_bundle(encrypted, PASSPHRASE)
    assert report.ok and report.encrypted and report.files == len(plain) - 1
    assert read_manifest(encrypted, PASSPHRASE) == read_manifest(bundle_of(campaign_id))


def test_every_member_is_aes_256_and_the_standard_library_cannot_read_it(campaign_id):
    encrypted = encrypted_bundle(campaign_id)
    with pyzipper.AESZipFile(io.BytesIO(encrypted)) as opened:
        infos = opened.infolist()
    assert infos and all(info.flag_bits & 0x1 for info in infos)
    assert {(info.wz_aes_strength, info.wz_aes_version) for info in infos} == {(3, 2)}
    assert b"Fatima" not in encrypted and "فاطمة".encode() not in encrypted
    with zipfile.ZipFile(io.BytesIO(encrypted)) as opened, pytest.raises(RuntimeError):
        opened.read(MANIFEST)


@pytest.mark.skipif(
    shutil.which("7z") is None, reason="7-Zip is missing: `make seven-zip` installs p7zip-full"
)
def test_7_zip_opens_the_encrypted_bundle_with_the_passphrase_only(campaign_id, tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_bytes(encrypted_bundle(campaign_id))

    def seven_zip(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["7z", *args], capture_output=True, timeout=60, check=False)

    listing = seven_zip("l", "-slt", str(path)).stdout.decode()
    assert listing.count("Method = AES-256 Deflate") == len(members(bundle_of(campaign_id)))
    opened = seven_zip("x", "-so", f"-p{PASSPHRASE}", str(path), VISITS_CSV)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == members(bundle_of(campaign_id))[VISITS_CSV]
    refused = seven_zip("t", "-pnot-the-passphrase", str(path))
    assert refused.returncode != 0
    assert b"Wrong password" in refused.stdout + refused.stderr


@pytest.mark.parametrize(
    ("passphrase", "problem"),
    [
        (None, "the bundle is encrypted: its passphrase is needed"),
        ("", "the bundle is encrypted: its passphrase is needed"),
        ("sel-et-sucre 2025", "wrong passphrase"),
    ],
)
def test_no_or_a_wrong_passphrase_is_one_line(campaign_id, passphrase, problem):
    encrypted = encrypted_bundle(campaign_id)
    with pytest.raises(BundleProblem) as raised:
        bundle_members(encrypted, passphrase)
    assert str(raised.value) == problem
    assert verify_bundle(encrypted, passphrase).problems == [problem]


def test_a_plain_bundle_opens_even_with_a_passphrase(campaign_id):
    plain = bundle_of(campaign_id)
    assert bundle_members(plain, PASSPHRASE) == members(plain)
    report = verify_bundle(plain, PASSPHRASE)
    assert report.ok and not report.encrypted


def test_a_truncated_encrypted_bundle_is_a_problem_never_an_exception(campaign_id):
    encrypted = encrypted_bundle(campaign_id)
    for length in range(0, len(encrypted), 7):
        with pytest.raises(BundleProblem):
            bundle_members(encrypted[:length], PASSPHRASE)
        assert not verify_bundle(encrypted[:length], PASSPHRASE).ok


def test_a_flipped_byte_inside_an_encrypted_member_fails_its_check(campaign_id):
    encrypted = bytearray(encrypted_bundle(campaign_id))
    with pyzipper.AESZipFile(io.BytesIO(bytes(encrypted))) as opened:
        info = opened.getinfo(VISITS_CSV)
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    encrypted[data_start + info.compress_size // 2] ^= 0x01
    report = verify_bundle(bytes(encrypted), PASSPHRASE)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("visits.csv: cannot be read (Bad HMAC check")


def test_a_member_replaced_inside_an_encrypted_bundle_fails(campaign_id):
    files = members(bundle_of(campaign_id))
    files[VISITS_CSV] = files[VISITS_CSV].replace(b"13.1", b"13.7")
    report = verify_bundle(zip_bytes(files, PASSPHRASE), PASSPHRASE)
    assert report.problems == ["visits.csv: SHA-256 does not match the manifest"]


def test_a_plain_file_slipped_into_an_encrypted_bundle_is_refused(campaign_id):
    encrypted = encrypted_bundle(campaign_id)
    buffer = io.BytesIO(encrypted)
    with zipfile.ZipFile(buffer, "a") as opened:
        opened.writestr("signature.json", b"{}")  # a name a bundle may hold, not encrypted
    report = verify_bundle(buffer.getvalue(), PASSPHRASE)
    assert report.problems == ["some files of the ZIP are encrypted and some are not"]


def test_a_short_passphrase_is_refused_when_writing():
    with pytest.raises(ValueError, match="at least 8 characters"):
        zip_bytes({"a.txt": b"a"}, "short")


def test_duplicate_names_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as opened:
        opened.writestr(MANIFEST, b"{}")
        with pytest.warns(UserWarning, match="Duplicate name"):
            opened.writestr(MANIFEST, b"{}")
    with pytest.raises(BundleProblem, match="manifest.json: appears 2 times in the ZIP"):
        bundle_members(buffer.getvalue())


# --- the command --------------------------------------------------------------------------------


def test_export_encrypted_then_verify_with_either_name(kiosk, tmp_path, monkeypatch):
    monkeypatch.setenv("NABD_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "khenifra.zip"
    result = kiosk("export", "--out", out, "--passphrase-env", "NABD_PASSPHRASE")
    assert result.exit_code == 0, result.output
    assert "is encrypted with AES-256: open it with 7-Zip" in result.output
    assert "not encrypted" not in result.output
    assert verify_bundle(out.read_bytes(), PASSPHRASE).encrypted
    for command in (("export", "verify"), ("verify-export",)):
        verified = kiosk(*command, out, "--passphrase-env", "NABD_PASSPHRASE")
        assert verified.exit_code == 0, verified.output
        first, signed = verified.output.strip().splitlines()
        assert first == "ok: 5 files verified, encrypted"
        assert signed.startswith("signed by the key ")


def test_verify_without_or_with_a_wrong_passphrase_fails(kiosk, tmp_path, monkeypatch):
    monkeypatch.setenv("NABD_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "khenifra.zip"
    kiosk("export", "--out", out, "--passphrase-env", "NABD_PASSPHRASE")
    unlocked = kiosk("verify-export", out)
    assert unlocked.exit_code == 1
    assert unlocked.output.strip() == f"{out}: the bundle is encrypted: its passphrase is needed"
    monkeypatch.setenv("NABD_PASSPHRASE", "not the passphrase")
    wrong = kiosk("verify-export", out, "--passphrase-env", "NABD_PASSPHRASE")
    assert wrong.exit_code == 1
    assert wrong.output.strip() == f"{out}: wrong passphrase"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "--out", "x.zip", "--passphrase-env", "NABD_UNSET"), "NABD_UNSET is not set"),
        (("export", "--out", "x.zip", "--passphrase-env", "NABD_EMPTY"), "NABD_EMPTY is not set"),
        (("export", "--out", "x.zip", "--passphrase-env", "NABD_SHORT"), "fewer than 8 characters"),
        (("verify-export", "y.zip", "--passphrase-env", "NABD_UNSET"), "NABD_UNSET is not set"),
        (("export", "--passphrase-env", "NABD_SHORT", "verify", "y.zip"), "go with `kiosk export`"),
        (("verify-export", "missing.zip"), "does not exist"),
    ],
)
def test_bad_passphrase_options_are_one_line(kiosk, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "y.zip").write_bytes(b"")
    monkeypatch.delenv("NABD_UNSET", raising=False)
    monkeypatch.setenv("NABD_EMPTY", "")
    monkeypatch.setenv("NABD_SHORT", "1234567")
    result = kiosk(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()


def test_an_encrypted_bundle_of_a_newer_schema_is_refused_in_one_line(kiosk, tmp_path, monkeypatch):
    monkeypatch.setenv("NABD_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "future.zip"
    out.write_bytes(zip_bytes({MANIFEST: b'{"schema_version": 3, "files": {}}'}, PASSPHRASE))
    result = kiosk("verify-export", out, "--passphrase-env", "NABD_PASSPHRASE")
    assert result.exit_code == 1
    assert result.output.strip() == (f"{out}: schema version 3 is newer than this Nabd reads (2)")
