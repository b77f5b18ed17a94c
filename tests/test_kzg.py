"""Polynomials and KZG: coefficients against galois, commitments against py_ecc, and batched openings."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc.optimized_bn128 import G1, multiply

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.prover.field import Fr
from zksolvency.prover.kzg import commit, open_at
from zksolvency.prover.polynomial import Polynomial
from zksolvency.prover.srs import dev_tau
from zksolvency.verifier.kzg import OpeningClaim, verify_openings


def _poly(values) -> Polynomial:
    return Polynomial(Fr.from_ints(values))


def _random_values(rng: random.Random, length: int) -> list:
    edges = [0, 1, R_MODULUS - 1]
    return [rng.choice(edges) if rng.random() < 0.2 else rng.randrange(R_MODULUS) for _ in range(length)]


@pytest.mark.parametrize("seed", range(5))
def test_polynomial_arithmetic_matches_galois(gf_r, seed):
    rng = random.Random(seed)
    values = _random_values(rng, rng.randrange(1, 40))
    z = rng.randrange(R_MODULUS)
    reference = __import__("galois").Poly(list(reversed(values)), field=gf_r)
    p = _poly(values)
    assert p.evaluate(z) == int(reference(gf_r(z)))
    q, value = p.divide_by_linear(z)
    assert value == int(reference(gf_r(z)))
    expected_q = (reference - reference(gf_r(z))) // __import__("galois").Poly([1, (-z) % R_MODULUS], field=gf_r)
    got = Fr.to_ints(q.coeffs)
    want = [int(c) for c in reversed(expected_q.coeffs)]
    assert got[: len(want)] == want and all(c == 0 for c in got[len(want) :])
    other = _random_values(rng, rng.randrange(1, 40))
    s, t = rng.randrange(R_MODULUS), rng.randrange(R_MODULUS)
    combined = Fr.to_ints(Polynomial.linear_combination([p, _poly(other)], [s, t]).coeffs)
    pad = max(len(values), len(other))
    a = values + [0] * (pad - len(values))
    b = other + [0] * (pad - len(other))
    assert combined == [(s * x + t * y) % R_MODULUS for x, y in zip(a, b)]


def test_commitment_is_the_polynomial_at_tau(dev_srs):
    tau = dev_tau("zksolvency-dev")
    rng = random.Random(7)
    for length in (1, 2, 17, 300):
        values = _random_values(rng, length) if length > 1 else [0]
        at_tau = sum(c * pow(tau, i, R_MODULUS) for i, c in enumerate(values)) % R_MODULUS
        assert commit(dev_srs, _poly(values)) == G1Point.from_py_ecc(multiply(G1, at_tau))


def test_commitment_longer_than_the_srs_is_refused(dev_srs):
    with pytest.raises(ValueError, match="SRS"):
        commit(dev_srs, Polynomial(np.zeros((dev_srs.max_degree + 2, 4), dtype=np.uint64)))


def _claims(srs, rng, v):
    """Two points, several polynomials each, opened as the prover does (v-combination)."""
    claims = []
    for _ in range(2):
        z = rng.randrange(R_MODULUS)
        polys = [_poly(_random_values(rng, rng.randrange(1, 64))) for _ in range(rng.randrange(1, 4))]
        powers = [pow(v, j, R_MODULUS) for j in range(len(polys))]
        _, witness = open_at(srs, Polynomial.linear_combination(polys, powers), z)
        claims.append(
            OpeningClaim(z, tuple(commit(srs, p) for p in polys), tuple(p.evaluate(z) for p in polys), witness)
        )
    return claims


@pytest.mark.parametrize("seed", range(2))
def test_batched_openings_verify_and_tampering_is_caught(dev_srs, seed):
    rng = random.Random(seed)
    v, u = rng.randrange(R_MODULUS), rng.randrange(R_MODULUS)
    claims = _claims(dev_srs, rng, v)
    keys = (dev_srs.g1_generator, dev_srs.g2, dev_srs.tau_g2)
    assert verify_openings(claims, v, u, *keys)
    first = claims[0]
    tampered = [
        OpeningClaim(first.point, first.commitments, (first.values[0] + 1,) + first.values[1:], first.witness),
        OpeningClaim(first.point + 1, first.commitments, first.values, first.witness),
        OpeningClaim(first.point, first.commitments, first.values, claims[1].witness),
        OpeningClaim(first.point, (claims[1].witness,) + first.commitments[1:], first.values, first.witness),
    ]
    for bad in tampered:
        assert not verify_openings([bad, claims[1]], v, u, *keys)
    # The same claims under another v no longer match the witnesses.
    assert not verify_openings(claims, (v + 1) % R_MODULUS, u, *keys)
