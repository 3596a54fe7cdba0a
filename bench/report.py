"""Figures: latency summaries per label, the tables printed, the JSON written."""

from __future__ import annotations

import platform
import statistics
from collections import defaultdict
from datetime import UTC, datetime

import psutil

from bench import signed_import
from bench.scenarios import Phase


def percentile_ms(seconds: list[float], share: int) -> float:
    """The `share`-th percentile (1–99), in milliseconds, by linear interpolation."""
    if len(seconds) == 1:
        return seconds[0] * 1000
    return statistics.quantiles(seconds, n=100, method="inclusive")[share - 1] * 1000


def summarise(phase: Phase) -> list[dict]:
    """One row per label of the phase: count, throughput, p50/p95/p99 and errors."""
    by_label: dict[str, list] = defaultdict(list)
    for sample in phase.recorder.samples:
        by_label[sample.label].append(sample)
    rows = []
    for label, samples in sorted(by_label.items()):
        good = [s.seconds for s in samples if s.ok]
        row = {
            "scenario": phase.scenario,
            "phase": phase.name,
            "what": label,
            "count": len(good),
            "per_second": len(good) / phase.seconds if phase.seconds else 0.0,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "errors": len(samples) - len(good),
        }
        if good:
            row.update(
                p50_ms=percentile_ms(good, 50),
                p95_ms=percentile_ms(good, 95),
                p99_ms=percentile_ms(good, 99),
            )
        rows.append(row)
    return rows


def load_average() -> list[float]:
    return [round(x, 2) for x in psutil.getloadavg()]


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpus": psutil.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_at_start": load_average(),
        "started_utc": utc_now(),
    }


def table(headers: list[str], rows: list[list], aligns: str | None = None) -> str:
    """Aligned columns; `aligns` has one of < > per column (numbers right by default)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    aligns = aligns or "<" + ">" * (len(headers) - 1)
    lines = ["  ".join(f"{h:{a}{w}}" for h, a, w in zip(headers, aligns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, aligns, widths, strict=True)))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 1 else f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return str(value)


def render(figures: dict) -> str:
    out = []
    m = figures["machine"]
    out.append(
        f"Nabd benchmark — {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB, "
        f"Python {m['python']}; started {m.get('started_utc', '?')}, load average "
        f"{m['load_average_at_start']}; ended {m.get('ended_utc', '?')}, load average "
        f"{m.get('load_average_at_end', '?')}"
    )
    if figures.get("latency"):
        out.append("\nLatency at the client (ms) and throughput (per second of the phase)")
        rows = [
            [
                r["scenario"],
                r["phase"],
                r["what"],
                r["count"],
                r["per_second"],
                r["p50_ms"],
                r["p95_ms"],
                r["p99_ms"],
                r["errors"],
            ]
            for r in figures["latency"]
        ]
        headers = ["scenario", "phase", "what", "count", "/s", "p50", "p95", "p99", "errors"]
        out.append(table(headers, rows, "<<<" + ">" * 6))
    floor = figures.get("floor")
    if floor:
        out.append("\nRegistrations per second against the floor (bare Flask + one INSERT)")
        out.append(
            table(
                ["clients", "Nabd /s", "floor /s", "Nabd / floor"],
                [
                    [c, v["nabd_per_s"], v["floor_per_s"], f"{100 * v['ratio']:.0f} %"]
                    for c, v in floor["by_clients"].items()
                ],
            )
        )
        disk = floor["disk"]
        out.append(
            f"Disk: {disk['sqlite_commits_per_s']:.0f} SQLite commits/s (WAL, synchronous=FULL), "
            f"{disk['fsyncs_per_s']:.0f} fsync/s"
        )
    end = figures.get("end_of_day")
    if end:
        out.append(f"\nEnd of the day: {end['visits']} visits (filled in {end['fill_s']:.1f} s)")
        rows = [
            [
                r["format"],
                r.get("seconds") if r["available"] else "not available",
                r.get("bytes", 0) / 1000 if r["available"] else None,
                r.get("peak_rss_mb"),
            ]
            for r in end["formats"]
        ]
        out.append(table(["format", "seconds", "kB", "peak RSS MB"], rows))
        for result in end.get("central_import", []):
            if not result["available"]:
                out.append(
                    f"kiosk central import into {result['database']}: not available "
                    f"({result['why']})"
                )
                continue
            out.append(
                f"kiosk central import of {result['bundles']} bundles into {result['database']}: "
                f"{result['seconds']:.1f} s — {result['summary']}"
            )
        if end.get("signed_import"):
            out.append(signed_import.render(end["visits"], end["signed_import"]))
    foot = figures.get("footprint")
    if foot:
        out.append("\nFootprint")
        out.append(f"First 200 after `kiosk run`: {foot['first_answer_s']:.2f} s")
        out.append(
            "Server RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in foot["rss_mb"].items())
        )
        rows = [
            [page, s["html"] / 1000, s["css"] / 1000, s["js"] / 1000, s["total"] / 1000]
            for page, s in foot["pages"].items()
        ]
        out.append(table(["page (kB)", "HTML", "CSS", "JS", "with assets"], rows))
    tablet = figures.get("tablet")
    if tablet:
        out.append(
            f"\nTablet mode (5 tablet hour): the server started under `{tablet['pinned']}`, "
            f"alone on core 0 of this machine, the benchmark's clients on cores "
            f"{tablet['clients_on_cores']}. Only pinned: no CPU quota, no slower clock, so its "
            "Python is no faster than one core of this machine, which is still faster than a "
            "tablet's core; other programs on the machine share core 0 as they please. "
            f"Server RSS after its hour: {tablet['rss_mb_after']:.0f} MB"
        )
    if figures.get("targets"):
        out.append("\nAgainst the targets (issue 18), from this run")
        rows = [[t["what"], t["target"], t["measured"], t["verdict"]] for t in figures["targets"]]
        out.append(table(["what", "target", "measured", ""], rows, "<<<<"))
    if figures.get("problems"):
        out.append("\nFirst errors seen:")
        out.extend(f"  {problem}" for problem in figures["problems"][:20])
    return "\n".join(out)


# --- the targets -------------------------------------------------------------------------------


def _row(figures: dict, scenario: str, phase: str | None, what: str) -> dict | None:
    for row in figures.get("latency", []):
        if row["scenario"] == scenario and row["what"] == what and phase in (None, row["phase"]):
            return row
    return None


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "NOT MET"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def targets(figures: dict) -> list[dict]:
    """Each target of issue 18 with what this run measured: printed, never asserted."""
    found: list[dict] = []

    def add(what: str, target: str, measured: str, met: bool | None) -> None:
        found.append(
            {"what": what, "target": target, "measured": measured, "verdict": _verdict(met)}
        )

    by_clients = (figures.get("floor") or {}).get("by_clients", {})
    one, eight = by_clients.get("1"), by_clients.get("8")
    if one and eight and one["nabd_per_s"] and one["floor_per_s"]:
        nabd_scale = eight["nabd_per_s"] / one["nabd_per_s"]
        floor_scale = eight["floor_per_s"] / one["floor_per_s"]
        add(
            "registrations/s, 8 clients / 1 client",
            "≥ 0.9 × the floor's",
            f"Nabd {nabd_scale:.2f}, floor {floor_scale:.2f} (0.9 × = {0.9 * floor_scale:.2f})",
            nabd_scale >= 0.9 * floor_scale,
        )
        add(
            "registrations/s with 8 clients",
            "≥ 50 % of the floor",
            f"{100 * eight['ratio']:.0f} % "
            f"({eight['nabd_per_s']:.0f} vs {eight['floor_per_s']:.0f}/s)",
            eight["ratio"] >= 0.5,
        )
    for phase, limit, who in (("sequential", 50, "one client"), ("8 clients", 150, "8 clients")):
        row = _row(figures, "1 kiosk flow", phase, "whole flow")
        if row:
            add(
                f"kiosk flow p95, {who}",
                f"≤ {limit} ms",
                _ms(row["p95_ms"]),
                row["p95_ms"] is not None and row["p95_ms"] <= limit,
            )
    row = _row(figures, "2 call next", "sequential", "call next")
    if row:
        add(
            "call next p95, one desk",
            "≤ 20 ms",
            _ms(row["p95_ms"]),
            row["p95_ms"] is not None and row["p95_ms"] <= 20,
        )
    tablet = [
        r
        for r in figures.get("latency", [])
        if r["scenario"] == "5 tablet hour" and "whole flow" not in r["what"]
    ]
    if tablet:
        worst = max(tablet, key=lambda r: r["p99_ms"] or 0)
        errors = sum(r["errors"] for r in tablet)
        add(
            "tablet hour p99, every endpoint",
            "≤ 250 ms",
            f"worst {_ms(worst['p99_ms'])} ({worst['what']})",
            (worst["p99_ms"] or 0) <= 250,
        )
        add("tablet hour errors", "0", str(errors), errors == 0)
    for page in ("waiting list", "display board", "/t/ status"):
        rows = [
            r
            for r in figures.get("latency", [])
            if r["scenario"] == "6 long queue" and r["what"].startswith(page)
        ]
        if rows:
            worst = max(rows, key=lambda r: r["p95_ms"] or 0)
            add(
                f"{page} poll p95, {rows[0]['phase']}",
                "≤ 30 ms",
                ", ".join(f"{r['what'].split(', ')[1]} {_ms(r['p95_ms'])}" for r in rows),
                (worst["p95_ms"] or 0) <= 30,
            )
    formats = {f["format"]: f for f in (figures.get("end_of_day") or {}).get("formats", [])}
    xlsx = formats.get("visits.xlsx")
    if xlsx and xlsx.get("available"):
        visits = figures["end_of_day"]["visits"]
        add(
            f"export visits.xlsx, {visits} visits",
            "≤ 5 s",
            f"{xlsx['seconds']:.1f} s",
            xlsx["seconds"] <= 5,
        )
    checked = formats.get("checked")
    if checked and checked.get("available"):
        add(
            "the bundle built and checked, peak RSS",
            "≤ 300 MB",
            f"{checked['peak_rss_mb']:.0f} MB",
            checked["peak_rss_mb"] <= 300,
        )
    rss = (figures.get("footprint") or {}).get("rss_mb", {}).get("after the venue hour")
    if rss is not None:
        add("server RSS after the venue hour", "≤ 120 MB", f"{rss:.0f} MB", rss <= 120)
    if figures.get("tablet"):
        rss = figures["tablet"]["rss_mb_after"]
        add("server RSS after the tablet hour", "≤ 120 MB", f"{rss:.0f} MB", rss <= 120)
    return found
