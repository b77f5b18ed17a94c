"""All openings at once: G1 transforms against naive sums, Feist–Khovratovich against single openings."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc.optimized_bn128 import Z1, add, eq, multiply

from zksolvency.constants import GLV_LAMBDA, R_MODULUS
from zksolvency.prover import g1, g1_fft, openings
from zksolvency.prover.field import Fr
from zksolvency.prover.polynomial import Polynomial
from zksolvency.verifier.inclusion import opening_holds
from zksolvency.verifier.plonk import domain_generator


@pytest.mark.parametrize("log_m", [0, 1, 2, 3])
@pytest.mark.parametrize("inverse", [False, True])
def test_g1_transform_matches_naive_sums(log_m, inverse):
    m = 1 << log_m
    points = g1.random_points(m, np.random.default_rng(log_m))
    points[0] = g1.infinity(1)[0]
    w = domain_generator(log_m)
    w = pow(w, -1, R_MODULUS) if inverse else w
    got = g1.to_py_ecc(g1_fft.transform(points, inverse))
    pts = g1.to_py_ecc(points)
    for i in range(m):
        acc = Z1
        for j in range(m):
            acc = add(acc, multiply(pts[j], pow(w, i * j, R_MODULUS)))
        assert eq(acc, got[i])


PATHS = [False] + ([True] if g1_fft.VECTOR_AVAILABLE else [])  # scalar, and vector lanes where the CPU has them


@pytest.mark.parametrize("vector", PATHS)
def test_pointwise_multiplication(vector):
    rng = random.Random(2)
    points = g1.random_points(37, np.random.default_rng(2))
    points[5] = g1.infinity(1)[0]
    lam = pow(GLV_LAMBDA, 1, R_MODULUS)
    ks = [0, 1, 2, 15, 16, R_MODULUS - 1, lam, R_MODULUS - lam, (1 << 128) - 1, 1 << 127]
    ks += [rng.randrange(R_MODULUS) for _ in range(len(points) - len(ks))]
    got = g1.to_py_ecc(g1_fft.multiply_pointwise(points, Fr.canonical_limbs(ks), vector=vector))
    assert all(eq(a, multiply(p, k)) for a, p, k in zip(got, g1.to_py_ecc(points), ks))


@pytest.mark.parametrize("log_m", [4, 5])
@pytest.mark.parametrize("vector", PATHS)
def test_g1_transform_on_each_path_matches_naive_sums(log_m, vector):
    m = 1 << log_m
    points = g1.random_points(m, np.random.default_rng(10 + log_m))
    points[3] = g1.infinity(1)[0]
    w = domain_generator(log_m)
    got = g1.to_py_ecc(g1_fft.transform(points, vector=vector))
    pts = g1.to_py_ecc(points)
    for i in random.Random(log_m).sample(range(m), 6):
        acc = Z1
        for j in range(m):
            acc = add(acc, multiply(pts[j], pow(w, i * j, R_MODULUS)))
        assert eq(acc, got[i])


@pytest.mark.skipif(not g1_fft.VECTOR_AVAILABLE, reason="no vector lanes on this CPU")
@pytest.mark.parametrize("inverse", [False, True])
def test_vector_and_scalar_transforms_agree(inverse):
    points = g1.random_points(256, np.random.default_rng(3))
    points[::37] = g1.infinity(1)[0]
    assert np.array_equal(
        g1_fft.transform(points, inverse, vector=True), g1_fft.transform(points, inverse, vector=False)
    )


@pytest.mark.skipif(not g1_fft.VECTOR_AVAILABLE, reason="no vector lanes on this CPU")
def test_vector_lanes_hand_the_doubling_case_to_complete_formulas(monkeypatch):
    # Inputs (in bit-reversed order) [i]Q, O, Q, O in each block of four, i = omega_4: after the first
    # stage the second one's butterfly j = 1 adds u = [i]Q to [i]Q, the doubling case the lane formulas
    # do not cover. Those butterflies must be flagged and redone with the complete formulas.
    redone = []
    redo = g1_fft._redo_butterflies_kernel

    def counting(*args):
        redone.append(len(args[-1]))
        return redo(*args)

    monkeypatch.setattr(g1_fft, "_redo_butterflies_kernel", counting)
    log_m = 6
    m = 1 << log_m
    q = g1.random_points(m // 4, np.random.default_rng(4))
    iq = g1.multiply(q, Fr.canonical_limbs([domain_generator(2)] * (m // 4)))
    reversed_order = g1.infinity(m)
    reversed_order[0::4], reversed_order[2::4] = iq, q
    points = np.ascontiguousarray(reversed_order[g1_fft._bit_reversed(log_m)])
    got = g1_fft.transform(points, vector=True)
    assert sum(redone) >= m // 4
    assert np.array_equal(got, g1_fft.transform(points, vector=False))
    pts, w = g1.to_py_ecc(points), domain_generator(log_m)
    for i in (0, 1, 5):
        acc = Z1
        for j in range(m):
            acc = add(acc, multiply(pts[j], pow(w, i * j, R_MODULUS)))
        assert eq(acc, g1.to_py_ecc(got[i : i + 1])[0])


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKSOLVENCY_CACHE_DIR", str(tmp_path / "cache"))
    openings._memory.clear()


@pytest.mark.parametrize("log_n", [3, 5, 8])
@pytest.mark.parametrize("extra", [0, 1, 3])  # degree n - 1, n, n + 2 (blinded)
def test_all_openings_equal_single_openings(dev_srs, log_n, extra):
    rng = np.random.default_rng(log_n * 4 + extra)
    n = 1 << log_n
    poly = Polynomial(Fr.random(n + extra, rng))
    pis = openings.all_openings(dev_srs, poly, log_n)
    rows = random.Random(log_n).sample(range(n), min(n, 5))
    for i in rows:
        assert g1.to_g1point(pis[i]) == openings.single_opening(dev_srs, poly, log_n, i)


def test_openings_verify_with_the_pairing(dev_srs):
    from zksolvency.prover.kzg import commit
    from zksolvency.verifier.formats import VerifyingKey

    log_n, n = 4, 16
    poly = Polynomial(Fr.random(n + 3, np.random.default_rng(1)))
    pis = openings.all_openings(dev_srs, poly, log_n)
    c = commit(dev_srs, poly)
    vk = VerifyingKey("t", log_n, bytes(32), bytes(32), True, dev_srs.g1_generator, dev_srs.g2, dev_srs.tau_g2, ())
    w = domain_generator(log_n)
    for i in (0, 5, 15):
        value = poly.evaluate(pow(w, i, R_MODULUS))
        assert opening_holds(vk, c, i, value, g1.to_g1point(pis[i]))
        assert not opening_holds(vk, c, i, value + 1, g1.to_g1point(pis[i]))
        assert not opening_holds(vk, c, (i + 1) % n, value, g1.to_g1point(pis[i]))


def test_srs_transforms_are_cached_on_disk_and_checked(dev_srs, tmp_path):
    log_n = 4
    first = openings.srs_transforms(dev_srs, log_n)
    path = openings._cache_path(dev_srs.digest, log_n)
    assert path.is_file()
    openings._memory.clear()
    assert np.array_equal(openings.srs_transforms(dev_srs, log_n), first)
    # A corrupted cache file is detected and recomputed, never trusted.
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    openings._memory.clear()
    assert np.array_equal(openings.srs_transforms(dev_srs, log_n), first)
