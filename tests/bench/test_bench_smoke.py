"""The benchmark never rots: its quick run goes through every scenario against the real server
with zero errors and writes every figure. Figures are printed, never compared with a target."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.http import Recorder
from bench.report import percentile_ms, render, summarise
from bench.scenarios import Phase
from tests.server import CHECKOUT

SCENARIO_PHASES = {
    "1 kiosk flow": {"sequential", "8 clients"},
    "2 call next": {"sequential", "8 clients"},
    "3 venue hour": {"3 s"},
    "4 registrations": {
        "Nabd, sequential",
        "Nabd, 8 clients",
        "floor, sequential",
        "floor, 8 clients",
    },
    "5 tablet hour": {"3 s"},
}
HALL_REQUESTS = {
    "kiosk: POST registration",
    "doctor: call next",
    "phlebotomist: call next",
    "display: board",
    "console: waiting list",
    "phone: status",
}
TABLET_REQUESTS = HALL_REQUESTS | {"phone registering: POST registration"}
LONG_QUEUE = {
    f"{page}, {how}"
    for page in ("waiting list", "display board", "/t/ status")
    for how in ("rendered", "unchanged")
}
PAGES = 6


@pytest.mark.slow
def test_the_quick_run_measures_every_scenario_without_errors(tmp_path):
    figures_file = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(figures_file)],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    figures = json.loads(figures_file.read_text())

    assert figures["problems"] == []
    rows = figures["latency"]
    assert [row for row in rows if row["errors"]] == []
    phases = {}
    for row in rows:
        phases.setdefault(row["scenario"], set()).add(row["phase"])
        assert row["count"] > 0 and row["per_second"] > 0
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    (long_queue,) = phases.pop("6 long queue")  # "N waiting": as many as the run left
    assert long_queue.endswith(" waiting")
    assert phases == SCENARIO_PHASES
    hall = {row["what"] for row in rows if row["scenario"] == "3 venue hour"}
    assert HALL_REQUESTS <= hall
    tablet = {row["what"] for row in rows if row["scenario"] == "5 tablet hour"}
    assert TABLET_REQUESTS <= tablet
    assert figures["tablet"]["pinned"] == "taskset -c 0"
    assert {row["what"] for row in rows if row["scenario"] == "6 long queue"} == LONG_QUEUE
    # Every target of issue 18 printed with its verdict, never asserted.
    assert len(figures["targets"]) >= 12
    assert {target["verdict"] for target in figures["targets"]} <= {"met", "NOT MET"}

    floor = figures["floor"]
    assert set(floor["by_clients"]) == {"1", "8"}
    assert all(rate["ratio"] > 0 for rate in floor["by_clients"].values())
    assert floor["disk"]["sqlite_commits_per_s"] > 0 and floor["disk"]["fsyncs_per_s"] > 0

    end = figures["end_of_day"]
    measured = {f["format"]: f for f in end["formats"] if f["available"]}
    assert {"visits.csv", "visits.json", "events.csv", "bundle", "checked"} <= set(measured)
    assert all(
        f["seconds"] > 0 and f["bytes"] > 0 and f["peak_rss_mb"] > 0 for f in measured.values()
    )
    central = {result["database"]: result for result in end["central_import"]}
    assert central["SQLite"]["available"] and central["SQLite"]["seconds"] > 0
    assert "3 imported" in central["SQLite"]["summary"]
    assert "PostgreSQL" in central  # measured, or not available with the reason
    signed = {step["step"]: step for step in end["signed_import"]["steps"]}
    assert all(step["seconds"] > 0 and step["peak_rss_mb"] > 0 for step in signed.values())
    assert "1 imported" in signed["kiosk central import"]["summary"]
    assert "signed by" in signed["kiosk verify-export"]["summary"]

    footprint = figures["footprint"]
    assert footprint["first_answer_s"] > 0
    assert set(footprint["rss_mb"]) >= {"after warm-up", "after the venue hour"}
    assert len(footprint["pages"]) == PAGES
    assert all(page["html"] > 0 and page["css"] > 0 for page in footprint["pages"].values())
    for heading in ("Latency at the client", "against the floor", "End of the day", "Footprint"):
        assert heading in done.stdout


def test_percentiles_interpolate_between_the_samples():
    samples = [n / 1000 for n in range(1, 101)]  # 1 ms … 100 ms
    assert percentile_ms(samples, 50) == pytest.approx(50.5)
    assert percentile_ms(samples, 99) == pytest.approx(99.01)
    assert percentile_ms([0.004], 95) == pytest.approx(4.0)


def test_a_summary_counts_errors_apart_from_the_latencies():
    recorder = Recorder()
    for ms in (10, 20, 30):
        recorder.add("GET form", ms / 1000, True)
    recorder.add("GET form", 5.0, False, "HTTP 500")
    [row] = summarise(Phase("1 kiosk flow", "sequential", recorder, seconds=2.0))
    assert row["count"] == 3 and row["errors"] == 1
    assert row["per_second"] == pytest.approx(1.5)
    assert row["p50_ms"] == pytest.approx(20.0)
    assert recorder.problems == ["GET form: HTTP 500"]
    text = render({"machine": _machine(), "latency": [row], "problems": recorder.problems})
    assert "GET form" in text and "HTTP 500" in text


def _machine() -> dict:
    return {
        "cpus": 2,
        "cpu_model": "test",
        "memory_gb": 1.0,
        "python": "3.11",
        "load_average_at_start": [0.0],
    }
