"""Multi-scalar multiplication sum_i k_i P_i over G1 by Pippenger's bucket method, in parallel.

Three things make it fast, each worth a large share of the time:

- **signed digits**: each c-bit window digit lies in (-2^(c-1), 2^(c-1)], and
  -P costs nothing, so a window needs 2^(c-1) buckets instead of 2^c - 1;
- **batch-affine buckets**: buckets are kept in affine coordinates and the
  additions into them are done a batch at a time, every slope denominator of
  a batch inverted together (Montgomery's trick), about 6 multiplications per
  addition against 10 or more in projective coordinates. A point whose bucket
  already has an addition in the batch waits in a queue for the next batch;
  if the queue is full it goes into a projective "spill" accumulator of its
  bucket, so inputs that hit one bucket over and over stay cheap;
- **the GLV endomorphism**: for full-width scalars, k = k1 + k2 lambda mod r
  with |k1|, |k2| < 2^127 and [lambda](x, y) = (BETA x, y), so 2n points
  with half-width scalars replace n points with full-width ones: half the
  windows, half the bucket reductions.

The window width is chosen from the number of points and the actual largest
scalar bit length with a small cost model, so scalars below 2^64 (balances)
or 2^16 (limbs) cost proportionally less. Work is split into (window, bucket
range) tasks across the threads: a task scans all the window's digits but
fills and reduces only its range of buckets, so when there are fewer windows
than threads (small scalars: a 16-bit scalar is one 17-bit signed window) the
threads share the bucket reduction instead of each repeating it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from zksolvency.constants import GLV_LAMBDA, R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.prover import field
from zksolvency.prover.arith import adc, mac
from zksolvency.prover.field import FQ_PARAMS
from zksolvency.prover.g1 import (
    LIMBS,
    _add,
    _dbl,
    _mul,
    _neg,
    _sqr,
    _sub,
    affine_is_infinity,
    endomorphism,
    load_affine,
    store_affine,
    to_g1point,
    xyzz_add,
    xyzz_add_affine,
    xyzz_double,
    xyzz_infinity,
    xyzz_to_affine,
)

_ZERO = np.uint64(0)
_MASK64 = (1 << 64) - 1

# ---------------------------------------------------------------- GLV decomposition


def _short_lattice_basis(n: int, lam: int):
    """Two short vectors (a, b) with a + b lambda = 0 mod n (extended Euclid, GLV section 4)."""
    # Rows (r, t) with r = t lambda mod n, so (r, -t) lies in the lattice.
    rows = [(n, 0), (lam, 1)]

    def step():
        (r0, t0), (r1, t1) = rows[-2], rows[-1]
        q = r0 // r1
        rows.append((r0 - q * r1, t0 - q * t1))

    root = math.isqrt(n)
    while rows[-1][0] >= root:
        step()
    step()
    (r_m, t_m), (r_m1, t_m1), (r_m2, t_m2) = rows[-3], rows[-2], rows[-1]
    v1 = (r_m1, -t_m1)
    v2 = min([(r_m, -t_m), (r_m2, -t_m2)], key=lambda v: v[0] * v[0] + v[1] * v[1])
    return v1, v2


(_A1, _B1), (_A2, _B2) = _short_lattice_basis(R_MODULUS, GLV_LAMBDA)
if _A1 * _B2 - _A2 * _B1 < 0:
    (_A1, _B1), (_A2, _B2) = (_A2, _B2), (_A1, _B1)
assert (_A1 + _B1 * GLV_LAMBDA) % R_MODULUS == 0 and (_A2 + _B2 * GLV_LAMBDA) % R_MODULUS == 0
assert _A1 * _B2 - _A2 * _B1 == R_MODULUS
# k (1, 0) = (k b2 / r) v1 + (-k b1 / r) v2; the rounded coefficients are k g / 2^256 with
# these g (both positive for BN254), leaving halves below 0.75 (|v1| + |v2|) < 2^127 (rounding k g, not k b / r).
_G1 = (_B2 << 256) // R_MODULUS + (((_B2 << 256) % R_MODULUS) * 2 >= R_MODULUS)
_G2 = (-_B1 << 256) // R_MODULUS + (((-_B1 << 256) % R_MODULUS) * 2 >= R_MODULUS)
assert _G1 > 0 and _G2 > 0
GLV_HALF_BITS = 127


def _limbs256(x: int) -> tuple:
    """x mod 2^256 (two's complement for negative x) as four uint64 limbs."""
    x %= 1 << 256
    return tuple(np.uint64((x >> (64 * i)) & _MASK64) for i in range(4))


_G1_LIMBS, _G2_LIMBS = _limbs256(_G1), _limbs256(_G2)
_MINUS_A1, _MINUS_A2 = _limbs256(-_A1), _limbs256(-_A2)
_MINUS_B1, _MINUS_B2 = _limbs256(-_B1), _limbs256(-_B2)
_HALF = np.uint64(1 << 63)


@njit(cache=True)
def _row(a, bi, r0, r1, r2, r3):
    """(r0..r3) + a bi as five limbs."""
    c, s0 = mac(a[0], bi, r0, _ZERO)
    c, s1 = mac(a[1], bi, r1, c)
    c, s2 = mac(a[2], bi, r2, c)
    c, s3 = mac(a[3], bi, r3, c)
    return s0, s1, s2, s3, c


@njit(cache=True)
def _mul_wide(a, b):
    """The eight-limb product of two four-limb values (schoolbook)."""
    p0, r1, r2, r3, r4 = _row(a, b[0], _ZERO, _ZERO, _ZERO, _ZERO)
    p1, r2, r3, r4, r5 = _row(a, b[1], r1, r2, r3, r4)
    p2, r3, r4, r5, r6 = _row(a, b[2], r2, r3, r4, r5)
    p3, p4, p5, p6, p7 = _row(a, b[3], r3, r4, r5, r6)
    return (p0, p1, p2, p3, p4, p5, p6, p7)


@njit(cache=True)
def _mul_rounded_high(k, g):
    """round(k g / 2^256)."""
    p = _mul_wide(k, g)
    c, _ = adc(p[3], _HALF, _ZERO)
    c, h0 = adc(p[4], _ZERO, c)
    c, h1 = adc(p[5], _ZERO, c)
    c, h2 = adc(p[6], _ZERO, c)
    _, h3 = adc(p[7], _ZERO, c)
    return (h0, h1, h2, h3)


@njit(cache=True)
def _mul_low(a, b):
    """a b mod 2^256 (two's complement arithmetic for signed values)."""
    p = _mul_wide(a, b)
    return (p[0], p[1], p[2], p[3])


@njit(cache=True)
def _add256(a, b):
    c, s0 = adc(a[0], b[0], _ZERO)
    c, s1 = adc(a[1], b[1], c)
    c, s2 = adc(a[2], b[2], c)
    _, s3 = adc(a[3], b[3], c)
    return (s0, s1, s2, s3)


@njit(cache=True)
def _abs256(a):
    """(|a|, a < 0) for a 256-bit two's complement value."""
    if a[3] >> np.uint64(63):
        return _add256((~a[0], ~a[1], ~a[2], ~a[3]), (np.uint64(1), _ZERO, _ZERO, _ZERO)), True
    return a, False


@njit(cache=True, parallel=True)
def _glv_split_kernel(scalars, halves, negative):
    """k_i = k1 + k2 lambda: |k1| to halves[i], |k2| to halves[n + i], signs to negative."""
    n = scalars.shape[0]
    for i in prange(n):
        k = (scalars[i, 0], scalars[i, 1], scalars[i, 2], scalars[i, 3])
        c1 = _mul_rounded_high(k, _G1_LIMBS)
        c2 = _mul_rounded_high(k, _G2_LIMBS)
        k1 = _add256(k, _add256(_mul_low(c1, _MINUS_A1), _mul_low(c2, _MINUS_A2)))
        k2 = _add256(_mul_low(c1, _MINUS_B1), _mul_low(c2, _MINUS_B2))
        k1, negative1 = _abs256(k1)
        k2, negative2 = _abs256(k2)
        negative[i] = negative1
        negative[n + i] = negative2
        for limb in range(4):
            halves[i, limb] = k1[limb]
            halves[n + i, limb] = k2[limb]


def glv_split(scalars: np.ndarray):
    """Halves ``(2n, 4)`` (|k1| then |k2|) and signs ``(2n,)`` with k = k1 + k2 GLV_LAMBDA mod r."""
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    n = scalars.shape[0]
    halves = np.empty((2 * n, LIMBS), dtype=np.uint64)
    negative = np.empty(2 * n, dtype=np.bool_)
    if n:
        _glv_split_kernel(scalars, halves, negative)
    return halves, negative


# ---------------------------------------------------------------- signed digits


def max_bits(scalars: np.ndarray) -> int:
    """The bit length of the largest scalar in a ``(n, 4)`` canonical limb array."""
    if scalars.shape[0] == 0:
        return 0
    union = np.bitwise_or.reduce(scalars, axis=0)
    for limb in range(LIMBS - 1, -1, -1):
        if union[limb]:
            return 64 * limb + int(union[limb]).bit_length()
    return 0


@njit(cache=True, parallel=True)
def _signed_digits_kernel(values, negative, points, c, digits):
    """Signed base-2^c digits in (-2^(c-1), 2^(c-1)], negated for negative scalars.

    Points at infinity get zero digits (the bucket additions assume finite points).
    """
    windows, m = digits.shape
    n = points.shape[0]
    mask = np.uint64((1 << c) - 1)
    half = np.int64(1) << np.int64(c - 1)
    full = np.int64(1) << np.int64(c)
    for i in prange(m):
        if affine_is_infinity(load_affine(points, i % n)):
            for j in range(windows):
                digits[j, i] = 0
            continue
        v = (values[i, 0], values[i, 1], values[i, 2], values[i, 3])
        carry = np.int64(0)
        for j in range(windows):
            offset = j * c
            limb = offset >> 6
            shift = offset & 63
            w = _ZERO
            if limb < 4:
                w = v[limb] >> np.uint64(shift)
                if shift + c > 64 and limb + 1 < 4:
                    w |= v[limb + 1] << np.uint64(64 - shift)
                w &= mask
            d = np.int64(w) + carry
            carry = np.int64(0)
            if d > half:
                d -= full
                carry = np.int64(1)
            digits[j, i] = -d if negative[i] else d


# ---------------------------------------------------------------- bucket accumulation

_EMPTY, _SET, _PENDING = 0, 1, 2


@njit(cache=True, inline="always")
def _signed_point(points, i, negate):
    p = load_affine(points, i)
    if negate:
        return (p[0], _neg(p[1]))
    return p


@njit(cache=True, inline="always")
def _schedule(points, i, d, buckets, state, batch_bucket, batch_point, batch_double, den, prefix, count, acc):
    """Put P_i (negated if d < 0) towards bucket |d| - 1, whose state is not pending.

    Returns the new batch length and running product of denominators.
    """
    b = abs(d) - 1
    p = _signed_point(points, i, d < 0)
    if state[b] == _EMPTY:
        store_affine(buckets, b, p)
        state[b] = _SET
        return count, acc
    q = load_affine(buckets, b)
    if field.equal(p[0], q[0]):
        if not field.equal(p[1], q[1]):
            state[b] = _EMPTY  # P + (-P)
            return count, acc
        denominator = _dbl(q[1])  # tangent slope 3x^2 / 2y
        batch_double[count] = True
    else:
        denominator = _sub(p[0], q[0])
        batch_double[count] = False
    batch_bucket[count] = b
    batch_point[count] = i if d > 0 else -i - 1
    field.store(den, count, denominator)
    field.store(prefix, count, acc)
    state[b] = _PENDING
    return count + 1, _mul(acc, denominator)


@njit(cache=True)
def _flush(points, buckets, state, batch_bucket, batch_point, batch_double, den, prefix, count, acc):
    """Finish the batch's affine additions with one inversion of all their denominators."""
    inv = field.inverse(acc, FQ_PARAMS)
    for e in range(count - 1, -1, -1):
        inv_e = _mul(inv, field.load(prefix, e))
        inv = _mul(inv, field.load(den, e))
        b = batch_bucket[e]
        xb, yb = load_affine(buckets, b)
        if batch_double[e]:
            xx = _sqr(xb)
            slope = _mul(_add(_dbl(xx), xx), inv_e)
            x3 = _sub(_sqr(slope), _dbl(xb))
        else:
            k = batch_point[e]
            xp, yp = _signed_point(points, k if k >= 0 else -k - 1, k < 0)
            slope = _mul(_sub(yp, yb), inv_e)
            x3 = _sub(_sub(_sqr(slope), xb), xp)
        y3 = _sub(_mul(slope, _sub(xb, x3)), yb)
        store_affine(buckets, b, (x3, y3))
        state[b] = _SET


@njit(cache=True)
def _store_xyzz(a, i, p):
    for c in range(4):
        for k in range(LIMBS):
            a[i, c, k] = p[c][k]


@njit(cache=True)
def _load_xyzz(a, i):
    return (
        (a[i, 0, 0], a[i, 0, 1], a[i, 0, 2], a[i, 0, 3]),
        (a[i, 1, 0], a[i, 1, 1], a[i, 1, 2], a[i, 1, 3]),
        (a[i, 2, 0], a[i, 2, 1], a[i, 2, 2], a[i, 2, 3]),
        (a[i, 3, 0], a[i, 3, 1], a[i, 3, 2], a[i, 3, 3]),
    )


@njit(cache=True)
def _window_sum(points, digits, j, lo, hi, c, batch):
    """sum_i digit_j(i) P_i over the digits whose bucket |d| - 1 lies in [lo, hi), as XYZZ.

    Every point is scanned; only this range of buckets is filled and reduced,
    so the parts of one window share the reduction. The reduction gives
    S1 = sum_b (b - lo + 1) B_b and S2 = sum_b B_b; the result is S1 + lo S2.
    """
    buckets_count = hi - lo
    buckets = np.empty((buckets_count, 2, LIMBS), dtype=np.uint64)
    state = np.zeros(buckets_count, dtype=np.uint8)
    # Allocated on the first overflow of the queue, which random inputs rarely cause.
    spill = np.empty((0, 4, LIMBS), dtype=np.uint64)
    spilled = np.zeros(buckets_count, dtype=np.bool_)
    batch_bucket = np.empty(batch, dtype=np.int64)
    batch_point = np.empty(batch, dtype=np.int64)
    batch_double = np.empty(batch, dtype=np.bool_)
    den = np.empty((batch, LIMBS), dtype=np.uint64)
    prefix = np.empty((batch, LIMBS), dtype=np.uint64)
    queue_point = np.empty(batch, dtype=np.int64)
    queue_digit = np.empty(batch, dtype=np.int64)
    one = field.one(FQ_PARAMS)
    m = digits.shape[1]
    count = 0
    acc = one
    queued = 0
    i = 0
    while True:
        if count == batch or (i == m and (count > 0 or queued > 0)):
            if count > 0:
                _flush(points, buckets, state, batch_bucket, batch_point, batch_double, den, prefix, count, acc)
            count = 0
            acc = one
            # Nothing is pending now: every queued point can go, except a second one for a bucket.
            kept = 0
            for e in range(queued):
                d = queue_digit[e]
                if state[abs(d) - 1] == _PENDING:
                    queue_point[kept] = queue_point[e]
                    queue_digit[kept] = d
                    kept += 1
                else:
                    count, acc = _schedule(
                        points, queue_point[e], d, buckets, state, batch_bucket, batch_point, batch_double, den, prefix, count, acc
                    )
            queued = kept
            continue
        if i == m:
            break
        d = np.int64(digits[j, i])
        b = abs(d) - 1 - lo
        if d != 0 and 0 <= b < buckets_count:
            d = d - lo if d > 0 else d + lo  # the digit of the bucket within this range
            if state[b] != _PENDING:
                count, acc = _schedule(points, i, d, buckets, state, batch_bucket, batch_point, batch_double, den, prefix, count, acc)
            elif queued < batch:
                queue_point[queued] = i
                queue_digit[queued] = d
                queued += 1
            else:
                if spill.shape[0] == 0:
                    spill = np.empty((buckets_count, 4, LIMBS), dtype=np.uint64)
                s = _load_xyzz(spill, b) if spilled[b] else xyzz_infinity()
                _store_xyzz(spill, b, xyzz_add_affine(s, _signed_point(points, i, d < 0)))
                spilled[b] = True
        i += 1

    # S1 = sum_b (b - lo + 1) bucket_b as a running sum from the top bucket down; S2 = sum_b bucket_b.
    running = xyzz_infinity()
    total = xyzz_infinity()
    for b in range(buckets_count - 1, -1, -1):
        if state[b] == _SET:
            running = xyzz_add_affine(running, load_affine(buckets, b))
        if spilled[b]:
            running = xyzz_add(running, _load_xyzz(spill, b))
        total = xyzz_add(total, running)
    # + lo S2, by double-and-add (lo < 2^19).
    multiple = xyzz_infinity()
    for bit in range(20, -1, -1):
        multiple = xyzz_double(multiple)
        if (lo >> bit) & 1:
            multiple = xyzz_add(multiple, running)
    return xyzz_add(total, multiple)


@njit(cache=True, parallel=True)
def _window_sums_kernel(points, digits, c, parts, batch, out):
    """One task per (window, bucket range); out[window * parts + part] is its partial sum."""
    windows = digits.shape[0]
    buckets = 1 << (c - 1)
    for t in prange(windows * parts):
        j = t // parts
        k = t % parts
        s = _window_sum(points, digits, j, buckets * k // parts, buckets * (k + 1) // parts, c, batch)
        _store_xyzz(out, t, s)


@njit(cache=True)
def _combine_windows(partial, windows, parts, c):
    """sum_j 2^(c j) W_j by Horner's rule from the top window, then to affine."""
    acc = xyzz_infinity()
    for j in range(windows - 1, -1, -1):
        for _ in range(c):
            acc = xyzz_double(acc)
        for k in range(parts):
            acc = xyzz_add(acc, _load_xyzz(partial, j * parts + k))
    out = np.empty((1, 2, LIMBS), dtype=np.uint64)
    store_affine(out, 0, xyzz_to_affine(acc))
    return out


# ---------------------------------------------------------------- planning

# Costs in field multiplications, measured on the kernels above: an affine bucket
# addition (6 products, the subtractions, the queue bookkeeping), one inversion, the
# two XYZZ additions per bucket of the reduction, and the setup of a bucket.
_AFFINE_ADDITION = 8.0
_INVERSION = 400.0
_REDUCTION_PER_BUCKET = 26.0
_SETUP_PER_BUCKET = 0.5
_SCAN_PER_POINT = 0.3  # reading a digit that belongs to another part's buckets
_MAX_BATCH = 1024
_MAX_WINDOW = 20


@dataclass(frozen=True)
class Plan:
    """How an MSM runs: GLV or not, window width c, bucket ranges per window, batch size."""

    glv: bool
    points: int  # points after the GLV split (2n) or n
    bits: int  # largest scalar bit length after the split
    window: int
    parts: int  # each window's buckets are split into this many ranges, one task each
    batch: int

    @property
    def windows(self) -> int:
        return window_count(self.bits, self.window)

    @property
    def buckets(self) -> int:
        return 1 << (self.window - 1)


def window_count(bits: int, window: int) -> int:
    """Windows of c bits for scalars below 2^bits: one bit more, as the top signed digit may carry."""
    return -(-(bits + 1) // window)


def batch_size(window: int, parts: int = 1) -> int:
    """Additions per batch: large enough to amortise an inversion, small enough to rarely collide."""
    return max(1, min(_MAX_BATCH, ((1 << (window - 1)) // parts) // 4))


def plan_cost(points: int, bits: int, window: int, parts: int, threads: int) -> float:
    """Estimated time of the bucket phase in field multiplications on the slowest thread."""
    buckets = 1 << (window - 1)
    rounds = -(-(window_count(bits, window) * parts) // threads)
    per_task = (points / parts) * (_AFFINE_ADDITION + _INVERSION / batch_size(window, parts))
    per_task += points * _SCAN_PER_POINT * (parts > 1)
    per_task += (buckets / parts) * (_REDUCTION_PER_BUCKET + _SETUP_PER_BUCKET)
    return rounds * per_task


def _best_window(points: int, bits: int, threads: int, window: int | None = None):
    """(cost, c, parts) of the cheapest window width (or of the given one) and bucket split."""
    widths = range(2, _MAX_WINDOW + 1) if window is None else (window,)
    splits = range(1, 2 * threads + 1)
    return min(
        (plan_cost(points, bits, c, k, threads), c, k) for c in widths for k in splits if k <= 1 << (c - 1)
    )


def plan(n: int, bits: int, threads: int | None = None, glv: bool | None = None, window: int | None = None) -> Plan:
    """Choose GLV, window width and chunking for n points with scalars below 2^bits.

    With GLV the halves are taken to have GLV_HALF_BITS bits (their bound);
    ``msm_affine`` plans again with their actual length.
    """
    threads = threads or numba.get_num_threads()
    if glv is None:
        # The split costs about 4 multiplications per point (decomposition and BETA x).
        glv = bits > GLV_HALF_BITS and (
            _best_window(2 * n, GLV_HALF_BITS, threads)[0] + 4 * n < _best_window(n, bits, threads)[0]
        )
    m, b = (2 * n, min(bits, GLV_HALF_BITS)) if glv else (n, bits)
    _, c, k = _best_window(m, b, threads, window)
    return Plan(glv, m, b, c, k, batch_size(c, k))


# ---------------------------------------------------------------- entry points


def _check_inputs(points, scalars):
    points = np.ascontiguousarray(points, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if points.ndim != 3 or points.shape[1:] != (2, LIMBS):
        raise ValueError(f"points must be an (n, 2, {LIMBS}) uint64 array, got shape {points.shape}")
    if scalars.shape != (points.shape[0], LIMBS):
        raise ValueError(f"scalars must be ({points.shape[0]}, {LIMBS}) uint64 limbs, got shape {scalars.shape}")
    return points, scalars


def msm_affine(points: np.ndarray, scalars: np.ndarray, glv: bool | None = None, window: int | None = None) -> np.ndarray:
    """sum_i k_i P_i as an affine point ``(2, 4)`` (Montgomery; (0, 0) for infinity).

    ``points``: affine ``(n, 2, 4)``; ``scalars``: canonical little-endian limbs
    ``(n, 4)``, below r. ``glv`` and ``window`` override the planner (for tests).
    """
    points, scalars = _check_inputs(points, scalars)
    n = points.shape[0]
    bits = max_bits(scalars)
    if n == 0 or bits == 0:
        return np.zeros((2, LIMBS), dtype=np.uint64)
    p = plan(n, bits, glv=glv, window=window)
    if p.glv:
        values, negative = glv_split(scalars)
        points = np.concatenate([points, endomorphism(points)])
        halves_bits = max_bits(values)
        if halves_bits != p.bits:
            p = plan(2 * n, halves_bits, glv=False, window=window)
            p = Plan(True, p.points, p.bits, p.window, p.parts, p.batch)
    else:
        values, negative = scalars, np.zeros(n, dtype=np.bool_)
    digits = np.empty((p.windows, p.points), dtype=np.int32)
    _signed_digits_kernel(values, negative, points, p.window, digits)
    partial = np.empty((p.windows * p.parts, 4, LIMBS), dtype=np.uint64)
    _window_sums_kernel(points, digits, p.window, p.parts, p.batch, partial)
    return _combine_windows(partial, p.windows, p.parts, p.window)[0]


def msm(points: np.ndarray, scalars: np.ndarray) -> G1Point:
    """sum_i k_i P_i as a ``G1Point`` (``.to_py_ecc()`` converts it for py_ecc)."""
    return to_g1point(msm_affine(points, scalars))
