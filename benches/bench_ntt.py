"""Forward NTT over Fr at 2^16, 2^18, 2^20."""

import pytest
from conftest import run

from zksolvency.prover.field import Fr
from zksolvency.prover.ntt import domain


@pytest.mark.parametrize("log_n", [16, 18, 20])
def test_ntt(benchmark, rng, log_n):
    values = Fr.random(1 << log_n, rng)
    d = domain(log_n)
    run(benchmark, lambda: d.ntt(values), rounds=5)
