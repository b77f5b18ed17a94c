"""Forward NTT over Fr at 2^16, 2^18, 2^20: the default implementation, the coset transform
the prover uses for quotients, and the scalar fallback that runs on CPUs without AVX-512 IFMA.

extra_info: the implementation ("simd" or "scalar") and ns per element.
"""

import pytest
from conftest import record_per_item, run

from zksolvency.prover import ntt
from zksolvency.prover.field import Fr

SIZES = [16, 18, 20]


def _default_path(log_n: int) -> str:
    return "simd" if ntt.SIMD_AVAILABLE and log_n >= ntt.SIMD_MIN_LOG_SIZE else "scalar"


@pytest.mark.parametrize("log_n", SIZES)
def test_ntt(benchmark, rng, log_n):
    values = Fr.random(1 << log_n, rng)
    d = ntt.domain(log_n)
    out = Fr.zeros(1 << log_n)
    benchmark.extra_info["implementation"] = _default_path(log_n)
    run(benchmark, lambda: d.ntt(values, out=out), rounds=5)
    record_per_item(benchmark, "ns_per_element", 1 << log_n)


@pytest.mark.parametrize("log_n", SIZES)
def test_coset_ntt(benchmark, rng, log_n):
    values = Fr.random(1 << log_n, rng)
    d = ntt.domain(log_n)
    out = Fr.zeros(1 << log_n)
    benchmark.extra_info["implementation"] = _default_path(log_n)
    run(benchmark, lambda: d.coset_ntt(values, out=out), rounds=5)
    record_per_item(benchmark, "ns_per_element", 1 << log_n)


@pytest.mark.parametrize("log_n", SIZES)
def test_ntt_scalar_fallback(benchmark, rng, log_n):
    """The portable radix-2 transform, forced (what a CPU without IFMA runs)."""
    values = Fr.random(1 << log_n, rng)
    d = ntt.domain(log_n)
    out = Fr.zeros(1 << log_n)
    benchmark.extra_info["implementation"] = "scalar"
    run(benchmark, lambda: d._transform(values, out, ntt._Job(), simd=False), rounds=3)
    record_per_item(benchmark, "ns_per_element", 1 << log_n)
