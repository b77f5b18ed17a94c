"""Canonical EVM encodings of BN254 values, and the typed points every layer passes around.

G1 points are ``x || y`` (64 bytes, big-endian, the point at infinity as 64
zero bytes, as the EVM precompiles take them); field elements are 32-byte
big-endian words; G2 points are ``x.c1 || x.c0 || y.c1 || y.c0`` (the order of
the EVM pairing precompile). Decoding checks everything and raises
``EncodingError`` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from zksolvency.constants import CURVE_B, Q_MODULUS, R_MODULUS

G1_BYTES = 64
G2_BYTES = 128
SCALAR_BYTES = 32


class EncodingError(ValueError):
    """Bytes that are not a canonical encoding of the expected value."""


@dataclass(frozen=True)
class G1Point:
    """An affine point of G1 in canonical integers; infinity is (0, 0)."""

    x: int
    y: int

    @staticmethod
    def infinity() -> "G1Point":
        return G1Point(0, 0)

    @property
    def is_infinity(self) -> bool:
        return self.x == 0 and self.y == 0

    def is_on_curve(self) -> bool:
        if self.is_infinity:
            return True
        return (self.y * self.y - self.x * self.x * self.x - CURVE_B) % Q_MODULUS == 0

    def to_bytes(self) -> bytes:
        return self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    @staticmethod
    def from_bytes(data: bytes, what: str = "G1 point") -> "G1Point":
        if len(data) != G1_BYTES:
            raise EncodingError(f"{what}: expected {G1_BYTES} bytes, got {len(data)}")
        x = int.from_bytes(data[:32], "big")
        y = int.from_bytes(data[32:], "big")
        if x >= Q_MODULUS or y >= Q_MODULUS:
            raise EncodingError(f"{what}: coordinate is not below the base field modulus")
        point = G1Point(x, y)
        if not point.is_on_curve():
            raise EncodingError(f"{what}: not on the curve y^2 = x^3 + 3")
        return point

    def to_py_ecc(self):
        from py_ecc.optimized_bn128 import FQ, Z1

        if self.is_infinity:
            return Z1
        return (FQ(self.x), FQ(self.y), FQ(1))

    @staticmethod
    def from_py_ecc(p) -> "G1Point":
        from py_ecc.optimized_bn128 import is_inf, normalize

        if is_inf(p):
            return G1Point.infinity()
        x, y = normalize(p)
        return G1Point(int(x), int(y))

    def hex(self) -> str:
        return "0x" + self.to_bytes().hex()

    @staticmethod
    def from_hex(text: str, what: str = "G1 point") -> "G1Point":
        """The inverse of ``hex``: 0x and 128 hex digits, checked like ``from_bytes``."""
        if not isinstance(text, str) or not text.startswith("0x"):
            raise EncodingError(f"{what}: expected 0x-prefixed hex")
        try:
            data = bytes.fromhex(text[2:])
        except ValueError:
            raise EncodingError(f"{what}: not valid hex") from None
        return G1Point.from_bytes(data, what)


@dataclass(frozen=True)
class G2Point:
    """An affine point of G2 over Fq2: coordinates as (c0, c1) pairs, c0 + c1*u."""

    x: tuple
    y: tuple

    def to_bytes(self) -> bytes:
        words = (self.x[1], self.x[0], self.y[1], self.y[0])
        return b"".join(w.to_bytes(32, "big") for w in words)

    @staticmethod
    def from_bytes(data: bytes, what: str = "G2 point") -> "G2Point":
        from py_ecc.optimized_bn128 import FQ2, b2, curve_order, is_on_curve, multiply

        if len(data) != G2_BYTES:
            raise EncodingError(f"{what}: expected {G2_BYTES} bytes, got {len(data)}")
        x1, x0, y1, y0 = (int.from_bytes(data[i : i + 32], "big") for i in range(0, 128, 32))
        if max(x0, x1, y0, y1) >= Q_MODULUS:
            raise EncodingError(f"{what}: coordinate is not below the base field modulus")
        point = G2Point((x0, x1), (y0, y1))
        p = point.to_py_ecc()
        if not is_on_curve(p, b2):
            raise EncodingError(f"{what}: not on the twist curve")
        # G2 has a cofactor: a point must also lie in the prime-order subgroup.
        if multiply(p, curve_order)[2] != FQ2.zero():
            raise EncodingError(f"{what}: not in the subgroup of order r")
        return point

    def to_py_ecc(self):
        from py_ecc.optimized_bn128 import FQ2

        return (FQ2(list(self.x)), FQ2(list(self.y)), FQ2.one())

    @staticmethod
    def from_py_ecc(p) -> "G2Point":
        from py_ecc.optimized_bn128 import normalize

        x, y = normalize(p)
        return G2Point(tuple(int(c) for c in x.coeffs), tuple(int(c) for c in y.coeffs))


def encode_scalar(x: int) -> bytes:
    """An element of Fr as a 32-byte big-endian word."""
    if not 0 <= x < R_MODULUS:
        raise ValueError("scalar out of range [0, r)")
    return x.to_bytes(32, "big")


def decode_scalar(data: bytes, what: str = "scalar") -> int:
    if len(data) != SCALAR_BYTES:
        raise EncodingError(f"{what}: expected {SCALAR_BYTES} bytes, got {len(data)}")
    x = int.from_bytes(data, "big")
    if x >= R_MODULUS:
        raise EncodingError(f"{what}: not below the scalar field modulus r")
    return x
