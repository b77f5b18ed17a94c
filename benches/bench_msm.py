"""MSM over random points at 2^16, 2^18, 2^20 with full, 64-bit and 16-bit scalars."""

import functools

import pytest
from conftest import run

from zksolvency.bench import random_scalars
from zksolvency.prover.g1 import random_points
from zksolvency.prover.msm import msm_affine


@functools.lru_cache(maxsize=1)
def _points(log_n: int):
    import numpy as np

    return random_points(1 << log_n, np.random.default_rng(log_n))


@pytest.mark.parametrize("bits", [254, 64, 16])
@pytest.mark.parametrize("log_n", [16, 18, 20])
def test_msm(benchmark, rng, log_n, bits):
    points = _points(log_n)
    scalars = random_scalars(1 << log_n, bits, rng)
    run(benchmark, lambda: msm_affine(points, scalars))
