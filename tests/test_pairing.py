"""The prepared pairing against py_ecc's: Miller loop values, final exponentiation, products, points at infinity."""

from __future__ import annotations

import random

import pytest
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128 import FQ12, G1, G2, Z1, Z2, multiply, neg, normalize
from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.verifier.pairing import final_exponentiation, frobenius, miller_product, pairing_product_is_one


def _affine(p):
    x, y = normalize(p)
    return (x, y, FQ.one())


@pytest.mark.parametrize("seed", range(3))
def test_miller_loop_and_final_exponentiation_equal_py_eccs(seed):
    rng = random.Random(seed)
    p, q = multiply(G1, rng.randrange(1, R_MODULUS)), multiply(G2, rng.randrange(1, R_MODULUS))
    reference = pairing(q, _affine(p), final_exponentiate=False)
    assert miller_product([(p, q)]) == reference
    assert final_exponentiation(reference) == final_exponentiate(reference)


def test_frobenius_is_the_qth_power():
    rng = random.Random(4)
    f = FQ12([rng.randrange(1 << 250) for _ in range(12)])
    for k in (2, 6):
        assert frobenius(f, k) == f ** (Q_MODULUS**k) != f


def test_products_of_pairings_follow_bilinearity():
    rng = random.Random(5)
    a, b = rng.randrange(1, R_MODULUS), rng.randrange(1, R_MODULUS)
    p, q = multiply(G1, a), multiply(G2, b)
    assert pairing_product_is_one([(multiply(G1, a * b % R_MODULUS), G2), (neg(p), q)])
    assert not pairing_product_is_one([(multiply(G1, (a * b + 1) % R_MODULUS), G2), (neg(p), q)])
    # Three pairs sharing the loop, one G2 point twice.
    assert pairing_product_is_one([(multiply(G1, 2), q), (multiply(G1, 3), q), (neg(multiply(G1, 5)), q)])
    assert not pairing_product_is_one([(multiply(G1, 2), q), (neg(multiply(G1, 2)), G2)])


def test_points_at_infinity_contribute_one():
    p, q = multiply(G1, 9), multiply(G2, 11)
    assert pairing_product_is_one([(Z1, q), (p, Z2), (None, G2)])
    assert pairing_product_is_one([])
    assert not pairing_product_is_one([(p, q), (Z1, q)])
