"""Solvency rounds end to end through the CLI: prove, verify, export, check; tampering, refusals, privacy."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from zksolvency.cli import main
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.prover.srs import SRS
from zksolvency.sample import decimals_spec, write_sample_ledger

USERS = 150


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("round")
    dev_srs.truncated(9).save(d / "srs.bin")
    totals = write_sample_ledger(d / "ledger.csv", USERS, seed=11)
    return d, totals


def run(*args, ok=True):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok is not None:
        assert (result.exit_code == 0) == ok, (result.exit_code, result.stdout, result.stderr)
    return result


def _prove(d, out, *extra, ok=True):
    return run("prove", d / "ledger.csv", "--srs", d / "srs.bin", "--decimals", decimals_spec(), "--out", out,
               "--round-id", "r-1", "--json", *extra, ok=ok)


@pytest.fixture(scope="module")
def public_round(workdir):
    d, totals = workdir
    result = _prove(d, d / "public")
    return d, totals, json.loads(result.stdout)


def test_prove_reports_and_verify_accepts(public_round):
    d, totals, report = public_round
    # 150 users fill a few more than 150 records of four slots; two rows a record need 2^9 rows.
    assert report["round_id"] == "r-1" and report["users"] == USERS and report["n"] == 512
    assert set(report) == {"round_dir", "round_id", "n", "users", "seconds", "proof_seconds", "inclusion_seconds"}
    result = run("verify", d / "public" / "round.json", "--allow-insecure-srs", "--srs", d / "srs.bin", "--json")
    out = json.loads(result.stdout)
    assert out["valid"] and out["totals"] == {k: str(v) for k, v in totals.items()}
    assert out["pin"] == {"srs": "0x" + SRS.load(d / "srs.bin").digest.hex()}
    assert run("verify", d / "public" / "round.json", "--srs", d / "srs.bin", ok=False).exit_code == 1  # dev SRS


def _export(d, round_dir, user, name):
    run("inclusion", round_dir, "--user", user, "--out", d / name)
    return json.loads((d / name).read_text(encoding="utf-8"))


def _check(d, round_dir, inclusion: dict, *extra, ok=True):
    path = d / "check.json"
    path.write_text(json.dumps(inclusion), encoding="utf-8")
    return run("verify-inclusion", path, "--user-id", inclusion["user_id"], "--round", round_dir / "round.json",
               "--allow-insecure-srs", "--srs", d / "srs.bin", "--json", *extra, ok=ok)


def test_every_user_sees_exactly_their_ledger_balances(public_round):
    d, _, _ = public_round
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    for u in (0, 1, 17, USERS - 1):
        uid = ledger.user_ids[u]
        inclusion = _export(d, d / "public", uid, f"u{u}.json")
        out = json.loads(_check(d, d / "public", inclusion).stdout)
        expected = {name: "0" for name in ledger.assets}
        for a, units in ledger.balances_of(u):
            expected[ledger.assets[a - 1]] = str(units)
        pin = {"srs": "0x" + SRS.load(d / "srs.bin").digest.hex()}
        assert out == {"valid": True, "round_id": "r-1", "user_id": uid, "balances": expected, "pin": pin}


def _a_rich_user(d):
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    u = max(range(ledger.users), key=lambda u: len(ledger.balances_of(u)))
    return ledger.user_ids[u]


def test_tampered_round_files_are_refused(public_round, tmp_path):
    d, totals, _ = public_round
    original = json.loads((d / "public" / "round.json").read_text(encoding="utf-8"))
    uid = _a_rich_user(d)
    inclusion = _export(d, d / "public", uid, "rich2.json")

    def variant(edit):
        copy = json.loads(json.dumps(original))
        edit(copy)
        target = tmp_path / "variant"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        (target / "round.json").write_text(json.dumps(copy), encoding="utf-8")
        return target

    def changed_total(c):
        c["totals"]["BTC"] = str(int(c["totals"]["BTC"]) + 1)
        c["public_inputs"][1] = str(int(c["public_inputs"][1]) + 1)

    def changed_commitment(c):
        c["inclusion_commitment"] = "0x" + "00" * 64

    def changed_proof_byte(c):
        proof = bytearray.fromhex(c["proof"][2:])
        proof[100] ^= 1
        c["proof"] = "0x" + proof.hex()

    def changed_round_id(c):
        c["round_id"] = "r-2"

    for name, edit in {"total": changed_total, "commitment": changed_commitment, "proof": changed_proof_byte,
                       "round id": changed_round_id}.items():
        target = variant(edit)
        result = run("verify", target / "round.json", "--allow-insecure-srs", "--srs", d / "srs.bin", "--json",
                     ok=False)
        assert json.loads(result.stdout)["valid"] is False, name
        if name != "round id":
            assert _check(d, target, inclusion, ok=False).exit_code == 1, name
    bad = variant(lambda c: c.update(proof="0xzz"))
    result = run("verify", bad / "round.json", "--allow-insecure-srs", "--unpinned", ok=False)
    assert result.exit_code == 1 and "proof" in result.stderr and "Traceback" not in result.stderr


def test_private_totals_round(workdir):
    d, totals = workdir
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    decimals = dict(zip(ledger.assets, ledger.decimals))

    def spec(extra_units):
        parts = []
        for name, total in totals.items():
            units = total + extra_units
            dec = decimals[name]
            parts.append(f"{name}={units // 10**dec}.{units % 10**dec:0{dec}d}" if dec else f"{name}={units}")
        return ",".join(parts)

    result = _prove(d, d / "private", "--private-totals", "--reserves", spec(1000))
    round_file = d / "private" / "round.json"
    text = round_file.read_text(encoding="utf-8")
    out = json.loads(run("verify", round_file, "--allow-insecure-srs", "--srs", d / "srs.bin", "--json").stdout)
    assert out["valid"] and "reserves" in out and "totals" not in out
    for total in totals.values():
        assert str(total) not in text and str(total) not in result.stdout
    # Insolvent: one asset's reserves one unit short. Refused, nothing written.
    short = spec(0).split(",")
    name, amount = short[0].split("=")
    units = totals[name] - 1
    dec = decimals[name]
    short[0] = f"{name}={units // 10**dec}.{units % 10**dec:0{dec}d}"
    result = _prove(d, d / "insolvent", "--private-totals", "--reserves", ",".join(short), ok=False)
    assert "insolvent" in result.stderr and name in result.stderr
    assert not (d / "insolvent").exists()


def test_bad_inputs_write_nothing(workdir, tmp_path):
    d, _ = workdir
    ledger = tmp_path / "bad.csv"
    ledger.write_text("user_id,BTC\nalice,1\nbob,-2\n", encoding="utf-8")
    result = run("prove", ledger, "--srs", d / "srs.bin", "--decimals", "BTC=8", "--out", tmp_path / "out", ok=False)
    assert result.exit_code == 1
    assert f"{ledger}:3: column 2 (BTC): negative amount" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    # An existing non-empty round directory is never overwritten.
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("x")
    result = _prove(d, tmp_path / "taken", ok=False)
    assert "already exists" in result.stderr and (tmp_path / "taken" / "keep.txt").read_text() == "x"
    # An SRS too small for the round.
    small = tmp_path / "small.bin"
    from zksolvency.prover.srs import SRS

    SRS.load(d / "srs.bin").truncated(7).save(small)
    result = run("prove", d / "ledger.csv", "--srs", small, "--decimals", decimals_spec(), "--out",
                 tmp_path / "o2", ok=False)
    assert "SRS serves up to 2^7" in result.stderr and not (tmp_path / "o2").exists()
    # Slots per record must be even: a record spans two rows of equally many slots.
    result = _prove(d, tmp_path / "o3", "--slots", "3", ok=False)
    assert result.exit_code == 2 and "--slots" in result.stderr and "3 is odd" in result.stderr
    assert not (tmp_path / "o3").exists()


def _secrets(round_dir):
    """(salts as bytes, {row: user}) from a round's private store."""
    import sqlite3

    con = sqlite3.connect(round_dir / "inclusion.sqlite")
    salts = [bytes(s) for (s,) in con.execute("SELECT salt FROM users")]
    places = dict(con.execute("SELECT row, user_id FROM rows WHERE idx = 0"))
    con.close()
    return salts, places


def _forms(data: bytes):
    """The ways a secret byte string could be written: hex in either case, and base64."""
    import base64

    return {data.hex(), data.hex().upper(), base64.b64encode(data).decode()}


def test_a_proof_holds_only_under_the_labels_it_was_made_for(public_round, tmp_path):
    """Asset names, decimals and the round's time are in the round tag: a proof republished under other labels,
    to another audience, is refused."""
    d, _, _ = public_round
    original = json.loads((d / "public" / "round.json").read_text(encoding="utf-8"))

    def relabelled(edit):
        copy = json.loads(json.dumps(original))
        edit(copy)
        path = tmp_path / "round.json"
        path.write_text(json.dumps(copy), encoding="utf-8")
        return run("verify", path, "--allow-insecure-srs", "--srs", d / "srs.bin", "--json", ok=None)

    def rename(c):  # BTC shown as ETH and ETH as BTC
        a, b = c["assets"][0]["name"], c["assets"][1]["name"]
        c["assets"][0]["name"], c["assets"][1]["name"] = b, a
        c["totals"][a], c["totals"][b] = c["totals"][b], c["totals"][a]

    def decimals(c):  # 1 BTC shown as 10
        c["assets"][0]["decimals"] -= 1

    def later(c):
        c["timestamp"] = "2030-01-01T00:00:00Z"

    assert json.loads(relabelled(lambda c: None).stdout)["valid"] is True  # the positive twin
    for edit in (rename, decimals, later):
        out = json.loads(relabelled(edit).stdout)
        assert out["valid"] is False and "round tag (round id, time, asset names and decimals)" in out["reason"]


def test_public_artifacts_and_output_reveal_no_secrets(public_round):
    """Nothing public (round.json, stdout, stderr) holds an id, a salt in any encoding, or any balance."""
    import os
    import re
    import stat

    d, _, _ = public_round
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    result = _prove(d, d / "again")
    round_text = (d / "again" / "round.json").read_text(encoding="utf-8")
    shown = "\n".join((result.stdout, result.stderr, round_text))
    salts, _ = _secrets(d / "again")
    for uid in ledger.user_ids:
        assert uid not in shown
    for salt in salts:
        assert not any(form in shown or form in shown.upper() for form in _forms(salt))
    # Every balance, however short: as a whole number of units or of the asset (0.05), outside what is public
    # by design (the totals and public inputs, the shape, decimals, time and the report's own figures).
    public = json.loads(round_text)
    text = re.sub(r"0x[0-9a-fA-F]+|[0-9a-f]{64}", " ", shown)
    numbers = set(re.findall(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?![0-9])", text))
    allowed = {str(v) for v in public["totals"].values()} | set(public["public_inputs"])
    allowed |= {str(public[k]) for k in ("slots", "log_n", "n")} | {str(a["decimals"]) for a in public["assets"]}
    allowed |= set(re.findall(r"[0-9]+", public["timestamp"] + public["format"] + public["round_id"]))
    allowed |= {str(v) for v in json.loads(result.stdout).values()} | {"2"}
    leaked = numbers - allowed
    for u in range(ledger.users):
        for a, units in ledger.balances_of(u):
            decimals = ledger.decimals[a - 1]
            as_asset = f"{units // 10**decimals}.{units % 10**decimals:0{decimals}d}".rstrip("0").rstrip(".")
            assert str(units) not in leaked and as_asset not in leaked, (ledger.user_ids[u], units)
    assert "users" not in json.loads(round_text)
    assert f"{ledger.users} users" not in result.stderr  # progress names n only; --json's "users" is the operator's
    # The store is the exchange's alone; the round directory is not world-writable.
    assert stat.S_IMODE(os.stat(d / "again" / "inclusion.sqlite").st_mode) == 0o600


def test_two_rounds_of_one_ledger_share_no_salt_and_no_placement(public_round):
    """Rounds are unlinkable: fresh salts and fresh uniformly random places every round."""
    d, _, _ = public_round
    _prove(d, d / "third")
    salts_a, places_a = _secrets(d / "public")
    salts_b, places_b = _secrets(d / "third")
    assert not set(salts_a) & set(salts_b) and len(set(salts_a)) == len(salts_a)
    same = sum(places_a.get(row) == uid for row, uid in places_b.items())
    assert same < len(places_b) // 4, same  # by chance about 1 in 256 per user here


def test_refused_and_interrupted_runs_leave_no_temporary_folder(workdir, tmp_path, monkeypatch):
    from zksolvency import round as round_module

    d, _ = workdir
    parent = tmp_path / "rounds"
    parent.mkdir()
    # Refused: a ledger error before anything is written.
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,BTC\nalice,-1\n", encoding="utf-8")
    run("prove", bad, "--srs", d / "srs.bin", "--decimals", "BTC=8", "--out", parent / "r", ok=False)
    # Interrupted: the store cannot be written (as if the disk filled or the user pressed Ctrl-C).
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(round_module, "write_store", interrupted)
    result = run("prove", d / "ledger.csv", "--srs", d / "srs.bin", "--decimals", decimals_spec(), "--out",
                 parent / "r", ok=False)
    assert "Aborted" in result.stderr
    # Nothing at the target: only the partial round (its proven shard, for a rerun to resume), private to its owner.
    assert [p.name for p in parent.iterdir()] == [".r.partial"]
    assert (parent / ".r.partial").stat().st_mode & 0o777 == 0o700
    monkeypatch.undo()
    resumed = run("prove", d / "ledger.csv", "--srs", d / "srs.bin", "--decimals", decimals_spec(), "--out",
                  parent / "r")  # the positive twin
    assert "1 of 1 shards already proven" in resumed.stderr
    assert sorted(p.name for p in parent.iterdir()) == ["r"]


def test_verify_pins_the_key_to_an_srs(public_round):
    d, _, _ = public_round
    out = json.loads(run("verify", d / "public" / "round.json", "--allow-insecure-srs", "--srs", d / "srs.bin",
                         "--json").stdout)
    assert out["valid"]


def test_record_hash_encoding_is_unambiguous():
    from zksolvency.hashing import record_hash, user_prefix

    salt = bytes(32)
    slots = [(1, 5), (0, 0)]
    h = record_hash(user_prefix("r", "alice", salt), 0, 1, slots)
    assert record_hash(user_prefix("ab", "c", salt), 0, 1, slots) != record_hash(user_prefix("a", "bc", salt), 0, 1, slots)
    others = [
        record_hash(user_prefix("r", "alice", b"\1" + bytes(31)), 0, 1, slots),  # salt
        record_hash(user_prefix("r", "alice", salt), 1, 2, slots),  # index
        record_hash(user_prefix("r", "alice", salt), 0, 2, slots),  # count
        record_hash(user_prefix("r", "alice", salt), 0, 1, [(1, 6), (0, 0)]),  # units
        record_hash(user_prefix("r", "alice", salt), 0, 1, [(2, 5), (0, 0)]),  # asset
        record_hash(user_prefix("r", "alice", salt), 0, 1, [(0, 0), (1, 5)]),  # order
    ]
    assert len({h, *others}) == 7
    with pytest.raises(ValueError):
        user_prefix("r", "alice", bytes(31))


def test_a_development_key_is_recognised_from_its_points_whatever_its_flag(workdir, dev_srs, tmp_path):
    """The flag sits outside the SRS digest and the development tau is public: a round proven with the
    development SRS relabelled secure must still need --allow-insecure-srs (anyone can forge its proofs)."""
    import dataclasses

    from zksolvency.artifacts import RoundStatement

    d, _ = workdir
    relabelled = dataclasses.replace(dev_srs.truncated(9), insecure=False)
    relabelled.save(tmp_path / "srs.bin")
    run("prove", d / "ledger.csv", "--srs", tmp_path / "srs.bin", "--decimals", decimals_spec(), "--out",
        tmp_path / "round", "--round-id", "relabelled")
    statement = RoundStatement.load(tmp_path / "round" / "round.json")
    assert statement.verifying_key.insecure is False  # the exchange's word
    pin = ("--srs", tmp_path / "srs.bin")  # the pin holds: the key is the circuit's for these (development) points
    refused = run("verify", tmp_path / "round" / "round.json", *pin, "--json", ok=False)
    assert json.loads(refused.stdout)["valid"] is False and "insecure development SRS" in refused.stdout
    accepted = run("verify", tmp_path / "round" / "round.json", *pin, "--allow-insecure-srs")  # the positive twin
    assert "WARNING: made with an insecure development SRS" in accepted.stdout
