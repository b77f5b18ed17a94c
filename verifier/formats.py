"""Versioned canonical formats of the verifying key and the proof: bytes, JSON and digests.

Verifying key bytes::

    "ZKSVK" | version u8 | insecure u8 | log_n u8 | name_len u16 | name
    | circuit_digest 32 | srs_digest 32 | [1]_1 64 | [1]_2 128 | [tau]_2 128
    | fixed_count u16 | fixed commitments 64 each

Proof bytes (the counts come from the circuit's layout)::

    "ZKSP" | version u8 | witness commitments | argument commitments
    | quotient commitments | evaluations (32 each) | W_zeta | W_zeta_omega

All integers big-endian, points and scalars in the EVM encodings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from zksolvency.encoding import (
    G1_BYTES,
    G2_BYTES,
    SCALAR_BYTES,
    EncodingError,
    G1Point,
    G2Point,
    decode_scalar,
    encode_scalar,
)
from zksolvency.verifier.protocol import Layout
from zksolvency.verifier.transcript import keccak256

FORMAT_VERSION = 1
VK_MAGIC = b"ZKSVK"
PROOF_MAGIC = b"ZKSP"


class _Reader:
    def __init__(self, data: bytes, what: str):
        self.data, self.pos, self.what = data, 0, what

    def take(self, k: int, item: str) -> bytes:
        if self.pos + k > len(self.data):
            raise EncodingError(f"{self.what}: truncated at {item} (byte {self.pos} of {len(self.data)})")
        out = self.data[self.pos : self.pos + k]
        self.pos += k
        return out

    def uint(self, k: int, item: str) -> int:
        return int.from_bytes(self.take(k, item), "big")

    def g1(self, item: str) -> G1Point:
        at = self.pos
        return G1Point.from_bytes(self.take(G1_BYTES, item), f"{self.what}: {item} (byte {at})")

    def scalar(self, item: str) -> int:
        at = self.pos
        return decode_scalar(self.take(SCALAR_BYTES, item), f"{self.what}: {item} (byte {at})")

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise EncodingError(f"{self.what}: {len(self.data) - self.pos} trailing bytes")


@dataclass(frozen=True)
class VerifyingKey:
    circuit: str
    log_n: int
    circuit_digest: bytes  # keccak256 of the compiled circuit's canonical description
    srs_digest: bytes
    insecure: bool  # made from an insecure development SRS
    g1: G1Point
    g2: G2Point
    tau_g2: G2Point
    fixed_commitments: tuple

    def to_bytes(self) -> bytes:
        name = self.circuit.encode()
        parts = [
            VK_MAGIC,
            bytes([FORMAT_VERSION, int(self.insecure), self.log_n]),
            len(name).to_bytes(2, "big"),
            name,
            self.circuit_digest,
            self.srs_digest,
            self.g1.to_bytes(),
            self.g2.to_bytes(),
            self.tau_g2.to_bytes(),
            len(self.fixed_commitments).to_bytes(2, "big"),
        ]
        parts += [c.to_bytes() for c in self.fixed_commitments]
        return b"".join(parts)

    def digest(self) -> bytes:
        return keccak256(self.to_bytes())

    @staticmethod
    def from_bytes(data: bytes) -> "VerifyingKey":
        r = _Reader(data, "verifying key")
        if r.take(len(VK_MAGIC), "magic") != VK_MAGIC:
            raise EncodingError("verifying key: not a zksolvency verifying key (bad magic)")
        version = r.uint(1, "version")
        if version != FORMAT_VERSION:
            raise EncodingError(f"verifying key: unsupported format version {version}")
        insecure = r.uint(1, "insecure flag")
        if insecure not in (0, 1):
            raise EncodingError("verifying key: insecure flag must be 0 or 1")
        log_n = r.uint(1, "log_n")
        try:
            name = r.take(r.uint(2, "name length"), "name").decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise EncodingError("verifying key: the circuit name is not UTF-8") from None
        circuit_digest = r.take(32, "circuit digest")
        srs_digest = r.take(32, "srs digest")
        g1 = r.g1("[1]_1")
        g2 = G2Point.from_bytes(r.take(G2_BYTES, "[1]_2"), "verifying key: [1]_2")
        tau_g2 = G2Point.from_bytes(r.take(G2_BYTES, "[tau]_2"), "verifying key: [tau]_2")
        count = r.uint(2, "fixed count")
        fixed = tuple(r.g1(f"fixed commitment {i}") for i in range(count))
        r.finish()
        return VerifyingKey(name, log_n, circuit_digest, srs_digest, bool(insecure), g1, g2, tau_g2, fixed)

    def to_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "circuit": self.circuit,
            "log_n": self.log_n,
            "circuit_digest": "0x" + self.circuit_digest.hex(),
            "srs_digest": "0x" + self.srs_digest.hex(),
            "insecure": self.insecure,
            "g1": self.g1.hex(),
            "g2": "0x" + self.g2.to_bytes().hex(),
            "tau_g2": "0x" + self.tau_g2.to_bytes().hex(),
            "fixed_commitments": [c.hex() for c in self.fixed_commitments],
            "digest": "0x" + self.digest().hex(),
            "bytes": "0x" + self.to_bytes().hex(),
        }

    @staticmethod
    def from_json(obj) -> "VerifyingKey":
        """The canonical bytes are authoritative; every other field must be exactly what they give."""
        if not isinstance(obj, dict):
            raise EncodingError("verifying key JSON: expected an object")
        missing = [k for k in VK_JSON_FIELDS if k not in obj]
        if missing:
            raise EncodingError(f"verifying key JSON: missing field {missing[0]!r}")
        extra = [k for k in obj if k not in VK_JSON_FIELDS]
        if extra:
            raise EncodingError(f"verifying key JSON: unexpected field {str(extra[0])[:40]!r}")
        text = obj["bytes"]
        if not isinstance(text, str) or not _CANONICAL_HEX.fullmatch(text):
            raise EncodingError("verifying key JSON: field 'bytes' must be 0x and an even number of lowercase hex "
                                "digits")
        vk = VerifyingKey.from_bytes(bytes.fromhex(text[2:]))
        # JSON text compared, not Python values: 8.0 == 8 and True == 1 in Python, not in the format.
        try:
            agree = json.dumps(vk.to_json(), sort_keys=True) == json.dumps(obj, sort_keys=True)
        except (TypeError, ValueError):  # not a JSON value at all (from a caller, never from a file)
            agree = False
        if not agree:
            raise EncodingError("verifying key JSON: fields disagree with its canonical bytes")
        return vk


@dataclass(frozen=True)
class Proof:
    witness_commitments: tuple
    argument_commitments: tuple
    quotient_commitments: tuple
    evaluations: tuple
    opening_zeta: G1Point
    opening_zeta_omega: G1Point

    def to_bytes(self) -> bytes:
        parts = [PROOF_MAGIC, bytes([FORMAT_VERSION])]
        for group in (self.witness_commitments, self.argument_commitments, self.quotient_commitments):
            parts += [c.to_bytes() for c in group]
        parts += [encode_scalar(e) for e in self.evaluations]
        parts += [self.opening_zeta.to_bytes(), self.opening_zeta_omega.to_bytes()]
        return b"".join(parts)

    @staticmethod
    def size(lay: Layout) -> int:
        points = len(lay.witness_columns) + len(lay.argument_columns) + lay.quotient_chunks + 2
        return len(PROOF_MAGIC) + 1 + points * G1_BYTES + lay.num_evaluations * SCALAR_BYTES

    @staticmethod
    def from_bytes(data: bytes, lay: Layout) -> "Proof":
        if len(data) != Proof.size(lay):
            raise EncodingError(f"proof: expected {Proof.size(lay)} bytes for this circuit, got {len(data)}")
        r = _Reader(data, "proof")
        if r.take(len(PROOF_MAGIC), "magic") != PROOF_MAGIC:
            raise EncodingError("proof: not a zksolvency proof (bad magic)")
        version = r.uint(1, "version")
        if version != FORMAT_VERSION:
            raise EncodingError(f"proof: unsupported format version {version}")
        witness = tuple(r.g1(f"commitment to {c.name}") for c in lay.witness_columns)
        argument = tuple(r.g1(f"commitment to {c.name}") for c in lay.argument_columns)
        quotient = tuple(r.g1(f"quotient chunk {i}") for i in range(lay.quotient_chunks))
        evaluations = tuple(r.scalar(f"evaluation {i}") for i in range(lay.num_evaluations))
        w = r.g1("opening at zeta")
        w_omega = r.g1("opening at zeta*omega")
        r.finish()
        return Proof(witness, argument, quotient, evaluations, w, w_omega)

    def hex(self) -> str:
        return "0x" + self.to_bytes().hex()


VK_JSON_FIELDS = ("format_version", "circuit", "log_n", "circuit_digest", "srs_digest", "insecure", "g1", "g2",
                  "tau_g2", "fixed_commitments", "digest", "bytes")
_CANONICAL_HEX = re.compile("0x(?:[0-9a-f]{2})*")
