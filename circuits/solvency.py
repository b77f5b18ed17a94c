"""The solvency circuit: records of (record hash, S asset slots), every balance range-checked, totals by asset.

Shape (``SolvencyShape``): n = 2^k rows, S slots per record (S even), limbs
of w bits (w = 16 with 4 limbs once n >= 2^16, else w = 8 with 8 limbs, since
the range table must fit in the n rows), and the mode: public totals or
private totals.

A record spans two rows, 2i and 2i + 1: the first holds the record hash and
slots 0 .. S/2 - 1, the second slots S/2 .. S - 1 (its hash cell is 0). Half
as many columns over twice the rows: the cells are the same, but every
column costs the on-chain verifier one elliptic-curve multiplication and a
commitment and evaluation of calldata, so the narrow table is the cheaper
one to verify. Columns, per row::

    record_hash                      advice   Keccak-256 of the record (zksolvency.hashing), 0 on odd rows and padding
    asset[h]            h < S/2      advice   asset index 1..K, 0 for an empty slot
    limb[h][t]          t < 64/w     advice   balance[h] = sum_t 2^(w t) limb[h][t]
    range                            fixed    0, 1, .., 2^w - 1 (then 0): the range table
    inclusion                        phase 1  record_hash + gamma asset[0] + gamma^2 balance[0] + .., over
                                              the row and the next one (rotation +1)

Balances are expressions of their limbs, not columns of their own: every limb
is looked up in ``range``, so 0 <= balance < 2^64 and nothing can wrap. The
totals are one keyed sum over every row, ``sum_rows sum_h balance[h] /
(alpha - asset[h]) = sum_j total_j / (alpha - j)``. A balance in a slot whose
asset is outside 1..K puts a pole on the left that no total can cancel, so it
cannot count (and being below 2^64 it cannot cancel another balance either).
Padding rows are all zero and are constrained like any other row.

The ``inclusion`` column is defined on every row, but only its values on even
rows are records: on an odd row it would pair the second half of one record
with the first half of the next. Verifiers therefore refuse an odd row (as
they refuse a row at or past n and a zero record hash); every balance of every
row, odd or even, counts in the totals, so whatever an even row shows a user
is what the totals count.

Public inputs: ``[round_tag, v_1, .., v_K]`` where v_j is asset j's total
(public mode) or its reserves (private mode). The round tag binds the proof
to its round id (it enters the transcript before anything else).

Private mode adds: the totals in an advice column ``total`` (row j - 1 holds
total_j), keyed by the fixed column ``asset_key`` = row + 1; the reserves in an
instance column at rows 0..K-1; and ``reserves - total = sum_t 2^(w t) slack[t]``
on every row with every slack limb looked up in ``range`` (2 * 64/w limbs:
0 <= reserves - total < 2^128, as totals may exceed 2^64 units; reserves are
capped below 2^128 units). Since totals stay below 2^84 and the reserves below
r, a total above its reserves would need a "slack" of nearly r, far above
2^128: no. Rows
at or past K have no reserves, so their total is minus a slack that no balance
can match: zero. The totals are never revealed; the proof shows
liabilities <= reserves per asset.

The ``inclusion`` combination makes every record openable with one KZG opening
against one commitment: a user's inclusion proof (``zksolvency.verifier.inclusion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zksolvency.circuits.assignment import Assignment
from zksolvency.circuits.constraint_system import GAMMA, ConstraintSystem
from zksolvency.circuits.expression import Constant, Expression
from zksolvency.constants import R_MODULUS as _R

BALANCE_BITS = 64
RESERVE_BITS = 2 * BALANCE_BITS
DEFAULT_SLOTS = 4
RECORD_ROWS = 2  # a record of S slots spans two rows of S/2 slots
# The smallest domain: the 8-bit range table needs 2^8 rows.
MIN_LOG_SIZE = 8
MIN_SLOTS = 2
MAX_SLOTS = 16

# Margin rounds key every slot: 0 empty, 1..3 the words of the account's surplus (weights -1, -2^64, -2^128),
# then per asset j = 1..K its equity (key 2j + 2) and its debt (key 2j + 3). See margin_keys().
SURPLUS_WORDS = 3
SURPLUS_WORD_BITS = 64
FIRST_ASSET_KEY = 1 + SURPLUS_WORDS
BASIS_POINTS = 10_000
WEIGHT_BITS = 128  # |weight| <= 2^128 for every key: with balances < 2^64, nothing a key sums can wrap


def equity_key(asset: int) -> int:
    """The key of asset j's equity (j = 1..K) in a margin round."""
    return FIRST_ASSET_KEY + 2 * (asset - 1)


def debt_key(asset: int) -> int:
    return equity_key(asset) + 1


def key_kind(key: int, assets: int):
    """("empty", 0) | ("surplus", word) | ("equity", j) | ("debt", j) | None for a key outside the round."""
    if key == 0:
        return ("empty", 0)
    if key < FIRST_ASSET_KEY:
        return ("surplus", key - 1)
    j, r = divmod(key - FIRST_ASSET_KEY, 2)
    if j >= assets:
        return None
    return ("debt" if r else "equity", j + 1)


def margin_weights(unit_prices, ratios_bps) -> list:
    """The weight of every key 0 .. 2K + 3 as an integer (negative for debts and surplus words).

    ``unit_prices``: per asset, the price of one smallest unit in the round's
    common quote unit (an integer); ``ratios_bps``: the collateral ratio in
    basis points. An account passes when sum_slots units * weight = 0 with the
    surplus words non-negative: sum equity * price * ratio >= sum debt * price * 10^4.
    """
    out = [0] + [-(1 << (SURPLUS_WORD_BITS * t)) for t in range(SURPLUS_WORDS)]
    for price, ratio in zip(unit_prices, ratios_bps, strict=True):
        out += [price * ratio, -price * BASIS_POINTS]
    if any(abs(w) > 1 << WEIGHT_BITS for w in out):
        raise ValueError(f"a weight exceeds 2^{WEIGHT_BITS}: a price times 10^4 must stay within it")
    return out


def limb_bits_for(log_n: int) -> int:
    """Limb width w: 16 once the 2^16-entry table fits in the domain, 8 below."""
    return 16 if log_n >= 16 else 8


@dataclass(frozen=True)
class SolvencyShape:
    log_n: int
    slots: int = DEFAULT_SLOTS
    private_totals: bool = False
    margin: bool = False

    def __post_init__(self):
        if not MIN_LOG_SIZE <= self.log_n <= 28:
            raise ValueError(f"log size must be between {MIN_LOG_SIZE} and 28, got {self.log_n}")
        if not (MIN_SLOTS <= self.slots <= MAX_SLOTS and self.slots % RECORD_ROWS == 0):
            raise ValueError(f"slots per record must be even, from {MIN_SLOTS} to {MAX_SLOTS}, got {self.slots}")

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def records(self) -> int:
        """Records of S slots the table holds: one per two rows."""
        return self.n // RECORD_ROWS

    @property
    def row_slots(self) -> int:
        return self.slots // RECORD_ROWS

    @property
    def limb_bits(self) -> int:
        return limb_bits_for(self.log_n)

    @property
    def limbs(self) -> int:
        return BALANCE_BITS // self.limb_bits

    @property
    def mode(self) -> str:
        return "private" if self.private_totals else "public"

    @property
    def name(self) -> str:
        """The circuit's name: everything but n, which the verifying key carries."""
        name = f"solvency/v3/slots={self.slots}/rows={RECORD_ROWS}/limb={self.limb_bits}/{self.mode}"
        return name + "/margin" if self.margin else name

    def max_assets(self) -> int:
        """K is bounded by the asset index width (private mode also by the rows holding totals; margin rounds
        by the rows of the weights table, 2K + 4 <= n/2)."""
        if self.margin:
            return min((self.n // 2 - FIRST_ASSET_KEY) // 2, 1 << 16)
        return min(self.n, 1 << 16) if self.private_totals else 1 << 16


class SolvencyCircuit:
    """The declaration of one shape, and the assignments a round fills in."""

    def __init__(self, shape: SolvencyShape):
        self.shape = shape
        H, L, w = shape.row_slots, shape.limbs, shape.limb_bits
        cs = ConstraintSystem(shape.name, max_degree=4)
        self.record_hash = cs.advice_column("record_hash")
        self.asset = [cs.advice_column(f"asset[{h}]") for h in range(H)]
        self.limb = [[cs.advice_column(f"limb[{h}][{t}]") for t in range(L)] for h in range(H)]
        self.range = cs.fixed_column("range")
        self.balance = [_from_limbs(self.limb[h], w) for h in range(H)]
        looked_up = [limb.cur() for row in self.limb for limb in row]
        terms = [(self.balance[h], self.asset[h].cur()) for h in range(H)]
        if shape.margin:
            self._declare_margin(cs, looked_up, terms)
        elif shape.private_totals:
            self.reserves = cs.instance_column("reserves", public_start=1, row_start=0)
            self.total = cs.advice_column("total")
            self.slack = [cs.advice_column(f"slack[{t}]") for t in range(2 * L)]
            self.asset_key = cs.fixed_column("asset_key")
            cs.gate("solvent", self.reserves.cur() - self.total.cur() - _from_limbs(self.slack, w))
            looked_up += [c.cur() for c in self.slack]
            cs.lookup("range", looked_up, self.range)
            cs.keyed_sum("totals", terms, rhs_terms=[(self.total.cur(), self.asset_key.cur())])
        else:
            cs.lookup("range", looked_up, self.range)
            cs.keyed_sum("totals", terms, public_start=1)
        # A record: its hash, then slot s < S as (asset, balance), slots S/2.. on the next row. A margin record
        # also opens the account of both rows and every slot's weight, which its owner checks.
        opened = [self.record_hash.cur()]
        if shape.margin:
            opened += [self.account.query(rotation) for rotation in range(RECORD_ROWS)]
        for rotation in range(RECORD_ROWS):
            for h in range(H):
                opened += [self.asset[h].query(rotation), _from_limbs(self.limb[h], w, rotation)]
                if shape.margin:
                    opened.append(self.weight[h].query(rotation))
        cs.combination("inclusion", opened)
        self.cs = cs.compile()
        self.inclusion = cs.combinations[0].column

    def _declare_margin(self, cs, looked_up, terms) -> None:
        """Keys, weights from a table of public inputs, and every account's collateral sum (module docstring)."""
        shape, H, L, w = self.shape, self.shape.row_slots, self.shape.limbs, self.shape.limb_bits
        self.weight = [cs.advice_column(f"weight[{h}]") for h in range(H)]
        self.account = cs.advice_column("account")
        # The weights table: row i < n/2 holds (key i, weight_i), row n/2 + i the equity key of asset i + 1 with
        # weight 0 (an account without debts). The weights are public inputs in rows below n/2 only (``half``),
        # so rows from n/2 on read 0 there.
        self.table_key = cs.fixed_column("table_key")
        # Public inputs: [round_tag, then per key k = 0, 1, ..: (value_k, weight_k)]; value_k is key k's
        # total (public mode) or its reserves (private mode: equity keys only, 0 elsewhere).
        self.key_weight = cs.instance_column("key_weight", public_start=2, row_start=0, stride=2, half=True)
        if shape.private_totals:
            self.reserves = cs.instance_column("reserves", public_start=1, row_start=0, stride=2, half=True)
            self.key = cs.fixed_column("key")  # row i holds key i: one total a key
            self.total = cs.advice_column("total")  # row k: key k's total
            self.slack = [cs.advice_column(f"slack[{t}]") for t in range(2 * L)]
            self.equity_row = cs.fixed_column("equity_row")
            # On asset j's equity row: reserves_j - (equity_j - debt_j) = slack >= 0; the debt total is on the next row.
            cs.gate("solvent", self.equity_row.cur() * (self.reserves.cur() - self.total.cur() + self.total.next()
                                                        - _from_limbs(self.slack, w)))
            looked_up += [c.cur() for c in self.slack]
            cs.keyed_sum("totals", terms, rhs_terms=[(self.total.cur(), self.key.cur())])
        else:
            # The surplus words' totals stay private: an advice column keyed by the table's keys, 0 on every row
            # but 1..3 (where the table key is the surplus word's key), so it can hold no asset's total.
            self.surplus_total = cs.advice_column("surplus_total")
            tk = self.table_key.cur()
            cs.gate("surplus_rows", self.surplus_total.cur() * (tk - 1) * (tk - 2) * (tk - 3))
            cs.keyed_sum("totals", terms, rhs_terms=[(self.surplus_total.cur(), tk)],
                         public_start=1, stride=2, first_key=0)
        cs.lookup("range", looked_up, self.range)
        # Every slot's weight is its key's, or 0 for an equity slot of an account without debts.
        cs.lookup("weights", [(self.asset[h].cur(), self.weight[h].cur()) for h in range(H)],
                  [(self.table_key.cur(), self.key_weight.cur())])
        cs.keyed_sum("collateral", [(self.balance[h] * self.weight[h].cur(), self.account.cur()) for h in range(H)],
                     challenge=GAMMA, zero=True)

    # fixed columns -----------------------------------------------------------
    @cached_property
    def fixed(self) -> Assignment:
        from zksolvency.prover.field import Fr

        n, w = self.shape.n, self.shape.limb_bits
        table = np.zeros(n, dtype=np.uint64)
        table[: 1 << w] = np.arange(1 << w, dtype=np.uint64)
        out = Assignment(n, {self.range: Fr.from_uint64(table)})
        if self.shape.margin:
            rows = np.arange(n, dtype=np.uint64)
            half = np.uint64(n // 2)
            out[self.table_key] = Fr.from_uint64(np.where(rows < half, rows, FIRST_ASSET_KEY + 2 * (rows - half)))
            if self.shape.private_totals:
                out[self.key] = Fr.from_uint64(rows)
                equity = (rows >= FIRST_ASSET_KEY) & ((rows - FIRST_ASSET_KEY) % 2 == 0)
                out[self.equity_row] = Fr.from_uint64(equity.astype(np.uint64))
        elif self.shape.private_totals:
            out[self.asset_key] = Fr.from_uint64(np.arange(1, n + 1, dtype=np.uint64))
        return out

    # the witness ---------------------------------------------------------------
    def witness(self, record_hash: np.ndarray, assets: np.ndarray, balances: np.ndarray, totals=None,
                reserves=None, margin: bool = False) -> Assignment:
        """Assign records: record_hash ``(records, 4)`` canonical limbs, assets and balances ``(records, S)``.

        Record j fills rows 2j and 2j + 1; rows past the records are zero padding.
        Private mode also takes the totals and reserves (Python ints per asset) for
        the slack limbs.
        """
        from zksolvency.prover.field import Fr

        shape = self.shape
        n, S, H, L, w = shape.n, shape.slots, shape.row_slots, shape.limbs, shape.limb_bits
        records = record_hash.shape[0]
        if records > shape.records or assets.shape != (records, S) or balances.shape != (records, S):
            raise ValueError(f"expected at most {shape.records} records of {S} slots")
        mask = np.uint64((1 << w) - 1)

        def rows(values: np.ndarray) -> np.ndarray:
            """(records, S) -> (n, S/2): the first half of record j on row 2j, the second on 2j + 1."""
            out = np.zeros((n, H), dtype=np.uint64)
            out[0 : RECORD_ROWS * records : RECORD_ROWS] = values[:, :H]
            out[1 : RECORD_ROWS * records : RECORD_ROWS] = values[:, H:]
            return out

        hashes = np.zeros((n, 4), dtype=np.uint64)
        hashes[0 : RECORD_ROWS * records : RECORD_ROWS] = record_hash
        out = Assignment(n, {self.record_hash: Fr.from_canonical_limbs(hashes)})
        row_assets, row_balances = rows(assets.astype(np.uint64)), rows(balances.astype(np.uint64))
        for h in range(H):
            out[self.asset[h]] = Fr.from_uint64(np.ascontiguousarray(row_assets[:, h]))
            b = row_balances[:, h]
            for t in range(L):
                out[self.limb[h][t]] = Fr.from_uint64(np.ascontiguousarray((b >> np.uint64(w * t)) & mask))
        if shape.private_totals and not margin:
            if totals is None or reserves is None or len(totals) != len(reserves):
                raise ValueError("private mode needs the totals and the reserves of every asset")
            k = len(totals)
            slack = [r - t for r, t in zip(reserves, totals)]
            if min(slack) < 0 or max(reserves) >> RESERVE_BITS:
                raise ValueError(f"reserves must cover the totals and stay below 2^{RESERVE_BITS} units")

            def first_rows(ints) -> np.ndarray:  # rows k.. are zero (Montgomery zero is zero)
                column = np.zeros((n, 4), dtype=np.uint64)
                column[:k] = Fr.from_ints(ints)
                return column

            out[self.total] = first_rows(totals)
            for t in range(2 * L):
                out[self.slack[t]] = first_rows([(x >> (w * t)) & int(mask) for x in slack])
        return out


    def margin_witness(self, record_hash: np.ndarray, assets: np.ndarray, balances: np.ndarray,
                       accounts: np.ndarray, margin_form: np.ndarray, weights, reserves=None) -> Assignment:
        """Assign a margin round's records.

        ``assets`` hold keys (``equity_key``/``debt_key``/surplus words);
        ``accounts`` ``(records, 4)`` canonical limbs, one account per record
        (0 for an account without debts); ``margin_form`` (records,) bool: the
        record's equity slots take their key's weight (else 0); ``weights``:
        every key's weight (``margin_weights``); private mode: ``reserves`` per
        asset (Python ints).
        """
        from zksolvency.prover.field import Fr

        shape = self.shape
        n, S, H, w = shape.n, shape.slots, shape.row_slots, shape.limb_bits
        out = self.witness(record_hash, assets, balances, margin=True)
        records = record_hash.shape[0]
        keys = len(weights)
        if assets.size and int(assets.max()) >= keys:
            raise ValueError("a slot's key is outside the round's keys")
        table = Fr.from_ints([x % _R for x in weights])  # (keys, 4)
        slot_weights = table[assets.astype(np.int64)]  # (records, S, 4)
        equity = (assets >= FIRST_ASSET_KEY) & ((assets - FIRST_ASSET_KEY) % 2 == 0)
        slot_weights[equity & ~margin_form[:, None]] = 0
        for h in range(H):
            column = np.zeros((n, 4), dtype=np.uint64)
            column[0 : RECORD_ROWS * records : RECORD_ROWS] = slot_weights[:, h]
            column[1 : RECORD_ROWS * records : RECORD_ROWS] = slot_weights[:, H + h]
            out[self.weight[h]] = column
        account = np.zeros((n, 4), dtype=np.uint64)
        mont = Fr.from_canonical_limbs(np.ascontiguousarray(accounts, dtype=np.uint64))
        account[0 : RECORD_ROWS * records : RECORD_ROWS] = mont
        account[1 : RECORD_ROWS * records : RECORD_ROWS] = mont
        out[self.account] = account
        totals = key_totals(assets, balances, keys)
        if shape.private_totals:
            if reserves is None or 2 * len(reserves) + FIRST_ASSET_KEY != keys:
                raise ValueError("private mode needs the reserves of every asset")
            column = np.zeros((n, 4), dtype=np.uint64)
            column[:keys] = Fr.from_ints(totals)
            out[self.total] = column
            slack = [0] * keys
            for j, r in enumerate(reserves, start=1):
                slack[equity_key(j)] = r - totals[equity_key(j)] + totals[debt_key(j)]
            if min(slack) < 0 or max(slack) >> RESERVE_BITS:
                raise ValueError(f"reserves must cover each asset's equity less its debt, within 2^{RESERVE_BITS}")
            mask = (1 << w) - 1
            for t in range(2 * shape.limbs):
                column = np.zeros((n, 4), dtype=np.uint64)
                column[:keys] = Fr.from_ints([(x >> (w * t)) & mask for x in slack])
                out[self.slack[t]] = column
        else:
            column = np.zeros((n, 4), dtype=np.uint64)
            column[1:FIRST_ASSET_KEY] = Fr.from_ints(totals[1:FIRST_ASSET_KEY])  # row k: surplus word key k
            out[self.surplus_total] = column
        return out

    def margin_public_inputs(self, round_tag: int, weights, totals=None, reserves=None) -> list:
        """[round_tag, (value_k, weight_k) for every key]: totals per key (public) or reserves per asset (private)."""
        keys = len(weights)
        values = [0] * keys
        if self.shape.private_totals:
            for j, r in enumerate(reserves, start=1):
                values[equity_key(j)] = r
        else:
            for k in range(FIRST_ASSET_KEY, keys):
                values[k] = totals[k]
        out = [round_tag]
        for v, wt in zip(values, weights):
            out += [v, wt % _R]
        return out


def key_values(totals, debts) -> list:
    """A margin round's total per key: asset j's equity total at ``equity_key(j)``, its debt total at
    ``debt_key(j)``, 0 for the empty key and the surplus words (their totals stay private)."""
    out = [0] * (FIRST_ASSET_KEY + 2 * len(totals))
    for j, (t, d) in enumerate(zip(totals, debts, strict=True), start=1):
        out[equity_key(j)], out[debt_key(j)] = t, d
    return out


def key_totals(assets: np.ndarray, balances: np.ndarray, keys: int) -> list:
    """Exact sum of the balances under every key 0 .. keys - 1 (Python ints)."""
    a = assets.ravel().astype(np.int64)
    b = balances.ravel().astype(np.uint64)
    low = np.zeros(keys, dtype=np.uint64)
    high = np.zeros(keys, dtype=np.uint64)
    np.add.at(low, a, b & np.uint64(0xFFFFFFFF))
    np.add.at(high, a, b >> np.uint64(32))
    return [(int(h) << 32) + int(l) for h, l in zip(high, low)]


def _from_limbs(limbs, bits: int, rotation: int = 0) -> Expression:
    acc = limbs[0].query(rotation)
    for t, limb in enumerate(limbs[1:], start=1):
        acc = acc + (1 << (bits * t)) * limb.query(rotation)
    return acc
