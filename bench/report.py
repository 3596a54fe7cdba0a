"""Figures: latency summaries per label, the tables printed, the JSON written."""

from __future__ import annotations

import platform
import statistics
from collections import defaultdict

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
        "load_average_at_start": [round(x, 2) for x in psutil.getloadavg()],
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
        f"Python {m['python']}, load average at start {m['load_average_at_start']}"
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
    if figures.get("problems"):
        out.append("\nFirst errors seen:")
        out.extend(f"  {problem}" for problem in figures["problems"][:20])
    return "\n".join(out)
