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


@intrinsic
def prefetch_row(typingctx, array, index):
    """Ask the cache for row ``index`` of ``array`` ahead of a read-modify-write (no effect on results)."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        from numba.core import cgutils

        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        row_stride = cgutils.unpack_tuple(builder, ary.strides, aryty.ndim)[0]
        i64 = ir.IntType(64)
        idx = args[1] if args[1].type.width == 64 else builder.sext(args[1], i64)
        address = builder.add(builder.ptrtoint(ary.data, i64), builder.mul(idx, row_stride))
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        # write intent, high temporal locality, data cache
        builder.call(prefetch, [builder.inttoptr(address, byte_ptr), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
