"""Figures a reliability test measured, printed straight to the terminal (past pytest's capture)
so that every run of the suite shows them, passed or failed. Never asserted as timings."""

from __future__ import annotations


def show(capsys, line: str) -> None:
    with capsys.disabled():
        print(f"\n    {line}", flush=True)
