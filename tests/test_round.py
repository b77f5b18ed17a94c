"""Solvency rounds end to end through the CLI: prove, verify, export, check; tampering, refusals, privacy."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from zksolvency.cli import main
from zksolvency.ingest import parse_decimals, read_ledger
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
    result = run("verify", d / "public" / "round.json", "--allow-insecure-srs", "--json")
    out = json.loads(result.stdout)
    assert out["valid"] and out["totals"] == {k: str(v) for k, v in totals.items()}
    assert run("verify", d / "public" / "round.json", ok=False).exit_code == 1  # dev SRS refused by default


def _export(d, round_dir, user, name):
    run("inclusion", round_dir, "--user", user, "--out", d / name)
    return json.loads((d / name).read_text(encoding="utf-8"))


def _check(d, round_dir, inclusion: dict, *extra, ok=True):
    path = d / "check.json"
    path.write_text(json.dumps(inclusion), encoding="utf-8")
    return run("verify-inclusion", path, "--round", round_dir / "round.json", "--allow-insecure-srs", "--json",
               *extra, ok=ok)


def test_every_user_sees_exactly_their_ledger_balances(public_round):
    d, _, _ = public_round
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    for u in (0, 1, 17, USERS - 1):
        uid = ledger.user_ids[u]
        inclusion = _export(d, d / "public", uid, f"u{u}.json")
        out = json.loads(_check(d, d / "public", inclusion, "--user-id", uid).stdout)
        expected = {name: "0" for name in ledger.assets}
        for a, units in ledger.balances_of(u):
            expected[ledger.assets[a - 1]] = str(units)
        assert out == {"valid": True, "round_id": "r-1", "user_id": uid, "balances": expected}


def _a_rich_user(d):
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    u = max(range(ledger.users), key=lambda u: len(ledger.balances_of(u)))
    return ledger.user_ids[u]


def test_tampered_inclusion_proofs_are_refused(public_round):
    d, _, _ = public_round
    uid = _a_rich_user(d)
    good = _export(d, d / "public", uid, "rich.json")
    assert len(good["rows"]) >= 2

    def tampered(edit):
        copy = json.loads(json.dumps(good))
        edit(copy)
        return copy

    def bump(delta):
        def edit(c):
            slot = c["rows"][0]["slots"][0]
            slot["units"] = str(int(slot["units"]) + delta)
        return edit

    def move_asset(c):
        slot = c["rows"][0]["slots"][0]
        names = ["BTC", "ETH"]
        slot["asset"] = names[1] if slot["asset"] == names[0] else names[0]

    def other_salt(c):
        c["salt"] = "0x" + "11" * 32

    def other_user(c):
        c["user_id"] = c["user_id"] + "x"

    def other_row(c):
        c["rows"][0]["row"] = (c["rows"][0]["row"] + 1) % 256

    def swap_proofs(c):
        c["rows"][0]["proof"], c["rows"][1]["proof"] = c["rows"][1]["proof"], c["rows"][0]["proof"]

    def row_past_n(c):
        c["rows"][0]["row"] = 256

    cases = {
        "raised balance": bump(1),
        "lowered balance": bump(-1),
        "moved asset": move_asset,
        "changed salt": other_salt,
        "other user id": other_user,
        "changed row": other_row,
        "swapped proof points": swap_proofs,
        "row past n": row_past_n,
    }
    for name, edit in cases.items():
        result = _check(d, d / "public", tampered(edit), ok=False)
        assert result.exit_code == 1, name
        out = json.loads(result.stdout)
        assert out["valid"] is False and out["reason"], name


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
        result = run("verify", target / "round.json", "--allow-insecure-srs", "--json", ok=False)
        assert json.loads(result.stdout)["valid"] is False, name
        if name != "round id":
            assert _check(d, target, inclusion, ok=False).exit_code == 1, name
    bad = variant(lambda c: c.update(proof="0xzz"))
    result = run("verify", bad / "round.json", "--allow-insecure-srs", ok=False)
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
    out = json.loads(run("verify", round_file, "--allow-insecure-srs", "--json").stdout)
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


def test_public_artifacts_and_output_reveal_no_secrets(public_round):
    d, _, _ = public_round
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    text = (d / "public" / "round.json").read_text(encoding="utf-8")
    result = _prove(d, d / "again")
    shown = result.stdout + result.stderr + text
    import sqlite3

    con = sqlite3.connect(d / "public" / "inclusion.sqlite")
    salts = [bytes(s).hex() for (s,) in con.execute("SELECT salt FROM users")]
    con.close()
    for uid in ledger.user_ids:
        assert uid not in shown
    for salt in salts:
        assert salt not in shown
    for u in range(ledger.users):
        for _, units in ledger.balances_of(u):
            if units >= 10**6:  # short numbers occur by chance in hex and digests
                assert f'"{units}"' not in text and str(units) not in result.stdout
    assert "users" not in json.loads(text)
    assert f"{ledger.users} users" not in result.stderr  # progress names n only; --json's "users" is the operator's


def test_verify_pins_the_key_to_an_srs(public_round):
    d, _, _ = public_round
    out = json.loads(run("verify", d / "public" / "round.json", "--allow-insecure-srs", "--srs", d / "srs.bin",
                         "--json").stdout)
    assert out["valid"]


def test_user_hash_encoding_is_unambiguous_and_zero_hashes_are_refused():
    from zksolvency.encoding import G1Point
    from zksolvency.hashing import user_hash
    from zksolvency.verifier.inclusion import InclusionError, verify_row

    salt = bytes(32)
    assert user_hash("ab", "c", salt) != user_hash("a", "bc", salt)
    assert user_hash("r", "alice", salt) != user_hash("r", "alice", b"\1" + bytes(31))
    with pytest.raises(ValueError):
        user_hash("r", "alice", bytes(31))
    with pytest.raises(InclusionError, match="zero user hash"):
        verify_row(_any_vk(), G1Point.infinity(), 5, 0, [0, 1, 2], G1Point.infinity())


def _any_vk():
    from zksolvency.prover.srs import dev_setup
    from zksolvency.verifier.formats import VerifyingKey

    srs = dev_setup(2)
    return VerifyingKey("t", 2, bytes(32), bytes(32), True, srs.g1_generator, srs.g2, srs.tau_g2, ())
