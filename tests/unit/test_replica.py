"""The live replica's rules without a server: where it goes, what Litestream is told, how its
health is read from Litestream's files, the child's restarts, and what a restore refuses."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import replica
from kiosk.replica import ChildState, LtxFile, ReplicaError, Target

NOW = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


# --- where ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "location"),
    [
        ("/media/usb/nabd", "folder", "/media/usb/nabd"),
        ("file:///media/usb/nabd", "folder", "/media/usb/nabd"),
        ("sftp://nabd@192.168.1.30/srv/nabd", "sftp", "sftp://nabd@192.168.1.30:22/srv/nabd"),
        ("sftp://nabd@laptop:2222/srv/nabd/", "sftp", "sftp://nabd@laptop:2222/srv/nabd/"),
    ],
)
def test_targets(value, kind, location):
    target = replica.parse_target(value)
    assert (target.kind, target.location) == (kind, location)


def test_no_target_is_no_replica():
    assert replica.parse_target("") is None
    assert replica.parse_target("   ") is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("s3://bucket/nabd", "must be a folder or sftp"),
        ("sftp://laptop/srv/nabd", "sftp://user@host:port/path"),
        ("sftp://nabd:secret@laptop/srv", "no password"),
        ("sftp://nabd@laptop", "needs a folder"),
        ("sftp://nabd@laptop:port/srv", "port is not a number"),
    ],
)
def test_targets_refused(value, says):
    with pytest.raises(ReplicaError, match=says):
        replica.parse_target(value)


def test_a_relative_folder_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert replica.parse_target("usb/nabd").location == str(tmp_path / "usb" / "nabd")


def test_folder_and_sftp_database_addresses():
    assert Target("folder", "/media/usb/nabd").database_url == "file:///media/usb/nabd/database"
    sftp = Target("sftp", "sftp://nabd@laptop:22/srv/nabd")
    assert sftp.database_url == "sftp://nabd@laptop:22/srv/nabd/database"


def test_settings_need_sqlite_and_an_sftp_key(tmp_path):
    database = tmp_path / "kiosk.sqlite3"
    assert replica.settings_from({"REPLICA": ""}, database) is None
    with pytest.raises(ReplicaError, match="PostgreSQL"):
        replica.settings_from({"REPLICA": str(tmp_path / "usb")}, None)
    with pytest.raises(ReplicaError, match="KIOSK_REPLICA_KEY_FILE"):
        replica.settings_from({"REPLICA": "sftp://nabd@laptop/srv"}, database)
    settings = replica.settings_from(
        {"REPLICA": str(tmp_path / "usb"), "REPLICA_ALERT_SECONDS": 15.0}, database
    )
    assert settings.alert_seconds == 15.0 and settings.include_keys is False


# --- Litestream's configuration -----------------------------------------------------------------


def test_config_for_a_folder(tmp_path):
    settings = replica.ReplicaSettings(Target("folder", "/media/usb/nabd"), tmp_path / "k.sqlite3")
    config = replica.litestream_config(settings)
    (db,) = config["dbs"]
    assert db["path"] == str(tmp_path / "k.sqlite3")
    assert db["replica"] == {"url": "file:///media/usb/nabd/database", "sync-interval": "500ms"}


def test_config_for_sftp_names_the_key_and_host_key(tmp_path):
    settings = replica.ReplicaSettings(
        Target("sftp", "sftp://nabd@laptop:22/srv/nabd"),
        tmp_path / "k.sqlite3",
        key_file="/home/nabd/.ssh/id_ed25519",
        host_key="laptop ssh-ed25519 AAAA",
    )
    entry = replica.litestream_config(settings)["dbs"][0]["replica"]
    assert entry["url"] == "sftp://nabd@laptop:22/srv/nabd/database"
    assert entry["key-path"] == "/home/nabd/.ssh/id_ed25519"
    assert entry["host-key"] == "laptop ssh-ed25519 AAAA"


def test_config_file_is_private_json_and_keeps_odd_paths(tmp_path):
    settings = replica.ReplicaSettings(Target("folder", "/media/usb/$HOME: x"), tmp_path / "k.db")
    path = replica.write_config(
        tmp_path / "replica" / "litestream.yml", replica.litestream_config(settings)
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["dbs"][0]["replica"]["url"].endswith("database")
    assert "-no-expand-env" in replica.replicate_command("litestream", path)


def test_the_installed_litestream_is_found():
    binary = replica.litestream_binary()
    assert Path(binary).name == "litestream" and os.access(binary, os.X_OK)
    assert replica.litestream_binary("/opt/litestream") == "/opt/litestream"


# --- what goes beside the database --------------------------------------------------------------


def _instance(tmp_path: Path) -> Path:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text('replica = "/media/usb/nabd"\nport = 8080\n')
    (instance / "secret_key").write_text("s3cret")
    (instance / "venue-signing-key.pem").write_text("PEM")
    return instance


def test_keys_stay_home_unless_chosen(tmp_path):
    instance = _instance(tmp_path)
    usb = tmp_path / "usb"
    settings = replica.ReplicaSettings(Target("folder", str(usb)), instance / "kiosk.sqlite3")
    replica.publish_instance_files(instance, settings, NOW)
    published = sorted(path.name for path in (usb / "instance").iterdir())
    assert published == ["config.toml"]
    assert (usb / replica.MARKER).is_file()

    chosen = replica.ReplicaSettings(settings.target, settings.database, include_keys=True)
    replica.publish_instance_files(instance, chosen, NOW)
    assert sorted(path.name for path in (usb / "instance").iterdir()) == [
        "config.toml",
        "secret_key",
        "venue-signing-key.pem",
    ]
    assert stat.S_IMODE((usb / "instance" / "secret_key").stat().st_mode) == 0o600
    replica.publish_instance_files(instance, settings, NOW)  # the choice is off again
    assert sorted(path.name for path in (usb / "instance").iterdir()) == ["config.toml"]


def test_restored_settings_do_not_point_at_the_old_replica():
    text = replica.without_replica(
        'replica = "/media/usb"\nreplica_include_keys = true\nport = 8080\n'
    )
    assert tomllib.loads(text) == {"port": 8080}
    assert replica.without_replica("").startswith("# Restored")


# --- positions and health -----------------------------------------------------------------------


def test_ltx_files_are_read_from_litestreams_layout(tmp_path):
    root = tmp_path / "database"
    for level, name in [
        (0, "0000000000000001-0000000000000001.ltx"),
        (0, "000000000000000a-000000000000000c.ltx"),
        (9, "0000000000000001-000000000000000c.ltx"),
        (0, "notes.txt"),
    ]:
        (root / "ltx" / str(level)).mkdir(parents=True, exist_ok=True)
        (root / "ltx" / str(level) / name).write_bytes(b"")
    files = replica.list_ltx_folder(root)
    assert sorted((f.level, f.min_txid, f.max_txid) for f in files) == [
        (0, 1, 1),
        (0, 10, 12),
        (9, 1, 12),
    ]
    assert [f.level for f in replica.list_ltx_folder(root, levels=(0,))] == [0, 0]
    assert replica.list_ltx_folder(tmp_path / "nothing") == []
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError):
        replica.list_ltx_folder(tmp_path / "a-file")


def test_litestreams_json_listing_is_read():
    text = json.dumps(
        [
            {
                "level": 0,
                "min_txid": "000000000000000a",
                "max_txid": "000000000000000b",
                "size": 1,
                "timestamp": "2026-12-03T10:00:00Z",
            }
        ]
    )
    assert replica.parse_ltx_listing(text) == [LtxFile(0, 10, 11, NOW)]


RUNNING = ChildState(running=True, pid=1)
DEAD = ChildState(running=False, restarts=3, last_error="litestream exited with status 1")


@pytest.mark.parametrize(
    ("local", "remote", "child", "serving", "problem", "lag"),
    [
        # in step: nothing waits
        ([LtxFile(0, 5, 5, ago(30))], [LtxFile(0, 5, 5, ago(29))], RUNNING, True, None, 0),
        # one batch waits 3 s: normal, under the 10 s alert
        (
            [LtxFile(0, 5, 5, ago(30)), LtxFile(0, 6, 6, ago(3))],
            [LtxFile(1, 1, 5, ago(29))],
            RUNNING,
            True,
            None,
            3,
        ),
        # just at the limit: still fine; just past it: behind
        ([LtxFile(0, 6, 6, ago(10))], [LtxFile(0, 5, 5, ago(29))], RUNNING, True, None, 10),
        (
            [LtxFile(0, 6, 6, ago(11)), LtxFile(0, 7, 7, ago(2))],
            [LtxFile(0, 5, 5, ago(29))],
            RUNNING,
            True,
            "behind",
            11,
        ),
        # the child is dead: stopped, whatever the files say
        ([LtxFile(0, 5, 5, ago(30))], [LtxFile(0, 5, 5, ago(29))], DEAD, True, "stopped", 0),
        # the replica cannot be read
        ([LtxFile(0, 5, 5, ago(30))], None, RUNNING, True, "unreadable", None),
        # no server: in step is fine, behind is not
        ([LtxFile(0, 5, 5, ago(30))], [LtxFile(0, 5, 5, ago(29))], None, False, None, 0),
        ([LtxFile(0, 6, 6, ago(60))], [LtxFile(0, 5, 5, ago(70))], None, False, "stopped", 60),
        # a new replica, nothing local yet
        ([], [], RUNNING, True, None, 0),
    ],
)
def test_health(local, remote, child, serving, problem, lag):
    result = replica.assess(local, remote, child, NOW, 10.0, serving=serving)
    assert result.problem == problem
    assert result.lag_seconds == lag
    assert result.healthy is (problem is None)


def test_position_is_when_the_replica_first_held_it():
    remote = [LtxFile(0, 7, 7, ago(20)), LtxFile(1, 1, 7, ago(5)), LtxFile(0, 6, 6, ago(25))]
    result = replica.assess([LtxFile(0, 7, 7, ago(21))], remote, RUNNING, NOW, 10, serving=True)
    assert (result.replica_txid, result.replicated_at, result.local_txid) == (7, ago(20), 7)


def test_a_dead_child_says_why():
    result = replica.assess([], [], DEAD, NOW, 10, serving=True, target="/media/usb")
    assert result.detail == "litestream exited with status 1"
    lines = replica.status_lines(result, NOW)
    assert lines[0].startswith("replica ALERT: the replica is not being updated")
    assert "restarts 3" in lines[2]


def test_status_lines_when_all_is_well():
    result = replica.assess(
        [LtxFile(0, 12, 12, ago(4))],
        [LtxFile(0, 12, 12, ago(3))],
        RUNNING,
        NOW,
        10,
        serving=True,
        target="/media/usb",
    )
    first, second, third = replica.status_lines(result, NOW)
    assert first == "replica ok: /media/usb"
    assert second == (
        "replicated up to transaction 000000000000000c at 09:59:57 UTC (3 s ago); "
        "local 000000000000000c; lag 0 s"
    )
    assert third.startswith("litestream: running")


def test_a_missing_drive_is_unreadable(tmp_path):
    usb = tmp_path / "usb"
    settings = replica.ReplicaSettings(Target("folder", str(usb)), tmp_path / "kiosk.sqlite3")
    with pytest.raises(ReplicaError, match="plugged in"):
        replica.list_replica(settings)  # no marker: the stick is not there
    result = replica.health(settings, RUNNING, NOW)
    assert result.problem == "unreadable" and "plugged in" in result.detail


def test_litestreams_error_lines_are_shortened():
    line = (
        'time=2026-12-03T13:35:12.916Z level=ERROR msg="monitor error" system=store '
        'db=db.sqlite3 replica=file error="write ltx file: mkdir /x: not a directory" backoff=1s'
    )
    assert replica._error_text(line) == "monitor error: write ltx file: mkdir /x: not a directory"


# --- the child ----------------------------------------------------------------------------------


def _fake_litestream(tmp_path: Path, body: str) -> str:
    script = tmp_path / "litestream"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    script.chmod(0o755)
    return str(script)


def _wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _supervisor(tmp_path: Path, binary: str) -> replica.Supervisor:
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    settings = replica.ReplicaSettings(
        Target("folder", str(tmp_path / "usb")), instance / "kiosk.sqlite3", binary=binary
    )
    return replica.Supervisor(instance, settings, backoff=(0.05, 0.1))


def test_a_child_that_exits_is_started_again_and_its_error_kept(tmp_path):
    binary = _fake_litestream(
        tmp_path,
        'print(\'time=x level=ERROR msg="monitor error" error="disk gone"\', flush=True)'
        "\nsys.exit(3)",
    )
    supervisor = _supervisor(tmp_path, binary)
    supervisor.start()
    try:
        _wait_for(lambda: supervisor.state().restarts >= 3)
        state = supervisor.state()
        assert state.exit_code == 3
        assert state.last_error in {"monitor error: disk gone", "litestream exited with status 3"}
        log = (tmp_path / "instance" / "replica" / "litestream.log").read_text()
        assert "disk gone" in log
    finally:
        supervisor.stop()
    assert not supervisor.state().running


def test_stop_ends_the_child_and_the_state_file(tmp_path):
    binary = _fake_litestream(
        tmp_path, "print('time=x level=INFO msg=started', flush=True)\ntime.sleep(600)"
    )
    supervisor = _supervisor(tmp_path, binary)
    supervisor.start()
    _wait_for(lambda: replica.read_child_state(tmp_path / "instance") is not None)
    pid = supervisor.state().pid
    state = replica.read_child_state(tmp_path / "instance")
    assert state is not None and state.running and state.pid == pid
    supervisor.stop(timeout=5)
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # reaped by stop(): gone at once
            os.kill(pid, 0)
            time.sleep(0.05)
    assert replica.read_child_state(tmp_path / "instance") is None


# --- restore ------------------------------------------------------------------------------------


def test_restore_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "venue").mkdir()
    (tmp_path / "venue" / "kiosk.sqlite3").write_text("")
    with pytest.raises(ReplicaError, match="not empty"):
        replica.restore(Target("folder", str(tmp_path / "usb")), tmp_path / "venue")


def test_restore_refuses_a_folder_without_a_replica(tmp_path):
    (tmp_path / "usb").mkdir()
    with pytest.raises(ReplicaError, match="no Nabd replica"):
        replica.restore(Target("folder", str(tmp_path / "usb")), tmp_path / "venue")
    assert not (tmp_path / "venue").exists()
