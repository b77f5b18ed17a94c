"""Montgomery arithmetic for the BN254 fields on 4 x 64-bit limbs, scalar and vectorised.

An element is a tuple of four little-endian uint64 limbs in Montgomery form
(x * 2^256 mod p); an array of elements is a C-contiguous ``(n, 4) uint64``
array. Field parameters travel as one tuple (``FR_PARAMS``, ``FQ_PARAMS``) so
the same kernels serve both fields; as a global of a jitted function the tuple
is a compile-time constant.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.prover.arith import adc, mac, sbb

LIMBS = 4
_MASK64 = (1 << 64) - 1
_ZERO = np.uint64(0)
_ONE = np.uint64(1)


def _limbs(x: int) -> tuple:
    return tuple(np.uint64((x >> (64 * i)) & _MASK64) for i in range(LIMBS))


def field_params(p: int) -> tuple:
    """(p0..p3, -p^-1 mod 2^64, R^2 mod p limbs, R mod p limbs) with R = 2^256."""
    ninv = (-pow(p, -1, 1 << 64)) % (1 << 64)
    return _limbs(p) + (np.uint64(ninv),) + _limbs((1 << 512) % p) + _limbs((1 << 256) % p)


FR_PARAMS = field_params(R_MODULUS)
FQ_PARAMS = field_params(Q_MODULUS)
# The no-carry CIOS below needs the top limb of p below 2^63 - 1: true for both fields.
assert int(FR_PARAMS[3]) < (1 << 63) - 1 and int(FQ_PARAMS[3]) < (1 << 63) - 1


# ---------------------------------------------------------------- scalar kernels


@njit(cache=True)
def reduce_once(t0, t1, t2, t3, F):
    """t - p if t >= p else t, for t < 2p."""
    b, s0 = sbb(t0, F[0], _ZERO)
    b, s1 = sbb(t1, F[1], b)
    b, s2 = sbb(t2, F[2], b)
    b, s3 = sbb(t3, F[3], b)
    if b:
        return (t0, t1, t2, t3)
    return (s0, s1, s2, s3)


@njit(cache=True)
def add(a, b, F):
    c, t0 = adc(a[0], b[0], _ZERO)
    c, t1 = adc(a[1], b[1], c)
    c, t2 = adc(a[2], b[2], c)
    _, t3 = adc(a[3], b[3], c)
    return reduce_once(t0, t1, t2, t3, F)


@njit(cache=True)
def sub(a, b, F):
    b_, t0 = sbb(a[0], b[0], _ZERO)
    b_, t1 = sbb(a[1], b[1], b_)
    b_, t2 = sbb(a[2], b[2], b_)
    b_, t3 = sbb(a[3], b[3], b_)
    if b_:
        c, t0 = adc(t0, F[0], _ZERO)
        c, t1 = adc(t1, F[1], c)
        c, t2 = adc(t2, F[2], c)
        _, t3 = adc(t3, F[3], c)
    return (t0, t1, t2, t3)


@njit(cache=True)
def neg(a, F):
    if (a[0] | a[1] | a[2] | a[3]) == _ZERO:
        return a
    return sub((F[0], F[1], F[2], F[3]), a, F)


@njit(cache=True)
def double(a, F):
    return add(a, a, F)


@njit(cache=True)
def _cios_step(t0, t1, t2, t3, a, bi, F):
    """One outer iteration of CIOS Montgomery multiplication (no final carry word)."""
    A, t0 = mac(a[0], bi, t0, _ZERO)
    m = t0 * F[4]
    C, _ = mac(m, F[0], t0, _ZERO)
    A, t1 = mac(a[1], bi, t1, A)
    C, t0 = mac(m, F[1], t1, C)
    A, t2 = mac(a[2], bi, t2, A)
    C, t1 = mac(m, F[2], t2, C)
    A, t3 = mac(a[3], bi, t3, A)
    C, t2 = mac(m, F[3], t3, C)
    t3 = C + A
    return t0, t1, t2, t3


@njit(cache=True)
def mul(a, b, F):
    """Montgomery product a * b / 2^256 mod p."""
    t0, t1, t2, t3 = _cios_step(_ZERO, _ZERO, _ZERO, _ZERO, a, b[0], F)
    t0, t1, t2, t3 = _cios_step(t0, t1, t2, t3, a, b[1], F)
    t0, t1, t2, t3 = _cios_step(t0, t1, t2, t3, a, b[2], F)
    t0, t1, t2, t3 = _cios_step(t0, t1, t2, t3, a, b[3], F)
    return reduce_once(t0, t1, t2, t3, F)


@njit(cache=True)
def square(a, F):
    return mul(a, a, F)


@njit(cache=True)
def is_zero(a):
    return (a[0] | a[1] | a[2] | a[3]) == _ZERO


@njit(cache=True)
def equal(a, b):
    return a[0] == b[0] and a[1] == b[1] and a[2] == b[2] and a[3] == b[3]


@njit(cache=True)
def one(F):
    return (F[9], F[10], F[11], F[12])


@njit(cache=True)
def zero():
    return (_ZERO, _ZERO, _ZERO, _ZERO)


@njit(cache=True)
def to_montgomery(a, F):
    """Canonical limbs -> Montgomery form (a must be < p)."""
    return mul(a, (F[5], F[6], F[7], F[8]), F)


@njit(cache=True)
def from_montgomery(a, F):
    return mul(a, (_ONE, _ZERO, _ZERO, _ZERO), F)


@njit(cache=True)
def power(a, e, F):
    """a^e, e given as four little-endian uint64 limbs (left-to-right square and multiply)."""
    r = one(F)
    for limb in range(3, -1, -1):
        w = e[limb]
        for bit in range(63, -1, -1):
            r = mul(r, r, F)
            if (w >> np.uint64(bit)) & _ONE:
                r = mul(r, a, F)
    return r


@njit(cache=True)
def inverse(a, F):
    """a^(p-2); the inverse of zero is zero."""
    # p - 2 never borrows past the lowest limb: p is odd and its low limb exceeds 2.
    return power(a, (F[0] - np.uint64(2), F[1], F[2], F[3]), F)


@njit(cache=True)
def load(x, i):
    return (x[i, 0], x[i, 1], x[i, 2], x[i, 3])


@njit(cache=True)
def store(x, i, v):
    x[i, 0] = v[0]
    x[i, 1] = v[1]
    x[i, 2] = v[2]
    x[i, 3] = v[3]


# ---------------------------------------------------------------- vector kernels


@njit(cache=True, parallel=True)
def vec_add(a, b, out, F):
    for i in prange(a.shape[0]):
        store(out, i, add(load(a, i), load(b, i), F))


@njit(cache=True, parallel=True)
def vec_sub(a, b, out, F):
    for i in prange(a.shape[0]):
        store(out, i, sub(load(a, i), load(b, i), F))


@njit(cache=True, parallel=True)
def vec_neg(a, out, F):
    for i in prange(a.shape[0]):
        store(out, i, neg(load(a, i), F))


@njit(cache=True, parallel=True)
def vec_mul(a, b, out, F):
    for i in prange(a.shape[0]):
        store(out, i, mul(load(a, i), load(b, i), F))


@njit(cache=True, parallel=True)
def vec_scale(a, c, out, F):
    """out[i] = a[i] * c for one element c."""
    for i in prange(a.shape[0]):
        store(out, i, mul(load(a, i), c, F))


@njit(cache=True, parallel=True)
def vec_square(a, out, F):
    for i in prange(a.shape[0]):
        v = load(a, i)
        store(out, i, mul(v, v, F))


@njit(cache=True, parallel=True)
def vec_to_montgomery(a, out, F):
    for i in prange(a.shape[0]):
        store(out, i, to_montgomery(load(a, i), F))


@njit(cache=True, parallel=True)
def vec_from_montgomery(a, out, F):
    for i in prange(a.shape[0]):
        store(out, i, from_montgomery(load(a, i), F))


@njit(cache=True, parallel=True)
def vec_power(a, e, out, F):
    for i in prange(a.shape[0]):
        store(out, i, power(load(a, i), e, F))


@njit(cache=True, parallel=True)
def vec_from_uint64(a, out, F):
    """Montgomery form of small canonical values a[i] < 2^64 (always < p)."""
    for i in prange(a.shape[0]):
        store(out, i, to_montgomery((a[i], _ZERO, _ZERO, _ZERO), F))


@njit(cache=True)
def _batch_inverse_range(a, out, lo, hi, F):
    """Montgomery's simultaneous inversion over a[lo:hi]; zeros map to zero."""
    acc = one(F)
    for i in range(lo, hi):
        store(out, i, acc)
        v = load(a, i)
        if not is_zero(v):
            acc = mul(acc, v, F)
    inv = inverse(acc, F)
    for i in range(hi - 1, lo - 1, -1):
        v = load(a, i)
        if is_zero(v):
            store(out, i, zero())
            continue
        prefix = load(out, i)
        store(out, i, mul(inv, prefix, F))
        inv = mul(inv, v, F)


@njit(cache=True, parallel=True)
def vec_batch_inverse(a, out, F):
    """out[i] = 1 / a[i] (0 for 0), in independent chunks, one inversion each."""
    n = a.shape[0]
    chunks = max(1, min(64, n // 1024))
    for c in prange(chunks):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        _batch_inverse_range(a, out, lo, hi, F)


# ---------------------------------------------------------------- Python-facing field


class Field:
    """One BN254 prime field over ``(n, 4) uint64`` Montgomery arrays."""

    def __init__(self, modulus: int, name: str):
        self.modulus = modulus
        self.name = name
        self.params = field_params(modulus)

    def __repr__(self) -> str:
        return f"Field({self.name})"

    # conversions ------------------------------------------------------
    def canonical_limbs(self, values) -> np.ndarray:
        """Integers (each reduced mod p) -> (n, 4) uint64 canonical limbs."""
        p = self.modulus
        buf = b"".join((int(v) % p).to_bytes(32, "little") for v in values)
        return np.frombuffer(buf, dtype="<u8").reshape(-1, LIMBS).astype(np.uint64)

    def from_ints(self, values) -> np.ndarray:
        """Python integers -> Montgomery array (values are reduced mod p)."""
        a = self.canonical_limbs(values)
        if a.shape[0]:
            vec_to_montgomery(a, a, self.params)
        return a

    def from_int(self, value: int) -> tuple:
        """One integer -> a Montgomery element tuple (for passing to kernels)."""
        return tuple(np.uint64(x) for x in self.from_ints([value])[0])

    def from_uint64(self, values: np.ndarray) -> np.ndarray:
        """Non-negative values below 2^64 -> Montgomery array, all in one kernel."""
        values = np.ascontiguousarray(values, dtype=np.uint64)
        out = np.empty((values.shape[0], LIMBS), dtype=np.uint64)
        if values.shape[0]:
            vec_from_uint64(values, out, self.params)
        return out

    def from_canonical_limbs(self, a: np.ndarray) -> np.ndarray:
        """(n, 4) canonical little-endian limbs, each below p -> Montgomery array."""
        out = np.ascontiguousarray(a, dtype=np.uint64).copy()
        if out.shape[0]:
            vec_to_montgomery(out, out, self.params)
        return out

    def to_canonical_limbs(self, a: np.ndarray) -> np.ndarray:
        out = np.empty_like(a)
        if a.shape[0]:
            vec_from_montgomery(np.ascontiguousarray(a), out, self.params)
        return out

    def to_ints(self, a: np.ndarray) -> list:
        """Montgomery array -> list of Python integers in [0, p)."""
        raw = self.to_canonical_limbs(a).astype("<u8").tobytes()
        return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]

    def to_int(self, element) -> int:
        return self.to_ints(np.array([element], dtype=np.uint64))[0]

    def to_galois(self, a: np.ndarray, gf):
        """Montgomery array -> a galois FieldArray of the prime field ``gf`` (GF(p))."""
        if gf.order != self.modulus:
            raise ValueError(f"{gf.name} is not the field {self.name}")
        return gf(self.to_ints(a))

    def from_galois(self, values) -> np.ndarray:
        """A galois FieldArray (or any iterable of ints) -> Montgomery array."""
        return self.from_ints(int(v) for v in np.atleast_1d(values))

    # constructors -----------------------------------------------------
    def zeros(self, n: int) -> np.ndarray:
        return np.zeros((n, LIMBS), dtype=np.uint64)

    def ones(self, n: int) -> np.ndarray:
        out = np.empty((n, LIMBS), dtype=np.uint64)
        out[:] = np.array(self.params[9:13], dtype=np.uint64)
        return out

    def random(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n elements, uniform over [0, p) by rejection, in Montgomery form."""
        out = np.empty((0, LIMBS), dtype=np.uint64)
        top = int(self.params[3])
        mask = (1 << top.bit_length()) - 1
        while out.shape[0] < n:
            cand = rng.integers(0, 1 << 64, size=(n, LIMBS), dtype=np.uint64, endpoint=False)
            cand[:, 3] &= np.uint64(mask)
            keep = _less_than(cand, self.params)
            out = np.concatenate([out, cand[keep]])
        out = np.ascontiguousarray(out[:n])
        # Uniform canonical values stay uniform in Montgomery form (a bijection).
        return out

    # arithmetic -------------------------------------------------------
    def add(self, a, b):
        out = np.empty_like(a)
        vec_add(a, b, out, self.params)
        return out

    def sub(self, a, b):
        out = np.empty_like(a)
        vec_sub(a, b, out, self.params)
        return out

    def neg(self, a):
        out = np.empty_like(a)
        vec_neg(a, out, self.params)
        return out

    def mul(self, a, b):
        out = np.empty_like(a)
        vec_mul(a, b, out, self.params)
        return out

    def scale(self, a, c: int):
        out = np.empty_like(a)
        vec_scale(a, self.from_int(c), out, self.params)
        return out

    def square(self, a):
        out = np.empty_like(a)
        vec_square(a, out, self.params)
        return out

    def pow(self, a, e: int):
        """a[i]^e for a non-negative exponent e < 2^256."""
        if not 0 <= e < 1 << 256:
            raise ValueError("exponent must be in [0, 2^256)")
        out = np.empty_like(a)
        vec_power(a, _limbs(e), out, self.params)
        return out

    def inverse(self, a):
        """Elementwise inverse, zero mapped to zero (simultaneous inversion)."""
        out = np.empty_like(a)
        if a.shape[0]:
            vec_batch_inverse(np.ascontiguousarray(a), out, self.params)
        return out

    batch_inverse = inverse


@njit(cache=True)
def _less_than(a, F):
    keep = np.empty(a.shape[0], dtype=np.bool_)
    for i in range(a.shape[0]):
        b, _ = sbb(a[i, 0], F[0], _ZERO)
        b, _ = sbb(a[i, 1], F[1], b)
        b, _ = sbb(a[i, 2], F[2], b)
        b, _ = sbb(a[i, 3], F[3], b)
        keep[i] = b == _ONE
    return keep


Fr = Field(R_MODULUS, "Fr")
Fq = Field(Q_MODULUS, "Fq")
