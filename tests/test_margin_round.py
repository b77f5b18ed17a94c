"""Margin rounds end to end in Python: a ledger with debt columns and a prices file proves, round.json carries
prices, ratios and debts, and a statement whose prices, ratios or totals differ from the proof's is refused."""

from __future__ import annotations

import dataclasses
import json

import pytest

from zksolvency.artifacts import ArtifactError, RoundStatement
from zksolvency.audit import Pin, verify_round
from zksolvency.ingest import LedgerError
from zksolvency.margin import MarginError, MarginTerms, read_prices, surplus, surplus_slots
from zksolvency.round import RoundError, InsolventError, margin_entries, prove_round
from zksolvency.verifier.plonk import VerificationError

from margin_ledger import DECIMALS, HONEST_LEDGER, LEDGER, PRICES
from margin_ledger import margin_files as _files


@pytest.fixture(scope="module")
def rounds(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("margin")
    # dave owes 1 ETH with nothing: the honest ledger leaves him out below.
    led, prices = _files(d, HONEST_LEDGER)
    terms = read_prices(prices, led.assets, led.decimals)
    public = prove_round(led, dev_srs, "m-public", terms=terms)
    net = [t - b for t, b in zip(led.totals(), led.debt_totals())]
    reserves = {a: max(v, 0) + 1 for a, v in zip(led.assets, net)}
    private = prove_round(led, dev_srs, "m-private", private_totals=True, reserves=reserves, terms=terms)
    return led, terms, public, private


def test_surplus_is_exact_and_split_into_words():
    assert surplus({1: 10}, {2: 3}, [5, 7], [9_000, 0]) == 10 * 5 * 9_000 - 3 * 7 * 10_000
    value = (5 << 128) + 7
    assert surplus_slots(value) == [(1, 7), (3, 5)]
    with pytest.raises(MarginError):
        surplus_slots(-1)
    with pytest.raises(MarginError):
        surplus_slots(1 << 192)


def test_margin_rounds_verify_and_state_their_terms(rounds):
    led, terms, public, private = rounds
    for rnd in (public, private):
        st = RoundStatement.from_json(json.loads(json.dumps(rnd.statement.to_json())))
        assert st == rnd.statement and st.margin == terms
        verify_round(st, allow_insecure_srs=True)
    assert public.statement.values == tuple(led.totals())
    assert public.statement.debts == tuple(led.debt_totals()) and public.statement.debts[2] == 50_010 * 10**6
    assert "debts" not in private.statement.to_json() and "totals" not in private.statement.to_json()
    assert public.statement.to_json()["prices"]["ETH"] == "300050000000"


def test_indebted_users_carry_their_exact_surplus(rounds):
    led, terms, public, _ = rounds
    offsets, keys, units, has_debt = margin_entries(led, terms)
    prices = terms.unit_prices(led.decimals)
    for u, uid in enumerate(led.user_ids):
        entries = list(zip(keys[offsets[u]:offsets[u + 1]].tolist(), units[offsets[u]:offsets[u + 1]].tolist()))
        words = [(k, v) for k, v in entries if 1 <= k <= 3]
        assert has_debt[u] == bool(words or any(k >= 4 and k % 2 for k, _ in entries)), uid
        if has_debt[u]:
            bal = led.balances_of(u)
            k = len(led.assets)
            value = surplus({a: b for a, b in bal if a <= k}, {a - k: b for a, b in bal if a > k}, prices,
                            terms.ratios)
            assert sum(v << (64 * (key - 1)) for key, v in words) == value
        assert [k for k, _ in entries] == sorted(k for k, _ in entries)


@pytest.mark.parametrize("change", [
    ("prices", "BTC", "130000"),      # a price other than the one proven
    ("prices", "USDT", "2"),
    ("collateral_ratios_bps", "ETH", 10_000),  # a laxer haircut
    ("debts", "USDT", "0"),           # debts published as none
    ("totals", "BTC", "1"),
])
def test_a_statement_other_than_the_proofs_is_refused(rounds, change):
    _, _, public, _ = rounds
    obj = public.statement.to_json()
    field, asset, value = change
    obj[field][asset] = value
    st = RoundStatement.from_json(obj)
    forged = dataclasses.replace(st, public_inputs=tuple(_inputs_of(st)))
    for candidate in (st, forged):  # with the old public inputs, and with ones rebuilt from the forged terms
        with pytest.raises(VerificationError):
            verify_round(candidate, allow_insecure_srs=True)


def _inputs_of(st):
    from zksolvency.audit import statement_inputs
    from zksolvency.circuits.solvency import SolvencyCircuit
    from zksolvency.hashing import round_tag

    tag = round_tag(st.round_id, st.timestamp, [(a.name, a.decimals) for a in st.assets])
    return statement_inputs(st, SolvencyCircuit(st.shape()), tag)


def test_a_spot_key_cannot_pass_for_a_margin_round(rounds):
    """A margin round.json stripped of its margin fields is a spot statement whose key is not the margin one."""
    _, _, public, _ = rounds
    obj = public.statement.to_json()
    for k in ("prices", "collateral_ratios_bps", "debts", "quote"):
        del obj[k]
    st = RoundStatement.from_json(obj)
    with pytest.raises(VerificationError):
        verify_round(st, allow_insecure_srs=True)


@pytest.mark.parametrize("edit, reason", [
    (lambda o: o.pop("debts"), "missing field 'debts'"),
    (lambda o: o.update(quote={"name": "EUR", "decimals": 8}), "quote must be"),
    (lambda o: o["collateral_ratios_bps"].update(BTC=10_001), "collateral ratio must be 0 to 10000"),
    (lambda o: o["collateral_ratios_bps"].update(BTC="9000"), "whole number of basis points"),
    (lambda o: o["prices"].update(BTC="0"), "price must be positive"),
    (lambda o: o["prices"].pop("BTC"), "prices must name every asset"),
])
def test_malformed_margin_fields_are_refused(rounds, edit, reason):
    obj = rounds[2].statement.to_json()
    edit(obj)
    with pytest.raises(ArtifactError, match=reason):
        RoundStatement.from_json(obj)


def test_an_undercollateralized_customer_stops_the_round(tmp_path, dev_srs):
    led, prices = _files(tmp_path)
    terms = read_prices(prices, led.assets, led.decimals)
    with pytest.raises(RoundError, match="user dave is undercollateralized"):
        prove_round(led, dev_srs, "m", terms=terms)


def test_a_margin_ledger_needs_prices_for_every_asset(tmp_path, dev_srs):
    led, _ = _files(tmp_path)
    with pytest.raises(RoundError, match="needs --prices"):
        prove_round(led, dev_srs, "m")
    for text, reason in [
        ("asset,price,ratio_bps\nBTC,65000,9000\n", "no price for ETH"),
        ("asset,price,ratio_bps\nBTC,65000,9000\nBTC,1,1\n", "prices.csv:3: column 1 \\(asset\\): a second price"),
        ("asset,price\n", "prices.csv:1: the header must be"),
        ("asset,price,ratio_bps\nBTC,-1,9000\n", "prices.csv:2: column 2 \\(price\\): negative amount"),
        ("asset,price,ratio_bps\nBTC,0.000000001,9000\n", "prices.csv:2: column 2 \\(price\\).*more than 8"),
        ("asset,price,ratio_bps\nBTC,1,10001\n", "prices.csv:2: column 3 \\(ratio_bps\\)"),
        ("asset,price,ratio_bps\nXRP,1,1\n", "prices.csv:2: column 1 \\(asset\\): XRP is not an asset"),
    ]:
        (tmp_path / "prices.csv").write_text(text)
        with pytest.raises(LedgerError, match=reason):
            read_prices(tmp_path / "prices.csv", led.assets, led.decimals)


def test_private_margin_rounds_compare_equity_less_debt_with_reserves(tmp_path, dev_srs):
    led, prices = _files(tmp_path, HONEST_LEDGER)
    terms = read_prices(prices, led.assets, led.decimals)
    net = {a: t - b for a, t, b in zip(led.assets, led.totals(), led.debt_totals())}
    reserves = {a: max(v, 0) for a, v in net.items()}
    reserves["BTC"] -= 1
    with pytest.raises(InsolventError, match="BTC equity less debt exceeds"):
        prove_round(led, dev_srs, "m", private_totals=True, reserves=reserves, terms=terms)


def test_a_price_too_precise_for_the_decimals_is_refused():
    """An asset of 0 decimals beside one of 30: its smallest unit is worth 2^63 * 10^30 units, past 2^128."""
    with pytest.raises(MarginError, match="2\\^128"):
        MarginTerms((1 << 63, 1), (1, 1)).weights([0, 30])
    assert MarginTerms((1 << 63, 1), (1, 1)).weights([8, 18])


def _check(rnd, u, inclusion=None, names=None):
    from zksolvency.audit import check_inclusion, round_keys

    st = rnd.statement
    keys = round_keys(verify_round(st, allow_insecure_srs=True))
    inclusion = inclusion or rnd.inclusion_file(u)
    return check_inclusion(inclusion, keys, st.round_id, names or [a.name for a in st.assets], rnd.user_ids[u])


def test_every_customer_checks_equity_debt_and_surplus(rounds):
    led, terms, public, private = rounds
    k = len(led.assets)
    for rnd in (public, private):
        for u in range(led.users):
            balances = _check(rnd, u)
            for a, units in led.balances_of(u):
                label = led.assets[a - 1] if a <= k else led.assets[a - k - 1] + ":debt"
                assert balances[label] == units


def _edit(rnd, u, edit):
    inclusion = rnd.inclusion_file(u)
    records = [list(map(list, r.slots)) for r in inclusion.records]
    edit(records)
    return dataclasses.replace(inclusion, records=tuple(
        dataclasses.replace(r, slots=tuple(map(tuple, s))) for r, s in zip(inclusion.records, records)))


def _user(led, uid):
    return led.user_ids.index(uid)


@pytest.mark.parametrize("uid, edit, rule", [
    # alice: surplus:1, surplus:2, BTC, USDT:debt
    ("alice", lambda rs: rs[0][0].__setitem__(1, rs[0][0][1] + 1), "SURPLUS"),
    ("alice", lambda rs: rs[0][3].__setitem__(1, rs[0][3][1] - 1), "SURPLUS"),  # a smaller debt shown
    ("alice", lambda rs: rs[0][3].__setitem__(0, "USDT"), "SURPLUS"),  # the debt shown as equity
    ("alice", lambda rs: rs[0][3].__setitem__(0, "USDT:loan"), "UNKNOWN_ASSET"),
    ("carol", lambda rs: rs[0].insert(0, ["surplus:1", 5]) or rs[0].pop(), "SURPLUS"),  # no debts, a surplus
])
def test_a_tampered_margin_file_is_refused(rounds, uid, edit, rule):
    from zksolvency.verifier.inclusion import InclusionError

    led, _, public, _ = rounds
    u = _user(led, uid)
    with pytest.raises(InclusionError) as e:
        _check(public, u, _edit(public, u, edit))
    assert e.value.rule.name == rule, str(e.value)


def test_an_asset_named_like_a_slot_label_is_refused(rounds):
    from zksolvency.verifier.inclusion import InclusionError

    led, _, public, _ = rounds
    names = ["surplus:1"] + [a.name for a in public.statement.assets][1:]
    inclusion = dataclasses.replace(public.inclusion_file(0), assets=tuple(names))
    with pytest.raises(InclusionError) as e:
        _check(public, 0, inclusion, names)
    assert e.value.rule.name == "ASSET_LIST"


def test_a_debt_kept_under_another_account_fails_its_owners_check(tmp_path, dev_srs, monkeypatch):
    """The exchange files every debtor under one account key: the proof holds (each debtor's surplus words are
    exact, so the shared sum is zero), but no debtor's opening matches the account they compute for themselves."""
    import zksolvency.round as round_module
    from zksolvency.verifier.inclusion import InclusionError

    led, prices = _files(tmp_path, HONEST_LEDGER)
    terms = read_prices(prices, led.assets, led.decimals)
    monkeypatch.setattr(round_module, "account_key", lambda prefix: 12345)
    rnd = prove_round(led, dev_srs, "m-shared", terms=terms)
    verify_round(rnd.statement, allow_insecure_srs=True)
    for uid in ("alice", "bob", "erin", "frank"):
        with pytest.raises(InclusionError) as e:
            _check(rnd, _user(led, uid))
        assert e.value.rule.name == "OPENING"
    _check(rnd, _user(led, "carol"))  # no debts: account 0, as she expects


def test_the_bundled_margin_sample_is_its_generators(tmp_path):
    from importlib.resources import files

    from zksolvency.sample import write_sample_margin_ledger, write_sample_prices

    write_sample_margin_ledger(tmp_path / "m.csv", 3000)
    write_sample_prices(tmp_path / "p.csv")
    data = files("zksolvency") / "data"
    assert (tmp_path / "m.csv").read_bytes() == (data / "sample_margin_ledger.csv").read_bytes()
    assert (tmp_path / "p.csv").read_bytes() == (data / "sample_prices.csv").read_bytes()


def test_the_cli_proves_a_margin_round_and_a_borrower_checks_it(tmp_path, dev_srs):
    from click.testing import CliRunner

    from zksolvency.cli import main

    dev_srs.truncated(9).save(tmp_path / "srs.bin")
    (tmp_path / "ledger.csv").write_text(HONEST_LEDGER)
    (tmp_path / "prices.csv").write_text(PRICES)
    spec = ",".join(f"{a}={d}" for a, d in DECIMALS.items())
    run = CliRunner().invoke
    base = ["--srs", str(tmp_path / "srs.bin"), "--decimals", spec]
    refused = run(main, ["prove", str(tmp_path / "ledger.csv"), *base, "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "needs --prices" in refused.output and not (tmp_path / "x").exists()
    r = run(main, ["prove", str(tmp_path / "ledger.csv"), *base, "--prices", str(tmp_path / "prices.csv"),
                   "--out", str(tmp_path / "r"), "--round-id", "cli-m"])
    assert r.exit_code == 0, r.output
    v = run(main, ["verify", str(tmp_path / "r" / "round.json"), "--srs", str(tmp_path / "srs.bin"),
                   "--allow-insecure-srs", "--json"])
    report = json.loads(v.stdout)
    assert report["valid"] and report["debts"]["USDT"] == str(50_010 * 10**6) and report["prices"]["BTC"]
    assert run(main, ["inclusion", str(tmp_path / "r"), "--user", "alice", "--out", str(tmp_path / "a.json")]).exit_code == 0
    c = run(main, ["verify-inclusion", str(tmp_path / "a.json"), "--user-id", "alice", "--round",
                   str(tmp_path / "r" / "round.json"), "--srs", str(tmp_path / "srs.bin"), "--allow-insecure-srs"])
    assert c.exit_code == 0, c.output
    assert "covers your debt, 50000.00000000 USD" in c.output and "58500.00000000 USD" in c.output
