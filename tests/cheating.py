"""A cheating exchange: the inclusion files it would write to show customers balances that no total counts.

It knows everything the exchange knows after proving a round: the round's
store (every record, salt and opening), gamma, and so the value of the
inclusion column at every row. Each forgery is a plain JSON inclusion file,
named after the defect it carries, with the verdict every verifier must reach
(``"VALID"``, ``"MALFORMED"`` for a file that does not parse, or the name of
the ``Rule`` that refuses it).
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from zksolvency.artifacts import RoundStatement
from zksolvency.audit import verify_round
from zksolvency.circuits.constraint_system import GAMMA
from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.hashing import record_hash, user_prefix
from zksolvency.verifier.inclusion import combine

UNITS_BOUND = 1 << 64

# The fixture ledger (tests/vectors/make_inclusion_cases.py): ten assets, four slots a record.
FIXTURE_ASSETS = (("BTC", 8), ("ETH", 9), ("USDT", 6), ("USDC", 6), ("SOL", 9), ("DOGE", 8), ("XRP", 6),
                  ("ADA", 6), ("TRX", 6), ("RAW", 0))
# One record with two balances; three records; no balance; 2^64 - 1 units; one balance (not of the last asset);
# the victim whose row an absent user is shown.
FIXTURE_USERS = ("alice", "bob", "carol", "dave", "erin", "frank")


def fixture_ledger(path: Path, fillers: int = 40, seed: int = 7) -> None:
    """The ledger of the fixture round: the named users, then ``fillers`` users with a few small balances."""
    import random

    rng = random.Random(seed)
    rows = [
        {"alice": {"BTC": "0.5", "ETH": "2"}},
        {"bob": {name: "1.5" for name, _ in FIXTURE_ASSETS[:9]}},
        {"carol": {}},
        {"dave": {"RAW": str(UNITS_BOUND - 1)}},
        {"erin": {"SOL": "3"}},
        {"frank": {"USDT": "10"}},
    ]
    for i in range(fillers):
        held = rng.sample([name for name, _ in FIXTURE_ASSETS], rng.randint(0, 5))
        rows.append({f"user-{i}": {name: str(rng.randint(1, 10**6)) for name in held}})
    with open(path, "w", encoding="utf-8") as f:
        f.write("user_id," + ",".join(name for name, _ in FIXTURE_ASSETS) + "\n")
        for row in rows:
            (uid, held), = row.items()
            f.write(uid + "," + ",".join(held.get(name, "") for name, _ in FIXTURE_ASSETS) + "\n")


def fixture_decimals() -> str:
    return ",".join(f"{name}={d}" for name, d in FIXTURE_ASSETS)


@dataclass(frozen=True)
class Case:
    name: str
    user_id: str  # the id the customer checks with (--user-id)
    file: dict  # the inclusion file, as JSON
    verdict: str  # "VALID", "MALFORMED" or a Rule name

    def to_json(self) -> dict:
        return {"name": self.name, "user_id": self.user_id, "file": self.file, "verdict": self.verdict}


class Exchange:
    """A round as its exchange sees it: the public statement and the private store."""

    def __init__(self, round_dir: Path):
        self.dir = Path(round_dir)
        self.statement = RoundStatement.load(self.dir / "round.json")
        verified = verify_round(self.statement, allow_insecure_srs=True)
        self.gamma = verified.verified.challenges[GAMMA]
        self.names = [a.name for a in self.statement.assets]
        self.n, self.slots = self.statement.n, self.statement.slots
        con = sqlite3.connect(self.dir / "inclusion.sqlite")
        self.salts = {uid: bytes(salt) for uid, salt in con.execute("SELECT user_id, salt FROM users")}
        self.records = {}  # user id -> [(row, [(asset index, units)], proof bytes)] in index order
        for row, uid, _, slots, proof in con.execute("SELECT row, user_id, idx, slots, proof FROM rows ORDER BY idx"):
            self.records.setdefault(uid, []).append((row, [(int(a), int(u)) for a, u in json.loads(slots)],
                                                     bytes(proof)))
        con.close()

    def users_with(self, count: int) -> list:
        return [uid for uid, recs in self.records.items() if len(recs) == count]

    def file_of(self, uid: str) -> dict:
        """The honest inclusion file of ``uid``, as ``zksolvency inclusion`` exports it."""
        return {
            "format": "zksolvency-inclusion/2",
            "round_id": self.statement.round_id,
            "user_id": uid,
            "salt": "0x" + self.salts[uid].hex(),
            "assets": list(self.names),
            "records": [self.record_json(row, slots, proof) for row, slots, proof in self.records[uid]],
        }

    def record_json(self, row: int, slots, proof: bytes) -> dict:
        return {"row": row, "proof": "0x" + proof.hex(),
                "slots": [{"asset": self.names[a - 1] if a else None, "units": str(u)} for a, u in slots]}

    def value_at(self, row: int) -> int:
        """G(omega^row): the value every opening at ``row`` proves (known to the exchange, gamma included)."""
        for uid, recs in self.records.items():
            for k, (r, slots, _) in enumerate(recs):
                if r == row:
                    h = record_hash(user_prefix(self.statement.round_id, uid, self.salts[uid]), k, len(recs), slots)
                    return combine([h] + [v for s in slots for v in s], self.gamma)
        return 0

    def proof_at(self, row: int) -> str:
        for recs in self.records.values():
            for r, _, proof in recs:
                if r == row:
                    return "0x" + proof.hex()
        raise KeyError(row)


def edited(file: dict, edit) -> dict:
    out = copy.deepcopy(file)
    edit(out)
    return out


def not_on_curve_hex() -> str:
    """64 bytes: x = 1, y = 1 (1 != 1 + 3): reduced coordinates, off the curve."""
    return "0x" + (1).to_bytes(32, "big").hex() + (1).to_bytes(32, "big").hex()


def cases(ex: Exchange) -> list:
    """Every named case: honest files, and each forgery a cheating exchange would try."""
    out = []
    alice, bob, empty_user, rich, partial, victim = FIXTURE_USERS
    honest = {u: ex.file_of(u) for u in FIXTURE_USERS}

    def add(name, uid, file, verdict):
        out.append(Case(name, uid, file, verdict))

    for label, uid in (("one_record", alice), ("several_records", bob), ("no_balance", empty_user),
                       ("balance_of_2^64-1", rich), ("partly_filled_record", partial)):
        add(f"honest_{label}", uid, honest[uid], "VALID")

    a, b = honest[alice], honest[bob]
    p = honest[partial]
    first_empty = next(k for k, s in enumerate(p["records"][0]["slots"]) if s["asset"] is None)
    first_full = next(k for k, s in enumerate(p["records"][0]["slots"]) if s["asset"] is not None)

    # [5] 1: a user absent from the ledger, shown another user's row with a fix-up value in an empty slot.
    row = ex.records[victim][0][0]
    salt = os.urandom(32)
    shown = [(1, 100 * 10**8)] + [(0, 0)] * (ex.slots - 1)
    fix = (ex.value_at(row) - combine([record_hash(user_prefix(ex.statement.round_id, "mallory", salt), 0, 1, shown)]
                                      + [v for s in shown for v in s], ex.gamma)) * pow(ex.gamma, -2 * ex.slots, R_MODULUS)
    forged = ex.file_of(victim)
    forged.update(user_id="mallory", salt="0x" + salt.hex())
    forged["records"][0]["slots"] = [{"asset": ex.names[0], "units": str(100 * 10**8)}] + [
        {"asset": None, "units": "0"}] * (ex.slots - 2) + [{"asset": None, "units": str(fix % R_MODULUS)}]
    add("absent_user_with_fixup_in_an_empty_slot", "mallory", forged, "UNITS_RANGE")
    forged_small = edited(forged, lambda f: f["records"][0]["slots"][-1].update(units="1"))
    add("empty_slot_holding_units", "mallory", forged_small, "EMPTY_SLOT_UNITS")
    add("row_listed_twice", alice, edited(a, lambda f: f["records"].append(copy.deepcopy(f["records"][0]))),
        "DUPLICATE_ROW")
    add("record_listed_twice_in_a_longer_file", bob,
        edited(b, lambda f: f["records"].insert(1, copy.deepcopy(f["records"][0]))), "DUPLICATE_ROW")

    # Rows: odd, past n (omega^(row + n) = omega^row: the opening is valid), negative, another user's.
    add("odd_row", alice, edited(a, lambda f: f["records"][0].update(row=f["records"][0]["row"] + 1)), "ODD_ROW")
    add("row_plus_n_wraps_to_the_same_point", alice,
        edited(a, lambda f: f["records"][0].update(row=f["records"][0]["row"] + ex.n)), "ROW_RANGE")
    add("row_at_n", alice, edited(a, lambda f: f["records"][0].update(row=ex.n)), "ROW_RANGE")
    add("negative_row", alice, edited(a, lambda f: f["records"][0].update(row=-2)), "MALFORMED")
    add("row_of_2^64", alice, edited(a, lambda f: f["records"][0].update(row=1 << 64)), "MALFORMED")
    add("row_of_2^64_minus_2", alice, edited(a, lambda f: f["records"][0].update(row=(1 << 64) - 2)), "ROW_RANGE")
    add("another_users_row_and_opening", alice, edited(a, lambda f: f["records"][0].update(
        row=ex.records[victim][0][0], proof=ex.proof_at(ex.records[victim][0][0]))), "OPENING")

    # Slots: the canonical form.
    def set_slot(k, asset, units, record=0):
        return lambda f: f["records"][record]["slots"].__setitem__(k, {"asset": asset, "units": units})

    held = p["records"][0]["slots"][first_full]
    add("labelled_slot_with_zero_units", partial, edited(p, set_slot(first_empty, ex.names[-1], "0")), "ZERO_UNITS")
    add("units_of_2^64", partial, edited(p, set_slot(first_full, held["asset"], str(UNITS_BOUND))), "UNITS_RANGE")
    add("units_of_r_minus_1", partial, edited(p, set_slot(first_full, held["asset"], str(R_MODULUS - 1))),
        "UNITS_RANGE")
    add("units_of_r_wrap_the_field", partial, edited(p, set_slot(first_full, held["asset"], str(R_MODULUS))),
        "MALFORMED")
    add("raised_balance", partial,
        edited(p, set_slot(first_full, held["asset"], str(int(held["units"]) + 1))), "OPENING")
    add("balance_split_over_two_slots_of_one_asset", partial, edited(p, lambda f: (
        set_slot(first_full, held["asset"], str(int(held["units"]) - 1))(f),
        set_slot(first_empty, held["asset"], "1")(f))), "ASSET_ORDER")
    add("balance_moved_to_another_asset", partial, edited(p, set_slot(first_full, ex.names[-1], held["units"])),
        "OPENING")

    def empty_first(f):
        s = f["records"][0]["slots"]
        s[first_full], s[first_empty] = s[first_empty], s[first_full]

    add("empty_slot_before_a_balance", partial, edited(p, empty_first), "EMPTY_NOT_LAST")
    add("unknown_asset_name", partial, edited(p, set_slot(first_full, "NOTACOIN", held["units"])), "UNKNOWN_ASSET")
    add("a_slot_too_few", partial, edited(p, lambda f: f["records"][0]["slots"].pop()), "SHAPE")
    add("a_slot_too_many", partial,
        edited(p, lambda f: f["records"][0]["slots"].append({"asset": None, "units": "0"})), "SHAPE")
    add("slot_without_its_asset_key", partial,
        edited(p, lambda f: f["records"][0]["slots"][first_empty].pop("asset")), "MALFORMED")

    # Records: hidden, reordered, extra, none.
    add("last_record_hidden", bob, edited(b, lambda f: f["records"].pop()), "OPENING")
    def move_slot(f):  # the slot counts change, the slots shown (and the flattened slot list) do not
        f["records"][0]["slots"].append(f["records"][1]["slots"].pop(0))

    add("a_slot_moved_to_the_previous_record", bob, edited(b, move_slot), "SHAPE")
    add("records_reordered", bob, edited(b, lambda f: f["records"].reverse()), "EMPTY_NOT_LAST")

    def extra_empty(f):
        f["records"].append(ex.record_json(ex.records[empty_user][0][0], [(0, 0)] * ex.slots,
                                           ex.records[empty_user][0][2]))

    add("an_empty_record_appended", bob, edited(b, extra_empty), "EMPTY_RECORD")
    add("no_records", alice, edited(a, lambda f: f.update(records=[])), "NO_RECORDS")

    def swap_proofs(f):
        r = f["records"]
        r[0]["proof"], r[1]["proof"] = r[1]["proof"], r[0]["proof"]

    add("openings_swapped", bob, edited(b, swap_proofs), "OPENING")
    add("opening_not_on_the_curve", alice, edited(a, lambda f: f["records"][0].update(proof=not_on_curve_hex())),
        "PROOF_POINT")
    add("opening_coordinate_not_reduced", alice, edited(a, lambda f: f["records"][0].update(
        proof="0x" + Q_MODULUS.to_bytes(32, "big").hex() + f["records"][0]["proof"][66:])), "PROOF_POINT")
    add("opening_at_infinity", alice, edited(a, lambda f: f["records"][0].update(proof="0x" + "00" * 64)), "OPENING")

    def negated(f):
        proof = f["records"][0]["proof"]
        y = int(proof[66:], 16)
        f["records"][0]["proof"] = proof[:66] + ((Q_MODULUS - y) % Q_MODULUS).to_bytes(32, "big").hex()

    add("opening_negated", alice, edited(a, negated), "OPENING")
    add("opening_hex_with_a_space", alice, edited(a, lambda f: f["records"][0].update(
        proof=f["records"][0]["proof"][:10] + " " + f["records"][0]["proof"][11:])), "MALFORMED")

    # Identity: another customer's record, salt, round.
    add("another_customers_file", bob, a, "USER_ID")
    add("another_customers_record_under_my_id", bob, edited(a, lambda f: f.update(user_id=bob)), "OPENING")
    add("another_salt", alice, edited(a, lambda f: f.update(salt="0x" + "11" * 32)), "OPENING")
    add("another_round", alice, edited(a, lambda f: f.update(round_id=ex.statement.round_id + "-x")), "ROUND_ID")
    add("asset_names_in_another_order", alice, edited(a, lambda f: f["assets"].reverse()), "ASSET_LIST")
    add("asset_list_with_an_extra_name", alice, edited(a, lambda f: f["assets"].append("EXTRA")), "ASSET_LIST")
    add("unexpected_field", alice, edited(a, lambda f: f.update(note="trust me")), "MALFORMED")
    return out


def record_cases(keys) -> list:
    """Integer-level records (what the registry's view takes), for the rules a file cannot express."""
    base = {"row": 0, "hash": 12345, "slots": [[1, 5]] + [[0, 0]] * (keys.slots - 1), "proof": [1, 2]}
    out = []

    def add(name, changes, verdict):
        rec = copy.deepcopy(base)
        rec.update(changes)
        out.append({"name": name, "records": [rec], "verdict": verdict})

    add("zero_record_hash", {"hash": 0}, "RECORD_HASH")
    add("record_hash_of_r", {"hash": R_MODULUS}, "RECORD_HASH")
    add("asset_index_past_k", {"slots": [[keys.asset_count + 1, 5]] + [[0, 0]] * (keys.slots - 1)}, "UNKNOWN_ASSET")
    add("units_of_2^256_minus_1_under_asset_0", {"slots": [[1, 5], [0, (1 << 256) - 1]] + [[0, 0]] * (keys.slots - 2)},
        "UNITS_RANGE")
    add("proof_y_not_reduced", {"proof": [1, Q_MODULUS + 2]}, "PROOF_POINT")
    add("wrong_opening", {}, "OPENING")
    out.append({"name": "no_records", "records": [], "verdict": "NO_RECORDS"})
    return out
