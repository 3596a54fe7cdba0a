"""`kiosk replica status` and `kiosk replica restore`, with the real Litestream (one pass of
`litestream replicate -once` stands for the server's child)."""

from __future__ import annotations

import sqlite3
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk import replica
from kiosk.replica import Target


@pytest.fixture
def kiosk(tmp_path, kiosk_command):
    return kiosk_command(tmp_path / "instance")


def replicate_once(instance: Path, usb: Path, include_keys: bool = False) -> None:
    """What `kiosk run` does for the replica, once: the settings beside it, then one sync."""
    settings = replica.ReplicaSettings(
        Target("folder", str(usb)), instance / "kiosk.sqlite3", include_keys=include_keys
    )
    config = replica.write_config(
        instance / "replica" / "litestream.yml", replica.litestream_config(settings)
    )
    replica.publish_instance_files(instance, settings, datetime.now(UTC))
    subprocess.run(
        [replica.litestream_binary(), "replicate", "-once", "-config", str(config)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def venue(kiosk, instance: Path) -> None:
    """A venue with a campaign, a settings file that names its replica, and its keys."""
    assert kiosk("campaign", "open", "--name", "Don", "--site", "Khénifra").exit_code == 0
    (instance / "config.toml").write_text(
        f'replica = "{instance.parent / "usb"}"\nticket_paper = "58mm"\n'
    )
    assert kiosk("venue", "key").exit_code == 0  # makes venue-signing-key.pem


def test_restore_rebuilds_a_venue_without_its_keys(kiosk, tmp_path):
    instance, usb, laptop = tmp_path / "instance", tmp_path / "usb", tmp_path / "laptop"
    venue(kiosk, instance)
    replicate_once(instance, usb)

    result = kiosk("replica", "restore", "--from", usb, "--to", laptop)
    assert result.exit_code == 0, result.output
    assert f"Restored 0 visits into {laptop / 'kiosk.sqlite3'} (integrity ok)" in result.output
    assert "keys: not in the replica. Staff log in again" in result.output
    assert f"kiosk run --instance {laptop}" in result.output
    assert sorted(path.name for path in laptop.iterdir()) == ["config.toml", "kiosk.sqlite3"]
    assert tomllib.loads((laptop / "config.toml").read_text()) == {"ticket_paper": "58mm"}
    connection = sqlite3.connect(laptop / "kiosk.sqlite3")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT site FROM campaign").fetchall() == [("Khénifra",)]
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()
    assert (laptop / "kiosk.sqlite3").stat().st_mode & 0o077 == 0

    again = kiosk("replica", "restore", "--from", usb, "--to", laptop)
    assert again.exit_code == 1
    assert again.output.strip() == f"kiosk: {laptop} is not empty: restore into a new folder"


def test_restore_brings_the_keys_when_the_coordinator_chose_so(kiosk, tmp_path):
    instance, usb, laptop = tmp_path / "instance", tmp_path / "usb", tmp_path / "laptop"
    venue(kiosk, instance)
    replicate_once(instance, usb, include_keys=True)
    result = kiosk("replica", "restore", "--from", usb, "--to", laptop)
    assert result.exit_code == 0, result.output
    assert "keys from the replica: secret_key, venue-signing-key.pem" in result.output
    for name in ("secret_key", "venue-signing-key.pem"):
        assert (laptop / name).read_bytes() == (instance / name).read_bytes()
        assert (laptop / name).stat().st_mode & 0o077 == 0


def test_status_without_a_replica_says_how_to_set_one(kiosk):
    result = kiosk("replica", "status")
    assert result.exit_code == 1
    assert "no replica: set KIOSK_REPLICA" in result.output


def test_status_of_a_replica_with_no_server_running(kiosk, tmp_path):
    instance, usb = tmp_path / "instance", tmp_path / "usb"
    venue(kiosk, instance)
    replicate_once(instance, usb)
    result = kiosk("replica", "status", KIOSK_REPLICA=str(usb))
    assert result.exit_code == 0, result.output
    first, second, third, *_ = result.output.splitlines()
    assert first == f"replica ok: {usb}"
    assert second.endswith("lag 0 s")
    assert third == "litestream: not running (no server is running on this instance)"


def test_restore_of_a_folder_without_a_replica_is_one_line(kiosk, tmp_path):
    (tmp_path / "usb").mkdir()
    result = kiosk("replica", "restore", "--from", tmp_path / "usb", "--to", tmp_path / "laptop")
    assert result.exit_code == 1
    assert result.output.strip() == f"kiosk: no Nabd replica in {tmp_path / 'usb'}"
