"""G1 over the base field: every group operation against py_ecc, encodings, and refusal of invalid points."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import G1, Z1, add, double, eq, multiply, neg

from zksolvency.constants import GLV_LAMBDA, Q_MODULUS, R_MODULUS
from zksolvency.encoding import EncodingError, G1Point
from zksolvency.prover import g1
from zksolvency.prover.field import Fr

scalars = st.one_of(st.sampled_from([0, 1, 2, R_MODULUS - 1, R_MODULUS - 2]), st.integers(0, R_MODULUS - 1))


def _points(seed: int, n: int):
    rng = random.Random(seed)
    # Random multiples of the generator, infinity and repeats included.
    ks = [rng.randrange(R_MODULUS) for _ in range(n)]
    ks[0] = 0
    pts = [multiply(G1, k) for k in ks]
    return g1.from_py_ecc(pts), pts


def _same(got: np.ndarray, expected: list) -> bool:
    return all(eq(a, b) for a, b in zip(g1.to_py_ecc(got), expected))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_add_double_negate_match_py_ecc(seed):
    p, pp = _points(seed, 8)
    q, qq = _points(seed + 1, 8)
    assert _same(g1.add(p, q), [add(a, b) for a, b in zip(pp, qq)])
    assert _same(g1.double(p), [double(a) for a in pp])
    assert _same(g1.negate(p), [neg(a) for a in pp])


def test_addition_edge_cases():
    p, pp = _points(3, 4)
    assert _same(g1.add(p, p), [double(a) for a in pp])  # P + P
    assert _same(g1.add(p, g1.negate(p)), [Z1] * 4)  # P + (-P)
    assert _same(g1.add(p, g1.infinity(4)), pp)  # P + O
    assert _same(g1.add(g1.infinity(4), p), pp)
    jac = g1.to_jacobian(p)
    assert _same(g1.to_affine(g1.jacobian_add_arrays(jac, jac)), [double(a) for a in pp])
    assert _same(g1.to_affine(g1.jacobian_add_arrays(jac, g1.to_jacobian(g1.negate(p)))), [Z1] * 4)


@settings(max_examples=8, deadline=None)
@given(ks=st.lists(scalars, min_size=1, max_size=6), seed=st.integers(0, 2**32))
def test_scalar_multiplication_and_endomorphism(ks, seed):
    p, pp = _points(seed, len(ks))
    got = g1.multiply(p, Fr.canonical_limbs(ks))
    assert _same(got, [multiply(a, k) for a, k in zip(pp, ks)])
    assert _same(g1.endomorphism(p), [multiply(a, GLV_LAMBDA) for a in pp])


def test_encoding_round_trip_and_refusals():
    p, pp = _points(5, 6)
    data = g1.encode(p)
    assert len(data) == 64 * 6
    assert [G1Point.from_py_ecc(a).to_bytes() for a in pp] == [data[64 * i : 64 * i + 64] for i in range(6)]
    assert np.array_equal(g1.decode(data), p)
    assert data[:64] == bytes(64)  # infinity is all zero bytes
    x, y = 1, 3  # 9 != 1 + 3: not on the curve
    off = x.to_bytes(32, "big") + y.to_bytes(32, "big")
    with pytest.raises(EncodingError, match="not on the curve"):
        g1.decode_point(off)
    too_big = Q_MODULUS.to_bytes(32, "big") + (2).to_bytes(32, "big")
    with pytest.raises(EncodingError, match="not below"):
        g1.decode_point(too_big)
    with pytest.raises(EncodingError, match="64"):
        g1.decode_point(data[:63])
    with pytest.raises(EncodingError):
        G1Point.from_bytes(off)
    with pytest.raises(EncodingError):
        g1.from_ints([(1, 3)])


def test_on_curve_and_random_points():
    pts = g1.random_points(50, np.random.default_rng(1))
    assert g1.on_curve(pts).all()
    bad = pts.copy()
    bad[3, 1, 0] ^= np.uint64(1)
    assert not g1.on_curve(bad)[3]
