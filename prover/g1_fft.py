"""Number-theoretic transforms over G1: sum_j omega^(i j) P_j for all i, and pointwise scalar products.

The group is a vector space over Fr, so the radix-2 transform of ``prover.ntt``
carries over with each butterfly's multiplication a scalar multiplication
of a point by a twiddle. That multiplication dominates, so:

- twiddles are split once per transform by the GLV endomorphism,
  w = w1 + w2 lambda with |w1|, |w2| < 2^127, and [w]P = [w1]P + [w2](BETA x, y)
  shares one chain of 128 doublings between the halves;
- both halves are written in width-5 NAF (odd digits in -15..15, at least four
  zeros after each non-zero one: about 22 additions per 128-bit half) with a table
  of the odd multiples 1P, 3P, .., 15P; the endomorphism's table is the same
  points with x times BETA;
- each stage starts from affine points (one simultaneous inversion per chunk
  of points), so table building and the butterfly's own additions are mixed
  additions; butterflies with twiddle 1 cost two additions only.

Points are affine Montgomery ``(m, 2, 4)`` arrays as in ``prover.g1``; the
transforms do not scale by 1/m (callers fold that into their scalars).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from zksolvency.constants import R_MODULUS
from zksolvency.prover import g1
from zksolvency.prover.field import LIMBS, Fr
from zksolvency.prover.g1 import _mul as _fq_mul
from zksolvency.prover.g1 import (
    BETA,
    affine_is_infinity,
    jacobian_add,
    jacobian_add_affine,
    jacobian_double,
    jacobian_infinity,
    jacobian_neg,
    load_affine,
    store_jacobian,
)
from zksolvency.prover.msm import glv_split
from zksolvency.verifier.plonk import domain_generator

_ZERO = np.uint64(0)
_DIGITS = 130  # width-5 NAF digits of a value below 2^128 (the NAF may be one digit longer)
_WIDTH = 5


@njit(cache=True)
def _signed_digits(half, out, row):
    """out[row, t] = t-th width-5 NAF digit (odd in -15..15, or 0) of half[0] + 2^64 half[1] (< 2^128)."""
    lo, hi = half[0], half[1]
    one = np.uint64(1)
    for t in range(_DIGITS):
        d = 0
        if lo & one:
            d = np.int64(lo & np.uint64(31))
            if d >= 16:
                d -= 32
            if d > 0:
                new = lo - np.uint64(d)
                hi -= np.uint64(new > lo)
                lo = new
            else:
                new = lo + np.uint64(-d)
                hi += np.uint64(new < lo)
                lo = new
        out[row, t] = d
        lo = (lo >> one) | (hi << np.uint64(63))
        hi >>= one


@njit(cache=True, parallel=True)
def _digits_kernel(halves, negative, out):
    """Digits of |k1| (rows < m) and |k2| (rows >= m), negated where the half is negative."""
    rows = halves.shape[0]
    for r in prange(rows):
        _signed_digits(halves[r], out, r)
        if negative[r]:
            for t in range(_DIGITS):
                out[r, t] = -out[r, t]


def glv_digits(scalars: np.ndarray) -> np.ndarray:
    """``(m, 2, 130)`` int8 width-5 NAF digits of the GLV halves of canonical scalars ``(m, 4)``."""
    m = scalars.shape[0]
    halves, negative = glv_split(scalars)
    digits = np.empty((2 * m, _DIGITS), dtype=np.int8)
    if m:
        _digits_kernel(halves, negative, digits)
    return np.ascontiguousarray(np.stack([digits[:m], digits[m:]], axis=1))


@njit(cache=True)
def _table(p):
    """Jacobian 1P, 3P, .., 15P of an affine P (one doubling, seven additions)."""
    t = np.empty((8, 3, LIMBS), dtype=np.uint64)
    acc = jacobian_add_affine(jacobian_infinity(), p)
    store_jacobian(t, 0, acc)
    two = jacobian_double(acc)
    for j in range(1, 8):
        acc = jacobian_add(acc, two)
        store_jacobian(t, j, acc)
    return t


@njit(cache=True, inline="always")
def _entry(t, d, endo):
    """d times the table's point (d odd in -15..15), through the endomorphism if endo."""
    k = (abs(d) - 1) >> 1
    x = (t[k, 0, 0], t[k, 0, 1], t[k, 0, 2], t[k, 0, 3])
    y = (t[k, 1, 0], t[k, 1, 1], t[k, 1, 2], t[k, 1, 3])
    z = (t[k, 2, 0], t[k, 2, 1], t[k, 2, 2], t[k, 2, 3])
    if endo:
        x = _fq_mul(x, BETA)
    p = (x, y, z)
    return jacobian_neg(p) if d < 0 else p


@njit(cache=True)
def glv_multiply(p, digits, row):
    """[k]P (Jacobian) for affine P with k's GLV digits digits[row] ((2, 130) width-5 NAF)."""
    if affine_is_infinity(p):
        return jacobian_infinity()
    t = _table(p)
    acc = jacobian_infinity()
    for w in range(_DIGITS - 1, -1, -1):
        acc = jacobian_double(acc)
        d1 = digits[row, 0, w]
        d2 = digits[row, 1, w]
        if d1 != 0:
            acc = jacobian_add(acc, _entry(t, d1, False))
        if d2 != 0:
            acc = jacobian_add(acc, _entry(t, d2, True))
    return acc


@njit(cache=True, parallel=True)
def _pointwise_kernel(points, digits, out):
    for i in prange(points.shape[0]):
        store_jacobian(out, i, glv_multiply(load_affine(points, i), digits, i))


def multiply_pointwise(points: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """[k_i]P_i elementwise, affine in and out."""
    out = np.empty((points.shape[0], 3, LIMBS), dtype=np.uint64)
    if points.shape[0]:
        _pointwise_kernel(np.ascontiguousarray(points), glv_digits(scalars), out)
    return g1.to_affine(out)


@njit(cache=True, parallel=True)
def _stage_kernel(a, out, half, twiddle_stride, digits):
    """One radix-2 stage: out[top] = a[top] + w a[bottom], out[bottom] = a[top] - w a[bottom].

    ``a`` is affine, ``out`` Jacobian; w = omega^(j * twiddle_stride) for the butterfly's j,
    whose GLV digits are digits[j * twiddle_stride].
    """
    m = a.shape[0]
    for b in prange(m // 2):
        block = b // half
        j = b - block * half
        top = block * 2 * half + j
        bottom = top + half
        u = load_affine(a, top)
        v = load_affine(a, bottom)
        if j == 0:
            wv = jacobian_add_affine(jacobian_infinity(), v)
        else:
            wv = glv_multiply(v, digits, j * twiddle_stride)
        store_jacobian(out, top, jacobian_add_affine(wv, u))
        store_jacobian(out, bottom, jacobian_add_affine(jacobian_neg(wv), u))


@functools.lru_cache(maxsize=8)
def _twiddle_digits(log_m: int, inverse: bool) -> np.ndarray:
    """GLV digits of omega^t (or omega^-t) for t < m/2, omega of order m = 2^log_m."""
    m = 1 << log_m
    omega = domain_generator(log_m)
    if inverse:
        omega = pow(omega, -1, R_MODULUS)
    from zksolvency.prover.ntt import _powers

    powers = Fr.to_canonical_limbs(_powers(omega, max(1, m // 2)))
    return glv_digits(powers)


def _bit_reversed(log_m: int) -> np.ndarray:
    m = 1 << log_m
    idx = np.arange(m, dtype=np.int64)
    rev = np.zeros(m, dtype=np.int64)
    for b in range(log_m):
        rev |= ((idx >> b) & 1) << (log_m - 1 - b)
    return rev


def transform(points: np.ndarray, inverse: bool = False, progress=None) -> np.ndarray:
    """sum_j omega^(+-i j) P_j for i < m (no 1/m factor), affine ``(m, 2, 4)`` in and out."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    m = points.shape[0]
    log_m = m.bit_length() - 1
    if m == 0 or m != 1 << log_m or points.shape[1:] != (2, LIMBS):
        raise ValueError(f"expected a power-of-two number of affine points, got shape {points.shape}")
    if m == 1:
        return points.copy()
    digits = _twiddle_digits(log_m, inverse)
    a = np.ascontiguousarray(points[_bit_reversed(log_m)])
    jac = np.empty((m, 3, LIMBS), dtype=np.uint64)
    for s in range(log_m):
        half = 1 << s
        _stage_kernel(a, jac, half, m // (2 * half), digits)
        a = g1.to_affine(jac)
        if progress:
            progress(s + 1, log_m)
    return a
