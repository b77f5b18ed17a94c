"""A user's inclusion check: the canonical form of their records, and KZG openings of the round's inclusion column.

The solvency circuit's ``inclusion`` column holds, on the even row i where a
record starts, ``G(omega^i) = h + gamma asset_0 + gamma^2 units_0 + ...`` over
the record's two rows, with gamma drawn by the round's transcript after the
witness commitments, and h the record hash (``zksolvency.hashing.record_hash``:
Keccak over the round, the user id, the salt, the record's index and count,
and every slot). A user's records are checked in one place (``check_records``),
which every verification path calls; the registry's ``inclusionFailure``
applies the same rules in the same order and returns the same ``Rule``.

Why a shown record is the record the totals count: the table (user-hash,
asset and limb columns) is committed before gamma is drawn. If the user is
shown slots s' at row i while the table holds (h_t, s_t) there, the check
needs ``H(.., s') + sum gamma^j s'_j = h_t + sum gamma^j s_t,j``. For s' = s_t
this is the user's own hash. For s' != s_t, either H(.., s') was fixed before
gamma, and a non-zero polynomial of degree <= 2S in gamma vanishes (probability
2S/r per transcript), or it is a fresh random-oracle output hitting a fixed
target (1/r per hash). So every shown slot is a table slot, and every table
slot counts in the totals. The canonical rules make the shown record unique:
assets strictly increasing across the user's records (each asset once), no
labelled slot without units, empty slots exactly (0, 0) and only at the end,
no record other than the first entirely empty, and the record count m in the
hash, so that no record can be hidden, split, duplicated or relabelled. Rows
are even (on an odd row the column pairs the halves of two records, whose
slots would then be shown twice), below n (omega^(i + n) = omega^i: a row past
n would show row i's record again) and distinct.

Openings are checked together: for records (z_k, v_k, pi_k) and a weight rho,

    e(sum rho^k (C - [v_k]_1 + z_k pi_k), [1]_2) = e(sum rho^k pi_k, [tau]_2)

which holds for every rho if every opening holds, and otherwise for at most
m - 1 values of rho. rho is Keccak of everything checked (Fiat-Shamir; the
registry derives its own likewise from its inputs): a file made to pass needs
a hash output among those m - 1 roots, probability (m - 1)/r per attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from py_ecc.optimized_bn128 import neg

from zksolvency.circuits.solvency import BALANCE_BITS, FIRST_ASSET_KEY, RECORD_ROWS, SURPLUS_WORD_BITS
from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.encoding import G1Point, G2Point
from zksolvency.verifier.msm import lincomb
from zksolvency.verifier.pairing import pairing_product_is_one
from zksolvency.verifier.plonk import domain_generator
from zksolvency.verifier.transcript import keccak256

UNITS_BOUND = 1 << BALANCE_BITS  # balances are range-checked below 2^64 units


class Rule(IntEnum):
    """Why a user's records are refused, in the order the rules are checked (the registry uses the same codes)."""

    VALID = 0
    NO_RECORDS = 1  # no record at all
    SHAPE = 2  # a record without exactly S slots (on-chain: array lengths that do not fit)
    ROW_RANGE = 3  # a row at or past n
    ODD_ROW = 4  # records start at even rows
    DUPLICATE_ROW = 5  # a row shown twice
    UNKNOWN_ASSET = 6  # an asset index outside 1..K
    UNITS_RANGE = 7  # units of 2^64 or more
    EMPTY_SLOT_UNITS = 8  # an empty slot (asset 0) holding units
    ZERO_UNITS = 9  # a labelled slot with zero units
    EMPTY_NOT_LAST = 10  # a labelled slot after an empty one
    ASSET_ORDER = 11  # assets not strictly increasing across the user's records
    EMPTY_RECORD = 12  # a record other than the first with no labelled slot
    RECORD_HASH = 13  # a record hash that is zero (padding) or not below r
    PROOF_POINT = 14  # an opening that is not a point of G1
    OPENING = 15  # the openings do not hold (pairing check)
    # Checked first, by the paths that read a user's file (the registry's view sees no ids or names):
    ROUND_ID = 16  # the file is for another round
    USER_ID = 17  # the file is for another user id than the customer's
    ASSET_LIST = 18  # the file's asset names are not the round's K assets
    ROUND_RECORD = 19  # the registry's record of the round is not the round file's
    # Margin rounds, checked after rule 12: an account's surplus words are exactly its haircut collateral value
    # less its debt value, and only an account with debts has them.
    SURPLUS = 20
    # Sharded rounds, checked with the file's round: the file names one of the round's shards (a round of one
    # shard: none), whose commitment its records open against.
    SHARD = 21


class InclusionError(Exception):
    """Records that do not prove inclusion; ``rule`` says which rule failed, the message where."""

    def __init__(self, rule: Rule, message: str):
        super().__init__(message)
        self.rule = Rule(rule)


@dataclass(frozen=True)
class InclusionKeys:
    """What a user's records are checked against: the round's shape, its commitment and gamma, the SRS points."""

    log_n: int
    slots: int  # S, per record
    asset_count: int  # K: asset indices 1..K
    commitment: G1Point  # the inclusion column's commitment
    gamma: int
    g1: G1Point
    g2: G2Point
    tau_g2: G2Point
    # A margin round: every key's weight (circuits.solvency.margin_weights, signed integers); slots are keyed
    # 0 .. 2K + 3 instead of holding asset indices.
    weights: tuple | None = None

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def key_count(self) -> int:
        """Slot labels run 0 .. key_count - 1."""
        return len(self.weights) if self.weights is not None else self.asset_count + 1


@dataclass(frozen=True)
class Record:
    """One of a user's records as integers: its first row, hash, S (asset index, units) slots, opening (x, y)."""

    row: int
    record_hash: int
    slots: tuple
    proof: tuple
    # Margin rounds: the account key on both rows and each slot's weight, as the owner expects them
    # (``margin_expectations``): the opened value includes them, so the table must hold exactly these.
    account: int = 0
    weights: tuple | None = None


def combine(values, gamma: int) -> int:
    """sum_j gamma^j values[j] mod r."""
    acc = 0
    for value in reversed(values):
        acc = (acc * gamma + value) % R_MODULUS
    return acc


def opened_value(record: Record, gamma: int) -> int:
    """h + gamma asset_0 + gamma^2 units_0 + ..: the inclusion column's value at the record's row.

    A margin record opens h, its account on both rows, then (key, units, weight) per slot."""
    if record.weights is None:
        return combine([record.record_hash] + [v for slot in record.slots for v in slot], gamma)
    values = [record.record_hash, record.account, record.account]
    for (key, units), weight in zip(record.slots, record.weights, strict=True):
        values += [key, units, weight % R_MODULUS]
    return combine(values, gamma)


def is_margin_account(records) -> bool:
    """An account with debts: some slot holds a debt key."""
    return any(key >= FIRST_ASSET_KEY and (key - FIRST_ASSET_KEY) % 2 for r in records for key, _ in r.slots)


def slot_weights(keys: InclusionKeys, slots, margin_account: bool) -> tuple:
    """Each slot's weight as its owner expects it: its key's, but 0 for the equity of an account without debts."""
    out = []
    for key, _ in slots:
        w = keys.weights[key] if 0 <= key < len(keys.weights) else 0
        equity = key >= FIRST_ASSET_KEY and (key - FIRST_ASSET_KEY) % 2 == 0
        out.append(w if margin_account or not equity else 0)
    return tuple(out)


def check_surplus(keys: InclusionKeys, records) -> None:
    """Margin rounds (rule 20): the surplus words are exactly sum units * weight over the account's other slots.

    With its own slots exact, whatever else the table keys under this account sums to zero by itself (the
    circuit's collateral sum), so no other row can borrow this account's collateral. An account without debts
    has no surplus words (its equity is weighted 0)."""
    if keys.weights is None:
        return
    margin = is_margin_account(records)
    words, value = 0, 0
    for r in records:
        for key, units in r.slots:
            if 1 <= key < FIRST_ASSET_KEY:
                if not margin:
                    raise InclusionError(Rule.SURPLUS, "surplus words in an account without debts")
                words += units << (SURPLUS_WORD_BITS * (key - 1))
            elif key >= FIRST_ASSET_KEY:
                value += units * keys.weights[key]
    if margin and words != value:
        raise InclusionError(Rule.SURPLUS, "the surplus words are not this account's haircut collateral less its "
                                           "debt at the round's prices")


def check_shape(keys: InclusionKeys, records) -> None:
    """Raise InclusionError unless there are records and each holds S slots (rules 1 and 2)."""
    if not records:
        raise InclusionError(Rule.NO_RECORDS, "no records")
    for i, r in enumerate(records):
        if len(r.slots) != keys.slots:
            raise InclusionError(Rule.SHAPE, f"record {i}: {len(r.slots)} slots, the round has {keys.slots}")


def check_canonical(keys: InclusionKeys, records) -> None:
    """Raise InclusionError unless the records' rows and slots are in the one canonical form (rules 1..12)."""
    check_shape(keys, records)
    seen, last_asset, empty_seen = set(), 0, False
    for i, r in enumerate(records):
        where = f"record {i} (row {r.row})"
        if not 0 <= r.row < keys.n:
            raise InclusionError(Rule.ROW_RANGE, f"{where}: the round has {keys.n} rows")
        if r.row % RECORD_ROWS:
            raise InclusionError(Rule.ODD_ROW, f"{where}: odd; records start at even rows")
        if r.row in seen:
            raise InclusionError(Rule.DUPLICATE_ROW, f"{where}: the row is shown twice")
        seen.add(r.row)
        for k, (asset, units) in enumerate(r.slots):
            at = f"{where}, slot {k}"
            if not 0 <= asset < keys.key_count:
                raise InclusionError(Rule.UNKNOWN_ASSET, f"{at}: not one of the round's {keys.asset_count} assets")
            if not 0 <= units < UNITS_BOUND:
                raise InclusionError(Rule.UNITS_RANGE, f"{at}: {units} units is not below 2^64")
            if asset == 0:
                if units:
                    raise InclusionError(Rule.EMPTY_SLOT_UNITS, f"{at}: an empty slot holds {units} units")
                empty_seen = True
                continue
            if units == 0:
                raise InclusionError(Rule.ZERO_UNITS, f"{at}: a labelled slot with zero units")
            if empty_seen:
                raise InclusionError(Rule.EMPTY_NOT_LAST, f"{at}: a balance after an empty slot")
            if asset <= last_asset:
                raise InclusionError(Rule.ASSET_ORDER, f"{at}: assets must be distinct and increasing")
            last_asset = asset
    if len(records) > 1 and all(asset == 0 for asset, _ in records[-1].slots):
        raise InclusionError(Rule.EMPTY_RECORD, f"record {len(records) - 1}: empty, yet not the only record")


def check_records(keys: InclusionKeys, records) -> None:
    """Raise InclusionError unless ``records`` (a user's, in index order) are canonical and open correctly."""
    check_canonical(keys, records)
    check_surplus(keys, records)
    for i, r in enumerate(records):
        if not 0 < r.record_hash < R_MODULUS:
            raise InclusionError(Rule.RECORD_HASH, f"record {i}: a zero hash is padding, not a record")
    for i, r in enumerate(records):
        x, y = r.proof
        if not (0 <= x < Q_MODULUS and 0 <= y < Q_MODULUS and G1Point(x, y).is_on_curve()):
            raise InclusionError(Rule.PROOF_POINT, f"record {i}: the opening is not a point of G1")
    claims = tuple((r.row, opened_value(r, keys.gamma), r.proof) for r in records)
    if not openings_hold(keys, claims):
        raise InclusionError(Rule.OPENING, "the openings do not match these records (pairing check failed)")


def batch_weight(keys: InclusionKeys, claims) -> int:
    """rho for ``openings_hold``: Keccak over the commitment, gamma and every claim (1 for a single claim)."""
    if len(claims) == 1:
        return 1
    words = [keys.commitment.x, keys.commitment.y, keys.gamma]
    words += [w for row, value, (x, y) in claims for w in (row, value, x, y)]
    rho = int.from_bytes(keccak256(b"".join(w.to_bytes(32, "big") for w in words)), "big") % R_MODULUS
    return rho or 1


@lru_cache(maxsize=256)
def openings_hold(keys: InclusionKeys, claims) -> bool:
    """Whether every claim (row, value, opening (x, y)) opens the commitment, checked as one random combination."""
    rho = batch_weight(keys, claims)
    w = domain_generator(keys.log_n)
    points, left, right = [], [], []
    weight, c_weight, v_weight = 1, 0, 0
    for row, value, proof in claims:
        points.append(proof)
        left.append(weight * pow(w, row, R_MODULUS) % R_MODULUS)
        right.append(weight)
        c_weight = (c_weight + weight) % R_MODULUS
        v_weight = (v_weight + weight * value) % R_MODULUS
        weight = weight * rho % R_MODULUS
    c, g = keys.commitment, keys.g1
    lhs = lincomb(points + [(c.x, c.y), (g.x, g.y)], left + [c_weight, -v_weight])
    pi = lincomb(points, right)
    return pairing_product_is_one([(_py_ecc(lhs), keys.g2.to_py_ecc()), (neg(_py_ecc(pi)), keys.tau_g2.to_py_ecc())])


def _py_ecc(affine):
    return G1Point(0, 0).to_py_ecc() if affine is None else G1Point(*affine).to_py_ecc()


def opening_holds(keys, commitment: G1Point, row: int, value: int, opening: G1Point) -> bool:
    """The pairing check of one opening of ``commitment`` at omega^row to ``value`` (``keys``: g1, g2, tau_g2)."""
    z = pow(domain_generator(keys.log_n), row, R_MODULUS)
    lhs = lincomb([(commitment.x, commitment.y), (keys.g1.x, keys.g1.y), (opening.x, opening.y)],
                  [1, -value, z])
    return pairing_product_is_one([(_py_ecc(lhs), keys.g2.to_py_ecc()),
                                   (neg(opening.to_py_ecc()), keys.tau_g2.to_py_ecc())])
