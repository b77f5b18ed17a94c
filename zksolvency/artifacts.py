"""Round artifacts: the public ``round.json`` and the user's inclusion file, read and written strictly.

``round.json`` (public; canonical: UTF-8, sorted keys, two-space indent)::

    format              "zksolvency-round/1"
    round_id            the exchange's name for the round
    timestamp           UTC, ISO 8601 to the second
    mode                "public" (totals published) or "private" (only reserves)
    assets              [{"name", "decimals"}], index j + 1 in the circuit is assets[j]
    slots, log_n, n     the circuit shape (limb width follows from log_n)
    totals | reserves   asset name -> smallest units (decimal string)
    public_inputs       [round tag, v_1 .. v_K] as decimal strings
    inclusion_commitment  the commitment users open (0x, 64 bytes)
    proof               0x + the proof's canonical bytes
    verifying_key       the verifying key's JSON form (canonical bytes inside)

Nothing in it depends on a balance, user id or salt except through hiding
commitments; the user count appears only as the power of two n.

An inclusion file (one user's, exported by the exchange)::

    format, round_id, user_id, salt (0x, 32 bytes), assets (the round's names, in index order),
    records: [{"row", "slots": [{"asset": name | null, "units": "..."}], "proof": 0x..}]

The records are in index order: record k of m is the k-th, and its hash
commits to k and m (``zksolvency.hashing.record_hash``). Only the form is
checked here; the rules a verifier applies (``zksolvency.verifier.inclusion``)
are checked there, on every path alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import EncodingError, G1Point
from zksolvency.files import write_atomic
from zksolvency.verifier.formats import VerifyingKey

ROUND_FORMAT = "zksolvency-round/1"
INCLUSION_FORMAT = "zksolvency-inclusion/2"
MAX_ROW = 1 << 64  # a row number is bounded where it is read; whether it is one of the round's is an inclusion rule


class ArtifactError(ValueError):
    """A round or inclusion file that cannot be used; the message names the file and the field."""


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Asset:
    name: str
    decimals: int


@dataclass(frozen=True)
class RoundStatement:
    """The public part of a round: what was proven, and the proof."""

    round_id: str
    timestamp: str
    private_totals: bool
    assets: tuple  # Asset
    slots: int
    log_n: int
    values: tuple  # int per asset: totals (public mode) or reserves (private mode)
    public_inputs: tuple  # int
    inclusion_commitment: G1Point
    proof: bytes
    verifying_key: VerifyingKey

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def values_name(self) -> str:
        return "reserves" if self.private_totals else "totals"

    def to_json(self) -> dict:
        return {
            "format": ROUND_FORMAT,
            "round_id": self.round_id,
            "timestamp": self.timestamp,
            "mode": "private" if self.private_totals else "public",
            "assets": [{"name": a.name, "decimals": a.decimals} for a in self.assets],
            "slots": self.slots,
            "log_n": self.log_n,
            "n": self.n,
            self.values_name: {a.name: str(v) for a, v in zip(self.assets, self.values)},
            "public_inputs": [str(x) for x in self.public_inputs],
            "inclusion_commitment": self.inclusion_commitment.hex(),
            "proof": "0x" + self.proof.hex(),
            "verifying_key": self.verifying_key.to_json(),
        }

    def save(self, path) -> None:
        write_atomic(Path(path), canonical_json(self.to_json()))

    @staticmethod
    def load(path) -> "RoundStatement":
        path = Path(path)
        obj = _load_json(path, "round file")
        return RoundStatement.from_json(obj, str(path))

    @staticmethod
    def from_json(obj, where: str = "round.json") -> "RoundStatement":
        f = _Fields(obj, where)
        if f.text("format") != ROUND_FORMAT:
            raise ArtifactError(f"{where}: format {obj.get('format')!r} is not {ROUND_FORMAT!r}")
        mode = f.text("mode")
        if mode not in ("public", "private"):
            raise ArtifactError(f"{where}: mode must be 'public' or 'private', not {mode!r}")
        private = mode == "private"
        assets_raw = f.get("assets", list)
        assets = []
        for i, a in enumerate(assets_raw):
            af = _Fields(a, f"{where}: assets[{i}]")
            decimals = af.integer("decimals")
            if not 0 <= decimals <= 30:
                raise ArtifactError(f"{where}: assets[{i}].decimals must be 0..30")
            assets.append(Asset(af.text("name"), decimals))
        names = [a.name for a in assets]
        if not assets or len(set(names)) != len(names):
            raise ArtifactError(f"{where}: assets must be a non-empty list of distinct names")
        values_name = "reserves" if private else "totals"
        values_raw = f.get(values_name, dict)
        if sorted(values_raw) != sorted(names):
            raise ArtifactError(f"{where}: {values_name} must name every asset exactly once")
        values = tuple(_decimal(values_raw[name], f"{where}: {values_name}.{name}") for name in names)
        public = tuple(
            _decimal(x, f"{where}: public_inputs[{i}]") for i, x in enumerate(f.get("public_inputs", list))
        )
        log_n = f.integer("log_n")
        if f.integer("n") != 1 << log_n if 0 <= log_n <= 28 else True:
            raise ArtifactError(f"{where}: n must be 2^log_n with log_n <= 28")
        try:
            commitment = G1Point.from_hex(f.text("inclusion_commitment"), f"{where}: inclusion_commitment")
            vk = VerifyingKey.from_json(f.get("verifying_key", dict))
        except EncodingError as e:
            raise ArtifactError(f"{where}: {e}") from None
        return RoundStatement(
            round_id=f.text("round_id"),
            timestamp=f.text("timestamp"),
            private_totals=private,
            assets=tuple(assets),
            slots=f.integer("slots"),
            log_n=log_n,
            values=values,
            public_inputs=public,
            inclusion_commitment=commitment,
            proof=f.hex_bytes("proof"),
            verifying_key=vk,
        )


@dataclass(frozen=True)
class InclusionRecord:
    row: int
    slots: tuple  # (asset name or None, units)
    proof: G1Point  # as written: its validity is an inclusion rule (zksolvency.verifier.inclusion.Rule)


@dataclass(frozen=True)
class InclusionFile:
    round_id: str
    user_id: str
    salt: bytes
    records: tuple  # InclusionRecord, in index order
    assets: tuple  # the round's asset names in index order (for checks against the chain alone)

    def to_json(self) -> dict:
        return {
            "format": INCLUSION_FORMAT,
            "round_id": self.round_id,
            "user_id": self.user_id,
            "salt": "0x" + self.salt.hex(),
            "assets": list(self.assets),
            "records": [
                {
                    "row": r.row,
                    "slots": [{"asset": a, "units": str(u)} for a, u in r.slots],
                    "proof": r.proof.hex(),
                }
                for r in self.records
            ],
        }

    def save(self, path) -> None:
        write_atomic(Path(path), canonical_json(self.to_json()))

    @staticmethod
    def load(path) -> "InclusionFile":
        path = Path(path)
        return InclusionFile.from_json(_load_json(path, "inclusion file"), str(path))

    @staticmethod
    def from_json(obj, where: str) -> "InclusionFile":
        f = _Fields(obj, where, ("format", "round_id", "user_id", "salt", "assets", "records"))
        if f.text("format") != INCLUSION_FORMAT:
            raise ArtifactError(f"{where}: format {obj.get('format')!r} is not {INCLUSION_FORMAT!r}")
        salt = f.hex_bytes("salt", 32)
        records = []
        for i, r in enumerate(f.get("records", list)):
            rf = _Fields(r, f"{where}: records[{i}]", ("row", "slots", "proof"))
            slots = []
            for k, s in enumerate(rf.get("slots", list)):
                sf = _Fields(s, f"{where}: records[{i}].slots[{k}]", ("asset", "units"))
                asset = sf.get("asset", (str, type(None)))
                if asset is not None:
                    _unicode(asset, f"{sf.where}.asset")
                slots.append((asset, _decimal(sf.get("units", str), f"{sf.where}.units")))
            x, y = (int.from_bytes(half, "big") for half in _halves(rf.hex_bytes("proof", 64)))
            row = rf.integer("row")
            if not 0 <= row < MAX_ROW:
                raise ArtifactError(f"{rf.where}: row must be a whole number from 0 to 2^64 - 1")
            records.append(InclusionRecord(row, tuple(slots), G1Point(x, y)))
        assets = f.get("assets", list)
        if not all(isinstance(a, str) for a in assets) or len(set(assets)) != len(assets):
            raise ArtifactError(f"{where}: assets must be a list of distinct names")
        for i, a in enumerate(assets):
            _unicode(a, f"{where}: assets[{i}]")
        return InclusionFile(f.text("round_id"), f.text("user_id"), salt, tuple(records), tuple(assets))


def _halves(data: bytes):
    return data[:32], data[32:]


MAX_FILE_BYTES = 16 << 20  # far above any round or inclusion file
MAX_DEPTH = 64  # of nested JSON arrays and objects (the formats nest four deep)
MAX_DIGITS = 80  # of a decimal string: every value is below r < 10^77


def _load_json(path: Path, what: str):
    """The file's JSON, or ArtifactError: unreadable, too large, not JSON, nested too deep, a number too long."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ArtifactError(f"{path}: the {what} is larger than {MAX_FILE_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ArtifactError(f"{path}: cannot read the {what}: {e}") from None
    if _depth(text) > MAX_DEPTH:
        raise ArtifactError(f"{path}: the {what} nests arrays or objects more than {MAX_DEPTH} deep")
    try:
        return json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    except ValueError as e:
        raise ArtifactError(f"{path}: {e}") from None


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings (checked before parsing: the parser recurses)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number of {len(text)} digits (at most {MAX_DIGITS})")
    return int(text)


def _json_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _decimal(text, where: str) -> int:
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise ArtifactError(f"{where}: expected a decimal string of digits, got {text[:40]!r}")
    if len(text) > MAX_DIGITS:
        raise ArtifactError(f"{where}: a number of {len(text)} digits is not below the field modulus")
    value = int(text)
    if value >= R_MODULUS:
        raise ArtifactError(f"{where}: {text} is not below the field modulus")
    return value


class _Fields:
    """Typed access to a JSON object's fields with errors that name the field; ``keys``: exactly these."""

    def __init__(self, obj, where: str, keys=None):
        if not isinstance(obj, dict):
            raise ArtifactError(f"{where}: expected a JSON object")
        self.obj, self.where = obj, where
        if keys is not None:
            missing = [k for k in keys if k not in obj]
            extra = sorted(set(obj) - set(keys))
            if missing:
                raise ArtifactError(f"{where}: missing field {missing[0]!r}")
            if extra:
                raise ArtifactError(f"{where}: unexpected field {extra[0]!r}")

    def get(self, key: str, kind):
        if key not in self.obj:
            raise ArtifactError(f"{self.where}: missing field {key!r}")
        value = self.obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (int in kinds and isinstance(value, bool)):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise ArtifactError(f"{self.where}: field {key!r} must be a {names}")
        return value

    def text(self, key: str) -> str:
        return _unicode(self.get(key, str), f"{self.where}: field {key!r}")

    def integer(self, key: str) -> int:
        return self.get(key, int)

    def hex_bytes(self, key: str, length: int | None = None) -> bytes:
        """0x and lowercase or uppercase hex digits only (of ``length`` bytes when given)."""
        text = self.text(key)
        digits = text[2:]
        if not text.startswith("0x") or len(digits) % 2 or not all(c in _HEX for c in digits):
            raise ArtifactError(f"{self.where}: field {key!r} must be 0x and an even number of hex digits")
        if length is not None and len(digits) != 2 * length:
            raise ArtifactError(f"{self.where}: field {key!r} must be {length} bytes")
        return bytes.fromhex(digits)


_HEX = frozenset("0123456789abcdefABCDEF")


def _unicode(text: str, where: str) -> str:
    """``text`` if it is valid Unicode (JSON's escapes can spell lone surrogates, which no UTF-8 encodes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ArtifactError(f"{where}: not valid Unicode (a lone surrogate)") from None
    return text
