"""Sharded rounds: customers split at random among shards, each shard a proof of its own; the verifiers check every
shard and the shards' sums; a customer's file names their shard. Forged rounds are refused on every path."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from zksolvency.artifacts import ArtifactError, InclusionFile, RoundStatement, ShardedStatement, load_round
from zksolvency.audit import check_shard_sums, verify_statement
from zksolvency.cli import main
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.round import RoundError, prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger
from zksolvency.shards import ShardingError, allocate_reserves, assign_shards, shard_sums, shards_for_capacity
from zksolvency.verifier.plonk import VerificationError

USERS = 60
SHARDS = 3


def run(*args, ok=True, env=None):
    result = CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok is not None:
        assert (result.exit_code == 0) == ok, (result.exit_code, result.stdout, result.stderr)
    return result


# -- assignment and allocation ---------------------------------------------------------------------------------


def test_customers_are_split_at_random_into_shards_of_about_equal_records():
    counts = np.array([1] * 300 + [3] * 20, dtype=np.int64)
    a, b = assign_shards(counts, 4), assign_shards(counts, 4)
    assert a.shape == counts.shape and set(a.tolist()) == {0, 1, 2, 3}
    per_shard = np.bincount(a, weights=counts)
    assert per_shard.max() - per_shard.min() <= 2 * (3 - 1)  # cut by records; a customer of 3 records kept whole
    assert np.mean(a == b) < 0.6  # drawn afresh: two rounds agree on about a quarter of the customers
    assert (assign_shards(counts, 1) == 0).all()
    with pytest.raises(ShardingError):
        assign_shards(counts[:3], 4)  # more shards than customers


def test_a_shard_size_gives_enough_shards_of_at_most_its_records():
    counts = np.array([1, 2, 1, 1, 3, 1, 1, 1, 2, 1] * 10, dtype=np.int64)
    shards, assigned = shards_for_capacity(counts, 16)
    assert shards >= 9 and np.bincount(assigned, weights=counts).max() <= 16
    with pytest.raises(ShardingError):
        shards_for_capacity(np.array([20]), 16)  # a customer larger than a shard


def test_shard_sums_are_exact_past_two_to_the_64():
    units = np.array([2**64 - 1, 2**64 - 1, 5, 2**63], dtype=np.uint64)
    keys = np.array([1, 1, 2, 1], dtype=np.uint32)
    shard = np.array([0, 0, 1, 1])
    assert shard_sums(shard, keys, units, 2, 2) == [[2 * (2**64 - 1), 0], [2**63, 5]]


def test_allocations_cover_every_shard_and_sum_to_at_most_the_reserves():
    # Proportional shares cover every shard: each shard's allocation is its share of the reserves.
    assert allocate_reserves([1000], [[100], [200], [300]], [10, 10, 20]) == [[250], [250], [500]]
    # A shard above its share: every shard gets its liabilities plus a random part of the surplus.
    got = allocate_reserves([1000], [[600], [100], [50]], [1, 1, 1], fresh_weights=lambda: [1, 1, 2])
    assert got == [[662], [162], [175]] and sum(g[0] for g in got) <= 1000
    for _ in range(20):
        liabilities = [[int(x)] for x in np.random.default_rng().integers(0, 500, 5)]
        got = allocate_reserves([2500], liabilities, [1] * 5)
        assert all(g[0] >= max(0, l[0]) for g, l in zip(got, liabilities)) and sum(g[0] for g in got) <= 2500
    with pytest.raises(ShardingError):  # netting across shards: a shard owed more than it owes does not count
        allocate_reserves([100], [[150], [-100]], [1, 1])


# -- rounds ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("shards")
    dev_srs.truncated(9).save(d / "srs.bin")
    totals = write_sample_ledger(d / "ledger.csv", USERS, seed=5)
    return d, totals, read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))


@pytest.fixture(scope="module")
def public_round(ledger_dir, dev_srs):
    d, totals, ledger = ledger_dir
    rnd = prove_round(ledger, dev_srs, "sharded-public", shards=SHARDS)
    rnd.write(d / "public")
    return d, totals, ledger, rnd


@pytest.fixture(scope="module")
def private_round(ledger_dir, dev_srs):
    d, totals, ledger = ledger_dir
    reserves = {a: t + 1000 for a, t in totals.items()}
    rnd = prove_round(ledger, dev_srs, "sharded-private", shards=SHARDS, private_totals=True, reserves=reserves)
    rnd.write(d / "private")
    return d, reserves, ledger, rnd


def test_a_sharded_round_verifies_and_its_totals_are_the_shards_sums(public_round):
    d, totals, ledger, rnd = public_round
    statement = load_round(d / "public" / "round.json")
    assert isinstance(statement, ShardedStatement) and len(statement.shards) == SHARDS
    assert dict(zip([a.name for a in statement.assets], statement.values)) == totals
    verified = verify_statement(statement, allow_insecure_srs=True)
    assert sorted(verified) == list(range(SHARDS))
    assert len({s.inclusion_commitment for s in statement.shards}) == SHARDS  # a commitment per shard
    out = json.loads(run("verify", d / "public" / "round.json", "--srs", d / "srs.bin", "--allow-insecure-srs",
                         "--json").stdout)
    assert out["valid"] and out["shard_count"] == SHARDS and out["totals"] == {k: str(v) for k, v in totals.items()}
    assert len(out["shards"]) == SHARDS and out["n"] <= 256  # shards of 2^6 to 2^8 rows


def test_private_allocations_sum_to_at_most_the_reserves(private_round):
    d, reserves, _, _ = private_round
    statement = load_round(d / "private" / "round.json")
    names = [a.name for a in statement.assets]
    assert dict(zip(names, statement.values)) == reserves
    for j in range(len(names)):
        assert sum(s.values[j] for s in statement.shards) <= statement.values[j]
    verify_statement(statement, allow_insecure_srs=True)
    text = (d / "private" / "round.json").read_text()
    assert '"allocation"' in text and '"totals"' not in text


def test_every_customer_checks_their_records_against_their_own_shard(public_round):
    d, _, ledger, rnd = public_round
    for u in (0, 1, USERS // 2, USERS - 1):
        uid = ledger.user_ids[u]
        run("inclusion", d / "public", "--user", uid, "--out", d / f"u{u}.json")
        obj = json.loads((d / f"u{u}.json").read_text())
        assert obj["format"] == "zksolvency-inclusion/3" and obj["shard"] == rnd.inclusion_file(u).shard
        out = json.loads(run("verify-inclusion", d / f"u{u}.json", "--user-id", uid, "--round",
                             d / "public" / "round.json", "--srs", d / "srs.bin", "--allow-insecure-srs",
                             "--json").stdout)
        expected = {name: "0" for name in ledger.assets}
        for a, units in ledger.balances_of(u):
            expected[ledger.assets[a - 1]] = str(units)
        assert out["valid"] and out["balances"] == expected


def _inclusion_case(d, rnd, ledger, change):
    obj = rnd.inclusion_file(0).to_json()
    change(obj)
    path = d / "case.json"
    path.write_text(json.dumps(obj))
    return run("verify-inclusion", path, "--user-id", ledger.user_ids[0], "--round", d / "public" / "round.json",
               "--srs", d / "srs.bin", "--allow-insecure-srs", "--json", ok=None)


def _other_shard(obj):
    obj["shard"] = (obj["shard"] + 1) % SHARDS


def _past_the_last_shard(obj):
    obj["shard"] = SHARDS


def _no_shard(obj):
    obj["format"] = "zksolvency-inclusion/2"
    del obj["shard"]


@pytest.mark.parametrize("change, rule", [
    (lambda obj: None, None),  # the honest twin
    (_other_shard, "OPENING"),  # the records shown against another shard's commitment
    (_past_the_last_shard, "SHARD"),
    (_no_shard, "SHARD"),  # a one-shard file for a sharded round
], ids=["honest", "other_shard", "past_the_last_shard", "no_shard"])
def test_an_inclusion_file_opens_only_against_its_own_shard(public_round, change, rule):
    d, _, ledger, rnd = public_round
    result = _inclusion_case(d, rnd, ledger, change)
    out = json.loads(result.stdout)
    assert out["valid"] == (rule is None) and result.exit_code == (0 if rule is None else 1)
    if rule is not None:
        assert out["rule"] == rule


# Forged sharded round files, as a cheating exchange would write them; every path refuses each one.
def _inflate_total(obj):
    obj["totals"]["BTC"] = str(int(obj["totals"]["BTC"]) + 1)


def _deflate_total(obj):
    obj["totals"]["BTC"] = str(int(obj["totals"]["BTC"]) - 1)


def _swap_shards(obj):
    a, b = obj["shards"][0], obj["shards"][1]
    obj["shards"][0], obj["shards"][1] = {**b, "shard": 0}, {**a, "shard": 1}


def _resum(obj):
    for name in obj["totals"]:
        obj["totals"][name] = str(sum(int(s["totals"][name]) for s in obj["shards"]))


def _duplicate_shard(obj):
    obj["shards"][1] = {**copy.deepcopy(obj["shards"][0]), "shard": 1}
    _resum(obj)


def _drop_shard(obj):
    obj["shards"].pop()
    obj["shard_count"] -= 1
    _resum(obj)


def _shift_between_shards(obj):
    # BTC moved from shard 0 to shard 1 in the stated totals: the round's sum is unchanged, the proofs are not.
    obj["shards"][0]["totals"]["BTC"] = str(int(obj["shards"][0]["totals"]["BTC"]) - 1)
    obj["shards"][1]["totals"]["BTC"] = str(int(obj["shards"][1]["totals"]["BTC"]) + 1)


FORGED_PUBLIC = [
    ("total_above_the_shards_sum", _inflate_total, "sum"),
    ("total_below_the_shards_sum", _deflate_total, "sum"),
    ("shards_swapped", _swap_shards, "public inputs"),
    ("shard_duplicated", _duplicate_shard, "public inputs"),
    ("shard_dropped", _drop_shard, "public inputs"),
    ("liabilities_moved_between_shards", _shift_between_shards, "public inputs"),
]


def _over_allocate(obj):
    for name in obj["reserves"]:
        obj["reserves"][name] = str(sum(int(s["allocation"][name]) for s in obj["shards"]) - 1)


FORGED_PRIVATE = [
    ("allocations_above_the_reserves", _over_allocate, "reserves"),
]


def _forged(d, source: str, change, tmp_path):
    obj = json.loads((d / source / "round.json").read_text())
    change(obj)
    path = tmp_path / "round.json"
    path.write_text(json.dumps(obj))
    return path


def _paths(d, rnd, ledger, path):
    """Every path that checks a round file: `verify`, a customer's `verify-inclusion --round`, and the library."""
    inclusion = d / "forged-inclusion.json"
    rnd.inclusion_file(0).save(inclusion)

    def library():
        try:
            verify_statement(load_round(path), allow_insecure_srs=True)
        except (VerificationError, ArtifactError) as e:
            return str(e)
        return None

    def cli(*args):
        result = run(*args, "--srs", d / "srs.bin", "--allow-insecure-srs", "--json", ok=None)
        return None if result.exit_code == 0 else (result.stdout + result.stderr)

    return {
        "library": library,
        "verify": lambda: cli("verify", path),
        "verify-inclusion": lambda: cli("verify-inclusion", inclusion, "--user-id", ledger.user_ids[0], "--round",
                                        path),
    }


@pytest.mark.parametrize("name, change, why", FORGED_PUBLIC + FORGED_PRIVATE,
                         ids=[c[0] for c in FORGED_PUBLIC + FORGED_PRIVATE])
def test_every_path_refuses_a_forged_sharded_round(public_round, private_round, tmp_path, name, change, why):
    source, (d, _, ledger, rnd) = ("private", private_round) if (name, change, why) in FORGED_PRIVATE else \
        ("public", public_round)
    honest = _paths(d, rnd, ledger, d / source / "round.json")
    verdicts = {k: check() for k, check in honest.items()}
    assert verdicts == {k: None for k in honest}, verdicts  # the honest twin passes every path
    forged = _paths(d, rnd, ledger, _forged(d, source, change, tmp_path))
    verdicts = {k: check() for k, check in forged.items()}
    assert all(v is not None for v in verdicts.values()), verdicts
    assert why in verdicts["library"], verdicts["library"]


def test_check_shard_sums_is_the_one_rule_for_sums(public_round, tmp_path):
    d, _, _, _ = public_round
    statement = load_round(_forged(d, "public", _inflate_total, tmp_path))
    with pytest.raises(VerificationError, match="not the sum of the shards"):
        check_shard_sums(statement)


def test_one_statement_is_not_read_from_a_sharded_file(public_round):
    d, _, _, _ = public_round
    with pytest.raises(ArtifactError, match=f"a round of {SHARDS} shards, not the statement of one"):
        RoundStatement.load(d / "public" / "round.json")


def test_public_artifacts_hold_no_id_salt_or_balance(public_round):
    d, _, ledger, rnd = public_round
    text = (d / "public" / "round.json").read_text()
    for u in range(0, USERS, 7):
        assert ledger.user_ids[u] not in text and rnd.salts[u].hex() not in text
        for _, units in ledger.balances_of(u):
            if units > 10**6:
                assert f'"{units}"' not in text
    assert (d / "public" / "inclusion.sqlite").stat().st_mode & 0o777 == 0o600


def test_margin_rounds_shard_the_same_way(tmp_path, dev_srs):
    from zksolvency.margin import read_prices
    from test_margin_round import DECIMALS, LEDGER, PRICES

    (tmp_path / "ledger.csv").write_text(LEDGER.replace("dave,,,,1,,,\n", ""))
    (tmp_path / "prices.csv").write_text(PRICES)
    ledger = read_ledger(tmp_path / "ledger.csv", DECIMALS)
    terms = read_prices(tmp_path / "prices.csv", ledger.assets, ledger.decimals)
    public = prove_round(ledger, dev_srs, "m-sharded", terms=terms, shards=2)
    verify_statement(public.statement, allow_insecure_srs=True)
    assert [sum(s.debts[j] for s in public.statement.shards) for j in range(4)] == ledger.debt_totals()
    reloaded = ShardedStatement.from_json(json.loads(json.dumps(public.statement.to_json())))
    verify_statement(reloaded, allow_insecure_srs=True)
    net = [t - b for t, b in zip(ledger.totals(), ledger.debt_totals())]
    reserves = {a: max(v, 0) + 10**12 for a, v in zip(ledger.assets, net)}
    try:
        private = prove_round(ledger, dev_srs, "m-sharded-private", terms=terms, shards=2, private_totals=True,
                              reserves=reserves)
    except RoundError as e:  # a shard owed more than it owes of an asset: refused, saying why
        assert "cannot allocate the reserves among the shards" in str(e)
    else:
        verify_statement(private.statement, allow_insecure_srs=True)
        for u in range(ledger.users):
            from zksolvency.audit import check_inclusion, round_keys

            shard = private.inclusion_file(u).shard
            keys = round_keys(verify_statement(private.statement, True, only=[shard])[shard])
            check_inclusion(private.inclusion_file(u), keys, "m-sharded-private", list(ledger.assets),
                            ledger.user_ids[u])


def test_a_round_of_one_shard_is_the_round_as_before(ledger_dir, dev_srs):
    _, _, ledger = ledger_dir
    rnd = prove_round(ledger, dev_srs, "one", shards=1)
    assert isinstance(rnd.statement, RoundStatement) and rnd.statement.shard is None
    assert rnd.statement.to_json()["format"] == "zksolvency-round/1" and rnd.inclusion_file(0).shard is None
    assert InclusionFile.from_json(rnd.inclusion_file(0).to_json(), "x").to_json()["format"] == \
        "zksolvency-inclusion/2"


def test_sharding_refuses_what_it_cannot_do(ledger_dir, dev_srs):
    _, _, ledger = ledger_dir
    with pytest.raises(RoundError, match="every shard needs a customer"):
        prove_round(ledger, dev_srs, "x", shards=USERS + 1)
    with pytest.raises(RoundError, match="exclude each other"):
        prove_round(ledger, dev_srs, "x", shards=2, shard_log_size=8)
    rnd = prove_round(ledger, dev_srs, "by-size", shard_log_size=8)  # 2^8 rows: 128 records a shard
    assert rnd.statement.log_n == 8 and len(rnd.statement.shard_statements) == 1  # the ledger fits one shard
    with pytest.raises(RoundError, match="--shard-log-size must be 8 to"):
        prove_round(ledger, dev_srs, "x", shard_log_size=7)


def test_progress_is_bars_on_a_terminal_and_plain_lines_elsewhere(capsys, monkeypatch):
    import io

    from zksolvency import progress

    assert isinstance(progress.round_progress(), progress.Lines)  # stderr captured: not a terminal
    with progress.Lines() as lines:
        lines.start(3, 1)
        lines.step(2, "quotient on 4 cosets")
        lines.done(2)
    err = capsys.readouterr().err.splitlines()
    assert err == ["… shard 2: quotient on 4 cosets", "… shard 2 proven and verified (2 of 3)"]

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", terminal)
    bars = progress.round_progress()
    assert isinstance(bars, progress.Bars)
    with bars:
        bars.start(2, 0)
        bars.step(0, "committing 20 witness columns")
        bars.done(0)
        bars.message("writing the round")
        bars.done(1)
    shown = terminal.getvalue()
    assert "round: 100%" in shown and "2/2" in shown and "shard 0" in shown and "… writing the round" in shown
