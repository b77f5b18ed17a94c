"""Inclusion proofs as a cheating exchange writes them: one table of cases, every verification path, one verdict.

The paths: the Python round.json path (``verify-inclusion --round``), the
Python chain path (``--rpc --registry``, alone and with ``--round``) and the
registry's view (``--onchain``), here as the functions the CLI calls and, for
a sample, through the CLI itself. The table is data
(``tests/vectors/inclusion``, made by ``make_inclusion_cases.py``), so that
any other verifier can be driven by the same cases.
"""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from recording_node import recording_proxy
from zksolvency.artifacts import ArtifactError, InclusionFile, RoundStatement
from zksolvency.audit import round_keys, verify_round
from zksolvency.chain import anvil, connect
from zksolvency.cli import main
from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    inclusion_calldata,
    publish,
    register_round_assets,
)
from zksolvency.verifier.inclusion import Record, Rule, check_records

from inclusion_paths import paths, verdict

VECTORS = Path(__file__).parent / "vectors" / "inclusion"
CASES = json.loads((VECTORS / "cases.json").read_text(encoding="utf-8"))
RECORD_CASES = json.loads((VECTORS / "records.json").read_text(encoding="utf-8"))
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0
# The fixture round's key digest, as whoever checked the key would publish it.
VK_DIGEST = "0x" + RoundStatement.load(VECTORS / "round.json").verifying_key.digest().hex()


@pytest.fixture(scope="module")
def fixture_round():
    statement = RoundStatement.load(VECTORS / "round.json")
    return statement, round_keys(verify_round(statement, allow_insecure_srs=True))


@pytest.fixture(scope="module")
def registry(fixture_round):
    statement, _ = fixture_round
    with anvil() as url:
        w3 = connect(url)
        owner = Account.from_key(OWNER_KEY)
        compiled = compile_round_contracts(statement)
        d = deploy_round_contracts(w3, owner, statement, compiled)
        contract = w3.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
        register_round_assets(w3, contract, owner, statement)
        publish(w3, contract, owner, statement)
        yield contract


def test_the_table_holds_every_rule_and_honest_twins():
    verdicts = {c["verdict"] for c in CASES} | {c["verdict"] for c in RECORD_CASES}
    # SURPLUS is a margin rule: tests/test_margin_onchain.py's table drives it through every path; SHARD a
    # sharded-round rule: tests/test_shards.py drives it (sharded rounds have no chain path yet).
    spot = {r.name for r in Rule if r not in (Rule.VALID, Rule.ROUND_RECORD, Rule.SURPLUS, Rule.SHARD)}
    assert verdicts >= spot | {"VALID", "MALFORMED"}
    assert sum(c["verdict"] == "VALID" for c in CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_path_reaches_the_verdict_of_the_table(case, fixture_round, registry):
    statement, keys = fixture_round
    got = {name: verdict(lambda: check(case["file"], case["user_id"]))
           for name, check in paths(statement, keys, registry).items()}
    assert got == dict.fromkeys(got, case["verdict"])


@pytest.mark.parametrize("case", RECORD_CASES, ids=[c["name"] for c in RECORD_CASES])
def test_records_the_view_takes_get_the_same_rule_in_python_and_solidity(case, fixture_round, registry):
    statement, keys = fixture_round
    records = [Record(r["row"], r["hash"], tuple(map(tuple, r["slots"])), tuple(r["proof"])) for r in case["records"]]
    python = verdict(lambda: check_records(keys, records))
    code = registry.functions.inclusionFailure(statement.round_id, *inclusion_calldata(records)).call()
    assert python == Rule(code).name == case["verdict"]


def test_the_view_refuses_arrays_that_do_not_fit_and_accepts_their_honest_twin(fixture_round, registry):
    statement, keys = fixture_round
    honest = next(c for c in CASES if c["name"] == "honest_several_records")
    inclusion = InclusionFile.from_json(honest["file"], "case")
    from zksolvency.audit import records_of

    rows, hashes, slots, proofs = inclusion_calldata(records_of(inclusion, [a.name for a in statement.assets]))
    view = registry.functions.inclusionFailure
    assert view(statement.round_id, rows, hashes, slots, proofs).call() == Rule.VALID
    assert registry.functions.verifyInclusion(statement.round_id, rows, hashes, slots, proofs).call() is True
    for bad in ((rows, hashes[:-1], slots, proofs), (rows, hashes, slots[:-1], proofs),
                (rows, hashes, slots, proofs + [0, 0]), (rows[:-1], hashes, slots, proofs)):
        assert view(statement.round_id, *bad).call() == Rule.SHAPE
        assert registry.functions.verifyInclusion(statement.round_id, *bad).call() is False
    with pytest.raises(Exception, match="0x2522613f"):  # UnknownRound(): a verdict needs a recorded round
        view("no-such-round", rows, hashes, slots, proofs).call()


# --------------------------------------------------------------------------- the CLI itself

CLI_CASES = ("honest_one_record", "honest_several_records", "absent_user_with_fixup_in_an_empty_slot",
             "row_listed_twice", "row_plus_n_wraps_to_the_same_point", "odd_row", "another_customers_file",
             "opening_not_on_the_curve", "units_of_r_wrap_the_field")


@pytest.mark.parametrize("name", CLI_CASES)
def test_the_cli_reaches_the_verdict_of_the_table_on_every_path(name, registry, tmp_path):
    case = next(c for c in CASES if c["name"] == name)
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    url, address = registry.w3.provider.endpoint_uri, registry.address
    round_file = ["--round", VECTORS / "round.json", "--allow-insecure-srs", "--vk-digest", VK_DIGEST]
    chain = ["--rpc", url, "--registry", address]
    for form in (round_file, chain, chain + ["--onchain"], chain + round_file):
        args = ["verify-inclusion", path, "--user-id", case["user_id"], "--json", *form]
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert "Traceback" not in result.output and not (result.exception and result.exit_code not in (0, 1))
        if case["verdict"] == "MALFORMED":
            assert result.exit_code == 1 and "case" not in result.stdout and str(path) in result.stderr
            continue
        out = json.loads(result.stdout)
        assert out["user_id"] == case["user_id"]
        if case["verdict"] == "VALID":
            assert result.exit_code == 0 and out["valid"] is True and "rule" not in out
        else:
            assert result.exit_code == 1 and out["valid"] is False and out["rule"] == case["verdict"], form


def test_the_cli_requires_the_customers_id_and_a_pin_for_a_round_file(tmp_path):
    case = next(c for c in CASES if c["name"] == "honest_one_record")
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    base = ["verify-inclusion", str(path), "--round", str(VECTORS / "round.json"), "--allow-insecure-srs"]
    result = CliRunner().invoke(main, base + ["--vk-digest", VK_DIGEST])
    assert result.exit_code == 2 and "--user-id" in result.output
    result = CliRunner().invoke(main, base + ["--user-id", "alice"])
    assert result.exit_code == 2 and "pin the verifying key" in result.output
    result = CliRunner().invoke(main, base + ["--user-id", "alice", "--unpinned", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["pin"] == "none"
    result = CliRunner().invoke(main, base + ["--user-id", "alice", "--unpinned"])
    assert "NOT PINNED" in result.stdout
    out = json.loads(CliRunner().invoke(main, base + ["--user-id", "alice", "--vk-digest", VK_DIGEST, "--json"]).stdout)
    assert out["valid"] is True and out["pin"] == {"vk_digest": VK_DIGEST}
    other = "0x" + "00" * 32
    refused = CliRunner().invoke(main, base + ["--user-id", "alice", "--vk-digest", other, "--json"])
    assert refused.exit_code == 1 and "is not the pinned" in json.loads(refused.stdout)["reason"]


def test_the_chain_path_audits_the_registry_against_a_pinned_srs(registry, tmp_path):
    from zksolvency.prover.srs import dev_setup

    case = next(c for c in CASES if c["name"] == "honest_one_record")
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    dev_setup(9).save(tmp_path / "srs.bin")  # the fixture round's SRS (make_inclusion_cases.py)
    dev_setup(9, seed="other").save(tmp_path / "other.bin")
    base = ["verify-inclusion", str(path), "--user-id", "alice", "--json", "--rpc", registry.w3.provider.endpoint_uri,
            "--registry", registry.address]
    good = CliRunner().invoke(main, base + ["--srs", str(tmp_path / "srs.bin")])
    out = json.loads(good.stdout)
    assert good.exit_code == 0 and out["valid"] is True and set(out["pin"]) == {"srs", "registry"}, good.output
    bad = CliRunner().invoke(main, base + ["--srs", str(tmp_path / "other.bin")])
    out = json.loads(bad.stdout)
    assert bad.exit_code == 1 and out["rule"] == "pin" and "is not the one generated from the pinned key" in out["reason"]
    alone = json.loads(CliRunner().invoke(main, base).stdout)
    assert alone["valid"] is True and alone["pin"] == {"registry": registry.address}


def test_a_round_file_that_is_not_the_recorded_round_is_refused_with_rpc(fixture_round, registry, tmp_path):
    statement, _ = fixture_round
    case = next(c for c in CASES if c["name"] == "honest_one_record")
    # Another round of the same shape: proven anew, so its commitment and gamma differ from the recorded one.
    from zksolvency.prover.srs import dev_setup
    from cheating import fixture_decimals, fixture_ledger

    dev_setup(9).save(tmp_path / "srs.bin")
    fixture_ledger(tmp_path / "ledger.csv")
    run = CliRunner().invoke
    assert run(main, ["prove", str(tmp_path / "ledger.csv"), "--srs", str(tmp_path / "srs.bin"), "--decimals",
                      fixture_decimals(), "--out", str(tmp_path / "r"), "--round-id", statement.round_id,
                      "--slots", "4"]).exit_code == 0
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    chain = ["--rpc", registry.w3.provider.endpoint_uri, "--registry", registry.address]
    base = ["verify-inclusion", str(path), "--user-id", case["user_id"], "--json", "--allow-insecure-srs",
            "--vk-digest", VK_DIGEST, *chain]
    good = run(main, base + ["--round", str(VECTORS / "round.json")])
    assert good.exit_code == 0 and json.loads(good.stdout)["valid"] is True
    bad = run(main, base + ["--round", str(tmp_path / "r" / "round.json")])
    out = json.loads(bad.stdout)
    assert bad.exit_code == 1 and out["rule"] == "ROUND_RECORD" and "commitment" in out["reason"]


# --------------------------------------------------------------------------- randomized mutations


def _mutations(rng: random.Random, file: dict, n: int, others: list):
    """Yield (description, mutated file): one to three random edits of every field a customer is shown."""
    m = copy.deepcopy(file)
    records = m["records"]
    k = rng.randrange(len(records)) if records else 0
    ops = []
    if records:
        rec = records[k]
        s = rng.randrange(len(rec["slots"]))
        slot = rec["slots"][s]
        units = int(slot["units"])
        ops += [
            ("row +1", lambda: rec.update(row=rec["row"] + 1)),
            ("row +2", lambda: rec.update(row=rec["row"] + 2)),
            ("row -2", lambda: rec.update(row=rec["row"] - 2)),
            ("row +n", lambda: rec.update(row=rec["row"] + n)),
            ("row random", lambda: rec.update(row=rng.randrange(-4, 2 * n))),
            ("row huge", lambda: rec.update(row=rng.randrange(1 << 255))),
            ("row as string", lambda: rec.update(row=str(rec["row"]))),
            ("units +1", lambda: slot.update(units=str(units + 1))),
            ("units -1", lambda: slot.update(units=str(max(units - 1, 0)))),
            ("units 0", lambda: slot.update(units="0")),
            ("units 2^64-1", lambda: slot.update(units=str((1 << 64) - 1))),
            ("units 2^64", lambda: slot.update(units=str(1 << 64))),
            ("units r-1", lambda: slot.update(units=str(R_MODULUS - 1))),
            ("units r", lambda: slot.update(units=str(R_MODULUS))),
            ("units random", lambda: slot.update(units=str(rng.randrange(1 << rng.choice((8, 40, 64, 70)))))),
            ("units leading zero", lambda: slot.update(units="0" + slot["units"])),
            ("units as number", lambda: slot.update(units=units)),
            ("asset null", lambda: slot.update(asset=None)),
            ("asset renamed", lambda: slot.update(asset=rng.choice(m["assets"]))),
            ("asset unknown", lambda: slot.update(asset="ZZZ")),
            ("asset missing", lambda: slot.pop("asset")),
            ("slot dropped", lambda: rec["slots"].pop(s)),
            ("slot duplicated", lambda: rec["slots"].insert(s, copy.deepcopy(slot))),
            ("slot appended", lambda: rec["slots"].append({"asset": None, "units": "0"})),
            ("slots swapped", lambda: rec["slots"].insert(rng.randrange(len(rec["slots"])), rec["slots"].pop(s))),
            ("slots reversed", lambda: rec["slots"].reverse()),
            ("balance split", lambda: (slot.update(units=str(units - 1)),
                                       rec["slots"].__setitem__(-1, {"asset": slot["asset"], "units": "1"}))),
            ("proof bit flip", lambda: rec.update(proof=_flip(rng, rec["proof"]))),
            ("proof negated", lambda: rec.update(proof=rec["proof"][:66] + (
                (Q_MODULUS - int(rec["proof"][66:], 16)) % Q_MODULUS).to_bytes(32, "big").hex())),
            ("proof infinity", lambda: rec.update(proof="0x" + "00" * 64)),
            ("proof short", lambda: rec.update(proof=rec["proof"][:-2])),
            ("record duplicated", lambda: records.insert(rng.randrange(len(records) + 1), copy.deepcopy(rec))),
            ("record dropped", lambda: records.pop(k)),
            ("slot moved to another record", lambda: records[rng.randrange(len(records))]["slots"].append(
                rec["slots"].pop(s))),
            ("records reversed", lambda: records.reverse()),
            ("record of another user", lambda: records.insert(rng.randrange(len(records) + 1),
                                                              copy.deepcopy(rng.choice(others)))),
            ("proof of another record", lambda: rec.update(proof=rng.choice(others)["proof"])),
        ]
    ops += [
        ("user id changed", lambda: m.update(user_id=m["user_id"] + rng.choice(("x", " ", "\u00e9")))),
        ("salt bit flip", lambda: m.update(salt=_flip(rng, m["salt"]))),
        ("round id changed", lambda: m.update(round_id=m["round_id"] + "-2")),
        ("no records", lambda: m.update(records=[])),
        ("format changed", lambda: m.update(format="zksolvency-inclusion/1")),
    ]
    done = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        name, op = rng.choice(ops)
        try:
            op()
        except (IndexError, KeyError, ValueError, TypeError):  # an edit that no longer applies after an earlier one
            continue
        done.append(name)
        if name in ("slot dropped", "record dropped", "slot moved to another record", "no records", "records reversed", "slots reversed",
                    "slot duplicated", "record duplicated", "record of another user", "slots swapped"):
            break  # later ops hold references into the old structure
    return ", ".join(done), m


def _flip(rng: random.Random, text: str) -> str:
    digits = list(text[2:])
    i = rng.randrange(len(digits))
    digits[i] = format(int(digits[i], 16) ^ (1 << rng.randrange(4)), "x")
    return "0x" + "".join(digits)


def _same_file(a: dict, b: dict) -> bool:
    try:
        return InclusionFile.from_json(a, "a") == InclusionFile.from_json(b, "b")
    except ArtifactError:
        return False


MUTATIONS = int(os.environ.get("ZKSOLVENCY_MUTATIONS", "500"))  # more: ZKSOLVENCY_MUTATIONS=20000 make test


def test_random_mutations_get_one_verdict_on_every_path(fixture_round, registry):
    statement, keys = fixture_round
    checks = paths(statement, keys, registry, measure_gas=False)  # the gas estimate is no part of the verdict
    honest = [c for c in CASES if c["verdict"] == "VALID"]
    others = [r for c in honest for r in c["file"]["records"]]
    rng = random.Random(20261203)
    seen = {}
    for i in range(MUTATIONS):
        case = honest[i % len(honest)]
        what, mutated = _mutations(rng, case["file"], statement.n, others)
        got = {name: verdict(lambda: check(mutated, case["user_id"])) for name, check in checks.items()}
        first = next(iter(got.values()))
        assert got == dict.fromkeys(got, first), (what, got)
        expected_valid = _same_file(mutated, case["file"])
        assert (first == "VALID") == expected_valid, (what, first)
        seen[first] = seen.get(first, 0) + 1
    # The mutations reach every rule a file can break, and the pairing.
    assert set(seen) >= {"MALFORMED", "OPENING", "ROW_RANGE", "ODD_ROW", "DUPLICATE_ROW", "UNITS_RANGE",
                         "ASSET_ORDER", "SHAPE", "PROOF_POINT", "USER_ID", "ROUND_ID", "NO_RECORDS"}, seen


# --------------------------------------------------------------------------- what the node is told


@pytest.fixture
def recording_node(registry):
    """A proxy on 127.0.0.1 in front of the test chain that keeps every request it forwards."""
    with recording_proxy(registry.w3.provider.endpoint_uri) as node:
        yield node


def test_the_node_never_learns_the_customers_id_or_salt_nor_by_default_a_balance(registry, recording_node, tmp_path):
    url, bodies = recording_node
    case = next(c for c in CASES if c["name"] == "honest_several_records")
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    file = case["file"]
    salt = file["salt"][2:]
    uid = file["user_id"]
    units = [int(s["units"]) for r in file["records"] for s in r["slots"] if s["asset"]]

    def seen(text: str) -> set:
        found = set()
        if uid in text or uid.encode().hex() in text.lower():
            found.add("user id")
        if salt.lower() in text.lower():
            found.add("salt")
        if any(format(u, "064x") in text.lower() for u in units):  # as the ABI encodes a word
            found.add("balance")
        return found

    def check(*extra):
        bodies.clear()
        result = CliRunner().invoke(main, ["verify-inclusion", str(path), "--user-id", uid, "--rpc", url,
                                           "--registry", registry.address, "--json", *extra])
        assert result.exit_code == 0 and json.loads(result.stdout)["valid"] is True, result.output
        assert bodies  # the proxy saw the requests
        return set().union(*(seen(b) for b in bodies))

    assert check() == set()  # the default chain path reads the round's record and nothing else
    assert check("--onchain") == {"balance"}  # the view gets the slots (README says so), never the id or salt


# --------------------------------------------------------------------------- files no parser should choke on


def _hostile_files():
    """(name, text of an inclusion file, text of round.json or None): what an exchange could write to crash a check."""
    honest = next(c for c in CASES if c["name"] == "honest_one_record")["file"]
    text = json.dumps(honest)
    round_text = (VECTORS / "round.json").read_text(encoding="utf-8")
    yield "a row of 5000 digits", text.replace(f'"row": {honest["records"][0]["row"]}', '"row": ' + "9" * 5000), None
    yield "units of 5000 digits", text.replace('"units": "0"', '"units": "' + "9" * 5000 + '"', 1), None
    yield "arrays nested 100,000 deep", "[" * 100_000 + "]" * 100_000, None
    yield "an object nested 65 deep", '{"a":' * 65 + "1" + "}" * 65, None
    yield "a lone surrogate in an asset name", text.replace('"BTC"', '"\\ud800"', 1), None
    yield "a lone surrogate in the round id", text, round_text.replace('"round_id": "vectors-1"', '"round_id": "\\udfff"')
    yield "NaN", text.replace(f'"row": {honest["records"][0]["row"]}', '"row": NaN'), None
    yield "log_n of 5000 digits", text, round_text.replace('"log_n": 8', '"log_n": ' + "9" * 5000)


@pytest.mark.parametrize("name,file_text,round_text", list(_hostile_files()), ids=[h[0] for h in _hostile_files()])
def test_hostile_files_are_refused_with_one_line_on_every_path(name, file_text, round_text, registry, tmp_path):
    import subprocess
    import sys

    path, round_file = tmp_path / "inclusion.json", tmp_path / "round.json"
    path.write_text(file_text, encoding="utf-8")
    round_file.write_text(round_text or (VECTORS / "round.json").read_text(encoding="utf-8"), encoding="utf-8")
    chain = ["--rpc", registry.w3.provider.endpoint_uri, "--registry", registry.address]
    with_round = ["--round", str(round_file), "--allow-insecure-srs", "--unpinned"]
    forms = (with_round, chain + with_round) if round_text else (with_round, chain, chain + ["--onchain"])
    for form in forms:
        # A real process: a parser that overflows the C stack kills it, which no in-process runner survives.
        done = subprocess.run([sys.executable, "-m", "zksolvency.cli", "verify-inclusion", str(path), "--user-id",
                               "alice", *form], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (form, done.returncode, done.stderr[-500:])
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_key_repeated_in_one_object_is_refused(tmp_path):
    """Two readers of {"units": "1", "units": "100"} could see two balances: such a file is not JSON we read."""
    case = next(c for c in CASES if c["name"] == "honest_one_record")
    text = json.dumps(case["file"]).replace('"user_id": "alice"', '"user_id": "alice", "user_id": "alice"', 1)
    path = tmp_path / "inclusion.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["verify-inclusion", str(path), "--user-id", "alice", "--round",
                                       str(VECTORS / "round.json"), "--allow-insecure-srs", "--vk-digest", VK_DIGEST])
    assert result.exit_code == 1 and "the key 'user_id' appears twice in one object" in result.output
