"""Multi-scalar multiplication against a py_ecc reference, over every path of the planner."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc.optimized_bn128 import Z1, add, eq, multiply

from zksolvency.constants import R_MODULUS
from zksolvency.prover import g1
from zksolvency.prover.field import Fr
from zksolvency.prover.msm import msm, msm_affine


def _reference(points, ks):
    acc = Z1
    for p, k in zip(g1.to_py_ecc(points), ks):
        acc = add(acc, multiply(p, k))
    return acc


def _scalars(rng, n, bits):
    edges = [0, 1, R_MODULUS - 1] if bits >= 254 else [0, 1, (1 << bits) - 1]
    return [rng.choice(edges) if rng.random() < 0.1 else rng.randrange(min(1 << bits, R_MODULUS)) for _ in range(n)]


@pytest.mark.parametrize("bits", [1, 16, 64, 127, 254])
@pytest.mark.parametrize("n", [0, 1, 7, 64, 300])
def test_msm_matches_reference(n, bits):
    rng = random.Random(n * 1000 + bits)
    points = g1.random_points(n, np.random.default_rng(n + bits))
    ks = _scalars(rng, n, bits)
    assert eq(msm(points, Fr.canonical_limbs(ks) if n else np.zeros((0, 4), np.uint64)).to_py_ecc(),
              _reference(points, ks))


def test_forced_paths_agree():
    rng = random.Random(9)
    points = g1.random_points(200, np.random.default_rng(9))
    ks = _scalars(rng, 200, 254)
    limbs = Fr.canonical_limbs(ks)
    expected = _reference(points, ks)
    for glv in (False, True):
        for window in (2, 5, 9, 13):
            got = g1.to_py_ecc(msm_affine(points, limbs, glv=glv, window=window)[None])[0]
            assert eq(got, expected), (glv, window)


def test_repeated_points_same_bucket_and_cancellation():
    p = g1.random_points(1, np.random.default_rng(4))
    many = np.repeat(p, 3000, axis=0)  # one bucket hit over and over: the spill path
    ks = [5] * 3000
    assert eq(msm(many, Fr.canonical_limbs(ks)).to_py_ecc(), multiply(g1.to_py_ecc(p)[0], 15000))
    both = np.concatenate([p, g1.negate(p)])
    assert msm(both, Fr.canonical_limbs([7, 7])).is_infinity
    with_inf = np.concatenate([p, g1.infinity(1)])
    assert eq(msm(with_inf, Fr.canonical_limbs([3, 11])).to_py_ecc(), multiply(g1.to_py_ecc(p)[0], 3))


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        msm(g1.random_points(3, np.random.default_rng(0)), np.zeros((2, 4), np.uint64))
