"""Make the vectors the page's checking module is tested against (web/test/, tests/test_web.py).

    .venv/bin/python tests/vectors/make_web_cases.py        (or: make vectors)

The spot cases are tests/vectors/inclusion/ (make_inclusion_cases.py); this adds, in tests/vectors/web/:
margin_round.json and margin_cases.json (a margin round over a small ledger of borrowers, and honest and forged
inclusion files with the verdict every verifier must reach), private_round.json and private_cases.json (a
private-totals round, two slots a record), sharded_round.json and sharded_cases.json (a public round of three
shards, format zksolvency-sharded-round/1, and its customers' files of format zksolvency-inclusion/3, honest and
forged), sharded_private_round.json (a private-totals round of two shards), sharded_forged_rounds.json (sharded
round files a cheating exchange could write, each with the refusal every verifier must reach), pins.json (each
vector round's verifying-key digest, as whoever checked the key would publish it) and circuits.json (each vector
round's circuit description, from which the page verifies a round's proof). Run it again whenever a format changes;
the tests read only the files it writes, and tests/test_web.py checks they are the generator's.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from zksolvency.artifacts import canonical_json, load_round  # noqa: E402

OUT = HERE / "web"
ROUND_ID = "vectors-margin"
DECIMALS = {"BTC": 8, "ETH": 18, "USDT": 6, "DOGE": 8}
# alice borrows USDT against BTC; bob borrows BTC; carol has no debt; erin owes ETH against ETH; frank owes what he holds.
LEDGER = """user_id,BTC,BTC:debt,ETH,ETH:debt,USDT,USDT:debt,DOGE
alice,1,,,,,50000,
bob,,0.1,2,,20000,,
carol,2,,0.5,,100,,1000
erin,,,3,1,,,
frank,,,,,10,10,
"""
PRICES = "asset,price,ratio_bps\nBTC,65000,9000\nETH,3000.5,8500\nUSDT,1,10000\nDOGE,0.12345678,0\n"
USERS = ("alice", "bob", "carol", "erin", "frank")


def margin_round(work: Path):
    """The margin round of the vectors (a fresh one each call: salts and rows are random)."""
    from zksolvency.ingest import read_ledger
    from zksolvency.margin import read_prices
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    (work / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    (work / "prices.csv").write_text(PRICES, encoding="utf-8")
    led = read_ledger(work / "ledger.csv", DECIMALS)
    terms = read_prices(work / "prices.csv", led.assets, led.decimals)
    return prove_round(led, dev_setup(9), ROUND_ID, slots=4, terms=terms)


PRIVATE_ROUND_ID = "vectors-private"
PRIVATE_LEDGER = "user_id,BTC,ETH,USDT\nalice,0.5,2,\nbob,1.5,1.5,1.5\ncarol,,,\nerin,,3,\n"


def private_round(work: Path):
    """A private-totals round (reserves public, totals hidden) of the vectors: another instance-column layout."""
    from zksolvency.ingest import read_ledger
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    (work / "private.csv").write_text(PRIVATE_LEDGER, encoding="utf-8")
    led = read_ledger(work / "private.csv", {"BTC": 8, "ETH": 9, "USDT": 6})
    reserves = {a: t + 10**6 for a, t in zip(led.assets, led.totals())}
    return prove_round(led, dev_setup(9), PRIVATE_ROUND_ID, slots=2, private_totals=True, reserves=reserves)


def private_cases(rnd) -> list:
    files = {rnd.user_ids[u]: rnd.inclusion_file(u).to_json() for u in range(len(rnd.user_ids))}
    raised = copy.deepcopy(files["alice"])
    slot = raised["records"][0]["slots"][0]
    slot["units"] = str(int(slot["units"]) + 1)
    other = copy.deepcopy(files["bob"])
    other["round_id"] = ROUND_ID
    # A sharded round's file (format /3, naming a shard) for this round of one shard.
    sharded = {**copy.deepcopy(files["erin"]), "format": "zksolvency-inclusion/3", "shard": 0}
    return [{"name": f"private_honest_{uid}", "user_id": uid, "file": files[uid], "verdict": "VALID"}
            for uid in ("alice", "bob", "carol", "erin")] + [
        {"name": "private_raised_balance", "user_id": "alice", "file": raised, "verdict": "OPENING"},
        {"name": "private_another_round", "user_id": "bob", "file": other, "verdict": "ROUND_ID"},
        {"name": "private_file_naming_a_shard_of_a_round_without_shards", "user_id": "erin", "file": sharded,
         "verdict": "SHARD"}]


SHARDED_ROUND_ID = "vectors-sharded"
SHARDS = 3
SHARDED_LEDGER = ("user_id,BTC,ETH,USDT\nalice,0.5,2,\nbob,1.5,1.5,1.5\ncarol,,,\nerin,,3,\nfrank,0.25,,7\n"
                  "grace,,0.125,100\nheidi,3,,\n")
SHARDED_USERS = ("alice", "bob", "carol", "erin", "frank", "grace", "heidi")
SHARDED_DECIMALS = {"BTC": 8, "ETH": 9, "USDT": 6}


def sharded_round(work: Path):
    """A public round of three shards (customers drawn at random into shards, each shard its own proof)."""
    from zksolvency.ingest import read_ledger
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    (work / "sharded.csv").write_text(SHARDED_LEDGER, encoding="utf-8")
    led = read_ledger(work / "sharded.csv", SHARDED_DECIMALS)
    return prove_round(led, dev_setup(9), SHARDED_ROUND_ID, slots=2, shards=SHARDS)


def sharded_private_round(work: Path):
    """A private-totals round of two shards: each shard proves its liabilities within its allocation."""
    from zksolvency.ingest import read_ledger
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    (work / "sharded.csv").write_text(SHARDED_LEDGER, encoding="utf-8")
    led = read_ledger(work / "sharded.csv", SHARDED_DECIMALS)
    reserves = {a: t + 10**6 for a, t in zip(led.assets, led.totals())}
    return prove_round(led, dev_setup(9), SHARDED_ROUND_ID + "-private", slots=2, shards=2, private_totals=True,
                       reserves=reserves)


def sharded_cases(rnd) -> list:
    """Honest files of every customer of the sharded round, and files naming another, no or no such shard."""
    files = {rnd.user_ids[u]: rnd.inclusion_file(u).to_json() for u in range(len(rnd.user_ids))}

    def edited(uid, edit):
        f = copy.deepcopy(files[uid])
        edit(f)
        return f

    def unsharded(f):
        f["format"] = "zksolvency-inclusion/2"
        del f["shard"]

    def raised(f):
        s = f["records"][0]["slots"][0]
        s["units"] = str(int(s["units"]) + 1)

    out = [{"name": f"sharded_honest_{uid}", "user_id": uid, "file": files[uid], "verdict": "VALID"}
           for uid in SHARDED_USERS]
    out += [
        # The records of shard i shown against shard j's commitment.
        {"name": "sharded_another_shard", "user_id": "alice",
         "file": edited("alice", lambda f: f.update(shard=(f["shard"] + 1) % SHARDS)), "verdict": "OPENING"},
        {"name": "sharded_shard_past_the_last", "user_id": "bob",
         "file": edited("bob", lambda f: f.update(shard=SHARDS)), "verdict": "SHARD"},
        {"name": "sharded_shard_far_out_of_range", "user_id": "bob",
         "file": edited("bob", lambda f: f.update(shard=2**20 - 1)), "verdict": "SHARD"},
        {"name": "sharded_no_shard", "user_id": "erin", "file": edited("erin", unsharded), "verdict": "SHARD"},
        {"name": "sharded_negative_shard", "user_id": "erin", "file": edited("erin", lambda f: f.update(shard=-1)),
         "verdict": "MALFORMED"},
        {"name": "sharded_shard_as_text", "user_id": "erin", "file": edited("erin", lambda f: f.update(shard="0")),
         "verdict": "MALFORMED"},
        {"name": "sharded_shard_field_in_a_v2_file", "user_id": "erin",
         "file": edited("erin", lambda f: f.update(format="zksolvency-inclusion/2")), "verdict": "MALFORMED"},
        {"name": "sharded_raised_balance", "user_id": "heidi", "file": edited("heidi", raised), "verdict": "OPENING"},
        {"name": "sharded_another_customers_file", "user_id": "bob", "file": files["frank"], "verdict": "USER_ID"},
        {"name": "sharded_another_round", "user_id": "grace",
         "file": edited("grace", lambda f: f.update(round_id=ROUND_ID)), "verdict": "ROUND_ID"},
    ]
    return out


def _resum(obj) -> None:
    for name in obj["totals"]:
        obj["totals"][name] = str(sum(int(s["totals"][name]) for s in obj["shards"]))


def _swap_shards(obj) -> None:
    a, b = obj["shards"][0], obj["shards"][1]
    obj["shards"][0], obj["shards"][1] = {**b, "shard": 0}, {**a, "shard": 1}


def _duplicate_shard(obj) -> None:
    obj["shards"][1] = {**copy.deepcopy(obj["shards"][0]), "shard": 1}
    _resum(obj)


def _drop_shard(obj) -> None:
    obj["shards"].pop()
    obj["shard_count"] -= 1
    _resum(obj)


def _shift_between_shards(obj) -> None:
    # BTC moved from shard 0 to shard 1 in the stated totals: the round's sum is unchanged, the proofs are not.
    obj["shards"][0]["totals"]["BTC"] = str(int(obj["shards"][0]["totals"]["BTC"]) - 1)
    obj["shards"][1]["totals"]["BTC"] = str(int(obj["shards"][1]["totals"]["BTC"]) + 1)


def _bump(field, name, delta):
    return lambda obj: obj[field].update({name: str(int(obj[field][name]) + delta)})


def _over_allocate(obj) -> None:
    for name in obj["reserves"]:
        obj["reserves"][name] = str(sum(int(s["allocation"][name]) for s in obj["shards"]) - 1)


def _unshard(obj) -> None:
    # Shard 0 presented as a round of one shard: its proof is under its shard tag, not the round tag.
    shard = obj["shards"][0]
    for key in ("shard_count", "shards"):
        del obj[key]
    obj.update(format="zksolvency-round/1", totals=shard["totals"], public_inputs=shard["public_inputs"],
               inclusion_commitment=shard["inclusion_commitment"], proof=shard["proof"])


def _listed_out_of_order(obj) -> None:
    obj["shards"].reverse()


# (name, which round, the edit, the refusal: "proof" (the statement is not what the proofs prove) or "MALFORMED",
# and the words every verifier's reason holds).
FORGERIES = (
    ("total_above_the_shards_sum", "public", _bump("totals", "BTC", 1), "proof", "sum of the shards"),
    ("total_below_the_shards_sum", "public", _bump("totals", "BTC", -1), "proof", "sum of the shards"),
    ("shards_swapped", "public", _swap_shards, "proof", "public inputs"),
    ("shard_duplicated", "public", _duplicate_shard, "proof", "public inputs"),
    ("shard_dropped", "public", _drop_shard, "proof", "public inputs"),
    ("liabilities_moved_between_shards", "public", _shift_between_shards, "proof", "public inputs"),
    ("a_shard_as_a_round_of_one", "public", _unshard, "proof", "public inputs"),
    ("shards_listed_out_of_order", "public", _listed_out_of_order, "MALFORMED", "index order"),
    ("allocations_above_the_reserves", "private", _over_allocate, "proof", "more than its reserves"),
    ("an_allocation_raised", "private", lambda o: o["shards"][1]["allocation"].update(
        BTC=str(int(o["shards"][1]["allocation"]["BTC"]) + 1)), "proof", "public inputs"),
)


def forged_rounds(public: dict, private: dict) -> list:
    """Every forgery of FORGERIES applied to the sharded rounds' JSON: {name, round, verdict, reason}."""
    out = []
    for name, which, edit, verdict, reason in FORGERIES:
        obj = copy.deepcopy(public if which == "public" else private)
        edit(obj)
        out.append({"name": name, "source": which, "round": obj, "verdict": verdict, "reason": reason})
    return out


def margin_cases(rnd) -> list:
    """Honest files of every customer, and the forgeries of a margin record, each with its verdict."""
    files = {rnd.user_ids[u]: rnd.inclusion_file(u).to_json() for u in range(len(rnd.user_ids))}
    out = []

    def add(name, uid, file, verdict):
        out.append({"name": name, "user_id": uid, "file": file, "verdict": verdict})

    def edited(uid, edit):
        f = copy.deepcopy(files[uid])
        edit(f)
        return f

    def slot(f, label):
        return next(s for r in f["records"] for s in r["slots"] if s["asset"] == label)

    def bump(label, delta):
        return lambda f: slot(f, label).update(units=str(int(slot(f, label)["units"]) + delta))

    for uid in USERS:
        add(f"margin_honest_{uid}", uid, files[uid], "VALID")
    add("margin_surplus_raised", "alice", edited("alice", bump("surplus:1", 1)), "SURPLUS")
    add("margin_smaller_debt_shown", "alice", edited("alice", bump("USDT:debt", -1)), "SURPLUS")
    add("margin_debt_shown_as_equity", "alice", edited("alice", lambda f: slot(f, "USDT:debt").update(asset="USDT")),
        "SURPLUS")
    add("margin_unknown_label", "alice", edited("alice", lambda f: slot(f, "USDT:debt").update(asset="USDT:loan")),
        "UNKNOWN_ASSET")

    def surplus_for_carol(f):
        s = f["records"][0]["slots"]
        s.insert(0, {"asset": "surplus:1", "units": "5"})
        s.pop()

    add("margin_surplus_in_an_account_without_debts", "carol", edited("carol", surplus_for_carol), "SURPLUS")
    add("margin_debt_hidden", "erin", edited("erin", lambda f: slot(f, "ETH:debt").update(asset=None, units="0")),
        "EMPTY_NOT_LAST" if _debt_before_last(files["erin"], "ETH:debt") else "SURPLUS")
    add("margin_equity_raised", "bob", edited("bob", bump("ETH", 1)), "SURPLUS")
    add("margin_odd_row", "bob", edited("bob", lambda f: f["records"][0].update(row=f["records"][0]["row"] + 1)),
        "ODD_ROW")
    add("margin_another_customers_file", "bob", files["alice"], "USER_ID")
    add("margin_another_customers_record_under_my_id", "bob", edited("alice", lambda f: f.update(user_id="bob")),
        "OPENING")
    add("margin_another_salt", "carol", edited("carol", lambda f: f.update(salt="0x" + "11" * 32)), "OPENING")
    add("margin_another_round", "alice", edited("alice", lambda f: f.update(round_id="vectors-1")), "ROUND_ID")
    add("margin_asset_names_reordered", "alice", edited("alice", lambda f: f["assets"].reverse()), "ASSET_LIST")
    add("margin_units_not_a_string", "alice", edited("alice", lambda f: slot(f, "BTC").update(units=100000000)),
        "MALFORMED")
    return out


def _debt_before_last(file, label) -> bool:
    """Whether emptying the slot ``label`` leaves a balance after it (then the canonical rule refuses it first)."""
    for r in file["records"]:
        labels = [s["asset"] for s in r["slots"]]
        if label in labels:
            return any(a is not None for a in labels[labels.index(label) + 1:])
    return False


def circuits(round_files) -> dict:
    """Each vector round's circuit description (the text whose Keccak is its key's circuit digest)."""
    from zksolvency.web import circuit_description

    return {name: circuit_description(load_round(path)) for name, path in round_files.items()}


def pins(round_files) -> dict:
    return {name: "0x" + load_round(path).verifying_key.digest().hex() for name, path in round_files.items()}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        rnd = margin_round(Path(work))
        (OUT / "margin_round.json").write_text(canonical_json(rnd.statement.to_json()), encoding="utf-8")
        cases = margin_cases(rnd)
        private = private_round(Path(work))
        (OUT / "private_round.json").write_text(canonical_json(private.statement.to_json()), encoding="utf-8")
        private_table = private_cases(private)
        sharded = sharded_round(Path(work))
        sharded_private = sharded_private_round(Path(work))
        sharded_table = sharded_cases(sharded)
    (OUT / "private_cases.json").write_text(json.dumps(private_table, sort_keys=True) + "\n", encoding="utf-8")
    (OUT / "sharded_round.json").write_text(canonical_json(sharded.statement.to_json()), encoding="utf-8")
    (OUT / "sharded_private_round.json").write_text(canonical_json(sharded_private.statement.to_json()),
                                                    encoding="utf-8")
    (OUT / "sharded_cases.json").write_text(json.dumps(sharded_table, sort_keys=True) + "\n", encoding="utf-8")
    forged = forged_rounds(sharded.statement.to_json(), sharded_private.statement.to_json())
    (OUT / "sharded_forged_rounds.json").write_text(json.dumps(forged, sort_keys=True) + "\n", encoding="utf-8")
    (OUT / "margin_cases.json").write_text(json.dumps(cases, sort_keys=True, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    rounds = {"inclusion/round.json": HERE / "inclusion" / "round.json", "web/margin_round.json": OUT / "margin_round.json",
              "web/private_round.json": OUT / "private_round.json", "web/sharded_round.json": OUT / "sharded_round.json",
              "web/sharded_private_round.json": OUT / "sharded_private_round.json"}
    (OUT / "pins.json").write_text(canonical_json(pins(rounds)), encoding="utf-8")
    (OUT / "circuits.json").write_text(canonical_json(circuits(rounds)), encoding="utf-8")
    print(f"{len(cases)} margin cases, {len(private_table)} private-totals cases, {len(sharded_table)} sharded cases, "
          f"{len(forged)} forged sharded rounds -> {OUT}")


if __name__ == "__main__":
    main()
