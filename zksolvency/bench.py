"""An operator's quick measure of this machine: field, NTT and MSM speed at one size."""

from __future__ import annotations

import time
from statistics import median

import numpy as np

# Scalar widths measured by `zksolvency bench`: full field elements, balances, limbs.
MSM_SCALAR_BITS = (254, 64, 16)


def _timed(fn, repeat: int) -> float:
    """Median wall-clock seconds of `repeat` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def random_scalars(n: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    """n canonical scalars below 2^bits (and below r), as (n, 4) uint64 limbs."""
    from zksolvency.prover.field import Fr

    if bits >= 254:
        return Fr.to_canonical_limbs(Fr.random(n, rng))
    out = np.zeros((n, 4), dtype=np.uint64)
    full, rest = divmod(bits, 64)
    out[:, :full] = rng.integers(0, 1 << 64, size=(n, full), dtype=np.uint64, endpoint=False)
    if rest:
        out[:, full] = rng.integers(0, 1 << rest, size=n, dtype=np.uint64, endpoint=False)
    return out


def measure(log_size: int, repeat: int = 3, progress=lambda msg: None, seed: int = 1) -> dict:
    """Field multiplication ns per product, NTT and MSM seconds at 2^log_size."""
    from zksolvency.prover.field import Fr, vec_mul
    from zksolvency.prover.g1 import random_points
    from zksolvency.prover.msm import msm
    from zksolvency.prover.ntt import domain

    n = 1 << log_size
    rng = np.random.default_rng(seed)
    progress(f"field multiplication over {max(n, 1 << 20)} elements")
    m = max(n, 1 << 20)
    a, b = Fr.random(m, rng), Fr.random(m, rng)
    out = np.empty_like(a)
    mul_seconds = _timed(lambda: vec_mul(a, b, out, Fr.params), repeat)

    progress(f"NTT of 2^{log_size} elements")
    d = domain(log_size)
    coeffs = Fr.random(n, rng)
    ntt_seconds = _timed(lambda: d.ntt(coeffs), repeat)

    progress(f"{n} random points")
    points = random_points(n, rng)
    msm_seconds = {}
    for bits in MSM_SCALAR_BITS:
        progress(f"MSM of 2^{log_size} points, {bits}-bit scalars")
        scalars = random_scalars(n, bits, rng)
        msm_seconds[str(bits)] = _timed(lambda: msm(points, scalars), repeat)
    return {
        "log_size": log_size,
        "field_mul_ns": mul_seconds / m * 1e9,
        "ntt_seconds": ntt_seconds,
        "msm_seconds": msm_seconds,
    }


def measure_circuit(log_size: int, progress=lambda msg: None, seed: int = 1) -> dict:
    """Prove and verify the synthetic circuit of 2^log_size rows with a development SRS."""
    import resource

    from zksolvency.circuits.synthetic import ADVICE_COLUMNS, synthetic_assignment, synthetic_circuit
    from zksolvency.prover.plonk import keygen, prove
    from zksolvency.prover.srs import dev_setup
    from zksolvency.verifier.plonk import VerificationError, verify

    rng = np.random.default_rng(seed)
    cs = synthetic_circuit()
    progress(f"development SRS for 2^{log_size} rows")
    srs = dev_setup(log_size)
    progress(f"random witness of 2^{log_size} rows x {ADVICE_COLUMNS} advice columns")
    fixed, witness = synthetic_assignment(cs, log_size, rng)
    progress("key generation")
    pk = keygen(cs, log_size, srs, fixed)
    progress("proving")
    start = time.perf_counter()
    proof = prove(pk, witness, [])
    prove_seconds = time.perf_counter() - start
    progress("verifying")
    start = time.perf_counter()
    try:
        verify(cs, pk.vk, [], proof, allow_insecure_srs=True)
        valid = True
    except VerificationError:
        valid = False
    verify_seconds = time.perf_counter() - start
    return {
        "log_size": log_size,
        "advice_columns": ADVICE_COLUMNS,
        "prove_seconds": prove_seconds,
        "verify_seconds": verify_seconds,
        "proof_bytes": len(proof),
        "valid": valid,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
