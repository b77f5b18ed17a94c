"""The verifier's G1 linear combinations against py_ecc: random points and scalars, cancellations, infinity."""

from __future__ import annotations

import random

import pytest
from py_ecc.optimized_bn128 import G1, add, multiply, neg, normalize

from zksolvency.constants import R_MODULUS
from zksolvency.verifier.msm import lincomb


def _affine(p):
    x, y = normalize(p)
    return int(x), int(y)


def _reference(points, scalars):
    acc = None
    for p, s in zip(points, scalars):
        term = multiply(p, s % R_MODULUS)
        acc = term if acc is None else add(acc, term)
    return None if acc is None or acc[2] == 0 else _affine(acc)


@pytest.mark.parametrize("count", [1, 2, 5, 30])
def test_lincomb_equals_py_ecc_on_random_inputs(count):
    rng = random.Random(count)
    points = [multiply(G1, rng.randrange(1, R_MODULUS)) for _ in range(count)]
    scalars = [rng.choice((rng.randrange(R_MODULUS), rng.randrange(16), -rng.randrange(R_MODULUS), R_MODULUS - 1))
               for _ in range(count)]
    assert lincomb([_affine(p) for p in points], scalars) == _reference(points, scalars)


def test_lincomb_edge_cases():
    p = multiply(G1, 12345)
    a = _affine(p)
    assert lincomb([], []) is None
    assert lincomb([a], [0]) is None and lincomb([a], [R_MODULUS]) is None
    assert lincomb([(0, 0), a], [7, 1]) == a  # infinity contributes nothing
    assert lincomb([a, _affine(neg(p))], [5, 5]) is None  # P + (-P)
    assert lincomb([a, a], [1, 1]) == _affine(multiply(p, 2))  # the same point twice: a doubling inside an addition
    assert lincomb([a], [-1]) == _affine(neg(p))
