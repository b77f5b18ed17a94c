"""NTTs over Fr against galois: evaluation on H and its cosets, interpolation, both implementations."""

from __future__ import annotations

import galois
import numpy as np
import pytest

from zksolvency.constants import R_MODULUS
from zksolvency.prover import ntt
from zksolvency.prover.field import Fr
from zksolvency.verifier.plonk import domain_generator


def _values(rng, n, kind):
    if kind == "zeros":
        return [0] * n
    if kind == "max":
        return [R_MODULUS - 1] * n
    if kind == "one":
        return [1] + [0] * (n - 1)
    return [int(x) for x in rng.integers(0, 2**62, size=n)] if kind == "small" else [
        int.from_bytes(rng.bytes(32), "little") % R_MODULUS for _ in range(n)]


@pytest.mark.parametrize("log_n", range(0, 9))
@pytest.mark.parametrize("kind", ["random", "zeros", "max", "one"])
def test_transforms_match_galois(gf_r, log_n, kind):
    rng = np.random.default_rng(log_n * 10 + len(kind))
    n = 1 << log_n
    coeffs = _values(rng, n, kind)
    poly = galois.Poly(coeffs[::-1], field=gf_r)
    w = domain_generator(log_n)
    shift = 7
    points = gf_r([pow(w, i, R_MODULUS) for i in range(n)])
    coset = gf_r([shift * pow(w, i, R_MODULUS) % R_MODULUS for i in range(n)])
    d = ntt.domain(log_n)
    a = Fr.from_ints(coeffs)
    before = a.copy()
    values = d.ntt(a)
    assert Fr.to_ints(values) == [int(v) for v in poly(points)]
    assert Fr.to_ints(d.intt(values)) == coeffs
    coset_values = d.coset_ntt(a, shift)
    assert Fr.to_ints(coset_values) == [int(v) for v in poly(coset)]
    assert Fr.to_ints(d.coset_intt(coset_values, shift)) == coeffs
    assert np.array_equal(a, before)  # inputs are not modified


@pytest.mark.parametrize("log_n", [6, 12, 14])
def test_simd_and_scalar_paths_agree(log_n):
    d = ntt.domain(log_n)
    a = Fr.random(1 << log_n, np.random.default_rng(log_n))
    scalar = d._transform(a, None, ntt._Job(), simd=False)
    assert np.array_equal(d.ntt(a), scalar)
    assert np.array_equal(d.intt(scalar), a)


def test_bad_inputs_are_refused():
    d = ntt.domain(4)
    with pytest.raises(ValueError):
        d.ntt(np.zeros((8, 4), dtype=np.uint64))
    with pytest.raises(ValueError):
        d.ntt(np.zeros((16, 4), dtype=np.int64))
