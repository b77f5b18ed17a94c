"""A solvency round, end to end on the exchange's side: ledger -> records -> proof -> openings -> artifacts.

Records (DESIGN.md, "The solvency circuit"): every user takes
max(1, ceil(k / S)) records for k non-zero balances and S slots per record,
each record carrying the user's hash. A record spans two table rows, so the
n = 2^k rows hold n/2 records; the records are placed at uniformly random
positions among those n/2 (fresh randomness every round), so a row number
says nothing about the user, and the positions users see do not bound how
many users there are beyond n. Every other row is zero padding. A user's
inclusion proof names the record's first row (always even).

``prove_round`` does all the work in memory and returns a ``Round``;
``Round.write`` puts ``round.json`` and ``inclusion.sqlite`` into a fresh
directory beside the target and renames it into place, so an interrupted or
refused run leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from zksolvency.artifacts import Asset, RoundStatement, ShardedStatement
from zksolvency.circuits.solvency import (
    FIRST_ASSET_KEY,
    MIN_LOG_SIZE,
    RECORD_ROWS,
    RESERVE_BITS,
    SolvencyCircuit,
    SolvencyShape,
    key_values,
)
from zksolvency.hashing import SALT_BYTES, account_key, record_hash, round_tag, user_prefix
from zksolvency.store import STORE_NAME, write_store

ROUND_FILE = "round.json"
MAX_ROUND_ID = 128


class RoundError(ValueError):
    """A round that cannot be made as asked (the message says why)."""


class InsolventError(RoundError):
    pass


def check_round_id(round_id: str) -> str:
    if not round_id or len(round_id) > MAX_ROUND_ID or not round_id.isprintable():
        shown = round_id if len(round_id) <= 40 else round_id[:40] + "..."
        raise RoundError(f"round id must be 1..{MAX_ROUND_ID} printable characters, got {shown!r}")
    return round_id


def default_round_id() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RecordPlan:
    """Records before placement: record r belongs to user ``user[r]`` and holds ``assets[r]``, ``units[r]``."""

    user: np.ndarray  # (R,) int64, non-decreasing: a user's records are consecutive, in index order
    assets: np.ndarray  # (R, S) uint32, 0 for an empty slot
    units: np.ndarray  # (R, S) uint64
    count: np.ndarray  # (users,) int64: each user's number of records

    @property
    def records(self) -> int:
        return self.user.shape[0]


def plan_records(offsets: np.ndarray, asset_ids: np.ndarray, units: np.ndarray, slots: int) -> RecordPlan:
    """Split every user's non-zero balances into records of ``slots`` (at least one record per user).

    The canonical form every verifier enforces: a user's balances in increasing
    asset order, filling record 0 first, empty slots (0, 0) only at the end.
    The ledger lists each user's balances in increasing asset order.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    counts = np.diff(offsets)
    users = counts.shape[0]
    records_per_user = np.maximum(1, -(-counts // slots))
    first_record = np.zeros(users, dtype=np.int64)
    np.cumsum(records_per_user[:-1], out=first_record[1:])
    total = int(records_per_user.sum())
    entry_user = np.repeat(np.arange(users, dtype=np.int64), counts)
    same_user = entry_user[1:] == entry_user[:-1]
    if np.any(same_user & (asset_ids[1:].astype(np.int64) <= asset_ids[:-1].astype(np.int64))):
        raise ValueError("a user's balances must be listed in increasing asset order, each asset once")
    position = np.arange(entry_user.shape[0], dtype=np.int64) - offsets[entry_user]
    entry_record = first_record[entry_user] + position // slots
    entry_slot = position % slots
    record_assets = np.zeros((total, slots), dtype=np.uint32)
    record_units = np.zeros((total, slots), dtype=np.uint64)
    record_assets[entry_record, entry_slot] = asset_ids
    record_units[entry_record, entry_slot] = units
    return RecordPlan(np.repeat(np.arange(users, dtype=np.int64), records_per_user), record_assets, record_units,
                      records_per_user)


def record_hashes(plan: RecordPlan, round_id: str, user_ids, salts) -> list:
    """Every planned record's hash (zksolvency.hashing.record_hash), in plan order."""
    out, r = [], 0
    while r < plan.records:
        u = int(plan.user[r])
        count = int(plan.count[u])
        prefix = user_prefix(round_id, user_ids[u], salts[u])
        for index in range(count):
            slots = list(zip(plan.assets[r].tolist(), plan.units[r].tolist()))
            h = record_hash(prefix, index, count, slots)
            if h == 0:  # a zero hash marks padding (probability 2^-254)
                raise RoundError("a record hash is zero; prove the round again (fresh salts)")
            out.append(h)
            r += 1
    return out


def random_places(places: int, records: int) -> np.ndarray:
    """``records`` distinct record places out of ``places``, uniformly at random, from the OS's CSPRNG.

    A uniformly random permutation is the order of independent uniform keys when
    no two keys are equal; a draw with equal keys (probability below 2^-20 at
    2^22 places) is drawn again.
    """
    while True:
        keys = np.frombuffer(os.urandom(8 * places), dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        if places < 2 or np.all(keys[order[1:]] != keys[order[:-1]]):
            return order[:records]


def log_size_for(records: int, assets: int, private_totals: bool, margin: bool = False) -> int:
    """The smallest domain holding the records, two rows each (and, in private mode, a total per asset; in a
    margin round, a row per key)."""
    needed = max(RECORD_ROWS * records, assets if private_totals else 1,
                 FIRST_ASSET_KEY + 2 * assets if margin else 1)
    return max(MIN_LOG_SIZE, (needed - 1).bit_length())


@dataclass
class Round:
    """A proven round: its statement (one shard: a RoundStatement; several: a ShardedStatement) and, private to
    the exchange, every record's shard, row and opening."""

    statement: object
    user_ids: list
    salts: list
    plan: RecordPlan
    positions: np.ndarray  # first table row of each planned record (even), in its shard
    openings: bytes  # 64 bytes per planned record, in plan order
    timings: dict = field(default_factory=dict)
    record_shard: np.ndarray | None = None  # (records,) each record's shard (None: all in shard 0)
    partial: object = None  # the zksolvency.partial.Partial the round was proven through, removed once written

    @property
    def sharded(self) -> bool:
        return isinstance(self.statement, ShardedStatement)

    def shard_of_record(self, r: int) -> int:
        return 0 if self.record_shard is None else int(self.record_shard[r])

    def inclusion_file(self, u: int):
        """User u's inclusion file, as ``zksolvency inclusion`` exports it from the store."""
        from zksolvency.artifacts import InclusionFile, InclusionRecord
        from zksolvency.encoding import G1Point

        from zksolvency.audit import label_of

        names = [a.name for a in self.statement.assets]
        margin = self.statement.margin is not None
        mine = np.flatnonzero(self.plan.user == u)
        records = tuple(
            InclusionRecord(int(self.positions[k]),
                            tuple((label_of(int(a), names, margin), int(b))
                                  for a, b in zip(self.plan.assets[k], self.plan.units[k])),
                            G1Point.from_bytes(self.openings[64 * k: 64 * (k + 1)]))
            for k in mine)
        shard = self.shard_of_record(int(mine[0])) if self.sharded else None
        return InclusionFile(self.statement.round_id, self.user_ids[u], self.salts[u], records, tuple(names), shard)

    def write(self, out_dir) -> Path:
        """Write round.json and inclusion.sqlite into ``out_dir`` (absent or empty), atomically."""
        out = Path(out_dir)
        check_output_dir(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            self.statement.save(tmp / ROUND_FILE)
            first = np.cumsum(self.plan.count) - self.plan.count
            user_shard = np.zeros(len(self.user_ids), dtype=np.int64)
            if self.record_shard is not None:
                user_shard[self.plan.user] = self.record_shard
            users = zip(self.user_ids, self.salts, user_shard.tolist())
            rows = (
                (
                    self.shard_of_record(r),
                    int(self.positions[r]),
                    self.user_ids[int(self.plan.user[r])],
                    r - int(first[self.plan.user[r]]),
                    [(int(a), int(u)) for a, u in zip(self.plan.assets[r], self.plan.units[r])],
                    self.openings[64 * r : 64 * (r + 1)],
                )
                for r in range(self.plan.records)
            )
            write_store(tmp / STORE_NAME, self.statement.round_id, users, rows)
            os.chmod(tmp, 0o755)
            if out.is_dir():
                out.rmdir()  # empty, checked above
            os.rename(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if self.partial is not None:
            self.partial.remove()
        return out


def verifying_key_for(statement: RoundStatement, srs):
    """The verifying key of the round's circuit shape made from ``srs`` (for ``verify --srs``)."""
    from zksolvency.prover.plonk import keygen

    shape = statement.shape()
    if statement.log_n > srs.max_log_size:
        raise RoundError(f"the SRS serves up to 2^{srs.max_log_size} rows; the round has 2^{statement.log_n}")
    circuit = SolvencyCircuit(shape)
    return keygen(circuit.cs, statement.log_n, srs.truncated(statement.log_n), circuit.fixed).vk


def check_output_dir(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RoundError(f"{out}: already exists and is not an empty directory (a round is never overwritten)")


def margin_entries(ledger, terms):
    """A margin ledger's entries as circuit keys (``equity_key``/``debt_key``), with every indebted user's
    surplus words first: (offsets, keys, units, has_debt per user). RoundError for an undercollateralized user."""
    from zksolvency.ingest import shown
    from zksolvency.margin import MarginError, surplus, surplus_slots

    k = len(ledger.assets)
    ids = ledger.asset_ids.astype(np.int64)
    keys = np.where(ids > k, 2 * (ids - k) + FIRST_ASSET_KEY - 1, 2 * ids + FIRST_ASSET_KEY - 2)
    offsets = np.asarray(ledger.offsets, dtype=np.int64)
    entry_user = np.repeat(np.arange(ledger.users, dtype=np.int64), np.diff(offsets))
    has_debt = np.zeros(ledger.users, dtype=bool)
    has_debt[entry_user[ids > k]] = True
    unit_prices = terms.unit_prices(ledger.decimals)
    extra_user, extra_key, extra_units = [], [], []
    for u in np.flatnonzero(has_debt).tolist():
        entries = ledger.balances_of(u)
        value = surplus({a: b for a, b in entries if a <= k}, {a - k: b for a, b in entries if a > k},
                        unit_prices, terms.ratios)
        if value < 0:
            raise RoundError(f"user {shown(ledger.user_ids[u])} is undercollateralized: their collateral after "
                             "haircuts does not cover their debt at the round's prices")
        try:
            words = surplus_slots(value)
        except MarginError as e:
            raise RoundError(f"user {shown(ledger.user_ids[u])}: {e}") from None
        for key, word in words:
            extra_user.append(u)
            extra_key.append(key)
            extra_units.append(word)
    all_user = np.concatenate([entry_user, np.array(extra_user, dtype=np.int64)])
    all_key = np.concatenate([keys, np.array(extra_key, dtype=np.int64)])
    all_units = np.concatenate([ledger.units, np.array(extra_units, dtype=np.uint64)])
    order = np.lexsort((all_key, all_user))
    new_offsets = np.zeros(ledger.users + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_user, minlength=ledger.users), out=new_offsets[1:])
    return new_offsets, all_key[order].astype(np.uint32), all_units[order], has_debt


class _SilentProgress:
    """Shard steps as ``progress`` messages (the library's default)."""

    def __init__(self, say):
        self.say, self.count = say, 1

    def start(self, count: int, done: int) -> None:
        self.count = count

    def step(self, index: int, text: str) -> None:
        self.say(f"shard {index}: {text}" if self.count > 1 else text)

    def done(self, index: int) -> None:
        pass


def round_fingerprint(ledger, slots, private_totals, values, terms, shards, shard_log_size) -> str:
    """A digest of everything a round is proven from besides its randomness: a partial round resumes only under
    the same one (zksolvency.partial)."""
    h = hashlib.sha256(b"zksolvency/partial/v1")
    for uid in ledger.user_ids:
        data = uid.encode("utf-8")
        h.update(len(data).to_bytes(4, "big") + data)
    for array in (ledger.offsets, ledger.asset_ids, ledger.units):
        h.update(np.ascontiguousarray(array).tobytes())
    options = {"assets": list(ledger.assets), "decimals": list(ledger.decimals), "slots": slots,
               "private": private_totals, "values": [str(v) for v in values], "shards": shards,
               "shard_log_size": shard_log_size,
               "margin": None if terms is None else [[str(p) for p in terms.prices], list(terms.ratios)]}
    h.update(json.dumps(options, sort_keys=True).encode())
    return h.hexdigest()


def prove_round(ledger, srs, round_id: str, slots: int = 4, private_totals: bool = False, reserves=None,
                progress=None, terms=None, shards: int | None = None, shard_log_size: int | None = None,
                cluster=None, out_dir=None, shard_progress=None) -> Round:
    """Prove a round of ``ledger`` (``zksolvency.ingest.Ledger``) with ``srs``; nothing is written at the target.

    ``shards`` (or ``shard_log_size``, rows per shard) splits the customers among
    shards, each proven by itself; a round of one shard is the round as before.
    ``cluster`` proves the shards (``zksolvency.cluster``; default: this process).
    With ``out_dir`` the plan and every proven shard are kept beside it
    (``zksolvency.partial``) and a rerun resumes from them.
    ``shard_progress`` (``zksolvency.progress.Lines`` or ``Bars``) hears the shards' steps.
    """
    from zksolvency.audit import verify_round
    from zksolvency.cluster import InProcess
    from zksolvency.partial import Partial, PartialError, Plan
    from zksolvency.prover.field import Fr
    from zksolvency.shards import ShardingError, allocate_reserves, assign_shards, shard_sums, shards_for_capacity
    from zksolvency.verifier.plonk import VerificationError

    say = progress or (lambda message: None)
    started = time.perf_counter()
    check_round_id(round_id)
    names = tuple(ledger.assets)
    k = len(names)
    margin = getattr(ledger, "margin", False) or terms is not None
    if margin and terms is None:
        raise RoundError("the ledger has debt columns: a margin round needs --prices")
    if shards is not None and shard_log_size is not None:
        raise RoundError("--shards and --shard-log-size exclude each other")
    totals = [int(t) for t in ledger.totals()]
    if private_totals:
        if reserves is None or sorted(reserves) != sorted(names):
            missing = sorted(set(names) - set(reserves or {}))
            raise RoundError(f"private totals need --reserves for every asset (missing: {', '.join(missing)})")
        values = [int(reserves[a]) for a in names]
        for name, total, reserve in zip(names, totals, values):
            if total > reserve and not margin:
                raise InsolventError(f"insolvent: {name} liabilities exceed the reserves given for it")
            if reserve >> RESERVE_BITS:
                raise RoundError(f"--reserves: {name} must stay below 2^{RESERVE_BITS} units")
    else:
        values = totals

    debts = ledger.debt_totals() if margin else None
    if margin:
        weights = terms.weights(ledger.decimals)
        if private_totals:
            for name, total, debt, reserve in zip(names, totals, debts, values):
                if total - debt > reserve:
                    raise InsolventError(f"insolvent: {name} equity less debt exceeds the reserves given for it")
        offsets, entry_keys, entry_units, has_debt = margin_entries(ledger, terms)
        plan = plan_records(offsets, entry_keys, entry_units, slots)
    else:
        weights = None
        plan = plan_records(ledger.offsets, ledger.asset_ids, ledger.units, slots)

    # The cluster first: one that cannot be reached fails the round before anything is drawn or kept.
    executor = cluster if cluster is not None else InProcess(srs)
    with executor:
        partial = Partial(out_dir) if out_dir is not None else None
        fingerprint = round_fingerprint(ledger, slots, private_totals, values, terms, shards, shard_log_size)
        try:
            drawn = partial.load_plan(fingerprint, round_id) if partial is not None else None
        except PartialError as e:
            raise RoundError(str(e)) from None
        if drawn is None:
            try:
                if shard_log_size is not None:
                    if not MIN_LOG_SIZE <= shard_log_size <= srs.max_log_size:
                        raise RoundError(f"--shard-log-size must be {MIN_LOG_SIZE} to {srs.max_log_size} (the SRS's)")
                    count, shard_of_user = shards_for_capacity(plan.count, (1 << shard_log_size) // RECORD_ROWS)
                else:
                    count = 1 if shards is None else shards
                    shard_of_user = assign_shards(plan.count, count)
            except ShardingError as e:
                raise RoundError(str(e)) from None
            per_shard = np.bincount(shard_of_user, weights=plan.count, minlength=count).astype(np.int64)
            log_n = max(log_size_for(int(per_shard.max()), k, private_totals, margin), shard_log_size or 0)
            if log_n > srs.max_log_size:
                raise RoundError(
                    f"the round needs 2^{log_n} rows{' a shard' if count > 1 else ''}; the SRS serves up to "
                    f"2^{srs.max_log_size} (set up a larger one{', or use more shards' if count > 1 else ''})"
                )
            shape = SolvencyShape(log_n, slots, private_totals, margin)
            if k > shape.max_assets():
                raise RoundError(f"{k} assets exceed the {shape.max_assets()} this circuit shape can index")
            # Fresh randomness every round, from the operating system's CSPRNG: shards, record places and salts.
            drawn = Plan(round_id, default_round_id(), fingerprint, count, log_n, shard_of_user,
                         [secrets.token_bytes(SALT_BYTES) for _ in ledger.user_ids],
                         [random_places(shape.records, int(m)) for m in per_shard])
            if partial is not None:
                partial.save_plan(drawn)
        else:
            say(f"resuming the partial round kept in {partial.path}")
        count, log_n, salts, timestamp = drawn.shards, drawn.log_n, drawn.salts, drawn.timestamp
        shape = SolvencyShape(log_n, slots, private_totals, margin)
        sharded = count > 1
        say(f"{count} shard{'s' if sharded else ''} of 2^{log_n} rows, records of {slots} slots over {RECORD_ROWS} rows"
            if sharded else f"a table of 2^{log_n} rows, records of {slots} slots over {RECORD_ROWS} rows")

        # Each shard's records (in plan order) and their first rows.
        record_shard = drawn.shard_of_user[plan.user]
        by_shard = np.argsort(record_shard, kind="stable")
        bounds = np.searchsorted(record_shard[by_shard], np.arange(count + 1))
        shard_records = [by_shard[bounds[i]:bounds[i + 1]] for i in range(count)]
        positions = np.zeros(plan.records, dtype=np.int64)
        for i, records in enumerate(shard_records):
            positions[records] = RECORD_ROWS * drawn.places[i]

        # Each shard's sums and values: totals (public), allocation of the reserves (private).
        entry_shard = np.repeat(drawn.shard_of_user, np.diff(np.asarray(ledger.offsets, dtype=np.int64)))
        sums = shard_sums(entry_shard, ledger.asset_ids, ledger.units, count, 2 * k if margin else k)
        shard_totals = [row[:k] for row in sums]
        shard_debts = [row[k:] for row in sums] if margin else None
        if [sum(col) for col in zip(*shard_totals)] != totals:
            raise AssertionError("the shards' totals are not the round's")
        if private_totals and sharded:
            liabilities = [[t - (shard_debts[i][j] if margin else 0) for j, t in enumerate(row)]
                           for i, row in enumerate(shard_totals)]
            try:
                shard_values = allocate_reserves(values, liabilities, [len(r) for r in shard_records])
            except ShardingError as e:
                raise InsolventError(f"cannot allocate the reserves among the shards: {e}") from None
        elif private_totals:
            shard_values = [values]
        else:
            shard_values = shard_totals

        labels = tuple(Asset(a, d) for a, d in zip(names, ledger.decimals))
        circuit = SolvencyCircuit(shape)

        def shard_statement(i: int, proof=None, commitment=None, vk=None) -> RoundStatement:
            statement = RoundStatement(
                round_id=round_id, timestamp=timestamp, private_totals=private_totals, assets=labels, slots=slots,
                log_n=log_n, values=tuple(shard_values[i]), public_inputs=(), inclusion_commitment=commitment,
                proof=proof, verifying_key=vk, margin=terms if margin else None,
                debts=tuple(shard_debts[i]) if margin and not private_totals else None,
                shard=(i, count) if sharded else None)
            tag = statement.tag()
            if margin:
                inputs = circuit.margin_public_inputs(tag, weights, key_values(shard_totals[i], shard_debts[i]),
                                                      shard_values[i] if private_totals else None)
            else:
                inputs = [tag] + list(shard_values[i])
            return dataclasses.replace(statement, public_inputs=tuple(inputs))

        def task(i: int):
            from zksolvency.cluster import ShardTask

            records = shard_records[i]
            sub = RecordPlan(plan.user[records], plan.assets[records], plan.units[records], plan.count)
            say(f"hashing the records of shard {i} with fresh salts" if sharded else "hashing records with fresh salts")
            hashes = record_hashes(sub, round_id, ledger.user_ids, salts)
            places = drawn.places[i]
            table_hash = np.zeros((shape.records, 4), dtype=np.uint64)
            table_assets = np.zeros((shape.records, slots), dtype=np.uint32)
            table_units = np.zeros((shape.records, slots), dtype=np.uint64)
            table_hash[places] = Fr.canonical_limbs(hashes)
            table_assets[places] = sub.assets
            table_units[places] = sub.units
            extra = {}
            if margin:
                table_accounts = np.zeros((shape.records, 4), dtype=np.uint64)
                table_margin = np.zeros(shape.records, dtype=bool)
                accounts = {}
                for u in np.unique(sub.user).tolist():
                    accounts[u] = account_key(user_prefix(round_id, ledger.user_ids[u], salts[u])) if has_debt[u] else 0
                table_accounts[places] = Fr.canonical_limbs([accounts[u] for u in sub.user.tolist()])
                table_margin[places] = has_debt[sub.user]
                extra = {"accounts": table_accounts, "margin_form": table_margin, "weights": weights}
            return ShardTask(i, log_n, slots, private_totals, margin, table_hash, table_assets, table_units,
                             RECORD_ROWS * places, list(shard_values[i]), list(shard_statement(i).public_inputs),
                             totals=shard_totals[i] if private_totals and not margin else None, **extra)

        proven, vk = {}, None

        def accept(result) -> None:
            """Verify a shard's proof before keeping it: a shard that does not verify stops the round."""
            nonlocal vk
            i = result.index
            statement = shard_statement(i, result.proof, result.inclusion_commitment, result.verifying_key)
            try:
                if vk is not None and result.verifying_key.to_bytes() != vk.to_bytes():
                    raise VerificationError("its verifying key is not the other shards'")
                verify_round(statement, allow_insecure_srs=True)
            except VerificationError as e:
                if partial is not None:
                    partial.drop_shard(i)
                raise RoundError(f"shard {i} of {count}: its proof does not verify ({e}); the round is stopped and "
                                 "nothing was written") from None
            vk = vk or result.verifying_key
            if partial is not None and not result.timings.get("resumed"):
                partial.save_shard(result)
            proven[i] = (statement, result)
            bars.done(i)

        bars = shard_progress or _SilentProgress(say)
        if partial is not None:
            for i in range(count):
                kept = partial.load_shard(i)
                if kept is not None:
                    accept(kept)
            if proven:
                say(f"{len(proven)} of {count} shards already proven (kept in {partial.path})")
        todo = [i for i in range(count) if i not in proven]
        if todo:
            say("proving" if not sharded else f"proving {len(todo)} shard{'s' if len(todo) > 1 else ''}")
        bars.start(count, len(proven))
        for result in executor.prove((task(i) for i in todo), on_step=bars.step):
            accept(result)

        openings = np.zeros((plan.records, 64), dtype=np.uint8)
        for i, records in enumerate(shard_records):
            openings[records] = np.frombuffer(proven[i][1].openings, dtype=np.uint8).reshape(-1, 64)
        statements = tuple(proven[i][0] for i in range(count))
        if sharded:
            statement = ShardedStatement(round_id, timestamp, private_totals, labels, slots, log_n, tuple(values), vk,
                                         statements, terms if margin else None,
                                         tuple(debts) if margin and not private_totals else None)
        else:
            statement = statements[0]
        timings = {
            "seconds": time.perf_counter() - started,
            "proof_seconds": sum(r.timings.get("proof_seconds", 0.0) for _, r in proven.values()),
            "inclusion_seconds": sum(r.timings.get("inclusion_seconds", 0.0) for _, r in proven.values()),
        }
        return Round(statement, list(ledger.user_ids), salts, plan, positions, openings.tobytes(), timings,
                     record_shard if sharded else None, partial)
