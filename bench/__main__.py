"""Measure a venue day: `python -m bench [--quick] [--json FILE] [--only SCENARIO] [--flows N]`.

Starts Nabd as `make run` does (waitress, in a subprocess, on a fresh temporary instance folder),
drives it over loopback from client threads, prints the figures and stops everything it started.
Figures, not pass/fail: nothing here is compared with a target.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import disk, endofday, report, scenarios, server, signed_import
from bench.http import Recorder
from kiosk.config import DEFAULTS
from kiosk.timezones import venue_zone

SCENARIOS = ("kiosk", "calls", "floor", "hall", "queue", "tablet", "export", "footprint")
HTTP_SCENARIOS = {"kiosk", "calls", "floor", "hall", "queue", "footprint"}
CLIENTS = 8
WARM_UP_FLOWS = 20
IMPORT_TIMEOUT = 900  # seconds for one `kiosk central import` of every bundle
TABLET_STATUS_PAGES = 40
TABLET_REGISTERING_PHONES = 20


@dataclass(frozen=True)
class Sizes:
    flows: int  # kiosk flows per phase; registrations per phase of the floor scenario
    calls: int  # calls per phase
    hall_seconds: float
    export_visits: int
    disk_seconds: float
    central_bundles: tuple[int, int]  # bundles, visits each
    queue_waiting: int = 2000  # the long queue's length (scenario "queue")
    queue_polls: int = 100  # polls of each page, rendered and unchanged
    tablet_seconds: float = 60.0  # the venue hour on one core (scenario "tablet")


FULL = Sizes(500, 250, 60, export_visits=10_000, disk_seconds=2.0, central_bundles=(100, 300))
QUICK = Sizes(
    16,
    8,
    3,
    export_visits=200,
    disk_seconds=0.3,
    central_bundles=(3, 20),
    queue_waiting=60,
    queue_polls=5,
    tablet_seconds=3,
)


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="run this scenario (repeatable)"
    )
    parser.add_argument("--flows", type=int, help="kiosk flows per phase (default 500)")
    parser.add_argument("--seconds", type=float, help="length of the venue hour (default 60)")
    parser.add_argument("--visits", type=int, help="visits of the exported day (default 10000)")
    parser.add_argument(
        "--no-central", action="store_true", help="the end of the day without the central import"
    )
    options = parser.parse_args(argv)
    for name in ("flows", "seconds", "visits"):
        value = getattr(options, name)
        if value is not None and value <= 0:
            parser.error(f"--{name} must be positive")
    return options


def sizes_for(options) -> Sizes:
    base = QUICK if options.quick else FULL
    flows = options.flows or base.flows
    return Sizes(
        flows=flows,
        calls=max(1, flows // 2) if options.flows else base.calls,
        hall_seconds=options.seconds or base.hall_seconds,
        export_visits=options.visits or base.export_visits,
        disk_seconds=base.disk_seconds,
        central_bundles=base.central_bundles,
        queue_waiting=base.queue_waiting,
        queue_polls=base.queue_polls,
        tablet_seconds=options.seconds or base.tablet_seconds,
    )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv=None) -> int:
    options = parse(argv)
    # A stop from outside (a CI time-out, `kill`) cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    selected = set(options.only or SCENARIOS)
    sizes = sizes_for(options)
    figures = {
        "machine": report.machine(),
        "settings": {**sizes.__dict__, "clients": CLIENTS, "scenarios": sorted(selected)},
        "latency": [],
        "problems": [],
    }
    with tempfile.TemporaryDirectory(prefix="nabd-bench-") as folder:
        folder = Path(folder)
        try:
            if selected & HTTP_SCENARIOS:
                http_scenarios(folder, sizes, selected, figures)
            if "tablet" in selected:
                figures["tablet"] = tablet_hour(folder / "tablet", sizes, figures)
            if "floor" in selected:
                figures["floor"]["disk"] = disk.measure(folder / "disk", sizes.disk_seconds)
            if "export" in selected:
                figures["end_of_day"] = end_of_day(
                    folder / "end-of-day",
                    sizes.export_visits,
                    None if options.no_central else sizes.central_bundles,
                )
        except KeyboardInterrupt:
            print("bench: interrupted; everything it started is stopped", file=sys.stderr)
            return 130
    figures["machine"]["load_average_at_end"] = report.load_average()
    figures["machine"]["ended_utc"] = report.utc_now()
    figures["targets"] = report.targets(figures)
    print(report.render(figures))
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 0


def http_scenarios(folder: Path, sizes: Sizes, selected: set[str], figures: dict) -> None:
    with server.nabd(folder) as nabd:
        # The server's own zone data (the pinned tzdata package), not the system's: Debian's
        # older copy still puts Casablanca an hour ahead, and every donation time would be
        # "not yet arrived".
        zone = venue_zone(nabd.env.get("KIOSK_TIMEZONE", DEFAULTS["TIMEZONE"]))
        venue = scenarios.Venue(nabd.url, zone)
        try:
            _drive(nabd, venue, folder, sizes, selected, figures)
        finally:
            venue.stop.set()  # any client thread still running ends at its next request


def _drive(nabd, venue, folder, sizes: Sizes, selected, figures) -> None:
    def keep(phase: scenarios.Phase) -> None:
        figures["latency"].extend(report.summarise(phase))
        figures["problems"].extend(phase.recorder.problems)

    scenarios.add_staff(nabd.env, doctors=CLIENTS, phlebotomists=3)
    warm_up = venue.device(Recorder())
    for _ in range(WARM_UP_FLOWS):
        scenarios.kiosk_flow(venue, warm_up, "")
    staff = scenarios.log_in_staff(venue, doctors=CLIENTS, phlebotomists=3)
    doctors = [person for person in staff if person.stage == "interview"]
    phlebotomists = [person for person in staff if person.stage == "collection"]
    footprint = {"first_answer_s": nabd.started_in, "rss_mb": {"after warm-up": nabd.rss_mb()}}
    if "footprint" in selected:
        footprint["pages"] = scenarios.pages(venue, doctors[0])
    # The venue hour first, while the queue is a venue's (a few dozen waiting), not the
    # thousands the phases below leave behind.
    if "hall" in selected:
        keep(scenarios.venue_hour(venue, doctors[:3], phlebotomists, sizes.hall_seconds))
        footprint["rss_mb"]["after the venue hour"] = nabd.rss_mb()
    if "kiosk" in selected:
        keep(scenarios.kiosk_flows(venue, sizes.flows, clients=1))
        keep(scenarios.kiosk_flows(venue, sizes.flows, clients=CLIENTS))
    if "calls" in selected:
        waiting_needed = 2 * sizes.calls - (2 * sizes.flows if "kiosk" in selected else 0)
        for _ in range(max(0, waiting_needed)):
            scenarios.kiosk_flow(venue, warm_up, "")
        keep(scenarios.calls(venue, doctors[:1], sizes.calls))
        keep(scenarios.calls(venue, doctors, sizes.calls))
    if "floor" in selected:
        figures["floor"] = registration_rate(venue, folder, sizes, keep)
    if "queue" in selected:
        more = sizes.queue_waiting - scenarios.waiting_for_interview(venue)
        if more > 1:
            scenarios.nabd_registrations(venue, more - 1, CLIENTS)
        scenarios.kiosk_flow(venue, warm_up, "")  # the last in line: the most people ahead
        last = venue.tokens[max(venue.tokens)]
        waiting = scenarios.waiting_for_interview(venue)
        keep(scenarios.long_queue_polls(venue, doctors[0], last, sizes.queue_polls, waiting))
    footprint["rss_mb"]["at the end"] = nabd.rss_mb()
    if "footprint" in selected:
        figures["footprint"] = footprint
    warm_up.close()


def tablet_hour(folder: Path, sizes: Sizes, figures: dict) -> dict:
    """The venue hour on a tablet's one core: the server pinned to core 0 (`taskset -c 0`), the
    benchmark's clients kept off it (core 1), 2 kiosks, 20 phones registering, 3 doctors and 3
    phlebotomists, 2 displays, the 6 consoles' lists and 40 donors' /t/ pages polling."""
    cores = os.sched_getaffinity(0)
    with server.nabd(folder, name="tablet", one_core=True) as nabd:
        if len(cores) > 1:
            os.sched_setaffinity(0, cores - {0})
        zone = venue_zone(nabd.env.get("KIOSK_TIMEZONE", DEFAULTS["TIMEZONE"]))
        venue = scenarios.Venue(nabd.url, zone)
        try:
            scenarios.add_staff(nabd.env, doctors=3, phlebotomists=3)
            warm_up = venue.device(Recorder())
            for _ in range(TABLET_STATUS_PAGES):  # warm-up, and the tickets the phones follow
                scenarios.kiosk_flow(venue, warm_up, "")
            warm_up.close()
            staff = scenarios.log_in_staff(venue, doctors=3, phlebotomists=3)
            phase = scenarios.venue_hour(
                venue,
                [person for person in staff if person.stage == "interview"],
                [person for person in staff if person.stage == "collection"],
                sizes.tablet_seconds,
                phones=TABLET_STATUS_PAGES,
                registering=TABLET_REGISTERING_PHONES,
                scenario="5 tablet hour",
            )
            figures["latency"].extend(report.summarise(phase))
            figures["problems"].extend(phase.recorder.problems)
            return {
                "pinned": " ".join(server.ONE_CORE),
                "clients_on_cores": sorted(os.sched_getaffinity(0)),
                "rss_mb_after": nabd.rss_mb(),
            }
        finally:
            venue.stop.set()
            os.sched_setaffinity(0, cores)


def registration_rate(venue, folder: Path, sizes: Sizes, keep) -> dict:
    """Registration POSTs per second, Nabd and the floor, driven by the same clients."""
    by_clients = {}
    nabd_phases = {
        clients: scenarios.nabd_registrations(venue, sizes.flows, clients)
        for clients in (1, CLIENTS)
    }
    with server.floor(folder) as floor:
        floor_phases = {
            clients: scenarios.floor_registrations(floor.url, venue.stop, sizes.flows, clients)
            for clients in (1, CLIENTS)
        }
    for clients in (1, CLIENTS):
        keep(nabd_phases[clients])
        keep(floor_phases[clients])
        nabd_rate = _rate(nabd_phases[clients])
        floor_rate = _rate(floor_phases[clients])
        by_clients[str(clients)] = {
            "nabd_per_s": nabd_rate,
            "floor_per_s": floor_rate,
            "ratio": nabd_rate / floor_rate if floor_rate else 0.0,
        }
    return {"by_clients": by_clients}


def _rate(phase: scenarios.Phase) -> float:
    done = sum(1 for sample in phase.recorder.samples if sample.ok)
    return done / phase.seconds if phase.seconds else 0.0


# --- the end of the day -----------------------------------------------------------------------


def end_of_day(folder: Path, visits: int, central: tuple[int, int] | None) -> dict:
    """Fills a day, then each format in its own process; the central import where it exists."""
    instance = folder / "instance"
    began = time.perf_counter()
    _worker("fill", instance, str(visits))
    fill_seconds = time.perf_counter() - began
    formats = [json.loads(_worker("measure", instance, name)) for name in endofday.FORMATS]
    return {
        "visits": visits,
        "fill_s": fill_seconds,
        "formats": formats,
        "central_import": central_import(folder / "centre", *central) if central else [],
        # The same day, signed by the venue's key, verified and imported at a centre that
        # trusts that key (bench/signed_import.py).
        "signed_import": signed_import.measure(folder / "signed", instance),
    }


def _worker(command: str, instance: Path, *arguments: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.endofday", command, str(instance), *arguments],
        cwd=server.CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.endofday {command} {arguments} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def central_import(folder: Path, count: int, visits: int) -> list[dict]:
    """`kiosk central import` of `count` bundles of `visits` visits, into SQLite and, where
    Debian's PostgreSQL is installed, into a private PostgreSQL server (tests/postgres.py)."""
    if importlib.util.find_spec("kiosk.cli.exchange") is None:
        return [{"database": "any", "available": False, "why": "no `kiosk central` command"}]
    out = folder / "bundles"
    _worker("bundles", folder / "venues", str(out), str(count), str(visits))
    files = sorted(out.glob("*.zip"))
    results = [_timed_import("SQLite", files, KIOSK_INSTANCE=str(folder / "centre-sqlite"))]
    try:
        from tests.postgres import PostgresUnavailable, private_server
    except ImportError as error:  # psycopg missing
        return [*results, {"database": "PostgreSQL", "available": False, "why": str(error)}]
    try:
        with private_server() as postgres:
            url = postgres.new_database("bench_central")
            centre = str(folder / "centre-postgres")
            results.append(
                _timed_import("PostgreSQL", files, KIOSK_INSTANCE=centre, DATABASE_URL=url)
            )
    except PostgresUnavailable as why:
        results.append({"database": "PostgreSQL", "available": False, "why": str(why)})
    return results


def _timed_import(database: str, files: list[Path], **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(env)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "central", "import", "--accept-unsigned", *map(str, files)],
        cwd=server.CHECKOUT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(IMPORT_TIMEOUT, process.kill)
    watchdog.start()
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        watchdog.cancel()
    seconds = time.perf_counter() - began
    if process.returncode != 0:
        raise RuntimeError(f"kiosk central import ({database}) failed: {stderr.decode()[-2000:]}")
    return {
        "database": database,
        "available": True,
        "bundles": len(files),
        "seconds": seconds,
        "summary": stdout.decode().strip().splitlines()[-1],
    }


if __name__ == "__main__":
    sys.exit(main())
