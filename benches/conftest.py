"""Shared inputs for the benchmark suites (made once per pytest run; random but seeded)."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(2026)


def run(benchmark, fn, rounds: int = 3):
    """One warm-up call (JIT, caches), then ``rounds`` timed calls; pytest-benchmark reports the median."""
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
