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

A round of M > 1 shards (``zksolvency prove --shards M``) is one file of format
``zksolvency-sharded-round/1``: the fields every shard shares once (round id,
time, mode, assets, slots, log_n and n, the one verifying key, margin terms),
the round's ``totals`` (their sum over the shards) or ``reserves`` (what the
allocations may sum to at most), ``shard_count`` and ``shards``, in index
order, each::

    shard               its index 0..M-1
    totals | allocation   its totals (public mode) or its part of the reserves (private mode)
    debts               (public margin rounds) its debt totals
    public_inputs       [shard tag, ..] as a one-shard round's, under zksolvency.hashing.shard_tag
    inclusion_commitment, proof

A shard is a round statement of its own (``RoundStatement`` with ``shard``).

An inclusion file of a sharded round has format ``zksolvency-inclusion/3``
and one more field, ``shard``: the index of the shard whose commitment its
records open against.

An inclusion file (one user's, exported by the exchange)::

    format, round_id, user_id, salt (0x, 32 bytes), assets (the round's names, in index order),
    records: [{"row", "slots": [{"asset": name | null, "units": "..."}], "proof": 0x..}]

The records are in index order: record k of m is the k-th, and its hash
commits to k and m (``zksolvency.hashing.record_hash``). Only the form is
checked here; the rules a verifier applies (``zksolvency.verifier.inclusion``)
are checked there, on every path alike.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from zksolvency.circuits.solvency import MAX_SLOTS, MIN_SLOTS, RECORD_ROWS
from zksolvency.constants import R_MODULUS, TWO_ADICITY
from zksolvency.encoding import EncodingError, G1Point
from zksolvency.files import write_atomic
from zksolvency.ingest import MAX_ASSET_NAME, MAX_DECIMALS, lookalike_key, shown, text_problem
from zksolvency.verifier.formats import VerifyingKey

ROUND_FORMAT = "zksolvency-round/1"
SHARDED_ROUND_FORMAT = "zksolvency-sharded-round/1"
INCLUSION_FORMAT = "zksolvency-inclusion/2"
SHARDED_INCLUSION_FORMAT = "zksolvency-inclusion/3"
MAX_SHARDS = 1 << 20
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
    # A margin round: its prices and ratios (zksolvency.margin.MarginTerms) and, in public mode, the debt
    # total per asset (the "totals" are then the equity totals).
    margin: object = None
    debts: tuple | None = None
    # A shard of a round of several: (index, count); None for a round of one shard.
    shard: tuple | None = None

    @property
    def n(self) -> int:
        return 1 << self.log_n

    def tag(self) -> int:
        """The first public input: the round tag (zksolvency.hashing), or the shard's tag for a shard."""
        from zksolvency.hashing import round_tag, shard_tag

        tag = round_tag(self.round_id, self.timestamp, [(a.name, a.decimals) for a in self.assets])
        return tag if self.shard is None else shard_tag(tag, *self.shard)

    @property
    def shard_statements(self) -> tuple:
        """The proofs this round stands on: itself (one shard)."""
        return (self,)

    def shape(self):
        """The round's circuit shape (ValueError if the stated one is not a solvency circuit)."""
        from zksolvency.circuits.solvency import SolvencyShape

        return SolvencyShape(self.log_n, self.slots, self.private_totals, self.margin is not None)

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
            **self._margin_json(),
        }

    def _margin_json(self) -> dict:
        if self.margin is None:
            return {}
        from zksolvency.margin import QUOTE, QUOTE_DECIMALS

        names = [a.name for a in self.assets]
        out = {
            "quote": {"name": QUOTE, "decimals": QUOTE_DECIMALS},
            "prices": {a: str(p) for a, p in zip(names, self.margin.prices)},
            "collateral_ratios_bps": {a: r for a, r in zip(names, self.margin.ratios)},
        }
        if not self.private_totals:
            out["debts"] = {a: str(d) for a, d in zip(names, self.debts)}
        return out

    def save(self, path) -> None:
        write_atomic(Path(path), canonical_json(self.to_json()))

    @staticmethod
    def load(path) -> "RoundStatement":
        """A round of one shard; a sharded round's file is refused, saying so (``load_round`` reads both)."""
        path = Path(path)
        obj = _load_json(path, "round file")
        if isinstance(obj, dict) and obj.get("format") == SHARDED_ROUND_FORMAT:
            count = obj.get("shard_count")
            raise ArtifactError(f"{path}: a round of {count} shards, not the statement of one (read it with "
                                "load_round)")
        return RoundStatement.from_json(obj, str(path))

    @staticmethod
    def from_json(obj, where: str = "round.json") -> "RoundStatement":
        """Parse strictly: exactly the fields of the round's mode, each of its exact type and form."""
        f = _Fields(obj, where)
        mode = f.text("mode")
        if mode not in ("public", "private"):
            raise ArtifactError(f"{where}: mode must be 'public' or 'private', not {mode[:40]!r}")
        private = mode == "private"
        values_name = "reserves" if private else "totals"
        margin = isinstance(obj, dict) and "prices" in obj
        margin_fields = (MARGIN_FIELDS + (() if private else ("debts",))) if margin else ()
        _exact_keys(obj, where, ROUND_FIELDS + (values_name,) + margin_fields)
        if f.text("format") != ROUND_FORMAT:
            raise ArtifactError(f"{where}: format {obj['format'][:40]!r} is not {ROUND_FORMAT!r}")
        round_id = _round_id(f)
        timestamp = f.text("timestamp")
        if not _TIMESTAMP.fullmatch(timestamp) or not _is_time(timestamp):
            raise ArtifactError(f"{where}: field 'timestamp' must be a UTC time as 2026-11-24T08:00:00Z")
        assets = _assets(f)
        names = [a.name for a in assets]
        values_raw = f.get(values_name, dict)
        if sorted(values_raw) != sorted(names):
            raise ArtifactError(f"{where}: {values_name} must name every asset exactly once")
        values = tuple(_decimal_string(values_raw[name], f"{where}: {values_name}.{name}") for name in names)
        public = tuple(
            _decimal_string(x, f"{where}: public_inputs[{i}]") for i, x in enumerate(f.get("public_inputs", list))
        )
        slots = f.integer("slots")
        if not (MIN_SLOTS <= slots <= MAX_SLOTS and slots % RECORD_ROWS == 0):
            raise ArtifactError(f"{where}: slots must be an even number from {MIN_SLOTS} to {MAX_SLOTS}")
        log_n, n = f.integer("log_n"), f.integer("n")
        if not 0 <= log_n <= TWO_ADICITY or n != 1 << log_n:
            raise ArtifactError(f"{where}: n must be 2^log_n with log_n <= {TWO_ADICITY}")
        try:
            commitment = G1Point.from_bytes(f.hex_bytes("inclusion_commitment", 64), f"{where}: inclusion_commitment")
        except EncodingError as e:
            raise ArtifactError(str(e)) from None
        proof = f.hex_bytes("proof")
        try:
            vk = VerifyingKey.from_json(f.get("verifying_key", dict))
        except EncodingError as e:
            raise ArtifactError(f"{where}: {e}") from None
        terms, debts = _margin_terms(f, names, private) if margin else (None, None)
        return RoundStatement(round_id, timestamp, private, assets, slots, log_n, values, public, commitment, proof, vk,
                              terms, debts)


@dataclass(frozen=True)
class ShardedStatement:
    """A round of several shards: what every shard shares, the round's totals (or reserves), and the shards,
    each a RoundStatement of its own (``shard`` = (index, count)), sharing one verifying key."""

    round_id: str
    timestamp: str
    private_totals: bool
    assets: tuple
    slots: int
    log_n: int
    values: tuple  # the round's totals (public mode: the shards' sum) or its reserves (private mode)
    verifying_key: VerifyingKey
    shards: tuple  # RoundStatement, in index order
    margin: object = None
    debts: tuple | None = None  # public margin rounds: the shards' debt totals summed

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def values_name(self) -> str:
        return "reserves" if self.private_totals else "totals"

    @property
    def shard_statements(self) -> tuple:
        return self.shards

    def shape(self):
        return self.shards[0].shape()

    def to_json(self) -> dict:
        first = self.shards[0].to_json()
        common = {k: first[k] for k in SHARED_FIELDS + MARGIN_FIELDS if k in first}
        common.update(
            format=SHARDED_ROUND_FORMAT,
            shard_count=len(self.shards),
            **{self.values_name: {a.name: str(v) for a, v in zip(self.assets, self.values)}},
        )
        if self.debts is not None:
            common["debts"] = {a.name: str(d) for a, d in zip(self.assets, self.debts)}
        common["shards"] = [_shard_json(s) for s in self.shards]
        return common

    def save(self, path) -> None:
        write_atomic(Path(path), canonical_json(self.to_json()))

    @staticmethod
    def from_json(obj, where: str = "round.json") -> "ShardedStatement":
        """Parse strictly: the shared fields once, then every shard as a round statement of its own."""
        f = _Fields(obj, where)
        if f.text("format") != SHARDED_ROUND_FORMAT:
            raise ArtifactError(f"{where}: format {obj['format'][:40]!r} is not {SHARDED_ROUND_FORMAT!r}")
        mode = f.text("mode")
        if mode not in ("public", "private"):
            raise ArtifactError(f"{where}: mode must be 'public' or 'private', not {mode[:40]!r}")
        private = mode == "private"
        margin = "prices" in obj
        values_name = "reserves" if private else "totals"
        margin_fields = (MARGIN_FIELDS + (() if private else ("debts",))) if margin else ()
        _exact_keys(obj, where, SHARED_FIELDS + (values_name, "shard_count", "shards") + margin_fields)
        count = f.integer("shard_count")
        listed = f.get("shards", list)
        if not 2 <= count <= MAX_SHARDS or len(listed) != count:
            raise ArtifactError(f"{where}: shard_count must be 2 to {MAX_SHARDS} and the number of shards listed")
        shards, vk = [], None
        for i, entry in enumerate(listed):
            at = f"{where}: shards[{i}]"
            ef = _Fields(entry, at)
            kept = ("shard", "totals" if not private else "allocation", "public_inputs", "inclusion_commitment",
                    "proof") + (("debts",) if margin and not private else ())
            _exact_keys(entry, at, kept)
            if ef.integer("shard") != i:
                raise ArtifactError(f"{at}: field 'shard' must be {i} (the shards are listed in index order)")
            merged = {k: obj[k] for k in SHARED_FIELDS + (MARGIN_FIELDS if margin else ()) if k in obj}
            merged.update({k: v for k, v in entry.items() if k not in ("shard", "allocation")})
            merged["format"] = ROUND_FORMAT
            if private:
                merged["reserves"] = entry["allocation"]
            shard = RoundStatement.from_json(merged, at)
            vk = vk or shard.verifying_key  # one key: parsed once, shared by every shard
            shards.append(dataclasses.replace(shard, verifying_key=vk, shard=(i, count)))
        first = shards[0]
        names = [a.name for a in first.assets]
        values_raw = f.get(values_name, dict)
        if sorted(values_raw) != sorted(names):
            raise ArtifactError(f"{where}: {values_name} must name every asset exactly once")
        values = tuple(_decimal_string(values_raw[n], f"{where}: {values_name}.{n}") for n in names)
        debts = None
        if margin and not private:
            raw = f.get("debts", dict)
            if sorted(raw) != sorted(names):
                raise ArtifactError(f"{where}: debts must name every asset exactly once")
            debts = tuple(_decimal_string(raw[n], f"{where}: debts.{n}") for n in names)
        return ShardedStatement(first.round_id, first.timestamp, private, first.assets, first.slots, first.log_n,
                                values, vk, tuple(shards), first.margin, debts)


# What every shard of a sharded round shares, stated once in its file.
SHARED_FIELDS = ("format", "round_id", "timestamp", "mode", "assets", "slots", "log_n", "n", "verifying_key")


def _shard_json(shard: RoundStatement) -> dict:
    own = shard.to_json()
    out = {"shard": shard.shard[0], "public_inputs": own["public_inputs"],
           "inclusion_commitment": own["inclusion_commitment"], "proof": own["proof"]}
    out["allocation" if shard.private_totals else "totals"] = own[shard.values_name]
    if "debts" in own:
        out["debts"] = own["debts"]
    return out


def load_round(path):
    """A round file of either kind: a RoundStatement (one shard) or a ShardedStatement."""
    path = Path(path)
    obj = _load_json(path, "round file")
    if isinstance(obj, dict) and obj.get("format") == SHARDED_ROUND_FORMAT:
        return ShardedStatement.from_json(obj, str(path))
    return RoundStatement.from_json(obj, str(path))


MARGIN_FIELDS = ("quote", "prices", "collateral_ratios_bps")


def _margin_terms(f: "_Fields", names, private: bool):
    """A margin round's prices, ratios and (public mode) debt totals, each naming every asset exactly once."""
    from zksolvency.margin import QUOTE, QUOTE_DECIMALS, MarginError, MarginTerms

    where = f.where
    quote = f.get("quote", dict)
    if quote != {"name": QUOTE, "decimals": QUOTE_DECIMALS}:
        raise ArtifactError(f"{where}: quote must be {{'name': {QUOTE!r}, 'decimals': {QUOTE_DECIMALS}}}")

    def per_asset(key: str, parse):
        raw = f.get(key, dict)
        if sorted(raw) != sorted(names):
            raise ArtifactError(f"{where}: {key} must name every asset exactly once")
        return tuple(parse(raw[name], f"{where}: {key}.{name}") for name in names)

    def ratio(value, at):
        if type(value) is not int:
            raise ArtifactError(f"{at} must be a whole number of basis points")
        return value

    prices = per_asset("prices", _decimal_string)
    ratios = per_asset("collateral_ratios_bps", ratio)
    try:
        terms = MarginTerms(prices, ratios)
    except MarginError as e:
        raise ArtifactError(f"{where}: {e}") from None
    debts = None if private else per_asset("debts", _decimal_string)
    return terms, debts


# The fields of round.json besides "totals" (public mode) or "reserves" (private mode).
ROUND_FIELDS = ("format", "round_id", "timestamp", "mode", "assets", "slots", "log_n", "n", "public_inputs",
                "inclusion_commitment", "proof", "verifying_key")
_TIMESTAMP = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _exact_keys(obj: dict, where: str, keys) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ArtifactError(f"{where}: missing field {missing[0]!r}")
    extra = [k for k in obj if k not in keys]
    if extra:
        raise ArtifactError(f"{where}: unexpected field {str(extra[0])[:40]!r}")


def _decimal_string(value, where: str) -> int:
    if not isinstance(value, str):
        raise ArtifactError(f"{where}: expected a decimal string of digits, got {_JSON_KINDS.get(type(value), 'no')} "
                            "JSON string")
    return _decimal(value, where)


_JSON_KINDS = {bool: "a boolean, not a", int: "a number, not a", float: "a number, not a", type(None): "null, not a",
               list: "an array, not a", dict: "an object, not a"}


def _is_time(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _round_id(f: _Fields) -> str:
    """The round id under the rule ``prove`` writes it by (``zksolvency.round.check_round_id``)."""
    from zksolvency.round import MAX_ROUND_ID, RoundError, check_round_id  # round.py builds on this module

    round_id = f.text("round_id")
    try:
        return check_round_id(round_id)
    except RoundError:
        raise ArtifactError(f"{f.where}: field 'round_id' must be 1..{MAX_ROUND_ID} printable characters") from None


def _assets(f: _Fields) -> tuple:
    """The assets, in index order: names a customer can tell apart (the ledger's rules), decimals 0..30."""
    listed = f.get("assets", list)
    if not listed:
        raise ArtifactError(f"{f.where}: field 'assets' is empty (a round has at least one asset)")
    assets, first = [], {}
    for i, a in enumerate(listed):
        af = _Fields(a, f"{f.where}: assets[{i}]")
        _exact_keys(a, af.where, ("name", "decimals"))
        name, decimals = af.text("name"), af.integer("decimals")
        if not 0 <= decimals <= MAX_DECIMALS:
            raise ArtifactError(f"{af.where}: decimals must be a whole number from 0 to {MAX_DECIMALS}")
        if len(name) > MAX_ASSET_NAME:
            raise ArtifactError(f"{af.where}: an asset name of {len(name)} characters (at most {MAX_ASSET_NAME})")
        problem = text_problem(name, "asset name")
        if problem:
            raise ArtifactError(f"{af.where}: {problem}")
        key = lookalike_key(name)
        if key in first:
            j = first[key]
            same = "appears twice" if assets[j].name == name else "looks the same as"
            raise ArtifactError(f"{af.where}: asset name {shown(name)} {same} assets[{j}]")
        first[key] = i
        assets.append(Asset(name, decimals))
    return tuple(assets)


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
    shard: int | None = None  # the shard of a sharded round whose commitment the records open against

    def to_json(self) -> dict:
        sharded = {} if self.shard is None else {"shard": self.shard}
        return {
            "format": INCLUSION_FORMAT if self.shard is None else SHARDED_INCLUSION_FORMAT,
            **sharded,
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
        fields = ("format", "round_id", "user_id", "salt", "assets", "records")
        sharded = isinstance(obj, dict) and obj.get("format") == SHARDED_INCLUSION_FORMAT
        f = _Fields(obj, where, fields + (("shard",) if sharded else ()))
        if f.text("format") not in (INCLUSION_FORMAT, SHARDED_INCLUSION_FORMAT):
            raise ArtifactError(f"{where}: format {obj.get('format')!r} is not {INCLUSION_FORMAT!r} "
                                f"(or {SHARDED_INCLUSION_FORMAT!r} for a sharded round)")
        shard = None
        if sharded:
            shard = f.integer("shard")
            if not 0 <= shard < MAX_SHARDS:
                raise ArtifactError(f"{where}: shard must be a whole number from 0 to {MAX_SHARDS - 1}")
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
        return InclusionFile(f.text("round_id"), f.text("user_id"), salt, tuple(records), tuple(assets), shard)


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
        return json.loads(text, parse_int=_json_int, parse_constant=_json_constant, object_pairs_hook=_unique_keys)
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


def _unique_keys(pairs) -> dict:
    """A JSON object whose keys are all distinct (a repeated key would let two readers see two values)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


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
            _exact_keys(obj, where, keys)

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
