"""Benchmarks of Nabd: figures to publish, never pass/fail. `python -m bench --help`."""
