"""Word-level arithmetic for the Numba kernels: 64x64->128-bit products through LLVM i128."""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_U64 = types.uint64
_PAIR = types.UniTuple(_U64, 2)


@intrinsic
def mac(typingctx, a, b, c, d):
    """(hi, lo) of a*b + c + d, which always fits in 128 bits."""
    sig = _PAIR(_U64, _U64, _U64, _U64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        wa, wb, wc, wd = [builder.zext(x, i128) for x in args]
        s = builder.add(builder.add(builder.mul(wa, wb), wc), wd)
        lo = builder.trunc(s, ir.IntType(64))
        hi = builder.trunc(builder.lshr(s, ir.Constant(i128, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@intrinsic
def adc(typingctx, a, b, carry):
    """(carry_out, sum) of a + b + carry, carry in {0, 1}."""
    sig = _PAIR(_U64, _U64, _U64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        wa, wb, wc = [builder.zext(x, i128) for x in args]
        s = builder.add(builder.add(wa, wb), wc)
        lo = builder.trunc(s, ir.IntType(64))
        hi = builder.trunc(builder.lshr(s, ir.Constant(i128, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@intrinsic
def sbb(typingctx, a, b, borrow):
    """(borrow_out, difference) of a - b - borrow, borrow in {0, 1}."""
    sig = _PAIR(_U64, _U64, _U64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        wa, wb, wc = [builder.zext(x, i128) for x in args]
        d = builder.sub(builder.sub(wa, wb), wc)
        lo = builder.trunc(d, ir.IntType(64))
        # The high word of a negative i128 difference is all ones: take its lowest bit.
        hi = builder.and_(
            builder.trunc(builder.lshr(d, ir.Constant(i128, 64)), ir.IntType(64)),
            ir.Constant(ir.IntType(64), 1),
        )
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@njit(cache=True)
def _self_test(a, b, c, d):
    return mac(a, b, c, d), adc(a, b, c & np.uint64(1)), sbb(a, b, d & np.uint64(1))

