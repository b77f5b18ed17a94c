"""Number-theoretic transforms over G1: sum_j omega^(i j) P_j for all i, and pointwise scalar products.

The group is a vector space over Fr, so the radix-2 transform of ``prover.ntt``
carries over with each butterfly's multiplication a scalar multiplication of a
point by a twiddle. Those multiplications are the whole cost. Each scalar k is
split by the GLV endomorphism, k = k1 + k2 lambda with |k1|, |k2| < 2^128 and
[k]P = [k1]P + [k2](BETA x, y), so the two halves share one chain of 128
doublings, and each half is recoded into signed digits that index a table of
eight multiples of P. A recoding is stored as *codes* c (int8, |c| <= 8): add
sign(c) times table entry |c|, for each half, at each position from the top,
with ``window`` doublings between positions. Two recodings serve:

- ``NAF5``: width-5 non-adjacent form, digits odd in -15..15 with at least
  four zeros after each non-zero one (about 22 additions per half), one
  doubling per position, table of the odd multiples P, 3P, .., 15P;
- ``RADIX16``: signed base-16 digits in -8..7 at every fourth bit (33
  positions, an addition at nearly each), table of P, 2P, .., 8P. Being
  regular, it suits lanes that multiply by different scalars.

Where the CPU has AVX-512 IFMA, eight multiplications run side by side, one per
vector lane, in Fq with 5 x 52-bit limbs (Montgomery, R = 2^260, lazily reduced
with bounds checked while the code is generated). Each lane's table is brought
to one common Z, which makes the entries affine points of an isomorphic curve
y^2 = x^3 + b Z^6: the a = 0 formulas do not involve b, so every addition is a
mixed one. Lanes of a transform stage that share a twiddle take ``NAF5`` codes
(the same in every lane, so zero digits are skipped for all at once), other
products ``RADIX16``. The vector formulas are not complete: a lane whose sum
meets the doubling case (P = +-Q) is flagged and recomputed on the scalar path,
which uses the complete formulas of ``prover.g1``. Without IFMA, the scalar path
computes every product (``NAF5``).

Points are affine Montgomery ``(m, 2, 4)`` arrays as in ``prover.g1``; the
transforms do not scale by 1/m (callers fold that into their scalars).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from zksolvency.constants import GLV_BETA, Q_MODULUS, R_MODULUS
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
from zksolvency.prover.ntt import (
    SIMD_AVAILABLE,
    _as_i64,
    _base,
    _check_c_array,
    _elements_to_limbs,
    _from_u64,
    _ifma,
    _load_v8,
    _normalize,
    _splat,
    _store_v8,
    _to_u64,
)
from zksolvency.verifier.plonk import domain_generator

VECTOR_AVAILABLE = SIMD_AVAILABLE
TABLE_SIZE = 8


class Recoding(NamedTuple):
    """How codes are read: ``window`` doublings between positions; the table holds odd multiples if ``odd``."""

    window: int
    odd: bool
    positions: int


NAF5 = Recoding(window=1, odd=True, positions=130)  # a value below 2^128 has at most 129 NAF digits
RADIX16 = Recoding(window=4, odd=False, positions=33)  # 32 digits and the last carry

# ================================================================ recoding


@njit(cache=True)
def _naf5_codes(lo, hi, out, row, half, negative):
    """out[row, half, t] = code of the t-th width-5 NAF digit of lo + 2^64 hi (< 2^128), negated if negative."""
    one = np.uint64(1)
    for t in range(NAF5.positions):
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
        # Entry k of the odd table holds (2k - 1) P.
        code = (abs(d) + 1) >> 1
        if (d < 0) != negative:
            code = -code
        out[row, half, t] = code
        lo = (lo >> one) | (hi << np.uint64(63))
        hi >>= one


@njit(cache=True)
def _radix16_codes(lo, hi, out, row, half, negative):
    """out[row, half, t] = t-th signed base-16 digit (-8..7, the last one 0 or 1) of lo + 2^64 hi, negated if negative."""
    carry = 0
    for t in range(RADIX16.positions):
        if t < 16:
            d = np.int64((lo >> np.uint64(4 * t)) & np.uint64(15))
        elif t < 32:
            d = np.int64((hi >> np.uint64(4 * (t - 16))) & np.uint64(15))
        else:
            d = 0
        d += carry
        carry = 0
        if d >= 8:
            d -= 16
            carry = 1
        out[row, half, t] = -d if negative else d


@njit(cache=True, parallel=True)
def _codes_kernel(halves, negative, odd, out):
    """Codes of |k1| (halves[i]) and |k2| (halves[m + i]) for every row i."""
    m = out.shape[0]
    for i in prange(m):
        for half in range(2):
            r = i + half * m
            if odd:
                _naf5_codes(halves[r, 0], halves[r, 1], out, i, half, negative[r])
            else:
                _radix16_codes(halves[r, 0], halves[r, 1], out, i, half, negative[r])


def glv_codes(scalars: np.ndarray, recoding: Recoding) -> np.ndarray:
    """``(m, 2, positions)`` int8 codes of the GLV halves of canonical scalars ``(m, 4)``."""
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    m = scalars.shape[0]
    out = np.empty((m, 2, recoding.positions), dtype=np.int8)
    if m:
        halves, negative = glv_split(scalars)
        # The halves are below 2^127 (msm.GLV_HALF_BITS); the recodings assume 2^128.
        assert not halves[:, 2:].any()
        _codes_kernel(halves, negative, recoding.odd, out)
    return out


# ================================================================ scalar path (complete formulas)


@njit(cache=True)
def _scalar_table(p, odd):
    """Jacobian P, 2P, .., 8P (or P, 3P, .., 15P if odd) of an affine P."""
    t = np.empty((TABLE_SIZE, 3, LIMBS), dtype=np.uint64)
    acc = jacobian_add_affine(jacobian_infinity(), p)
    store_jacobian(t, 0, acc)
    two = jacobian_double(acc)
    if odd:
        for k in range(1, TABLE_SIZE):
            acc = jacobian_add(acc, two)
            store_jacobian(t, k, acc)
    else:
        for k in range(1, TABLE_SIZE):
            acc = jacobian_add_affine(acc, p)
            store_jacobian(t, k, acc)
    return t


@njit(cache=True, inline="always")
def _entry(t, code, endo):
    """sign(code) times table entry |code|, through the endomorphism if endo."""
    k = abs(code) - 1
    x = (t[k, 0, 0], t[k, 0, 1], t[k, 0, 2], t[k, 0, 3])
    y = (t[k, 1, 0], t[k, 1, 1], t[k, 1, 2], t[k, 1, 3])
    z = (t[k, 2, 0], t[k, 2, 1], t[k, 2, 2], t[k, 2, 3])
    if endo:
        x = _fq_mul(x, BETA)
    p = (x, y, z)
    return jacobian_neg(p) if code < 0 else p


@njit(cache=True)
def multiply_by_codes(p, codes, row, window, odd):
    """[k]P (Jacobian) for affine P and k given by codes[row] ((2, positions) int8), complete formulas."""
    if affine_is_infinity(p):
        return jacobian_infinity()
    t = _scalar_table(p, odd)
    acc = jacobian_infinity()
    for w in range(codes.shape[2] - 1, -1, -1):
        for _ in range(window):
            acc = jacobian_double(acc)
        c1 = codes[row, 0, w]
        c2 = codes[row, 1, w]
        if c1 != 0:
            acc = jacobian_add(acc, _entry(t, c1, False))
        if c2 != 0:
            acc = jacobian_add(acc, _entry(t, c2, True))
    return acc


# ================================================================ eight lanes on AVX-512 IFMA
#
# A lane value is five 8-lane vectors of 52-bit limbs (the last may hold more bits),
# in Montgomery form with R = 2^260. Products are word-by-word Montgomery on
# vpmadd52{l,h}uq: for inputs below a q and b q with a b <= PRODUCT_LIMIT (84) the
# result (ab + mq) / 2^260 is below 2q. Sums are left unreduced; every value carries
# its bound (a multiple of q) while the code is generated, and the generator refuses
# a product or a stored value that could exceed its limit.

_Q = Q_MODULUS
_M52 = (1 << 52) - 1
_Q52 = [(_Q >> (52 * k)) & _M52 for k in range(5)]
_NINV52 = (-pow(_Q, -1, 1 << 52)) % (1 << 52)
# s = hi52(x_4 * _QEST) underestimates x / q by less than 3 (x_4 the top limb of x < 2^260).
_QEST = (1 << 52) // (_Q52[4] + 1)
PRODUCT_LIMIT = (1 << 260) // _Q
_I64 = ir.IntType(64)
_V8 = ir.VectorType(_I64, 8)
_V4 = ir.VectorType(_I64, 4)


class Lazy:
    """An Fq value on eight lanes: five limb vectors, at most ``bound`` q."""

    __slots__ = ("limbs", "bound")

    def __init__(self, limbs, bound: int):
        self.limbs = limbs
        self.bound = bound


class Fq8:
    """Fq arithmetic on eight lanes, emitted into an LLVM builder."""

    def __init__(self, builder):
        self.b = builder

    def const(self, x: int) -> Lazy:
        """x in every lane (Montgomery form x 2^260 mod q)."""
        v = (x << 260) % _Q
        return Lazy([_splat((v >> (52 * k)) & _M52) for k in range(5)], 1)

    def zero(self) -> Lazy:
        return Lazy([_splat(0)] * 5, 0)

    def _product(self, t, x: Lazy, y: Lazy):
        """t[i + j] += a_i b_j split in 52-bit halves (t has ten limbs)."""
        b = self.b
        for i in range(5):
            for j in range(5):
                t[i + j] = _ifma(b, False, t[i + j], x.limbs[i], y.limbs[j])
                t[i + j + 1] = _ifma(b, True, t[i + j + 1], x.limbs[i], y.limbs[j])

    def _square(self, t, x: Lazy):
        """t += x^2: the ten cross products once, doubled, then the five squares."""
        b, a = self.b, x.limbs
        cross = [_splat(0)] * 10
        for i in range(5):
            for j in range(i + 1, 5):
                cross[i + j] = _ifma(b, False, cross[i + j], a[i], a[j])
                cross[i + j + 1] = _ifma(b, True, cross[i + j + 1], a[i], a[j])
        for k in range(10):
            t[k] = b.add(t[k], b.shl(cross[k], _splat(1)))
        for i in range(5):
            t[2 * i] = _ifma(b, False, t[2 * i], a[i], a[i])
            t[2 * i + 1] = _ifma(b, True, t[2 * i + 1], a[i], a[i])

    def _montgomery_reduce(self, t) -> Lazy:
        """t / 2^260 mod q for a ten-limb t < 2^260 q: below 2q."""
        b = self.b
        zero = _splat(0)
        for i in range(5):
            m = _ifma(b, False, zero, t[i], _splat(_NINV52))
            for k in range(5):
                t[i + k] = _ifma(b, False, t[i + k], m, _splat(_Q52[k]))
                if i + k + 1 < 10:
                    t[i + k + 1] = _ifma(b, True, t[i + k + 1], m, _splat(_Q52[k]))
            # t[i] is now a multiple of 2^52: carry it up.
            t[i + 1] = b.add(t[i + 1], b.lshr(t[i], _splat(52)))
        return Lazy(_normalize(b, t[5:10]), 2)

    def mul_sum(self, pairs) -> Lazy:
        """sum x_i y_i with one Montgomery reduction (the sum of bound products must not exceed the limit)."""
        if sum(x.bound * y.bound for x, y in pairs) > PRODUCT_LIMIT:
            raise AssertionError(f"a sum of products {[(x.bound, y.bound) for x, y in pairs]} may not reduce")
        t = [_splat(0)] * 10
        for x, y in pairs:
            if x is y:
                self._square(t, x)
            else:
                self._product(t, x, y)
        return self._montgomery_reduce(t)

    def mul(self, x: Lazy, y: Lazy) -> Lazy:
        return self.mul_sum([(x, y)])

    def add(self, x: Lazy, y: Lazy) -> Lazy:
        bound = x.bound + y.bound
        if bound > PRODUCT_LIMIT:
            raise AssertionError(f"a sum below {bound}q may exceed 2^260")
        return Lazy(_normalize(self.b, [self.b.add(x.limbs[k], y.limbs[k]) for k in range(5)]), bound)

    def double(self, x: Lazy) -> Lazy:
        return self.times(x, 2)

    def times(self, x: Lazy, c: int) -> Lazy:
        """c x for c = 2, 3, 4 or 8, by shifts (one carry pass)."""
        bound = c * x.bound
        if bound > PRODUCT_LIMIT:
            raise AssertionError(f"a multiple below {bound}q may exceed 2^260")
        b = self.b
        shift = {2: 1, 3: 1, 4: 2, 8: 3}[c]
        limbs = [b.shl(x.limbs[k], _splat(shift)) for k in range(5)]
        if c == 3:
            limbs = [b.add(limbs[k], x.limbs[k]) for k in range(5)]
        return Lazy(_normalize(b, limbs), bound)

    def sub(self, x: Lazy, y: Lazy) -> Lazy:
        """x - y + k q, k the bound of y."""
        k = y.bound
        bound = x.bound + k
        if bound > PRODUCT_LIMIT:
            raise AssertionError(f"a difference below {bound}q may exceed 2^260")
        off = [((k * _Q) >> (52 * j)) & _M52 for j in range(4)] + [(k * _Q) >> 208]
        b = self.b
        return Lazy(_normalize(b, [b.sub(b.add(x.limbs[j], _splat(off[j])), y.limbs[j]) for j in range(5)]), bound)

    def neg(self, x: Lazy) -> Lazy:
        return self.sub(self.zero(), x)

    def reduce(self, x: Lazy) -> Lazy:
        """x - s q with s = floor(x / q) - {0, 1, 2}: below 3q."""
        b = self.b
        zero = _splat(0)
        s = _ifma(b, True, zero, x.limbs[4], _splat(_QEST))
        lo = [_ifma(b, False, zero, s, _splat(_Q52[k])) for k in range(5)]
        hi = [_ifma(b, True, zero, s, _splat(_Q52[k])) for k in range(4)]
        r = [b.sub(x.limbs[0], lo[0])] + [b.sub(b.sub(x.limbs[k], lo[k]), hi[k - 1]) for k in range(1, 5)]
        return Lazy(_normalize(b, r), min(3, x.bound))

    def _minus_q_unless_below(self, limbs):
        b = self.b
        r = _normalize(b, [b.sub(limbs[k], _splat(_Q52[k])) for k in range(5)])
        negative = b.icmp_signed("<", r[4], _splat(0))
        return [b.select(negative, limbs[k], r[k]) for k in range(5)]

    def canonical(self, x: Lazy) -> Lazy:
        if x.bound > 3:
            x = self.reduce(x)
        return Lazy(self._minus_q_unless_below(self._minus_q_unless_below(x.limbs)), 1)

    def is_zero(self, x: Lazy):
        """Lane mask of x = 0 mod q."""
        b = self.b
        c = self.canonical(x).limbs
        acc = c[0]
        for k in range(1, 5):
            acc = b.or_(acc, c[k])
        return b.icmp_unsigned("==", acc, _splat(0))

    def select(self, mask, x: Lazy, y: Lazy) -> Lazy:
        return Lazy([self.b.select(mask, x.limbs[k], y.limbs[k]) for k in range(5)], max(x.bound, y.bound))


# ---------------------------------------------------------------- curve formulas (y^2 = x^3 + b, any b)


def _double(F, X, Y, Z):
    """2P, Jacobian: A = X^2, B = Y^2, D = 4 X B, E = 3A; X3 = E^2 - 2D, Y3 = E (D - X3) - 8 B^2,
    Z3 = 2 Y Z (dbl-2009-l with its products taken directly; Y3's two products share a reduction)."""
    A = F.mul(X, X)
    B = F.mul(Y, Y)
    B4 = F.times(B, 4)
    D = F.mul(X, B4)
    E = F.times(A, 3)
    X3 = F.sub(F.mul(E, E), F.double(D))
    Y3 = F.mul_sum([(E, F.sub(D, X3)), (B, F.times(F.neg(B), 8))])
    Z3 = F.double(F.mul(Y, Z))
    return X3, Y3, Z3


def _add_affine(F, X1, Y1, Z1, x2, y2):
    """(P + Q, H) for Jacobian P and affine Q (madd-2004-hmv); H = 0 exactly when P = +-Q, where it fails."""
    Z1Z1 = F.mul(Z1, Z1)
    U2 = F.mul(x2, Z1Z1)
    S2 = F.mul(y2, F.mul(Z1, Z1Z1))
    H = F.sub(U2, X1)
    R = F.sub(S2, Y1)
    HH = F.mul(H, H)
    HHH = F.mul(H, HH)
    V = F.mul(X1, HH)
    X3 = F.reduce(F.sub(F.mul(R, R), F.add(HHH, F.double(V))))
    Y3 = F.mul_sum([(R, F.sub(V, X3)), (Y1, F.neg(HHH))])
    Z3 = F.mul(Z1, H)
    return (X3, Y3, Z3), H


def _sum_and_difference(F, U, W):
    """(U + W, U - W, H) for Jacobian U and W, sharing all but four products (add-2007-bl without
    its factors of 2); H = 0 exactly when U = +-W, where it fails."""
    (X1, Y1, Z1), (X2, Y2, Z2) = W, U
    Z1Z1 = F.mul(Z1, Z1)
    Z2Z2 = F.mul(Z2, Z2)
    U1 = F.mul(X1, Z2Z2)
    U2 = F.mul(X2, Z1Z1)
    S1 = F.mul(Y1, F.mul(Z2, Z2Z2))
    S2 = F.mul(Y2, F.mul(Z1, Z1Z1))
    H = F.sub(U2, U1)
    HH = F.mul(H, H)
    HHH = F.mul(H, HH)
    V = F.mul(U1, HH)
    S1HHH = F.mul(S1, HHH)
    Z3 = F.mul(F.mul(Z1, Z2), H)
    out = []
    for R, sign in ((F.sub(S2, S1), 1), (F.add(S2, S1), -1)):  # W, then -W (Y1 -> -Y1)
        X3 = F.reduce(F.sub(F.mul(R, R), F.add(HHH, F.double(V))))
        RV = F.mul(R, F.sub(V, X3))
        out.append((X3, F.sub(RV, S1HHH) if sign > 0 else F.add(RV, S1HHH), Z3))
    return out[0], out[1], H


def _common_z(F, points):
    """Scale Jacobian points to one Z: (X lambda^2, Y lambda^3) with lambda = prod of the other Z's; and that Z."""
    zs = [p[2] for p in points]
    count = len(zs)
    prefix, acc = [None] * count, None  # prefix[e] = Z_0 .. Z_(e-1)
    for e in range(count):
        prefix[e] = acc
        acc = zs[e] if acc is None else F.mul(acc, zs[e])
    common = acc
    suffix, acc = [None] * count, None  # suffix[e] = Z_(e+1) .. Z_(count-1)
    for e in range(count - 1, -1, -1):
        suffix[e] = acc
        acc = zs[e] if acc is None else F.mul(acc, zs[e])
    out = []
    for e, (X, Y, _) in enumerate(points):
        parts = [p for p in (prefix[e], suffix[e]) if p is not None]
        lam = parts[0] if len(parts) == 1 else F.mul(parts[0], parts[1])
        lam2 = F.mul(lam, lam)
        out.append((F.mul(X, lam2), F.mul(Y, F.mul(lam2, lam))))
    return out, common


def _table(F, P, odd):
    """P, 2P, .., 8P (or P, 3P, .., 15P) of Jacobian P as affine points of one isomorphic curve, and its Z.

    Steps of 2P are mixed additions on the curve where 2P = (X2, Y2, Z2) is affine
    (P becomes (X Z2^2, Y Z2^3, Z) there); then all entries are brought to one Z.
    """
    X, Y, Z = P
    X2, Y2, Z2 = _double(F, X, Y, Z)
    z2 = F.mul(Z2, Z2)
    points = {1: (F.mul(X, z2), F.mul(Y, F.mul(z2, Z2)), Z)}
    if odd:
        for k in range(1, TABLE_SIZE):
            points[k + 1] = _add_affine(F, *points[k], X2, Y2)[0]
    else:
        points[2] = (X2, Y2, F.const(1))
        for e in (3, 5, 7):
            points[e] = _add_affine(F, *points[e - 2], X2, Y2)[0]
            points[e + 1] = _double(F, *points[(e + 1) // 2])
    entries, z = _common_z(F, [points[e] for e in range(1, TABLE_SIZE + 1)])
    return entries, F.mul(z, Z2)


# ---------------------------------------------------------------- lane state in memory
#
# Each thread keeps one scratch array (SLOTS, 5, 8): one lane value per slot.

_S_P = 0  # the input point X, Y, Z
_S_ACC = 3  # accumulator X, Y, Z (Jacobian on the table's curve)
_S_ZT = 6  # the table's common Z
_S_MASKS = 7  # limb 0: started, 1: exceptional, 2: input at infinity
_S_TABLE = 8  # entry e (1-based) at _S_TABLE + 2 (e - 1) (x) and + 1 (y)
SLOTS = _S_TABLE + 2 * TABLE_SIZE
# Bounds kept between operations: accumulator X, Y, Z; inputs; entries and Z_T.
_ACC_BOUNDS = (6, 4, 4)
_INPUT_BOUND = 2
_POINT_BOUND = 2
_ZT_BOUND = 2
_TO_R260 = 16  # Montgomery R = 2^256 -> 2^260: times 2^264 / 2^260
_TO_R256 = pow(16, -1, _Q)


def _load_slot(builder, base, slot, bound) -> Lazy:
    return Lazy([_load_v8(builder, base, ir.Constant(_I64, (slot * 5 + k) * 8)) for k in range(5)], bound)


def _store_slot(builder, base, slot, x: Lazy, bound) -> None:
    if x.bound > bound:
        raise AssertionError(f"a value below {x.bound}q stored where {bound}q is assumed")
    for k in range(5):
        _store_v8(builder, base, ir.Constant(_I64, (slot * 5 + k) * 8), x.limbs[k])


def _load_mask(builder, base, which):
    v = _load_v8(builder, base, ir.Constant(_I64, (_S_MASKS * 5 + which) * 8))
    return builder.icmp_unsigned("!=", v, _splat(0))


def _store_mask(builder, base, which, mask) -> None:
    _store_v8(builder, base, ir.Constant(_I64, (_S_MASKS * 5 + which) * 8), builder.sext(mask, _V8))


def _load_points(F, builder, src):
    """Eight Jacobian points (8, 3, 4) (Montgomery R = 2^256, canonical) -> (X, Y, Z) in R = 2^260, and
    the lane mask of Z = 0 (infinity)."""
    b = builder
    coords, z_bits = [], None
    for c in range(3):
        elements = [
            b.load(b.bitcast(b.gep(src, [ir.Constant(_I64, 12 * lane + 4 * c)]), ir.PointerType(_V4)), align=8)
            for lane in range(8)
        ]
        words = _elements_to_limbs(b, elements)
        if c == 2:
            z_bits = b.or_(b.or_(words[0], words[1]), b.or_(words[2], words[3]))
        coords.append(F.mul(Lazy(_from_u64(b, words), 1), F.const(_TO_R260)))
    return coords, b.icmp_unsigned("==", z_bits, _splat(0))


def _store_points(F, builder, dst, point):
    """Jacobian (X, Y, Z) in R = 2^260 -> eight canonical points (8, 3, 4) in R = 2^256."""
    b = builder
    for c in range(3):
        words = _to_u64(b, F.canonical(F.mul(point[c], F.const(_TO_R256))).limbs)
        for lane in range(8):
            element = ir.Constant(_V4, ir.Undefined)
            for k in range(4):
                word = b.extract_element(words[k], ir.Constant(ir.IntType(32), lane))
                element = b.insert_element(element, word, ir.Constant(ir.IntType(32), k))
            b.store(element, b.bitcast(b.gep(dst, [ir.Constant(_I64, 12 * lane + 4 * c)]), ir.PointerType(_V4)), align=8)


def _select_point(F, mask, p, q):
    return tuple(F.select(mask, a, c) for a, c in zip(p, q))


def _check_lane_vector(ty, what):
    if not (isinstance(ty, types.Array) and ty.dtype == types.int64 and ty.ndim == 1 and ty.layout == "C"):
        raise TypingError(f"{what} must be a C-contiguous 1-d int64 array of eight lanes, got {ty}")


def _check_lane_points(ty):
    _check_c_array(ty, 3, "an (8, 3, 4) array of Jacobian points")


def _lane_kernel(*arrays):
    """An intrinsic f(scratch, *arrays) whose code ``emit(F, context, builder, base, *pointers)`` generates.

    ``arrays`` names each array argument after scratch: "points" ((8, 3, 4) uint64) or "lanes" ((8,) int64).
    """

    def wrap(emit):
        def typed(scratch, tys):
            _check_c_array(scratch, 3, "scratch")
            for kind, ty in zip(arrays, tys, strict=True):
                _check_lane_points(ty) if kind == "points" else _check_lane_vector(ty, "lanes")

            def codegen(context, builder, signature, args):
                pointers = [_base(context, builder, ty, arg) for ty, arg in zip(signature.args, args)]
                emit(Fq8(builder), builder, *pointers)
                return context.get_dummy_value()

            return types.void(scratch, *tys), codegen

        # Numba's intrinsics take no *args: one typer per arity.
        return intrinsic(
            [
                lambda typingctx, s: typed(s, ()),
                lambda typingctx, s, a: typed(s, (a,)),
                lambda typingctx, s, a, b: typed(s, (a, b)),
                lambda typingctx, s, a, b, c: typed(s, (a, b, c)),
                lambda typingctx, s, a, b, c, d: typed(s, (a, b, c, d)),
            ][len(arrays)]
        )

    return wrap


@_lane_kernel("points")
def _v_load(F, b, base, src):
    """Eight Jacobian points into the input slots; masks cleared."""
    point, infinite = _load_points(F, b, src)
    for c in range(3):
        _store_slot(b, base, _S_P + c, point[c], _INPUT_BOUND)
    never = b.icmp_unsigned("!=", _splat(0), _splat(0))
    _store_mask(b, base, 0, never)
    _store_mask(b, base, 1, never)
    _store_mask(b, base, 2, infinite)


def _table_kernel(odd: bool):
    @_lane_kernel()
    def kernel(F, b, base):
        point = [_load_slot(b, base, _S_P + c, _INPUT_BOUND) for c in range(3)]
        entries, z = _table(F, point, odd)
        for e, (ex, ey) in enumerate(entries):
            _store_slot(b, base, _S_TABLE + 2 * e, ex, _POINT_BOUND)
            _store_slot(b, base, _S_TABLE + 2 * e + 1, ey, _POINT_BOUND)
        _store_slot(b, base, _S_ZT, z, _ZT_BOUND)

    return kernel


_v_table_multiples = _table_kernel(False)
_v_table_odd = _table_kernel(True)


@_lane_kernel()
def _v_double(F, b, base):
    acc = [_load_slot(b, base, _S_ACC + c, _ACC_BOUNDS[c]) for c in range(3)]
    for c, v in enumerate(_double(F, *acc)):
        _store_slot(b, base, _S_ACC + c, v, _ACC_BOUNDS[c])


def _add_kernel(endo: bool):
    @_lane_kernel("lanes")
    def kernel(F, b, base, codes):
        """acc += sign(c) entry |c| in each lane (through the endomorphism if endo), codes c (8,) int64."""
        code = b.load(b.bitcast(codes, ir.PointerType(_V8)), align=8)
        nonzero = b.icmp_signed("!=", code, _splat(0))
        negative = b.icmp_signed("<", code, _splat(0))
        index = b.select(negative, b.sub(_splat(0), code), code)
        x = _load_slot(b, base, _S_TABLE, _POINT_BOUND)
        y = _load_slot(b, base, _S_TABLE + 1, _POINT_BOUND)
        for e in range(2, TABLE_SIZE + 1):
            hit = b.icmp_signed("==", index, _splat(e))
            x = F.select(hit, _load_slot(b, base, _S_TABLE + 2 * (e - 1), _POINT_BOUND), x)
            y = F.select(hit, _load_slot(b, base, _S_TABLE + 2 * (e - 1) + 1, _POINT_BOUND), y)
        if endo:
            x = F.mul(x, F.const(GLV_BETA))
        y = F.select(negative, F.neg(y), y)
        acc = [_load_slot(b, base, _S_ACC + c, _ACC_BOUNDS[c]) for c in range(3)]
        total, h = _add_affine(F, *acc, x, y)
        started = _load_mask(b, base, 0)
        add = b.and_(nonzero, started)
        first = b.and_(nonzero, b.not_(started))
        for c, (new, entry) in enumerate(zip(total, (x, y, F.const(1)))):
            _store_slot(b, base, _S_ACC + c, F.select(add, new, F.select(first, entry, acc[c])), _ACC_BOUNDS[c])
        _store_mask(b, base, 0, b.or_(started, nonzero))
        _store_mask(b, base, 1, b.or_(_load_mask(b, base, 1), b.and_(add, F.is_zero(h))))

    return kernel


_v_add = _add_kernel(False)
_v_add_endo = _add_kernel(True)


def _product(F, b, base):
    """The accumulator in true coordinates (Z times Z_T), and the lane mask of a finite product."""
    acc = [_load_slot(b, base, _S_ACC + c, _ACC_BOUNDS[c]) for c in range(3)]
    true = (acc[0], acc[1], F.mul(acc[2], _load_slot(b, base, _S_ZT, _ZT_BOUND)))
    finite = b.and_(_load_mask(b, base, 0), b.not_(_load_mask(b, base, 2)))
    return acc, true, finite


@_lane_kernel("points", "lanes")
def _v_store(F, b, base, dst, invalid):
    """dst <- the products (Z = 0 for infinity); invalid <- -1 on lanes met by an exceptional addition."""
    _, (X, Y, Z), finite = _product(F, b, base)
    _store_points(F, b, dst, (X, Y, F.select(finite, Z, F.zero())))
    flags = b.and_(_load_mask(b, base, 1), finite)
    b.store(b.sext(flags, _V8), b.bitcast(invalid, ir.PointerType(_V8)), align=8)


@_lane_kernel("points", "points", "points", "lanes")
def _v_butterfly(F, b, base, src_u, dst_top, dst_bottom, invalid):
    """With W the products: dst_top <- U + W, dst_bottom <- U - W; invalid <- -1 where that needs
    the doubling case (U = +-W) or an exceptional addition met W."""
    acc, w_true, w_finite = _product(F, b, base)
    (ux, uy, uz), u_infinite = _load_points(F, b, src_u)
    zt = _load_slot(b, base, _S_ZT, _ZT_BOUND)
    zt2 = F.mul(zt, zt)
    u_on_table_curve = (F.mul(ux, zt2), F.mul(uy, F.mul(zt2, zt)), uz)
    total, difference, h = _sum_and_difference(F, u_on_table_curve, acc)
    both = b.and_(w_finite, b.not_(u_infinite))
    u = (ux, uy, uz)
    w = (w_true[0], w_true[1], F.select(w_finite, w_true[2], F.zero()))
    minus_w = (w[0], F.neg(w[1]), w[2])
    for dst, result, alone in ((dst_top, total, w), (dst_bottom, difference, minus_w)):
        result = (result[0], result[1], F.mul(result[2], zt))
        _store_points(F, b, dst, _select_point(F, both, result, _select_point(F, w_finite, alone, u)))
    invalid_lanes = b.or_(b.and_(_load_mask(b, base, 1), w_finite), b.and_(F.is_zero(h), both))
    b.store(b.sext(invalid_lanes, _V8), b.bitcast(invalid, ir.PointerType(_V8)), align=8)


# ---------------------------------------------------------------- lane drivers


@njit(cache=True)
def _stage_codes(codes, cidx, first, m, lane_codes, active):
    """lane_codes[t, h, lane] = codes[cidx[first + lane], h, t] (the last row repeated past m); active[t, h]
    when any lane has a non-zero code there. Returns the highest active position (-1 if none)."""
    positions = codes.shape[2]
    active[:] = False
    for lane in range(8):
        r = cidx[min(first + lane, m - 1)]
        for t in range(positions):
            for h in range(2):
                code = codes[r, h, t]
                lane_codes[t, h, lane] = code
                if code != 0:
                    active[t, h] = True
    for t in range(positions - 1, -1, -1):
        if active[t, 0] or active[t, 1]:
            return t
    return -1


@njit(cache=True)
def _stage_points(points, index, first, m, lanes):
    for lane in range(8):
        p = index[min(first + lane, m - 1)]
        for c in range(3):
            for k in range(LIMBS):
                lanes[lane, c, k] = points[p, c, k]


@njit(cache=True)
def _multiply_lanes(scratch, lane_codes, active, top, window, odd):
    """The accumulator <- [k]P in every lane, P loaded, k's codes staged."""
    if odd:
        _v_table_odd(scratch)
    else:
        _v_table_multiples(scratch)
    for t in range(top, -1, -1):
        if t < top:
            for _ in range(window):
                _v_double(scratch)
        if active[t, 0]:
            _v_add(scratch, lane_codes[t, 0])
        if active[t, 1]:
            _v_add_endo(scratch, lane_codes[t, 1])


@njit(cache=True, parallel=True)
def _vector_products_kernel(points, pidx, codes, cidx, window, odd, out, invalid, threads):
    """out[i] = [k]P (Jacobian) for P = points[pidx[i]] (Jacobian) and k's codes codes[cidx[i]], eight at a
    time; invalid[i] set where out[i] is not valid (an exceptional addition)."""
    m = pidx.shape[0]
    positions = codes.shape[2]
    for w in prange(threads):
        scratch = np.empty((SLOTS, 5, 8), dtype=np.uint64)
        lanes_in = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lanes_out = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lane_codes = np.zeros((positions, 2, 8), dtype=np.int64)
        active = np.zeros((positions, 2), dtype=np.bool_)
        lane_invalid = np.zeros(8, dtype=np.int64)
        for g in range(w, (m + 7) // 8, threads):
            first = 8 * g
            top = _stage_codes(codes, cidx, first, m, lane_codes, active)
            _stage_points(points, pidx, first, m, lanes_in)
            _v_load(scratch, lanes_in)
            _multiply_lanes(scratch, lane_codes, active, top, window, odd)
            _v_store(scratch, lanes_out, lane_invalid)
            for lane in range(min(8, m - first)):
                i = first + lane
                invalid[i] = lane_invalid[lane] != 0
                out[i] = lanes_out[lane]


@njit(cache=True, parallel=True)
def _vector_butterflies_kernel(a, tops, bottoms, codes, cidx, window, odd, out, invalid, threads):
    """out[top] = a[top] + [w] a[bottom], out[bottom] = a[top] - [w] a[bottom] (Jacobian) for the
    butterflies (tops[i], bottoms[i]) with w's codes codes[cidx[i]]; invalid[i] where not done."""
    m = tops.shape[0]
    positions = codes.shape[2]
    for w in prange(threads):
        scratch = np.empty((SLOTS, 5, 8), dtype=np.uint64)
        lanes_v = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lanes_u = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lanes_top = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lanes_bottom = np.empty((8, 3, LIMBS), dtype=np.uint64)
        lane_codes = np.zeros((positions, 2, 8), dtype=np.int64)
        active = np.zeros((positions, 2), dtype=np.bool_)
        lane_invalid = np.zeros(8, dtype=np.int64)
        for g in range(w, (m + 7) // 8, threads):
            first = 8 * g
            top = _stage_codes(codes, cidx, first, m, lane_codes, active)
            _stage_points(a, bottoms, first, m, lanes_v)
            _stage_points(a, tops, first, m, lanes_u)
            _v_load(scratch, lanes_v)
            _multiply_lanes(scratch, lane_codes, active, top, window, odd)
            _v_butterfly(scratch, lanes_u, lanes_top, lanes_bottom, lane_invalid)
            for lane in range(min(8, m - first)):
                i = first + lane
                invalid[i] = lane_invalid[lane] != 0
                out[tops[i]] = lanes_top[lane]
                out[bottoms[i]] = lanes_bottom[lane]


# ================================================================ products


@njit(cache=True)
def _jacobian_multiply_by_codes(p, codes, row, window, odd):
    """[k]P for Jacobian P (taken to affine first), complete formulas."""
    return multiply_by_codes(g1.jacobian_to_affine(p), codes, row, window, odd)


@njit(cache=True, parallel=True)
def _redo_products_kernel(points, pidx, codes, cidx, window, odd, out, rows):
    for j in prange(rows.shape[0]):
        i = rows[j]
        p = g1.load_jacobian(points, pidx[i])
        store_jacobian(out, i, _jacobian_multiply_by_codes(p, codes, cidx[i], window, odd))


@njit(cache=True, parallel=True)
def _redo_butterflies_kernel(a, tops, bottoms, codes, cidx, window, odd, out, rows):
    for j in prange(rows.shape[0]):
        i = rows[j]
        u = g1.load_jacobian(a, tops[i])
        wv = _jacobian_multiply_by_codes(g1.load_jacobian(a, bottoms[i]), codes, cidx[i], window, odd)
        store_jacobian(out, tops[i], jacobian_add(u, wv))
        store_jacobian(out, bottoms[i], jacobian_add(u, jacobian_neg(wv)))


@njit(cache=True, parallel=True)
def _scalar_products_kernel(points, pidx, codes, cidx, window, odd, out):
    for i in prange(pidx.shape[0]):
        store_jacobian(out, i, multiply_by_codes(load_affine(points, pidx[i]), codes, cidx[i], window, odd))


def multiply_pointwise(points: np.ndarray, scalars: np.ndarray, vector: bool | None = None) -> np.ndarray:
    """[k_i]P_i elementwise, affine in and out (canonical scalars ``(m, 4)``)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    m = points.shape[0]
    out = np.empty((m, 3, LIMBS), dtype=np.uint64)
    if m == 0:
        return g1.infinity(0)
    index = np.arange(m, dtype=np.int64)
    if VECTOR_AVAILABLE if vector is None else vector:
        jacobian = g1.to_jacobian(points)
        codes = glv_codes(scalars, RADIX16)
        args = (jacobian, index, codes, index, RADIX16.window, RADIX16.odd, out)
        invalid = np.zeros(m, dtype=np.bool_)
        _vector_products_kernel(*args, invalid, numba.get_num_threads())
        rows = np.flatnonzero(invalid)
        if rows.size:
            _redo_products_kernel(*args, rows)
    else:
        _scalar_products_kernel(points, index, glv_codes(scalars, NAF5), index, NAF5.window, NAF5.odd, out)
    return g1.to_affine(out)


# ================================================================ transforms


class _Twiddles(NamedTuple):
    """Codes of omega^t (or omega^-t) for t < m/2 (``each``), and of every eighth one (``eighth``, row t / 8)."""

    each: np.ndarray
    each_recoding: Recoding
    eighth: np.ndarray
    eighth_recoding: Recoding


@functools.lru_cache(maxsize=4)
def _twiddles(log_m: int, inverse: bool, vector: bool) -> _Twiddles:
    from zksolvency.prover.ntt import _powers

    m = 1 << log_m
    omega = domain_generator(log_m)
    if inverse:
        omega = pow(omega, -1, R_MODULUS)
    powers = Fr.to_canonical_limbs(_powers(omega, max(1, m // 2)))
    if not vector:
        return _Twiddles(glv_codes(powers, NAF5), NAF5, glv_codes(powers[:0], NAF5), NAF5)
    return _Twiddles(glv_codes(powers, RADIX16), RADIX16, glv_codes(np.ascontiguousarray(powers[::8]), NAF5), NAF5)


def _bit_reversed(log_m: int) -> np.ndarray:
    m = 1 << log_m
    idx = np.arange(m, dtype=np.int64)
    rev = np.zeros(m, dtype=np.int64)
    for b in range(log_m):
        rev |= ((idx >> b) & 1) << (log_m - 1 - b)
    return rev


def _stage_butterflies(m: int, half: int):
    """(tops, bottoms, twiddle exponents) of the butterflies with j > 0 of a stage, ordered by j then block."""
    blocks = m // (2 * half)
    j = np.repeat(np.arange(1, half, dtype=np.int64), blocks)
    tops = np.tile(np.arange(blocks, dtype=np.int64), half - 1) * 2 * half + j
    return tops, tops + half, j * blocks  # omega_m^(j m / (2 half)) = omega_(2 half)^j


@njit(cache=True, parallel=True)
def _plain_butterflies_kernel(a, half, out):
    """The butterflies with twiddle 1 (j = 0) of one stage: out[top], out[bottom] = a[top] +- a[bottom]."""
    blocks = a.shape[0] // (2 * half)
    for block in prange(blocks):
        top = block * 2 * half
        u = g1.load_jacobian(a, top)
        v = g1.load_jacobian(a, top + half)
        store_jacobian(out, top, jacobian_add(u, v))
        store_jacobian(out, top + half, jacobian_add(u, jacobian_neg(v)))


def _vector_stage(a: np.ndarray, half: int, tw: _Twiddles) -> np.ndarray:
    """One radix-2 stage on Jacobian points, its multiplications and sums on vector lanes."""
    m = a.shape[0]
    out = np.empty_like(a)
    _plain_butterflies_kernel(a, half, out)
    if half == 1:
        return out
    tops, bottoms, exponents = _stage_butterflies(m, half)
    if m // (2 * half) >= 8:
        # Eight consecutive butterflies share their twiddle: one recoding for all lanes.
        codes, cidx, recoding = tw.eighth, exponents // 8, tw.eighth_recoding
    else:
        codes, cidx, recoding = tw.each, exponents, tw.each_recoding
    args = (a, tops, bottoms, codes, cidx, recoding.window, recoding.odd, out)
    invalid = np.zeros(tops.shape[0], dtype=np.bool_)
    _vector_butterflies_kernel(*args, invalid, numba.get_num_threads())
    rows = np.flatnonzero(invalid)
    if rows.size:
        _redo_butterflies_kernel(*args, rows)
    return out


@njit(cache=True, parallel=True)
def _scalar_stage_kernel(a, half, products, out):
    """One radix-2 stage on affine points with the products w a[bottom] (j > 0) given, ordered as
    ``_stage_butterflies``."""
    m = a.shape[0]
    blocks = m // (2 * half)
    for b in prange(m // 2):
        block = b // half
        j = b - block * half
        top = block * 2 * half + j
        u = load_affine(a, top)
        if j == 0:
            wv = jacobian_add_affine(jacobian_infinity(), load_affine(a, top + half))
        else:
            wv = g1.load_jacobian(products, (j - 1) * blocks + block)
        store_jacobian(out, top, jacobian_add_affine(wv, u))
        store_jacobian(out, top + half, jacobian_add_affine(jacobian_neg(wv), u))


def _scalar_stage(a: np.ndarray, half: int, tw: _Twiddles) -> np.ndarray:
    """One radix-2 stage on affine points, on the scalar path."""
    m = a.shape[0]
    _, bottoms, exponents = _stage_butterflies(m, half)
    products = np.empty((bottoms.shape[0], 3, LIMBS), dtype=np.uint64)
    if bottoms.shape[0]:
        _scalar_products_kernel(a, bottoms, tw.each, exponents, NAF5.window, NAF5.odd, products)
    out = np.empty((m, 3, LIMBS), dtype=np.uint64)
    _scalar_stage_kernel(a, half, products, out)
    return g1.to_affine(out)


def transform(points: np.ndarray, inverse: bool = False, progress=None, vector: bool | None = None) -> np.ndarray:
    """sum_j omega^(+-i j) P_j for i < m (no 1/m factor), affine ``(m, 2, 4)`` in and out.

    A radix-2 decimation in time; on the vector path points stay Jacobian between stages.
    """
    points = np.ascontiguousarray(points, dtype=np.uint64)
    m = points.shape[0]
    log_m = m.bit_length() - 1
    if m == 0 or m != 1 << log_m or points.shape[1:] != (2, LIMBS):
        raise ValueError(f"expected a power-of-two number of affine points, got shape {points.shape}")
    if m == 1:
        return points.copy()
    vector = VECTOR_AVAILABLE if vector is None else vector
    tw = _twiddles(log_m, inverse, vector)
    a = np.ascontiguousarray(points[_bit_reversed(log_m)])
    if vector:
        a = g1.to_jacobian(a)
    for s in range(log_m):
        a = _vector_stage(a, 1 << s, tw) if vector else _scalar_stage(a, 1 << s, tw)
        if progress:
            progress(s + 1, log_m)
    return g1.to_affine(a) if vector else a
