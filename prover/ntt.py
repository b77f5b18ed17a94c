"""Number-theoretic transforms over Fr on the power-of-two subgroups H = <omega> and their cosets.

``domain(k)`` returns the cached :class:`Domain` of size n = 2^k, whose generator
is ``omega = ROOT_OF_UNITY_2_28^(2^28 / n)``. Its transforms take and return Fr
Montgomery arrays ``(n, 4) uint64`` of canonical elements in natural order, and
never modify their input:

- ``ntt(a)``: coefficients a_0..a_{n-1} -> values a(omega^i);
- ``intt(v)``: values on H -> coefficients;
- ``coset_ntt(a, shift)``: values a(shift * omega^i) on the coset shift * H;
- ``coset_intt(v, shift)``: values on shift * H -> coefficients.

The default shift is ``COSET_SHIFT`` = 5, the multiplicative generator of Fr: it
lies in no proper subgroup of Fr*, so 5 * H' misses every power-of-two subgroup
H', as the quotient's extended domain requires.

Two implementations compute the same transforms. On CPUs with AVX-512 IFMA
(``SIMD_AVAILABLE``) and n >= 64, eight elements share a vector in 5 x 52-bit
limbs and a radix-2 decimation in time runs in two phases: the first b stages on
blocks of 2^b elements kept in L2 (eight blocks side by side, one per lane, the
bit reversal folded into the gather from the input), then the other stages on
tiles of one column across all blocks, so main memory is swept about twice per
transform. Values stay lazily reduced between stages and are made canonical on
the way out. Elsewhere a scalar radix-2 transform on ``field``'s arithmetic runs.
"""

from __future__ import annotations

import functools
import threading
from typing import NamedTuple

import llvmlite.binding as llvm_binding
import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import config as numba_config
from numba.core.errors import TypingError
from numba.extending import intrinsic

from zksolvency.constants import FR_MULTIPLICATIVE_GENERATOR, R_MODULUS, ROOT_OF_UNITY_2_28, TWO_ADICITY
from zksolvency.prover.field import FR_PARAMS, LIMBS, add, load, mul, power, store, sub

# Evaluations on shift * H use this shift unless told otherwise (see the module docstring).
COSET_SHIFT = FR_MULTIPLICATIVE_GENERATOR
MAX_LOG_SIZE = TWO_ADICITY

_F = FR_PARAMS
_P = R_MODULUS
_MASK64 = (1 << 64) - 1


def _omega(log_size: int) -> int:
    """The generator of the subgroup of order 2^log_size."""
    return pow(ROOT_OF_UNITY_2_28, 1 << (TWO_ADICITY - log_size), _P)


def _montgomery(x: int) -> tuple:
    """x as a Montgomery element tuple (x 2^256 mod p), for passing to kernels."""
    v = (x % _P << 256) % _P
    return tuple(np.uint64((v >> (64 * i)) & _MASK64) for i in range(LIMBS))


def _bit_reversal(log_size: int) -> np.ndarray:
    """rev[i] = i with its log_size low bits reversed."""
    i = np.arange(1 << log_size, dtype=np.int64)
    rev = np.zeros_like(i)
    for bit in range(log_size):
        rev |= ((i >> bit) & 1) << (log_size - 1 - bit)
    return rev


class _Job(NamedTuple):
    """One transform, as the forward NTT of a sequence s with scalings around it.

    s_j = input[-j mod n] if ``reverse`` else input[j], times pre^j when ``pre`` is set;
    output i = NTT(s)_i, times scale * ratio^i when ``scale`` is set (ratio 1 if None).
    """

    reverse: bool = False
    pre: int | None = None
    scale: int | None = None
    ratio: int | None = None


# ================================================================ scalar kernels


@njit(cache=True)
def _powers_serial(base, start, out):
    """out[i] = start * base^i (Montgomery)."""
    acc = start
    for i in range(out.shape[0]):
        store(out, i, acc)
        acc = mul(acc, base, _F)


@njit(cache=True, parallel=True)
def _powers_parallel(base, start, out):
    """out[i] = start * base^i, in chunks that each begin with one exponentiation."""
    n = out.shape[0]
    chunks = max(1, min(256, n // 4096))
    for c in prange(chunks):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        acc = mul(start, power(base, (np.uint64(lo), np.uint64(0), np.uint64(0), np.uint64(0)), _F), _F)
        for i in range(lo, hi):
            store(out, i, acc)
            acc = mul(acc, base, _F)


def _powers(base: int, count: int, start: int = 1) -> np.ndarray:
    """(count, 4) Montgomery array of start * base^i."""
    out = np.empty((count, LIMBS), dtype=np.uint64)
    if count >= 1 << 14:
        _powers_parallel(_montgomery(base), _montgomery(start), out)
    elif count:
        _powers_serial(_montgomery(base), _montgomery(start), out)
    return out


@njit(cache=True, parallel=True)
def _halve_stages(tw, log_size):
    """tw[m + j] = tw[2m + 2j] for m < n/2, since omega_{2m}^j = omega_{4m}^{2j}."""
    m = (1 << log_size) >> 2
    while m >= 1:
        for j in prange(m):
            store(tw, m + j, load(tw, 2 * m + 2 * j))
        m >>= 1


def _stage_twiddles(log_size: int) -> np.ndarray:
    """(n, 4) table with tw[m + j] = omega_{2m}^j for m = 1, 2, .., n/2 and j < m (tw[0] unused).

    Each stage reads one contiguous run, and the table of a size is a prefix of the
    table of any larger size.
    """
    n = 1 << log_size
    tw = np.zeros((max(n, 2), LIMBS), dtype=np.uint64)
    if n >= 2:
        tw[n // 2 :] = _powers(_omega(log_size), n // 2)
        _halve_stages(tw, log_size)
    return tw


@njit(cache=True)
def _bitrev(i, bits):
    r = 0
    for _ in range(bits):
        r = (r << 1) | (i & 1)
        i >>= 1
    return r


@njit(cache=True)
def _scalar_gather(src, out, log_n, reverse, pre, lo, hi):
    """out[i] = s_rev(i) for lo <= i < hi (see _Job), pre (0, 4) or (n, 4) holding pre^j."""
    n = 1 << log_n
    for i in range(lo, hi):
        j = _bitrev(i, log_n)
        v = load(src, ((n - j) & (n - 1)) if reverse else j)
        if pre.shape[0] > 0:
            v = mul(v, load(pre, j), _F)
        store(out, i, v)


@njit(cache=True)
def _scalar_stage(x, tw, m, lo, hi):
    """Butterflies lo <= k < hi of the radix-2 DIT stage with half-size m."""
    for k in range(lo, hi):
        j = k & (m - 1)
        i = ((k - j) << 1) + j
        u = load(x, i)
        v = load(x, i + m)
        if j > 0:
            v = mul(v, load(tw, m + j), _F)
        store(x, i, add(u, v, _F))
        store(x, i + m, sub(u, v, _F))


@njit(cache=True)
def _scalar_scale(x, post, lo, hi):
    """x[i] *= post[0] (one factor) or post[i] (n factors), for lo <= i < hi."""
    for i in range(lo, hi):
        c = load(post, 0) if post.shape[0] == 1 else load(post, i)
        store(x, i, mul(load(x, i), c, _F))


@njit(cache=True)
def _scalar_transform_serial(src, out, tw, log_n, reverse, pre, post):
    n = 1 << log_n
    _scalar_gather(src, out, log_n, reverse, pre, 0, n)
    m = 1
    while m < n:
        _scalar_stage(out, tw, m, 0, n >> 1)
        m <<= 1
    if post.shape[0] > 0:
        _scalar_scale(out, post, 0, n)


@njit(cache=True, parallel=True)
def _scalar_transform_parallel(src, out, tw, log_n, reverse, pre, post):
    n = 1 << log_n
    chunks = 64
    for c in prange(chunks):
        _scalar_gather(src, out, log_n, reverse, pre, n * c // chunks, n * (c + 1) // chunks)
    m = 1
    while m < n:
        for c in prange(chunks):
            _scalar_stage(out, tw, m, (n >> 1) * c // chunks, (n >> 1) * (c + 1) // chunks)
        m <<= 1
    if post.shape[0] > 0:
        for c in prange(chunks):
            _scalar_scale(out, post, n * c // chunks, n * (c + 1) // chunks)


# ================================================================ AVX-512 IFMA vector code
#
# A vector holds eight field elements as five 8-lane vectors of 52-bit limbs; a
# "vector group" is 5 x 8 uint64 (320 bytes) and arrays of them are (m, 5, 8).
# Products are Montgomery's with R = 2^260 on vpmadd52{l,h}uq. Twiddles and
# scaling factors are stored times 2^260 ("R260 form"), so that multiplying a value
# in the field's Montgomery form (times 2^256) by them keeps it in that form.
#
# Bounds: a product (ab + mp) / 2^260 with a < 2^260, b < p and m < 2^260 is below
# 2p; a butterfly on values below k p returns values below (k + 2) p. No pass runs
# more than 10 stages from inputs below 3p, so values stay below 24p, far inside
# 2^260 (about 84p). Values leaving in 64-bit limbs are first reduced below 3p
# (2^256 exceeds 5p), and outputs are made canonical.

_M52 = (1 << 52) - 1
_P52 = [(_P >> (52 * k)) & _M52 for k in range(5)]
_NINV52 = (-pow(_P, -1, 1 << 52)) % (1 << 52)
# q = hi52(x_4 * _QEST) underestimates x / p by less than 2 (x_4 the top limb of x).
_QEST = (1 << 52) // (_P52[4] + 1)
# Montgomery form of 16 = 2^260 / 2^256: multiplying by it turns x 2^256 into x 2^260.
_SIXTEEN = tuple(int(v) for v in _montgomery(16))

_I64 = ir.IntType(64)
_V8 = ir.VectorType(_I64, 8)
_V4 = ir.VectorType(_I64, 4)


def _host_has_ifma() -> bool:
    # Kernels are compiled for the host unless NUMBA_CPU_NAME says otherwise; then trust
    # only an explicit feature list.
    if numba_config.CPU_NAME:
        features = numba_config.CPU_FEATURES or ""
        return "+avx512ifma" in features and "+avx512f" in features
    host = llvm_binding.get_host_cpu_features()
    return bool(host.get("avx512ifma")) and bool(host.get("avx512f"))


SIMD_AVAILABLE = _host_has_ifma()


def _splat(c: int):
    return ir.Constant(_V8, [ir.Constant(_I64, c)] * 8)


def _ifma(builder, high: bool, acc, a, b):
    name = "llvm.x86.avx512.vpmadd52h.uq.512" if high else "llvm.x86.avx512.vpmadd52l.uq.512"
    fn = builder.module.globals.get(name)
    if fn is None:
        fn = ir.Function(builder.module, ir.FunctionType(_V8, [_V8, _V8, _V8]), name=name)
    return builder.call(fn, [acc, a, b])


def _normalize(builder, x):
    """Carry every limb into the next one (signed carries: a limb may be negative)."""
    out = list(x)
    for k in range(4):
        carry = builder.ashr(out[k], _splat(52))
        out[k] = builder.and_(out[k], _splat(_M52))
        out[k + 1] = builder.add(out[k + 1], carry)
    return out


def _mont_mul(builder, a, b):
    """a * b / 2^260 mod p, below 2p, for a < 2^260 and b < p with normalized limbs."""
    zero = _splat(0)
    t = [zero] * 6
    for i in range(5):
        t[5] = zero
        for k in range(5):
            t[k] = _ifma(builder, False, t[k], a[k], b[i])
            t[k + 1] = _ifma(builder, True, t[k + 1], a[k], b[i])
        m = _ifma(builder, False, zero, t[0], _splat(_NINV52))
        for k in range(5):
            t[k] = _ifma(builder, False, t[k], m, _splat(_P52[k]))
            t[k + 1] = _ifma(builder, True, t[k + 1], m, _splat(_P52[k]))
        # t[0] is now a multiple of 2^52: keep its carry and shift down one limb.
        carry = builder.lshr(t[0], _splat(52))
        t = [builder.add(t[1], carry), t[2], t[3], t[4], t[5], zero]
    return _normalize(builder, t[:5])


def _add(builder, x, y):
    return _normalize(builder, [builder.add(x[k], y[k]) for k in range(5)])


def _sub_plus(builder, x, y, multiple: int):
    """x - y + multiple * p, for y below multiple * p."""
    off = [((multiple * _P) >> (52 * k)) & _M52 for k in range(4)] + [(multiple * _P) >> 208]
    return _normalize(builder, [builder.sub(builder.add(x[k], _splat(off[k])), y[k]) for k in range(5)])


def _reduce_below_3p(builder, x):
    """x - q p with q = floor(x / p) - {0, 1, 2}; any x < 2^260."""
    zero = _splat(0)
    q = _ifma(builder, True, zero, x[4], _splat(_QEST))
    lo = [_ifma(builder, False, zero, q, _splat(_P52[k])) for k in range(5)]
    hi = [_ifma(builder, True, zero, q, _splat(_P52[k])) for k in range(4)]
    r = [builder.sub(x[0], lo[0])] + [builder.sub(builder.sub(x[k], lo[k]), hi[k - 1]) for k in range(1, 5)]
    return _normalize(builder, r)


def _sub_p_if_not_below(builder, x):
    r = _normalize(builder, [builder.sub(x[k], _splat(_P52[k])) for k in range(5)])
    negative = builder.icmp_signed("<", r[4], _splat(0))
    return [builder.select(negative, x[k], r[k]) for k in range(5)]


def _canonical(builder, x):
    """x mod p for x < 3p."""
    return _sub_p_if_not_below(builder, _sub_p_if_not_below(builder, x))


def _from_u64(builder, w):
    """Four 64-bit limb vectors (value < 2^256) -> five 52-bit limb vectors."""
    m = _splat(_M52)
    return [
        builder.and_(w[0], m),
        builder.and_(builder.or_(builder.lshr(w[0], _splat(52)), builder.shl(w[1], _splat(12))), m),
        builder.and_(builder.or_(builder.lshr(w[1], _splat(40)), builder.shl(w[2], _splat(24))), m),
        builder.and_(builder.or_(builder.lshr(w[2], _splat(28)), builder.shl(w[3], _splat(36))), m),
        builder.lshr(w[3], _splat(16)),
    ]


def _to_u64(builder, x):
    """Five normalized 52-bit limb vectors of a value below 2^256 -> four 64-bit limb vectors."""
    return [
        builder.or_(x[0], builder.shl(x[1], _splat(52))),
        builder.or_(builder.lshr(x[1], _splat(12)), builder.shl(x[2], _splat(40))),
        builder.or_(builder.lshr(x[2], _splat(24)), builder.shl(x[3], _splat(28))),
        builder.or_(builder.lshr(x[3], _splat(36)), builder.shl(x[4], _splat(16))),
    ]


def _shuffle(builder, a, b, mask):
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(ir.IntType(32), len(mask)), mask))


def _elements_to_limbs(builder, e):
    """Eight elements as <4 x i64> (limbs 0..3) -> four 8-lane vectors, one per limb."""
    c = [_shuffle(builder, e[2 * i], e[2 * i + 1], list(range(8))) for i in range(4)]
    d0 = _shuffle(builder, c[0], c[1], [0, 4, 8, 12, 1, 5, 9, 13])
    d1 = _shuffle(builder, c[0], c[1], [2, 6, 10, 14, 3, 7, 11, 15])
    d2 = _shuffle(builder, c[2], c[3], [0, 4, 8, 12, 1, 5, 9, 13])
    d3 = _shuffle(builder, c[2], c[3], [2, 6, 10, 14, 3, 7, 11, 15])
    low, high = [0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]
    return [
        _shuffle(builder, d0, d2, low),
        _shuffle(builder, d0, d2, high),
        _shuffle(builder, d1, d3, low),
        _shuffle(builder, d1, d3, high),
    ]


def _limbs_to_element_pairs(builder, w):
    """Inverse of _elements_to_limbs: four 8-element vectors holding elements (0,1), (2,3), ..."""
    low, high = [0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]
    d0 = _shuffle(builder, w[0], w[1], low)
    d2 = _shuffle(builder, w[0], w[1], high)
    d1 = _shuffle(builder, w[2], w[3], low)
    d3 = _shuffle(builder, w[2], w[3], high)
    first, second = [0, 4, 8, 12, 1, 5, 9, 13], [2, 6, 10, 14, 3, 7, 11, 15]
    return [
        _shuffle(builder, d0, d1, first),
        _shuffle(builder, d0, d1, second),
        _shuffle(builder, d2, d3, first),
        _shuffle(builder, d2, d3, second),
    ]


def _transpose8(builder, v):
    """8 x 8 transpose: out[l][q] = v[q][l], swapping off-diagonal blocks of width 1, 2 and 4."""
    a = list(v)
    for width in (1, 2, 4):
        b = list(a)
        for q in range(8):
            if q & width:
                continue
            # Lanes in an even width-block keep their row; those in an odd one trade with the partner row.
            keep = [i if (i // width) % 2 == 0 else i - width + 8 for i in range(8)]
            trade = [i + width if (i // width) % 2 == 0 else i + 8 for i in range(8)]
            b[q] = _shuffle(builder, a[q], a[q + width], keep)
            b[q + width] = _shuffle(builder, a[q], a[q + width], trade)
        a = b
    return a


# ---------------------------------------------------------------- memory access in intrinsics


def _check_c_array(ty, ndim, what):
    if not (isinstance(ty, types.Array) and ty.dtype == types.uint64 and ty.ndim == ndim and ty.layout == "C"):
        raise TypingError(f"{what} must be a C-contiguous {ndim}-d uint64 array, got {ty}")


def _base(context, builder, aryty, ary):
    data = context.make_array(aryty)(context, builder, ary).data
    return builder.bitcast(data, ir.PointerType(_I64))


def _as_i64(context, builder, ty, value):
    return context.cast(builder, value, ty, types.int64)


def _word_ptr(builder, base, word_offset):
    return builder.gep(base, [word_offset])


def _load_v8(builder, base, word_offset):
    ptr = builder.bitcast(_word_ptr(builder, base, word_offset), ir.PointerType(_V8))
    return builder.load(ptr, align=8)


def _store_v8(builder, base, word_offset, value):
    ptr = builder.bitcast(_word_ptr(builder, base, word_offset), ir.PointerType(_V8))
    builder.store(value, ptr, align=8)


def _group_offset(builder, group, words):
    return builder.mul(group, ir.Constant(_I64, words))


def _load_group(builder, base, group):
    """Vector group ``group`` of a (m, 5, 8) array."""
    off = _group_offset(builder, group, 40)
    return [_load_v8(builder, base, builder.add(off, ir.Constant(_I64, 8 * k))) for k in range(5)]


def _store_group(builder, base, group, x):
    off = _group_offset(builder, group, 40)
    for k in range(5):
        _store_v8(builder, base, builder.add(off, ir.Constant(_I64, 8 * k)), x[k])


def _broadcast_element(builder, base, element):
    """Element ``element`` of a (m, 5, 8) array, copied to all eight lanes."""
    off = builder.add(builder.mul(builder.ashr(element, ir.Constant(_I64, 3)), ir.Constant(_I64, 40)),
                      builder.and_(element, ir.Constant(_I64, 7)))
    out = []
    for k in range(5):
        w = builder.load(_word_ptr(builder, base, builder.add(off, ir.Constant(_I64, 8 * k))), align=8)
        v = builder.insert_element(ir.Constant(_V8, ir.Undefined), w, ir.Constant(ir.IntType(32), 0))
        out.append(_shuffle(builder, v, v, [0] * 8))
    return out


# ---------------------------------------------------------------- intrinsics


@intrinsic
def _v_gather(typingctx, src, start, step, mask, dst, di):
    """dst[di] lane l <- src element (start + l * step) & mask, converted to 52-bit limbs."""
    _check_c_array(src, 2, "src")
    _check_c_array(dst, 3, "dst")
    sig = types.void(src, start, step, mask, dst, di)

    def codegen(context, builder, signature, args):
        s_ty, st_ty, sp_ty, m_ty, d_ty, i_ty = signature.args
        sbase = _base(context, builder, s_ty, args[0])
        start = _as_i64(context, builder, st_ty, args[1])
        step = _as_i64(context, builder, sp_ty, args[2])
        mask = _as_i64(context, builder, m_ty, args[3])
        elements = []
        for lane in range(8):
            idx = builder.and_(builder.add(start, builder.mul(step, ir.Constant(_I64, lane))), mask)
            ptr = builder.bitcast(_word_ptr(builder, sbase, builder.mul(idx, ir.Constant(_I64, 4))),
                                  ir.PointerType(_V4))
            elements.append(builder.load(ptr, align=8))
        x = _from_u64(builder, _elements_to_limbs(builder, elements))
        _store_group(builder, _base(context, builder, d_ty, args[4]), _as_i64(context, builder, i_ty, args[5]), x)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _v_mul(typingctx, a, ia, b, ib, out, io):
    """out[io] = a[io] * b[ib] / 2^260 (b an R260-form factor below p)."""
    for ty, what in ((a, "a"), (b, "b"), (out, "out")):
        _check_c_array(ty, 3, what)
    sig = types.void(a, ia, b, ib, out, io)

    def codegen(context, builder, signature, args):
        t = signature.args
        x = _load_group(builder, _base(context, builder, t[0], args[0]), _as_i64(context, builder, t[1], args[1]))
        y = _load_group(builder, _base(context, builder, t[2], args[2]), _as_i64(context, builder, t[3], args[3]))
        z = _mont_mul(builder, x, y)
        _store_group(builder, _base(context, builder, t[4], args[4]), _as_i64(context, builder, t[5], args[5]), z)
        return context.get_dummy_value()

    return sig, codegen


def _butterfly_intrinsic(twiddle: str, multiple: int = 2):
    """x[i], x[j] <- x[i] + w x[j], x[i] - w x[j] (+ multiple * p), for three kinds of twiddle w.

    twiddle "one": w = 1, needs x[j] < multiple * p; "broadcast": w = element e of tw in all
    lanes; "vector": w = vector group e of tw.
    """

    @intrinsic
    def butterfly(typingctx, x, i, j, tw, e):
        _check_c_array(x, 3, "x")
        if twiddle != "one":
            _check_c_array(tw, 3, "tw")
        sig = types.void(x, i, j, tw, e)

        def codegen(context, builder, signature, args):
            t = signature.args
            base = _base(context, builder, t[0], args[0])
            gi = _as_i64(context, builder, t[1], args[1])
            gj = _as_i64(context, builder, t[2], args[2])
            u = _load_group(builder, base, gi)
            v = _load_group(builder, base, gj)
            if twiddle == "one":
                w_v = v
            else:
                tbase = _base(context, builder, t[3], args[3])
                e_ = _as_i64(context, builder, t[4], args[4])
                w = _broadcast_element(builder, tbase, e_) if twiddle == "broadcast" else _load_group(builder, tbase, e_)
                w_v = _mont_mul(builder, v, w)
            _store_group(builder, base, gi, _add(builder, u, w_v))
            _store_group(builder, base, gj, _sub_plus(builder, u, w_v, multiple))
            return context.get_dummy_value()

        return sig, codegen

    return butterfly


_v_butterfly_one2 = _butterfly_intrinsic("one", 2)
_v_butterfly_one4 = _butterfly_intrinsic("one", 4)
_v_butterfly_broadcast = _butterfly_intrinsic("broadcast")
_v_butterfly_vector = _butterfly_intrinsic("vector")


@intrinsic
def _v_scatter_blocks(typingctx, x, i0, out, groups):
    """Groups x[i0 .. i0+7] (lane l = block l, vector q = position q) -> out64[groups[l]] = positions of block l.

    out64 is (n/8, 4, 8): eight consecutive elements as four 64-bit limb vectors.
    """
    _check_c_array(x, 3, "x")
    _check_c_array(out, 3, "out")
    if not (isinstance(groups, types.Array) and groups.dtype == types.int64 and groups.ndim == 1):
        raise TypingError("groups must be a 1-d int64 array")
    sig = types.void(x, i0, out, groups)

    def codegen(context, builder, signature, args):
        t = signature.args
        xbase = _base(context, builder, t[0], args[0])
        first = _as_i64(context, builder, t[1], args[1])
        limbs = []  # limbs[q][k]
        for q in range(8):
            v = _load_group(builder, xbase, builder.add(first, ir.Constant(_I64, q)))
            limbs.append(_to_u64(builder, _reduce_below_3p(builder, v)))
        obase = _base(context, builder, t[2], args[2])
        garr = context.make_array(t[3])(context, builder, args[3])
        gptr = garr.data
        per_block = [[None] * 4 for _ in range(8)]
        for k in range(4):
            rows = _transpose8(builder, [limbs[q][k] for q in range(8)])
            for lane in range(8):
                per_block[lane][k] = rows[lane]
        for lane in range(8):
            g = builder.load(builder.gep(gptr, [ir.Constant(_I64, lane)]))
            off = _group_offset(builder, g, 32)
            for k in range(4):
                _store_v8(builder, obase, builder.add(off, ir.Constant(_I64, 8 * k)), per_block[lane][k])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _v_load_u64_group(typingctx, src, g, x, i):
    """x[i] <- src64[g], four 64-bit limb vectors -> five 52-bit ones."""
    _check_c_array(src, 3, "src")
    _check_c_array(x, 3, "x")
    sig = types.void(src, g, x, i)

    def codegen(context, builder, signature, args):
        t = signature.args
        sbase = _base(context, builder, t[0], args[0])
        off = _group_offset(builder, _as_i64(context, builder, t[1], args[1]), 32)
        w = [_load_v8(builder, sbase, builder.add(off, ir.Constant(_I64, 8 * k))) for k in range(4)]
        _store_group(builder, _base(context, builder, t[2], args[2]), _as_i64(context, builder, t[3], args[3]),
                     _from_u64(builder, w))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _v_store_u64_group(typingctx, x, i, dst, g):
    """dst64[g] <- x[i] reduced below 3p, as four 64-bit limb vectors."""
    _check_c_array(x, 3, "x")
    _check_c_array(dst, 3, "dst")
    sig = types.void(x, i, dst, g)

    def codegen(context, builder, signature, args):
        t = signature.args
        v = _load_group(builder, _base(context, builder, t[0], args[0]), _as_i64(context, builder, t[1], args[1]))
        w = _to_u64(builder, _reduce_below_3p(builder, v))
        dbase = _base(context, builder, t[2], args[2])
        off = _group_offset(builder, _as_i64(context, builder, t[3], args[3]), 32)
        for k in range(4):
            _store_v8(builder, dbase, builder.add(off, ir.Constant(_I64, 8 * k)), w[k])
        return context.get_dummy_value()

    return sig, codegen


def _store_elements_intrinsic(scaled: bool):
    """out elements 8g .. 8g+7 <- x[i] (times the R260 factor f[fi] if scaled), canonical, (n, 4) layout."""

    @intrinsic
    def store_elements(typingctx, x, i, f, fi, out, g):
        _check_c_array(x, 3, "x")
        _check_c_array(f, 3, "f")
        _check_c_array(out, 2, "out")
        sig = types.void(x, i, f, fi, out, g)

        def codegen(context, builder, signature, args):
            t = signature.args
            v = _load_group(builder, _base(context, builder, t[0], args[0]), _as_i64(context, builder, t[1], args[1]))
            if scaled:
                c = _load_group(builder, _base(context, builder, t[2], args[2]), _as_i64(context, builder, t[3], args[3]))
                v = _mont_mul(builder, v, c)
            else:
                v = _reduce_below_3p(builder, v)
            pairs = _limbs_to_element_pairs(builder, _to_u64(builder, _canonical(builder, v)))
            obase = _base(context, builder, t[4], args[4])
            off = _group_offset(builder, _as_i64(context, builder, t[5], args[5]), 32)
            for h in range(4):
                _store_v8(builder, obase, builder.add(off, ir.Constant(_I64, 8 * h)), pairs[h])
            return context.get_dummy_value()

        return sig, codegen

    return store_elements


_v_store_elements = _store_elements_intrinsic(False)
_v_store_elements_scaled = _store_elements_intrinsic(True)


# ---------------------------------------------------------------- vector kernels


@njit(cache=True, parallel=True)
def _simd_blocks(src, out64, tw, log_n, log_b, reverse, rev_b, rev_r, pre_start, pre_step, scratch, cursor):
    """Phase 1: the first log_b stages, on the R = n / 2^log_b blocks of the bit-reversed sequence.

    Block t holds column j1 = rev_r[t] of the sequence, s_(j1 + R j2), in bit-reversed order
    of j2. Lanes carry eight consecutive columns, so one gather reads eight neighbouring
    input elements (see _Job for s). When pre_start has rows, pre_start[g] lane l holds
    c^(8g + l) and pre_step c^R in every lane. Blocks leave in out64 (n/8, 4, 8) below 3p.
    """
    n = 1 << log_n
    width = 1 << log_b
    columns = n >> log_b
    groups = columns >> 3
    workers = scratch.shape[0]
    prescale = pre_start.shape[0] > 0
    for w in prange(workers):
        x = scratch[w]
        cur = cursor[w]
        dest = np.empty(8, dtype=np.int64)
        for g in range(w, groups, workers):
            if prescale:
                cur[0] = pre_start[g]
            for j2 in range(width):
                s = rev_b[j2]
                first = 8 * g + columns * j2
                if reverse:
                    _v_gather(src, n - first, -1, n - 1, x, s)
                else:
                    _v_gather(src, first, 1, n - 1, x, s)
                if prescale:
                    _v_mul(x, s, cur, 0, x, s)
                    _v_mul(cur, 0, pre_step, 0, cur, 0)
            # From inputs below 2p, stage 1 needs no twiddle and stage 2 only omega_4 = tw[3].
            for s in range(0, width, 2):
                _v_butterfly_one2(x, s, s + 1, tw, 0)
            for s in range(0, width, 4):
                _v_butterfly_one4(x, s, s + 2, tw, 0)
                _v_butterfly_broadcast(x, s + 1, s + 3, tw, 3)
            m = 4
            while m < width:
                for base in range(0, width, 2 * m):
                    for j in range(m):
                        _v_butterfly_broadcast(x, base + j, base + j + m, tw, m + j)
                m <<= 1
            for s8 in range(width >> 3):
                for lane in range(8):
                    dest[lane] = rev_r[8 * g + lane] * (width >> 3) + s8
                _v_scatter_blocks(x, 8 * s8, out64, dest)


@njit(cache=True, parallel=True)
def _simd_columns(out64, out, tw, log_n, log_b, u0, u1, final, post_mode, post, post_lo, post_step, scratch, cursor):
    """Phase 2: stages log_b + u for u0 <= u < u1, on tiles of one column (8 positions) of 2^(u1 - u0) blocks.

    A tile gathers blocks t = t_hi 2^u1 + q 2^u0 + t_lo for q < 2^(u1 - u0). The last pass
    (``final``) writes canonical elements in natural order into out (n, 4), the memory of
    out64: with post_mode 0 as they are, 1 times the factor post[0], 2 times a f^i for
    output i, given post[c] lane l = a f^(8c + l), post_lo[t_lo] = f^(t_lo B) in every lane
    and post_step = f^(B 2^u0) (B = 2^log_b).
    """
    n = 1 << log_n
    width = 1 << log_b
    columns = width >> 3
    rows = 1 << (u1 - u0)
    lows = 1 << u0
    highs = (n >> log_b) >> u1
    tiles = columns * lows * highs
    workers = scratch.shape[0]
    stride = columns << u0
    for w in prange(workers):
        x = scratch[w]
        cur = cursor[w]
        for tile in range(w, tiles, workers):
            c = tile % columns
            t_lo = (tile // columns) % lows
            t_hi = tile // (columns * lows)
            first = ((t_hi << u1) + t_lo) * columns + c
            for q in range(rows):
                _v_load_u64_group(out64, first + q * stride, x, q)
            for u in range(u0, u1):
                half = 1 << (u - u0)
                m = width << u
                for base in range(0, rows, 2 * half):
                    for d in range(half):
                        e = m + ((d << u0) + t_lo) * width + 8 * c
                        _v_butterfly_vector(x, base + d, base + d + half, tw, e >> 3)
            if not final:
                for q in range(rows):
                    _v_store_u64_group(x, q, out64, first + q * stride)
            elif post_mode == 0:
                for q in range(rows):
                    _v_store_elements(x, q, post, 0, out, first + q * stride)
            elif post_mode == 1:
                for q in range(rows):
                    _v_store_elements_scaled(x, q, post, 0, out, first + q * stride)
            else:
                _v_mul(post, c, post_lo, t_lo, cur, 0)
                for q in range(rows):
                    _v_store_elements_scaled(x, q, cur, 0, out, first + q * stride)
                    _v_mul(cur, 0, post_step, 0, cur, 0)


@njit(cache=True)
def _r260_limbs(v):
    """A Montgomery element (v = x 2^256) -> the 52-bit limbs of x 2^260 mod p."""
    w = mul(v, (np.uint64(_SIXTEEN[0]), np.uint64(_SIXTEEN[1]), np.uint64(_SIXTEEN[2]), np.uint64(_SIXTEEN[3])), _F)
    m52 = np.uint64(_M52)
    return (
        w[0] & m52,
        ((w[0] >> np.uint64(52)) | (w[1] << np.uint64(12))) & m52,
        ((w[1] >> np.uint64(40)) | (w[2] << np.uint64(24))) & m52,
        ((w[2] >> np.uint64(28)) | (w[3] << np.uint64(36))) & m52,
        w[3] >> np.uint64(16),
    )


@njit(cache=True, parallel=True)
def _to_groups(a, out):
    """(m, 4) Montgomery elements -> R260 vector groups out (m/8, 5, 8), element i in lane i % 8 of group i / 8."""
    for i in prange(a.shape[0]):
        limbs = _r260_limbs(load(a, i))
        for k in range(5):
            out[i >> 3, k, i & 7] = limbs[k]


@njit(cache=True)
def _geometric_groups(base, start, out, lanes_alike):
    """R260 vector groups of start * base^i: element i in lane i % 8 of group i / 8, or with
    lanes_alike in every lane of group i."""
    count = out.shape[0] if lanes_alike else out.shape[0] * 8
    acc = start
    for i in range(count):
        limbs = _r260_limbs(acc)
        for k in range(5):
            if lanes_alike:
                for lane in range(8):
                    out[i, k, lane] = limbs[k]
            else:
                out[i >> 3, k, i & 7] = limbs[k]
        acc = mul(acc, base, _F)


# ================================================================ drivers

# Phase-1 blocks and phase-2 tiles of 2^10 vectors (320 KiB) stay in a core's L2 beside their twiddles.
MAX_LOG_BLOCK = 10
MAX_LOG_TILE = 10
# The vector transform needs eight blocks of at least eight elements.
SIMD_MIN_LOG_SIZE = 6


def _aligned_empty(shape) -> np.ndarray:
    """An uninitialised uint64 array whose data starts on a cache line, so vectors never straddle two."""
    count = int(np.prod(shape))
    raw = np.empty(count + 8, dtype=np.uint64)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip : skip + count].reshape(shape)


def _geometric(base: int, count: int, start: int = 1, lanes_alike: bool = False) -> np.ndarray:
    """start * base^i for i < count as R260 vector groups (see _geometric_groups)."""
    out = _aligned_empty((count if lanes_alike else -(-count // 8), 5, 8))
    _geometric_groups(_montgomery(base), _montgomery(start), out, lanes_alike)
    return out


def _broadcast(value: int) -> np.ndarray:
    """One vector group holding value (R260 form) in every lane."""
    v = (value % _P << 260) % _P
    out = _aligned_empty((1, 5, 8))
    out[0] = np.array([(v >> (52 * k)) & _M52 for k in range(5)], dtype=np.uint64)[:, None]
    return out


_ONE_GROUP = _broadcast(1)
_NO_GROUPS = np.zeros((0, 5, 8), dtype=np.uint64)

_table_lock = threading.Lock()
_simd_table: dict = {"log_size": -1, "groups": None}


def _simd_twiddles(log_n: int) -> np.ndarray:
    """The stage-twiddle table of 2^log_n entries as R260 groups: a prefix of the largest one built so far."""
    with _table_lock:
        if _simd_table["log_size"] < log_n:
            table = _stage_twiddles(log_n)
            groups = _aligned_empty((len(table) // 8, 5, 8))
            _to_groups(table, groups)
            _simd_table["groups"], _simd_table["log_size"] = groups, log_n
        return _simd_table["groups"][: (1 << log_n) // 8]


class _SimdPlan:
    """The schedule of the vector transform of size 2^log_n: phase-1 blocks and phase-2 passes."""

    def __init__(self, log_n: int, max_log_block: int = MAX_LOG_BLOCK, max_log_tile: int = MAX_LOG_TILE):
        if log_n < SIMD_MIN_LOG_SIZE:
            raise ValueError(f"the vector transform needs n >= 2^{SIMD_MIN_LOG_SIZE}")
        # Blocks of about sqrt(n) balance the two phases; at least 8 blocks of 8 elements.
        self.log_n = log_n
        self.log_b = max(3, min(max_log_block, (log_n + 1) // 2, log_n - 3))
        rest = log_n - self.log_b
        count = -(-rest // max_log_tile)
        cuts = [rest * i // count for i in range(count + 1)]
        self.passes = list(zip(cuts[:-1], cuts[1:]))
        # The bounds above allow at most 30 stages per pass before values near 2^260.
        assert self.log_b <= 30 and all(u1 - u0 <= 30 for u0, u1 in self.passes)
        self.rev_b = _bit_reversal(self.log_b)
        self.rev_r = _bit_reversal(rest)


def _simd_transform(src: np.ndarray, out: np.ndarray, plan: _SimdPlan, job: _Job) -> None:
    log_n, log_b = plan.log_n, plan.log_b
    n = 1 << log_n
    width, columns = 1 << log_b, n >> log_b
    tw = _simd_twiddles(log_n)
    threads = numba.get_num_threads()
    out64 = out.reshape(n // 8, 4, 8)
    cursor = _aligned_empty((threads, 1, 5, 8))

    if job.pre is None:
        pre_start, pre_step = _NO_GROUPS, _ONE_GROUP
    else:
        pre_start, pre_step = _geometric(job.pre, columns), _broadcast(pow(job.pre, columns, _P))
    workers = min(threads, columns // 8)
    _simd_blocks(src, out64, tw, log_n, log_b, job.reverse, plan.rev_b, plan.rev_r, pre_start, pre_step,
                 _aligned_empty((workers, width, 5, 8)), cursor)

    for index, (u0, u1) in enumerate(plan.passes):
        final = index == len(plan.passes) - 1
        mode, post, post_lo, post_step = 0, _ONE_GROUP, _ONE_GROUP, _ONE_GROUP
        if final and job.scale is not None and job.ratio is None:
            mode, post = 1, _broadcast(job.scale)
        elif final and job.scale is not None:
            f = job.ratio
            mode = 2
            post = _geometric(f, width, job.scale)
            post_lo = _geometric(pow(f, width, _P), 1 << u0, lanes_alike=True)
            post_step = _broadcast(pow(f, width << u0, _P))
        workers = min(threads, (width // 8) * (columns >> (u1 - u0)))
        _simd_columns(out64, out, tw, log_n, log_b, u0, u1, final, mode, post, post_lo, post_step,
                      _aligned_empty((workers, 1 << (u1 - u0), 5, 8)), cursor)


# Sizes from which the scalar transform is worth spreading over threads.
_SCALAR_PARALLEL_LOG_SIZE = 12


def _scalar_transform(src: np.ndarray, out: np.ndarray, twiddles: np.ndarray, log_n: int, job: _Job) -> None:
    n = 1 << log_n
    pre = np.zeros((0, LIMBS), dtype=np.uint64) if job.pre is None else _powers(job.pre, n)
    if job.scale is None:
        post = np.zeros((0, LIMBS), dtype=np.uint64)
    elif job.ratio is None:
        post = np.array([_montgomery(job.scale)], dtype=np.uint64)
    else:
        post = _powers(job.ratio, n, job.scale)
    kernel = _scalar_transform_parallel if log_n >= _SCALAR_PARALLEL_LOG_SIZE else _scalar_transform_serial
    kernel(src, out, twiddles, log_n, job.reverse, pre, post)


# ================================================================ domains


class Domain:
    """The subgroup H = {omega^i : i < n} of Fr*, n = 2^log_size, and the transforms on H and its cosets.

    Arrays are Fr Montgomery ``(n, 4) uint64`` of canonical elements in natural order.
    Each transform returns a new array, or fills and returns ``out`` when given (a
    C-contiguous ``(n, 4) uint64`` array that does not overlap the input). The input is
    never modified.
    """

    def __init__(self, log_size: int):
        if not 0 <= log_size <= MAX_LOG_SIZE:
            raise ValueError(f"no subgroup of size 2^{log_size} in Fr (the largest is 2^{MAX_LOG_SIZE})")
        self.log_size = log_size
        self.size = 1 << log_size
        self.omega = _omega(log_size)
        self.omega_inv = pow(self.omega, -1, _P)
        self.size_inv = pow(self.size, -1, _P)
        self._simd_plan = None
        self._scalar_twiddles = None

    def __repr__(self) -> str:
        return f"Domain(2^{self.log_size})"

    def elements(self) -> np.ndarray:
        """omega^i for i < n, as a Montgomery array."""
        return _powers(self.omega, self.size)

    def ntt(self, coeffs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Coefficients a_0..a_{n-1} -> values a(omega^i) for i < n."""
        return self._transform(coeffs, out, _Job())

    def intt(self, evals: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Values on H -> coefficients of the interpolating polynomial of degree < n."""
        # a_j = n^-1 sum_i v_i omega^(-ij): the forward transform of v_(-i mod n), scaled.
        return self._transform(evals, out, _Job(reverse=True, scale=self.size_inv))

    def coset_ntt(self, coeffs: np.ndarray, shift: int = COSET_SHIFT, out: np.ndarray | None = None) -> np.ndarray:
        """Coefficients -> values a(shift * omega^i) for i < n: the forward transform of a_j shift^j."""
        return self._transform(coeffs, out, _Job(pre=self._check_shift(shift)))

    def coset_intt(self, evals: np.ndarray, shift: int = COSET_SHIFT, out: np.ndarray | None = None) -> np.ndarray:
        """Values on shift * H -> coefficients: the inverse transform with a_j divided by shift^j."""
        ratio = pow(self._check_shift(shift), -1, _P)
        return self._transform(evals, out, _Job(reverse=True, scale=self.size_inv, ratio=ratio))

    # ------------------------------------------------------------------
    @staticmethod
    def _check_shift(shift: int) -> int:
        shift = int(shift) % _P
        if shift == 0:
            raise ValueError("the coset shift must be a non-zero element of Fr")
        return shift

    def _transform(self, values, out, job: _Job, simd: bool | None = None, plan: _SimdPlan | None = None):
        n = self.size
        values = np.asarray(values)
        if values.dtype != np.uint64 or values.shape != (n, LIMBS):
            raise ValueError(f"{self} transforms ({n}, {LIMBS}) uint64 arrays, not {values.dtype} {values.shape}")
        values = np.ascontiguousarray(values)
        if out is None:
            out = _aligned_empty((n, LIMBS))
        elif out.dtype != np.uint64 or out.shape != (n, LIMBS) or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous ({n}, {LIMBS}) uint64 array")
        elif np.may_share_memory(out, values):
            raise ValueError("out must not overlap the input")
        if simd is None:
            simd = SIMD_AVAILABLE and self.log_size >= SIMD_MIN_LOG_SIZE
        if simd:
            if plan is None:
                if self._simd_plan is None:
                    self._simd_plan = _SimdPlan(self.log_size)
                plan = self._simd_plan
            _simd_transform(values, out, plan, job)
        else:
            if self._scalar_twiddles is None:
                self._scalar_twiddles = _stage_twiddles(self.log_size)
            _scalar_transform(values, out, self._scalar_twiddles, self.log_size, job)
        return out


@functools.lru_cache(maxsize=None)
def domain(log_size: int) -> Domain:
    """The cached domain of size 2^log_size (its twiddles are computed on first use)."""
    return Domain(log_size)
