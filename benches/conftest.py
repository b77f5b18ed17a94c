"""Shared helpers for the benchmark suites (inputs are random but seeded, made once per pytest run)."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(2026)


def run(benchmark, fn, rounds: int = 3):
    """One warm-up call (JIT, caches), then ``rounds`` timed calls; pytest-benchmark reports the median."""
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)


def record_per_item(benchmark, key: str, items: int) -> None:
    """extra_info[key] = median nanoseconds per item (absent under --benchmark-disable, which keeps no stats)."""
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info[key] = round(stats.stats.median / items * 1e9, 3)


def pytest_collect_file(file_path, parent):
    """Collect bench_*.py here (pytest's default pattern is test_*.py), so `pytest benches` finds them."""
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
