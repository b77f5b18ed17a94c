"""Keccak-256 Fiat–Shamir transcript, shared by the prover, the verifier and the Solidity template.

The transcript is a running 32-byte state. Absorbed items are appended, in
their canonical EVM encodings, to a pending buffer; a challenge is
``keccak256(state || buffer)`` reduced mod r, which also becomes the new
state. Solidity recomputes this with one ``keccak256`` over memory per
challenge. Item labels name the protocol steps in code and in errors; they are
not hashed (their order is fixed by the protocol, and hashing them would only
cost gas).
"""

from __future__ import annotations

from Crypto.Hash import keccak

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point, encode_scalar

# Domain separator hashed first into every transcript; bump the version with the protocol.
PROTOCOL_DOMAIN = b"zksolvency/plonkish-kzg/v1"


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


class Transcript:
    """Fiat–Shamir transcript: absorb labelled items, squeeze challenges in Fr."""

    def __init__(self, vk_digest: bytes):
        if len(vk_digest) != 32:
            raise ValueError("verifying-key digest must be 32 bytes")
        self._state = keccak256(PROTOCOL_DOMAIN)
        self._pending = bytearray()
        self.absorb_bytes("vk_digest", vk_digest)

    def absorb_bytes(self, label: str, data: bytes) -> None:
        self._pending += data

    def absorb_scalar(self, label: str, x: int) -> None:
        self._pending += encode_scalar(x)

    def absorb_scalars(self, label: str, xs) -> None:
        for x in xs:
            self._pending += encode_scalar(x)

    def absorb_point(self, label: str, point: G1Point) -> None:
        self._pending += point.to_bytes()

    def absorb_points(self, label: str, points) -> None:
        for p in points:
            self._pending += p.to_bytes()

    def challenge(self, label: str) -> int:
        """A challenge in Fr bound to everything absorbed so far."""
        self._state = keccak256(self._state + bytes(self._pending))
        self._pending.clear()
        return int.from_bytes(self._state, "big") % R_MODULUS
