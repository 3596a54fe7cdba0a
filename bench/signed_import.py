"""The centre's side of one large day: the venue's signed bundle verified and imported, the way
the centre runs it, each command a process of its own.

    python -m bench.signed_import [--visits N]     # alone: fills a day of N visits first

1. `kiosk export` at the venue writes the day's bundle, signed with the venue's own key (made in
   its instance folder);
2. the centre enrols that key (`kiosk central trust add bench-venue KEY`, the line
   `kiosk venue key` prints at the venue);
3. `kiosk verify-export BUNDLE`, then `kiosk central import BUNDLE` into a fresh SQLite centre,
   without `--accept-unsigned`: the signature is checked against the trust list.

Each step's wall time, and its peak memory: the ru_maxrss of that child process alone (from
os.wait4), which includes the Python interpreter and Nabd's imports; the same figure for
`kiosk venue key`, which does nearly nothing, is printed as the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 900  # seconds: a stuck-process guard for one command
VENUE_NAME = "bench-venue"


def measure(folder: Path, venue: Path) -> dict:
    """The steps above on the filled venue instance `venue`; the centre lives in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "signed-day.zip"
    centre = folder / "centre"
    steps = [
        _step("kiosk venue key (baseline)", ["venue", "key"], venue),
        _step("kiosk export (signed)", ["export", "--out", str(bundle)], venue),
    ]
    public_key = steps[0]["stdout"].splitlines()[0].strip()
    _step("kiosk central trust add", ["central", "trust", "add", VENUE_NAME, public_key], centre)
    steps += [
        _step("kiosk verify-export", ["verify-export", str(bundle)], centre),
        _step("kiosk central import", ["central", "import", str(bundle)], centre),
    ]
    for step in steps:
        step.pop("stdout", None)
    return {
        "bundle_bytes": bundle.stat().st_size,
        "memory": "ru_maxrss of each child process (os.wait4)",
        "steps": steps,
    }


def _step(name: str, arguments: list[str], instance: Path) -> dict:
    """Runs `kiosk ARGUMENTS` with the instance folder `instance`, on SQLite."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["KIOSK_INSTANCE"] = str(instance)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 (our own command)
            [sys.executable, "-m", "kiosk", *arguments],
            cwd=CHECKOUT,
            env=environment,
            stdout=out,
            stderr=err,
        )
        watchdog = threading.Timer(STEP_TIMEOUT, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}): {stderr[-2000:]}")
    lines = stdout.strip().splitlines()
    return {
        "step": name,
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kB on Linux
        "summary": lines[-1] if lines else "",
        "stdout": stdout,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signed_import", description=__doc__)
    parser.add_argument("--visits", type=int, default=10_000, help="visits of the day")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nabd-signed-") as folder:
        venue = Path(folder) / "venue"
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.endofday", "fill", str(venue), str(options.visits)],
            cwd=CHECKOUT,
            check=True,
            timeout=STEP_TIMEOUT,
        )
        figures = measure(Path(folder) / "centre-side", venue)
    print(render(options.visits, figures))
    return 0


def render(visits: int, figures: dict) -> str:
    lines = [
        f"Signed bundle of {visits} visits ({figures['bundle_bytes'] / 1000:.0f} kB), "
        f"peak memory = {figures['memory']}:"
    ]
    for step in figures["steps"]:
        lines.append(
            f"  {step['step']}: {step['seconds']:.1f} s, peak RSS {step['peak_rss_mb']:.0f} MB"
            f" — {step['summary']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
