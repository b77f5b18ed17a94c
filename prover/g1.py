"""The BN254 group G1 (y^2 = x^3 + 3 over Fq): point arithmetic kernels, conversions and EVM encoding.

Representations (all coordinates Montgomery-form Fq elements, 4 x uint64 limbs):

- affine ``(x, y)``; arrays ``(n, 2, 4) uint64``. The point at infinity is
  ``x = y = 0``, which is not on the curve (b = 3), so it cannot be confused
  with a finite point;
- Jacobian ``(X, Y, Z)`` with ``x = X/Z^2, y = Y/Z^3``; arrays ``(n, 3, 4)``;
  infinity has ``Z = 0``;
- XYZZ ``(X, Y, ZZ, ZZZ)`` with ``x = X/ZZ, y = Y/ZZZ`` (ZZ^3 = ZZZ^2), the
  cheapest coordinates for adding affine points into an accumulator; infinity
  has ``ZZ = 0``. Used for the sums inside multi-scalar multiplication.

Inside kernels a point is a tuple of field-element tuples. G1 has prime order r
(cofactor 1): a point on the curve is in the group, so decoding checks only
the encoding and the curve equation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zksolvency.constants import CURVE_B, G1_GENERATOR, GLV_BETA, Q_MODULUS
from zksolvency.encoding import G1_BYTES, EncodingError, G1Point
from zksolvency.prover import field
from zksolvency.prover.arith import sbb
from zksolvency.prover.field import FQ_PARAMS, Fq

LIMBS = 4
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_ZERO_ELEMENT = (_ZERO, _ZERO, _ZERO, _ZERO)

# The multiplication is the whole cost of curve arithmetic: compile the field's own
# kernel into each formula (with the modulus as a constant) rather than calling it.
_fmul = njit(inline="always")(field.mul.py_func)
_fadd = njit(inline="always")(field.add.py_func)
_fsub = njit(inline="always")(field.sub.py_func)

_MONTGOMERY_ONE = tuple(FQ_PARAMS[9:13])
_CURVE_B = Fq.from_int(CURVE_B)
BETA = Fq.from_int(GLV_BETA)  # cube root of unity: (x, y) -> (BETA x, y) is multiplication by lambda


class InvalidPointError(EncodingError):
    """Bytes or integers that are not a point of G1 (or its encoding of infinity)."""


# ---------------------------------------------------------------- field shorthands


@njit(cache=True, inline="always")
def _mul(a, b):
    return _fmul(a, b, FQ_PARAMS)


@njit(cache=True, inline="always")
def _sqr(a):
    return _fmul(a, a, FQ_PARAMS)


@njit(cache=True, inline="always")
def _add(a, b):
    return _fadd(a, b, FQ_PARAMS)


@njit(cache=True, inline="always")
def _sub(a, b):
    return _fsub(a, b, FQ_PARAMS)


@njit(cache=True, inline="always")
def _dbl(a):
    return _fadd(a, a, FQ_PARAMS)


@njit(cache=True, inline="always")
def _neg(a):
    if field.is_zero(a):
        return a
    return _fsub(_ZERO_ELEMENT, a, FQ_PARAMS)


# ---------------------------------------------------------------- loading and storing


@njit(cache=True)
def load_affine(a, i):
    return (
        (a[i, 0, 0], a[i, 0, 1], a[i, 0, 2], a[i, 0, 3]),
        (a[i, 1, 0], a[i, 1, 1], a[i, 1, 2], a[i, 1, 3]),
    )


@njit(cache=True)
def store_affine(a, i, p):
    for c in range(2):
        for k in range(LIMBS):
            a[i, c, k] = p[c][k]


@njit(cache=True)
def load_jacobian(a, i):
    return (
        (a[i, 0, 0], a[i, 0, 1], a[i, 0, 2], a[i, 0, 3]),
        (a[i, 1, 0], a[i, 1, 1], a[i, 1, 2], a[i, 1, 3]),
        (a[i, 2, 0], a[i, 2, 1], a[i, 2, 2], a[i, 2, 3]),
    )


@njit(cache=True)
def store_jacobian(a, i, p):
    for c in range(3):
        for k in range(LIMBS):
            a[i, c, k] = p[c][k]


# ---------------------------------------------------------------- affine


@njit(cache=True)
def affine_infinity():
    return (_ZERO_ELEMENT, _ZERO_ELEMENT)


@njit(cache=True)
def affine_is_infinity(p):
    return field.is_zero(p[0]) and field.is_zero(p[1])


@njit(cache=True)
def affine_neg(p):
    return (p[0], _neg(p[1]))


@njit(cache=True)
def affine_on_curve(p):
    """y^2 = x^3 + 3; the encoding of infinity (0, 0) counts as a group element."""
    if affine_is_infinity(p):
        return True
    x, y = p
    return field.equal(_sqr(y), _add(_mul(_sqr(x), x), _CURVE_B))


# ---------------------------------------------------------------- Jacobian


@njit(cache=True)
def jacobian_infinity():
    return (_MONTGOMERY_ONE, _MONTGOMERY_ONE, _ZERO_ELEMENT)


@njit(cache=True)
def jacobian_is_infinity(p):
    return field.is_zero(p[2])


@njit(cache=True)
def jacobian_from_affine(p):
    if affine_is_infinity(p):
        return jacobian_infinity()
    return (p[0], p[1], _MONTGOMERY_ONE)


@njit(cache=True)
def jacobian_neg(p):
    return (p[0], _neg(p[1]), p[2])


@njit(cache=True)
def jacobian_double(p):
    """2P (dbl-2009-l, a = 0). G1 has no point of order 2, so Y != 0 for finite P."""
    if jacobian_is_infinity(p):
        return p
    X, Y, Z = p
    A = _sqr(X)
    B = _sqr(Y)
    C = _sqr(B)
    D = _dbl(_sub(_sub(_sqr(_add(X, B)), A), C))
    E = _add(_dbl(A), A)
    F = _sqr(E)
    X3 = _sub(F, _dbl(D))
    C8 = _dbl(_dbl(_dbl(C)))
    Y3 = _sub(_mul(E, _sub(D, X3)), C8)
    Z3 = _dbl(_mul(Y, Z))
    return (X3, Y3, Z3)


@njit(cache=True)
def jacobian_add_affine(p, q):
    """P + Q for Jacobian P and affine Q (madd-2007-bl), every case included."""
    if affine_is_infinity(q):
        return p
    if jacobian_is_infinity(p):
        return (q[0], q[1], _MONTGOMERY_ONE)
    X1, Y1, Z1 = p
    x2, y2 = q
    Z1Z1 = _sqr(Z1)
    U2 = _mul(x2, Z1Z1)
    S2 = _mul(y2, _mul(Z1, Z1Z1))
    H = _sub(U2, X1)
    r = _dbl(_sub(S2, Y1))
    if field.is_zero(H):
        # Same x: either Q = P (double) or Q = -P (the sum is infinity).
        if field.is_zero(r):
            return jacobian_double(p)
        return jacobian_infinity()
    HH = _sqr(H)
    I = _dbl(_dbl(HH))
    J = _mul(H, I)
    V = _mul(X1, I)
    X3 = _sub(_sub(_sqr(r), J), _dbl(V))
    Y3 = _sub(_mul(r, _sub(V, X3)), _dbl(_mul(Y1, J)))
    Z3 = _sub(_sub(_sqr(_add(Z1, H)), Z1Z1), HH)
    return (X3, Y3, Z3)


@njit(cache=True)
def jacobian_add(p, q):
    """P + Q for Jacobian P and Q (add-2007-bl), every case included."""
    if jacobian_is_infinity(p):
        return q
    if jacobian_is_infinity(q):
        return p
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    Z1Z1 = _sqr(Z1)
    Z2Z2 = _sqr(Z2)
    U1 = _mul(X1, Z2Z2)
    U2 = _mul(X2, Z1Z1)
    S1 = _mul(Y1, _mul(Z2, Z2Z2))
    S2 = _mul(Y2, _mul(Z1, Z1Z1))
    H = _sub(U2, U1)
    r = _dbl(_sub(S2, S1))
    if field.is_zero(H):
        if field.is_zero(r):
            return jacobian_double(p)
        return jacobian_infinity()
    I = _sqr(_dbl(H))
    J = _mul(H, I)
    V = _mul(U1, I)
    X3 = _sub(_sub(_sqr(r), J), _dbl(V))
    Y3 = _sub(_mul(r, _sub(V, X3)), _dbl(_mul(S1, J)))
    Z3 = _mul(_sub(_sub(_sqr(_add(Z1, Z2)), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


@njit(cache=True)
def jacobian_to_affine(p):
    """One point to affine with its own inversion (use the batch kernel for many)."""
    if jacobian_is_infinity(p):
        return affine_infinity()
    zinv = field.inverse(p[2], FQ_PARAMS)
    zinv2 = _sqr(zinv)
    return (_mul(p[0], zinv2), _mul(p[1], _mul(zinv2, zinv)))


@njit(cache=True)
def jacobian_scalar_mul(p, k):
    """[k]P for affine P and a canonical scalar k (4 little-endian limbs), double-and-add."""
    acc = jacobian_infinity()
    if affine_is_infinity(p):
        return acc
    for limb in range(3, -1, -1):
        w = k[limb]
        for bit in range(63, -1, -1):
            acc = jacobian_double(acc)
            if (w >> np.uint64(bit)) & _ONE:
                acc = jacobian_add_affine(acc, p)
    return acc


# ---------------------------------------------------------------- XYZZ


@njit(cache=True)
def xyzz_infinity():
    return (_MONTGOMERY_ONE, _MONTGOMERY_ONE, _ZERO_ELEMENT, _ZERO_ELEMENT)


@njit(cache=True)
def xyzz_is_infinity(p):
    return field.is_zero(p[2])


@njit(cache=True)
def xyzz_double_affine(q):
    """2Q for affine Q (mdbl-2008-s-1)."""
    if affine_is_infinity(q):
        return xyzz_infinity()
    x, y = q
    U = _dbl(y)
    V = _sqr(U)
    W = _mul(U, V)
    S = _mul(x, V)
    xx = _sqr(x)
    M = _add(_dbl(xx), xx)
    X3 = _sub(_sqr(M), _dbl(S))
    Y3 = _sub(_mul(M, _sub(S, X3)), _mul(W, y))
    return (X3, Y3, V, W)


@njit(cache=True)
def xyzz_double(p):
    """2P (dbl-2008-s-1, a = 0)."""
    if xyzz_is_infinity(p):
        return p
    X1, Y1, ZZ1, ZZZ1 = p
    U = _dbl(Y1)
    V = _sqr(U)
    W = _mul(U, V)
    S = _mul(X1, V)
    xx = _sqr(X1)
    M = _add(_dbl(xx), xx)
    X3 = _sub(_sqr(M), _dbl(S))
    Y3 = _sub(_mul(M, _sub(S, X3)), _mul(W, Y1))
    return (X3, Y3, _mul(V, ZZ1), _mul(W, ZZZ1))


@njit(cache=True)
def xyzz_add_affine(p, q):
    """P + Q for XYZZ P and affine Q (madd-2008-s), every case included."""
    if affine_is_infinity(q):
        return p
    if xyzz_is_infinity(p):
        return (q[0], q[1], _MONTGOMERY_ONE, _MONTGOMERY_ONE)
    X1, Y1, ZZ1, ZZZ1 = p
    x2, y2 = q
    P = _sub(_mul(x2, ZZ1), X1)
    R = _sub(_mul(y2, ZZZ1), Y1)
    if field.is_zero(P):
        if field.is_zero(R):
            return xyzz_double_affine(q)
        return xyzz_infinity()
    PP = _sqr(P)
    PPP = _mul(P, PP)
    Q = _mul(X1, PP)
    X3 = _sub(_sub(_sqr(R), PPP), _dbl(Q))
    Y3 = _sub(_mul(R, _sub(Q, X3)), _mul(Y1, PPP))
    return (X3, Y3, _mul(ZZ1, PP), _mul(ZZZ1, PPP))


@njit(cache=True)
def xyzz_add(p, q):
    """P + Q for XYZZ P and Q (add-2008-s), every case included."""
    if xyzz_is_infinity(p):
        return q
    if xyzz_is_infinity(q):
        return p
    X1, Y1, ZZ1, ZZZ1 = p
    X2, Y2, ZZ2, ZZZ2 = q
    U1 = _mul(X1, ZZ2)
    S1 = _mul(Y1, ZZZ2)
    P = _sub(_mul(X2, ZZ1), U1)
    R = _sub(_mul(Y2, ZZZ1), S1)
    if field.is_zero(P):
        if field.is_zero(R):
            return xyzz_double(p)
        return xyzz_infinity()
    PP = _sqr(P)
    PPP = _mul(P, PP)
    Q = _mul(U1, PP)
    X3 = _sub(_sub(_sqr(R), PPP), _dbl(Q))
    Y3 = _sub(_mul(R, _sub(Q, X3)), _mul(S1, PPP))
    return (X3, Y3, _mul(_mul(ZZ1, ZZ2), PP), _mul(_mul(ZZZ1, ZZZ2), PPP))


@njit(cache=True)
def xyzz_neg(p):
    return (p[0], _neg(p[1]), p[2], p[3])


@njit(cache=True)
def xyzz_to_affine(p):
    if xyzz_is_infinity(p):
        return affine_infinity()
    # One inversion serves both denominators: with t = 1/(ZZ ZZZ), 1/ZZ = ZZZ t and 1/ZZZ = ZZ t.
    t = field.inverse(_mul(p[2], p[3]), FQ_PARAMS)
    return (_mul(p[0], _mul(p[3], t)), _mul(p[1], _mul(p[2], t)))


# ---------------------------------------------------------------- array kernels


@njit(cache=True, parallel=True)
def _to_affine_kernel(jac, out):
    """Batch Jacobian -> affine, one simultaneous inversion of the Z's per chunk."""
    n = jac.shape[0]
    chunks = max(1, min(64, n // 256))
    for c in prange(chunks):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        prefix = np.empty((hi - lo, LIMBS), dtype=np.uint64)
        acc = _MONTGOMERY_ONE
        for i in range(lo, hi):
            field.store(prefix, i - lo, acc)
            z = (jac[i, 2, 0], jac[i, 2, 1], jac[i, 2, 2], jac[i, 2, 3])
            if not field.is_zero(z):
                acc = _mul(acc, z)
        inv = field.inverse(acc, FQ_PARAMS)
        for i in range(hi - 1, lo - 1, -1):
            p = load_jacobian(jac, i)
            if jacobian_is_infinity(p):
                store_affine(out, i, affine_infinity())
                continue
            zinv = _mul(inv, field.load(prefix, i - lo))
            inv = _mul(inv, p[2])
            zinv2 = _sqr(zinv)
            store_affine(out, i, (_mul(p[0], zinv2), _mul(p[1], _mul(zinv2, zinv))))


@njit(cache=True, parallel=True)
def _from_affine_kernel(a, out):
    for i in prange(a.shape[0]):
        store_jacobian(out, i, jacobian_from_affine(load_affine(a, i)))


@njit(cache=True, parallel=True)
def _add_kernel(p, q, out):
    for i in prange(p.shape[0]):
        store_jacobian(out, i, jacobian_add(load_jacobian(p, i), load_jacobian(q, i)))


@njit(cache=True, parallel=True)
def _add_affine_kernel(p, q, out):
    for i in prange(p.shape[0]):
        store_jacobian(out, i, jacobian_add_affine(load_jacobian(p, i), load_affine(q, i)))


@njit(cache=True, parallel=True)
def _double_kernel(p, out):
    for i in prange(p.shape[0]):
        store_jacobian(out, i, jacobian_double(load_jacobian(p, i)))


@njit(cache=True, parallel=True)
def _neg_kernel(p, out):
    # Negation only touches y, in affine and Jacobian alike; Z = 0 (or x = y = 0) stays.
    for i in prange(p.shape[0]):
        out[i] = p[i]
        y = (p[i, 1, 0], p[i, 1, 1], p[i, 1, 2], p[i, 1, 3])
        ny = _neg(y)
        for k in range(LIMBS):
            out[i, 1, k] = ny[k]


@njit(cache=True, parallel=True)
def _scalar_mul_kernel(points, scalars, out):
    for i in prange(points.shape[0]):
        k = (scalars[i, 0], scalars[i, 1], scalars[i, 2], scalars[i, 3])
        store_jacobian(out, i, jacobian_scalar_mul(load_affine(points, i), k))


@njit(cache=True)
def _sum_kernel(points, lo, hi):
    acc = xyzz_infinity()
    for i in range(lo, hi):
        acc = xyzz_add_affine(acc, load_affine(points, i))
    return acc


@njit(cache=True, parallel=True)
def _sum_parallel(points, partial):
    n = points.shape[0]
    parts = partial.shape[0]
    for c in prange(parts):
        s = _sum_kernel(points, n * c // parts, n * (c + 1) // parts)
        for k in range(4):
            for l in range(LIMBS):
                partial[c, k, l] = s[k][l]


@njit(cache=True)
def _sum_finish(partial):
    acc = xyzz_infinity()
    for c in range(partial.shape[0]):
        p = (
            (partial[c, 0, 0], partial[c, 0, 1], partial[c, 0, 2], partial[c, 0, 3]),
            (partial[c, 1, 0], partial[c, 1, 1], partial[c, 1, 2], partial[c, 1, 3]),
            (partial[c, 2, 0], partial[c, 2, 1], partial[c, 2, 2], partial[c, 2, 3]),
            (partial[c, 3, 0], partial[c, 3, 1], partial[c, 3, 2], partial[c, 3, 3]),
        )
        acc = xyzz_add(acc, p)
    out = np.empty((1, 2, LIMBS), dtype=np.uint64)
    store_affine(out, 0, xyzz_to_affine(acc))
    return out


@njit(cache=True, parallel=True)
def _endomorphism_kernel(points, out):
    """(x, y) -> (BETA x, y), which is [lambda](x, y); infinity (0, 0) is fixed."""
    for i in prange(points.shape[0]):
        x = (points[i, 0, 0], points[i, 0, 1], points[i, 0, 2], points[i, 0, 3])
        bx = _mul(x, BETA)
        for k in range(LIMBS):
            out[i, 0, k] = bx[k]
            out[i, 1, k] = points[i, 1, k]


@njit(cache=True, parallel=True)
def _progressions_kernel(starts, steps, out):
    """out = S_c + t D_c for consecutive t along chunk c: one mixed addition per point."""
    n = out.shape[0]
    m = starts.shape[0]
    for c in prange(m):
        acc = jacobian_from_affine(load_affine(starts, c))
        step = load_affine(steps, c)
        for i in range(n * c // m, n * (c + 1) // m):
            store_jacobian(out, i, acc)
            acc = jacobian_add_affine(acc, step)


# Validation codes of _canonical_to_points, in the order they are checked.
_VALID, _X_TOO_LARGE, _Y_TOO_LARGE, _OFF_CURVE = 0, 1, 2, 3


@njit(cache=True)
def _below_q(a):
    b, _ = sbb(a[0], FQ_PARAMS[0], _ZERO)
    b, _ = sbb(a[1], FQ_PARAMS[1], b)
    b, _ = sbb(a[2], FQ_PARAMS[2], b)
    b, _ = sbb(a[3], FQ_PARAMS[3], b)
    return b == _ONE


@njit(cache=True, parallel=True)
def _canonical_to_points(canonical, out, status):
    """Canonical (x, y) limbs -> Montgomery points, with a validation code per point."""
    for i in prange(canonical.shape[0]):
        p = load_affine(canonical, i)
        if not _below_q(p[0]):
            status[i] = _X_TOO_LARGE
            continue
        if not _below_q(p[1]):
            status[i] = _Y_TOO_LARGE
            continue
        q = (field.to_montgomery(p[0], FQ_PARAMS), field.to_montgomery(p[1], FQ_PARAMS))
        store_affine(out, i, q)
        status[i] = _VALID if affine_on_curve(q) else _OFF_CURVE


@njit(cache=True, parallel=True)
def _on_curve_kernel(points, out):
    for i in prange(points.shape[0]):
        out[i] = affine_on_curve(load_affine(points, i))


# ---------------------------------------------------------------- array API


def _points(a, width: int, name: str) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.uint64)
    if a.ndim != 3 or a.shape[1:] != (width, LIMBS):
        raise ValueError(f"{name} must be an (n, {width}, {LIMBS}) uint64 array, got shape {a.shape}")
    return a


def to_affine(jacobian: np.ndarray) -> np.ndarray:
    """Jacobian ``(n, 3, 4)`` -> affine ``(n, 2, 4)`` with simultaneous inversion."""
    jacobian = _points(jacobian, 3, "Jacobian points")
    out = np.empty((jacobian.shape[0], 2, LIMBS), dtype=np.uint64)
    if jacobian.shape[0]:
        _to_affine_kernel(jacobian, out)
    return out


def to_jacobian(affine: np.ndarray) -> np.ndarray:
    """Affine ``(n, 2, 4)`` -> Jacobian ``(n, 3, 4)`` (Z = 1, or Z = 0 for infinity)."""
    affine = _points(affine, 2, "affine points")
    out = np.empty((affine.shape[0], 3, LIMBS), dtype=np.uint64)
    if affine.shape[0]:
        _from_affine_kernel(affine, out)
    return out


def jacobian_add_arrays(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise P + Q of two Jacobian arrays."""
    p, q = _points(p, 3, "p"), _points(q, 3, "q")
    out = np.empty_like(p)
    if p.shape[0]:
        _add_kernel(p, q, out)
    return out


def jacobian_add_affine_arrays(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise P + Q of a Jacobian and an affine array (Jacobian result)."""
    p, q = _points(p, 3, "p"), _points(q, 2, "q")
    out = np.empty_like(p)
    if p.shape[0]:
        _add_affine_kernel(p, q, out)
    return out


def jacobian_double_arrays(p: np.ndarray) -> np.ndarray:
    p = _points(p, 3, "p")
    out = np.empty_like(p)
    if p.shape[0]:
        _double_kernel(p, out)
    return out


def add(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise P + Q of two affine arrays (affine result)."""
    return to_affine(jacobian_add_affine_arrays(to_jacobian(p), q))


def double(p: np.ndarray) -> np.ndarray:
    """Elementwise 2P of an affine array (affine result)."""
    return to_affine(jacobian_double_arrays(to_jacobian(p)))


def negate(p: np.ndarray) -> np.ndarray:
    """Elementwise -P of an affine ``(n, 2, 4)`` or Jacobian ``(n, 3, 4)`` array."""
    p = np.ascontiguousarray(p, dtype=np.uint64)
    if p.ndim != 3 or p.shape[1] not in (2, 3) or p.shape[2] != LIMBS:
        raise ValueError(f"points must be (n, 2, 4) or (n, 3, 4) uint64, got shape {p.shape}")
    out = np.empty_like(p)
    if p.shape[0]:
        _neg_kernel(p, out)
    return out


def multiply(points: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """Elementwise [k_i]P_i by double-and-add (affine points, canonical ``(n, 4)`` scalars)."""
    points = _points(points, 2, "points")
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if scalars.shape != (points.shape[0], LIMBS):
        raise ValueError(f"scalars must be ({points.shape[0]}, {LIMBS}) uint64, got {scalars.shape}")
    out = np.empty((points.shape[0], 3, LIMBS), dtype=np.uint64)
    if points.shape[0]:
        _scalar_mul_kernel(points, scalars, out)
    return to_affine(out)


def sum_points(points: np.ndarray) -> np.ndarray:
    """The sum of an affine array as one affine point ``(2, 4)``."""
    points = _points(points, 2, "points")
    parts = max(1, min(64, points.shape[0] // 4096))
    partial = np.empty((parts, 4, LIMBS), dtype=np.uint64)
    _sum_parallel(points, partial)
    return _sum_finish(partial)[0]


def endomorphism(points: np.ndarray) -> np.ndarray:
    """(x, y) -> (BETA x, y) elementwise: the same as multiplying by GLV_LAMBDA."""
    points = _points(points, 2, "points")
    out = np.empty_like(points)
    if points.shape[0]:
        _endomorphism_kernel(points, out)
    return out


def on_curve(points: np.ndarray) -> np.ndarray:
    """Boolean per point: on y^2 = x^3 + 3, or the encoding (0, 0) of infinity."""
    points = _points(points, 2, "points")
    out = np.empty(points.shape[0], dtype=np.bool_)
    if points.shape[0]:
        _on_curve_kernel(points, out)
    return out


def infinity(n: int = 1) -> np.ndarray:
    """n points at infinity, affine."""
    return np.zeros((n, 2, LIMBS), dtype=np.uint64)


def generator(n: int = 1) -> np.ndarray:
    """n copies of the generator (1, 2) of G1, affine."""
    return np.repeat(from_ints([G1_GENERATOR]), n, axis=0)


def random_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """n pseudo-random affine points of G1 (for tests and benchmarks, not uniform samples).

    A few hundred random multiples of the generator start arithmetic progressions
    S + tD with random steps D: one mixed addition per point, then one batch
    conversion to affine, instead of a scalar multiplication per point.
    """
    from zksolvency.prover.field import Fr

    if n == 0:
        return infinity(0)
    chains = min(n, 256)
    scalars = Fr.to_canonical_limbs(Fr.random(2 * chains, rng))
    bases = multiply(generator(2 * chains), scalars)
    jac = np.empty((n, 3, LIMBS), dtype=np.uint64)
    _progressions_kernel(np.ascontiguousarray(bases[:chains]), np.ascontiguousarray(bases[chains:]), jac)
    return to_affine(jac)


# ---------------------------------------------------------------- conversions and encoding


def _validated(canonical: np.ndarray, what: str) -> np.ndarray:
    """Canonical ``(n, 2, 4)`` coordinates -> Montgomery points, or InvalidPointError."""
    out = np.empty_like(canonical)
    status = np.empty(canonical.shape[0], dtype=np.uint8)
    if canonical.shape[0]:
        _canonical_to_points(canonical, out, status)
    bad = np.flatnonzero(status)
    if bad.size:
        i = int(bad[0])
        where = what if canonical.shape[0] == 1 else f"{what} {i}"
        reason = {
            _X_TOO_LARGE: "x coordinate is not below the base field modulus q",
            _Y_TOO_LARGE: "y coordinate is not below the base field modulus q",
            _OFF_CURVE: "not on the curve y^2 = x^3 + 3",
        }[int(status[i])]
        raise InvalidPointError(f"{where}: {reason}")
    return out


def encode(points: np.ndarray) -> bytes:
    """EVM encoding: ``x || y`` 32-byte big-endian words per point; infinity is 64 zero bytes.

    Takes one affine point ``(2, 4)`` (64 bytes out) or an array ``(n, 2, 4)`` (64n bytes).
    """
    points = np.asarray(points, dtype=np.uint64)
    single = points.ndim == 2
    points = _points(points[None] if single else points, 2, "points")
    canonical = Fq.to_canonical_limbs(points.reshape(-1, LIMBS))
    # Most significant limb first, each limb big-endian: the 32-byte big-endian word.
    return canonical[:, ::-1].astype(">u8").tobytes()


def decode(data: bytes, what: str = "G1 point") -> np.ndarray:
    """Bytes of ``x || y`` encodings (a multiple of 64) -> affine ``(n, 2, 4)``, every point checked."""
    data = bytes(data)
    if len(data) % G1_BYTES:
        raise InvalidPointError(f"{what}: expected a multiple of {G1_BYTES} bytes, got {len(data)}")
    n = len(data) // G1_BYTES
    canonical = np.frombuffer(data, dtype=">u8").reshape(n, 2, LIMBS)[:, :, ::-1].astype(np.uint64)
    return _validated(np.ascontiguousarray(canonical), what)


def decode_point(data: bytes, what: str = "G1 point") -> np.ndarray:
    """Exactly one 64-byte encoding -> one affine point ``(2, 4)``."""
    if len(data) != G1_BYTES:
        raise InvalidPointError(f"{what}: expected {G1_BYTES} bytes, got {len(data)}")
    return decode(data, what)[0]


def from_ints(pairs, what: str = "G1 point") -> np.ndarray:
    """Canonical integer pairs (x, y), (0, 0) for infinity -> affine ``(n, 2, 4)``, checked."""
    pairs = list(pairs)
    for i, (x, y) in enumerate(pairs):
        if not (0 <= x < Q_MODULUS and 0 <= y < Q_MODULUS):
            where = what if len(pairs) == 1 else f"{what} {i}"
            raise InvalidPointError(f"{where}: coordinates must be integers in [0, q)")
    buf = b"".join(x.to_bytes(32, "little") + y.to_bytes(32, "little") for x, y in pairs)
    canonical = np.frombuffer(buf, dtype="<u8").astype(np.uint64).reshape(len(pairs), 2, LIMBS)
    return _validated(canonical, what)


def to_ints(points: np.ndarray) -> list:
    """Affine ``(n, 2, 4)`` -> list of canonical (x, y) integer pairs, (0, 0) for infinity."""
    raw = encode(points)
    return [
        (int.from_bytes(raw[i : i + 32], "big"), int.from_bytes(raw[i + 32 : i + 64], "big"))
        for i in range(0, len(raw), G1_BYTES)
    ]


def to_g1points(points: np.ndarray) -> list:
    """Affine ``(n, 2, 4)`` -> ``G1Point`` values."""
    return [G1Point(x, y) for x, y in to_ints(points)]


def to_g1point(point: np.ndarray) -> G1Point:
    """One affine point ``(2, 4)`` -> ``G1Point``."""
    return to_g1points(np.asarray(point)[None])[0]


def from_g1points(points) -> np.ndarray:
    """``G1Point`` values -> affine ``(n, 2, 4)``."""
    return from_ints((p.x, p.y) for p in points)


def to_py_ecc(points: np.ndarray) -> list:
    """Affine ``(n, 2, 4)`` -> ``py_ecc.optimized_bn128`` points (Jacobian-style triples)."""
    return [p.to_py_ecc() for p in to_g1points(points)]


def from_py_ecc(points) -> np.ndarray:
    """``py_ecc.optimized_bn128`` points -> affine ``(n, 2, 4)``."""
    return from_g1points(G1Point.from_py_ecc(p) for p in points)
