"""Margin rounds on a real chain, as a cheating exchange would publish them: the registry makes the weights from
the prices and ratios it is given (or reads from a registered feed), refuses any other than the proof's, reads
the reserves itself in private mode, and checks a customer's margin records with the rules of the Python
verifier, rule 20 included. One table of tampered files drives every verification path to one verdict."""

from __future__ import annotations

import copy

import pytest
from eth_account import Account

from inclusion_paths import paths, verdict
from margin_ledger import HONEST_LEDGER, margin_files
from registry_calls import refusal
from zksolvency.artifacts import RoundStatement
from zksolvency.audit import records_of, round_keys, verify_round
from zksolvency.chain import CONTRACTS, ChainError, anvil, compile_solidity, connect, deploy, send
from zksolvency.constants import R_MODULUS
from zksolvency.margin import MarginError, MarginTerms, read_prices
from zksolvency.onchain import (
    audit_against,
    compile_round_contracts,
    deploy_round_contracts,
    margin_inclusion_calldata,
    publish,
    recorded_keys,
    register_asset,
    register_price_feed,
    register_reserve,
    register_round_assets,
    registry_contract,
)
from zksolvency.round import prove_round
from zksolvency.verifier.inclusion import Rule
from zksolvency.verifier.plonk import VerificationError

KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",  # anvil's accounts 0 and 2
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
]
BTC_PRICE = 65_000 * 10**8  # the prices file's, in 10^-8 USD


@pytest.fixture(scope="module")
def world(tmp_path_factory, dev_srs):
    """A chain, a margin registry with a public margin round recorded, and a second round proven, not published."""
    tmp = tmp_path_factory.mktemp("margin-chain")
    led, prices = margin_files(tmp, HONEST_LEDGER)
    terms = read_prices(prices, led.assets, led.decimals)
    public = prove_round(led, dev_srs, "m-chain", terms=terms)
    spare = prove_round(led, dev_srs, "m-spare", terms=terms)
    with anvil() as url:
        w3 = connect(url)
        owner = Account.from_key(KEYS[0])
        d = deploy_round_contracts(w3, owner, public.statement, compile_round_contracts(public.statement))
        registry = registry_contract(w3, d.registry)
        register_round_assets(w3, registry, owner, public.statement)
        publish(w3, registry, owner, public.statement)
        keys = round_keys(verify_round(public.statement, allow_insecure_srs=True))
        yield {"w3": w3, "owner": owner, "ledger": led, "terms": terms, "public": public, "spare": spare,
               "registry": registry, "keys": keys, "srs": dev_srs, "tmp": tmp, "deployment": d}


def _contract(w3, owner, file, name, *args):
    compiled = compile_solidity({file: (CONTRACTS / "test" / file).read_text()})[name]
    return w3.eth.contract(address=deploy(w3, compiled, owner, *args), abi=compiled["abi"])


# --------------------------------------------------------------------------- the round's record


def test_the_registry_records_the_rounds_weights_as_the_python_verifier_makes_them(world):
    registry, st = world["registry"], world["public"].statement
    names = [a.name for a in st.assets]
    weights = registry.functions.marginWeights(names, st.margin.packed()).call()
    assert weights == [w % R_MODULUS for w in world["keys"].weights]
    chain_keys, recorded = recorded_keys(registry, st.round_id, world["keys"])  # the record equals the file's
    assert chain_keys.weights == world["keys"].weights and recorded["margin"] is True and not recorded["private"]
    assert registry.functions.margin().call() is True


@pytest.mark.parametrize("field, asset, value", [
    ("prices", "BTC", BTC_PRICE * 2),   # collateral worth twice as much
    ("prices", "USDT", 2 * 10**8),
    ("collateral_ratios_bps", "ETH", 10_000),  # a laxer haircut
    ("collateral_ratios_bps", "DOGE", 1),      # a 0-ratio asset counted
    ("debts", "USDT", 0),                     # debts published as none
    ("totals", "BTC", 1),
])
def test_terms_or_totals_other_than_the_proofs_are_refused_by_both_verifiers(world, field, asset, value):
    w3, registry, owner, st = world["w3"], world["registry"], world["owner"], world["spare"].statement
    obj = st.to_json()
    obj[field][asset] = value if field == "collateral_ratios_bps" else str(value)
    forged = RoundStatement.from_json(obj)
    with pytest.raises(VerificationError):
        verify_round(forged, allow_insecure_srs=True)
    with pytest.raises(ChainError, match="the registry refuses the round: zksolvency: "):
        publish(w3, registry, owner, forged)


def test_terms_out_of_range_are_refused_before_the_proof(world):
    registry, owner, st = world["registry"], world["owner"], world["spare"].statement
    names = [a.name for a in st.assets]
    terms = st.margin.packed()  # price << 16 | ratio per asset
    weights = registry.functions.marginWeights
    for t, reason in [
        ([terms[0] & 0xFFFF] + terms[1:], "BadInput('a price must be positive and below 2^64')"),  # price 0
        ([1 << 80] + terms[1:], "BadInput('a price must be positive and below 2^64')"),
        ([(terms[0] >> 16 << 16) | 10_001] + terms[1:], "BadInput('a collateral ratio past 10000 bps')"),
        ([(terms[0] >> 16 << 16) | 0xFFFF] + terms[1:], "BadInput('a collateral ratio past 10000 bps')"),
        (terms[:-1], "BadInput('a term for every asset')"),
        (terms + terms[:1], "BadInput('a term for every asset')"),
    ]:
        assert refusal(weights(names, t), owner.address) == reason
        if len(t) == len(terms):  # and the reader of a recorded round's terms refuses them too
            with pytest.raises(MarginError):
                MarginTerms.from_packed(t)
    assert MarginTerms.from_packed(terms) == st.margin
    # An asset of 0 decimals beside one of 30: its unit at a price of 2^63 is worth 2^63 10^30 units of the
    # common quote unit, times 10^4 past 2^128 (the price packing that must not wrap the field).
    register_asset(world["w3"], registry, owner, "WHOLE", 0, offchain=True)
    register_asset(world["w3"], registry, owner, "DUST", 30, offchain=True)
    assert refusal(weights(["WHOLE", "DUST"], [1 << 79 | 1, 1 << 16 | 1]), owner.address) == (
        "BadInput('a weight past 2^128')")
    assert weights(["WHOLE", "DUST"], [1 << 16 | 1, 1 << 16 | 1]).call()


def test_the_round_cannot_be_recorded_twice_nor_in_a_registry_of_the_other_kind(world, tmp_path, dev_srs):
    w3, registry, owner, public = world["w3"], world["registry"], world["owner"], world["public"]
    with pytest.raises(ChainError, match="RoundExists"):
        publish(w3, registry, owner, public.statement)
    from zksolvency.ingest import read_ledger

    (tmp_path / "spot.csv").write_text("user_id,BTC\nalice,1\n")
    spot = prove_round(read_ledger(tmp_path / "spot.csv", {"BTC": 8}), dev_srs, "spot-1")
    with pytest.raises(ChainError, match="a spot round needs a registry of spot rounds"):
        publish(w3, registry, owner, spot.statement)
    with pytest.raises(ChainError, match="does not answer as a SolvencyRegistry"):
        registry_contract(w3, owner.address)  # an account, not a registry
    spot_registry = registry_contract(w3, deploy_round_contracts(w3, owner, spot.statement).registry)
    with pytest.raises(ChainError, match="a margin round needs a registry of margin rounds"):
        publish(w3, spot_registry, owner, public.statement)


def test_the_audit_knows_a_margin_registry_from_a_spot_one(world):
    from zksolvency.onchain import compiled_registry
    from zksolvency.round import verifying_key_for

    w3, st, d = world["w3"], world["public"].statement, world["deployment"]
    vk = verifying_key_for(st, world["srs"])
    assert audit_against(w3, d.registry, st.shape(), vk).matches
    # A spot registry bound to the margin verifier: it would take margin proofs but check no rule 20.
    spot = deploy(w3, compiled_registry(False), world["owner"], d.verifier, st.slots)
    differences = audit_against(w3, spot, st.shape(), vk).differences
    assert differences == (f"the code at {spot} is not this project's MarginSolvencyRegistry",)


# --------------------------------------------------------------------------- price feeds


def test_a_registered_feed_sets_the_price_and_a_stale_or_foreign_one_is_refused(world, tmp_path):
    """A feed registered for BTC: the round's BTC price must be its latest answer, positive and fresh."""
    w3, owner, spare = world["w3"], world["owner"], world["spare"].statement
    registry = registry_contract(w3, deploy_round_contracts(w3, owner, spare).registry)
    register_round_assets(w3, registry, owner, spare)
    feed = _contract(w3, owner, "TestPriceFeed.sol", "TestPriceFeed", 6, BTC_PRICE // 100)  # 6 decimals
    with pytest.raises(ChainError, match="UnknownAsset\\('XRP'\\)"):
        register_price_feed(w3, registry, owner, "XRP", feed.address, 3600)
    for bad, reason in [(_contract(w3, owner, "TestPriceFeed.sol", "TestPriceFeed", 18, 1), "feed decimals"),
                        (_contract(w3, owner, "TestPriceFeed.sol", "TestPriceFeed", 8, 0), "BadPrice"),
                        (feed, "feed age")]:
        with pytest.raises(ChainError, match=reason):
            register_price_feed(w3, registry, owner, "BTC", bad.address, 0 if bad is feed else 3600)
    register_price_feed(w3, registry, owner, "BTC", feed.address, 3600)
    with pytest.raises(ChainError, match="FeedExists\\('BTC'\\)"):
        register_price_feed(w3, registry, owner, "BTC", feed.address, 3600)
    assert registry.functions.feedPrice("BTC").call() == BTC_PRICE

    def now():
        return w3.eth.get_block("latest")["timestamp"]

    def set_answer(answer, updated):
        send(w3, owner, feed.functions.setAnswer(answer, updated).build_transaction({"from": owner.address}))

    for answer, age, reason in [
        (BTC_PRICE // 100 + 1, 0, f"NotFeedPrice\\('BTC', {BTC_PRICE + 100}\\)"),  # the market moved
        (BTC_PRICE // 100, 4000, "StalePrice"),  # an answer older than an hour
        (BTC_PRICE // 100, -600, "StalePrice"),  # one from the future
        (0, 0, "BadPrice\\('BTC', 0\\)"),
        (-1, 0, "BadPrice\\('BTC', -1\\)"),
    ]:
        set_answer(answer, now() - age)
        with pytest.raises(ChainError, match=reason):
            publish(w3, registry, owner, spare)
    set_answer(BTC_PRICE // 100, now())
    publish(w3, registry, owner, spare)
    assert recorded_keys(registry, spare.round_id)[0].weights == world["keys"].weights


# --------------------------------------------------------------------------- private margin rounds


def test_a_private_margin_round_is_judged_by_the_reserves_the_registry_reads(world, tmp_path):
    w3, owner, led, terms, srs = world["w3"], world["owner"], world["ledger"], world["terms"], world["srs"]
    holder = Account.from_key(KEYS[1])
    net = {a: t - d for a, t, d in zip(led.assets, led.totals(), led.debt_totals())}
    probe = prove_round(led, srs, "m-probe", private_totals=True, terms=terms,
                        reserves={a: max(v, 0) for a, v in net.items()})
    registry = registry_contract(w3, deploy_round_contracts(w3, owner, probe.statement).registry)
    for name in led.assets:
        decimals = led.decimals[led.assets.index(name)]
        if name == "ETH":  # the chain's own currency: the holder's balance
            register_asset(w3, registry, owner, name, decimals)
        else:
            token = _contract(w3, owner, "TestToken.sol", "TestToken", name, decimals)
            send(w3, owner, token.functions.mint(holder.address, max(net[name], 0) + 5).build_transaction(
                {"from": owner.address}))
            register_asset(w3, registry, owner, name, decimals, token.address)
        register_reserve(w3, registry, owner, holder, name)
    onchain = {a: registry.functions.reserveUnits(a).call() for a in led.assets}
    assert all(onchain[a] >= max(net[a], 0) for a in led.assets)
    short = dict(onchain, BTC=onchain["BTC"] + 1)  # a reserve stated one unit above what the chain holds
    claimed = prove_round(led, srs, "m-private", private_totals=True, terms=terms, reserves=short)
    with pytest.raises(ChainError, match="the registry refuses the round: zksolvency: "):
        publish(w3, registry, owner, claimed.statement)
    honest = prove_round(led, srs, "m-private", private_totals=True, terms=terms, reserves=onchain)
    publish(w3, registry, owner, honest.statement)
    keys = round_keys(verify_round(honest.statement, allow_insecure_srs=True))
    checks = paths(honest.statement, keys, registry)
    for u, uid in enumerate(led.user_ids):
        obj = honest.inclusion_file(u).to_json()
        assert {name: verdict(lambda: check(obj, uid)) for name, check in checks.items()} == dict.fromkeys(
            checks, "VALID")


# --------------------------------------------------------------------------- customers' files, every path


def _slot(obj, label):
    for r in obj["records"]:
        for s in r["slots"]:
            if s["asset"] == label:
                return s
    raise KeyError(label)


def _bump(label, by):
    def edit(obj):
        s = _slot(obj, label)
        s["units"] = str(int(s["units"]) + by)
    return edit


def _relabel(old, new):
    def edit(obj):
        _slot(obj, old)["asset"] = new
    return edit


def _drop(*labels):
    """The slots under ``labels`` emptied (moved to the end of their record, as an empty slot must be)."""
    def edit(obj):
        for r in obj["records"]:
            kept = [s for s in r["slots"] if s["asset"] not in labels]
            r["slots"] = kept + [{"asset": None, "units": "0"}] * (len(r["slots"]) - len(kept))
    return edit


def _surplus_follows(label, by, uid_terms):
    """``label``'s units raised by ``by`` and the surplus words rewritten to match: rule 20 holds, the opening
    cannot."""
    def edit(obj):
        _bump(label, by)(obj)
        words = [s for r in obj["records"] for s in r["slots"] if (s["asset"] or "").startswith("surplus:")]
        value = sum(int(s["units"]) << (64 * (int(s["asset"][8:]) - 1)) for s in words)
        value += by * uid_terms(label)
        for s in words:
            t = int(s["asset"][8:]) - 1
            s["units"] = str((value >> (64 * t)) & ((1 << 64) - 1))
    return edit


def _another(field, value):
    def edit(obj):
        obj[field] = value
    return edit


def _weight(label):
    """The weight of a label in the fixture round (the test ledger: ETH has the most decimals, 18)."""
    from margin_ledger import DECIMALS, PRICES

    rows = {line.split(",")[0]: line.split(",") for line in PRICES.splitlines()[1:]}
    name = label.split(":")[0]
    whole, _, frac = rows[name][1].partition(".")
    unit = (int(whole) * 10**8 + int(frac.ljust(8, "0"))) * 10 ** (18 - DECIMALS[name])
    return -unit * 10_000 if label.endswith(":debt") else unit * int(rows[name][2])


# (name, customer, edit, verdict). alice: surplus:1, surplus:2, BTC, USDT:debt; bob: BTC:debt, ETH, USDT and his
# surplus over two records; carol: no debts; frank: 10 USDT and a 10 USDT debt.
CASES = [
    ("honest_borrower", "alice", None, "VALID"),
    ("honest_borrower_over_two_records", "bob", None, "VALID"),
    ("honest_customer_without_debts", "carol", None, "VALID"),
    ("honest_borrower_of_their_own_collateral", "frank", None, "VALID"),
    ("surplus_word_raised", "alice", _bump("surplus:1", 1), "SURPLUS"),
    ("smaller_debt_shown", "alice", _bump("USDT:debt", -1), "SURPLUS"),
    ("larger_collateral_shown", "alice", _bump("BTC", 1), "SURPLUS"),
    ("debt_shown_as_equity", "alice", _relabel("USDT:debt", "USDT"), "SURPLUS"),
    ("debt_hidden_surplus_kept", "alice", _drop("USDT:debt"), "SURPLUS"),
    ("debt_and_surplus_hidden", "alice", _drop("USDT:debt", "surplus:1", "surplus:2"), "OPENING"),
    ("collateral_raised_with_a_matching_surplus", "alice", _surplus_follows("BTC", 1, _weight), "OPENING"),
    ("surplus_in_an_account_without_debts", "carol", lambda o: o["records"][0]["slots"].insert(
        0, {"asset": "surplus:1", "units": "5"}) or o["records"][0]["slots"].pop(), "SURPLUS"),
    ("a_label_of_no_key", "alice", _relabel("USDT:debt", "USDT:loan"), "UNKNOWN_ASSET"),
    ("a_fourth_surplus_word", "alice", _relabel("surplus:2", "surplus:4"), "UNKNOWN_ASSET"),
    ("surplus_word_of_2^64", "alice", lambda o: _slot(o, "surplus:1").update(units=str(1 << 64)), "UNITS_RANGE"),
    ("debt_of_2^64", "frank", lambda o: _slot(o, "USDT:debt").update(units=str(1 << 64)), "UNITS_RANGE"),
    ("another_customers_file", "bob", None, "USER_ID"),
    ("another_round", "alice", _another("round_id", "m-spare"), "ROUND_ID"),
]


@pytest.fixture(scope="module")
def table_paths(world):
    return paths(world["public"].statement, world["keys"], world["registry"], measure_gas=False)


@pytest.mark.parametrize("name, uid, edit, expected", CASES, ids=[c[0] for c in CASES])
def test_every_path_reaches_the_verdict_of_the_table(world, table_paths, name, uid, edit, expected):
    public, led = world["public"], world["ledger"]
    owner = "alice" if name == "another_customers_file" else uid
    obj = copy.deepcopy(public.inclusion_file(led.user_ids.index(owner)).to_json())
    if edit is not None:
        edit(obj)
    got = {path: verdict(lambda: check(obj, uid)) for path, check in table_paths.items()}
    assert got == dict.fromkeys(got, expected)


@pytest.mark.parametrize("key, weight, rule", [
    (9, "equity", "SURPLUS"),     # her USDT debt weighted like collateral
    (4, 10**30, "SURPLUS"),       # her BTC collateral worth more: the surplus words no longer match
    (1, 1, "OPENING"),            # a surplus word weighted +1: rule 20 holds, the slot's weight is in the opening
    (5, 7, "VALID"),              # BTC debt (she has none): a key she holds no slot of is no part of her check
])
def test_the_view_refuses_weights_other_than_the_rounds(world, key, weight, rule):
    """The view takes the weights from its caller: any but the round's fail a rule or the opening."""
    registry, public, keys = world["registry"], world["public"], world["keys"]
    user = public.user_ids.index("alice")
    records = records_of(public.inclusion_file(user), [a.name for a in public.statement.assets], keys)
    args, weights = margin_inclusion_calldata(records, keys.weights)
    view, round_id = registry.functions.marginInclusionFailure, public.statement.round_id
    assert view(round_id, args, weights).call() == 0
    assert registry.functions.verifyMarginInclusion(round_id, args, weights).call() is True
    lax = list(weights)
    lax[key] = weights[8] if weight == "equity" else weight
    assert Rule(view(round_id, args, lax).call()).name == rule
    assert registry.functions.verifyMarginInclusion(round_id, args, lax).call() is (rule == "VALID")
    assert Rule(view(round_id, args, weights[:-1]).call()).name == "SHAPE"


# --------------------------------------------------------------------------- the CLI


def test_the_cli_publishes_a_margin_round_with_a_feed_and_a_borrower_checks_it_on_chain(world, tmp_path,
                                                                                      monkeypatch):
    import json

    from click.testing import CliRunner

    from margin_ledger import DECIMALS, PRICES
    from zksolvency.cli import main

    w3, owner = world["w3"], world["owner"]
    url = w3.provider.endpoint_uri

    def run(*args, ok=True):
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert (result.exit_code == 0) == ok, result.output
        return result

    world["srs"].truncated(9).save(tmp_path / "srs.bin")
    (tmp_path / "ledger.csv").write_text(HONEST_LEDGER)
    (tmp_path / "prices.csv").write_text(PRICES)
    run("prove", tmp_path / "ledger.csv", "--srs", tmp_path / "srs.bin", "--decimals",
        ",".join(f"{a}={d}" for a, d in DECIMALS.items()), "--prices", tmp_path / "prices.csv",
        "--out", tmp_path / "round", "--round-id", "cli-margin")
    monkeypatch.setenv("ZKSOLVENCY_PRIVATE_KEY", KEYS[0])
    registry = json.loads(run("deploy", tmp_path / "round", "--rpc", url, "--allow-insecure-srs", "--json").stdout)[
        "registry"]
    for name, decimals in DECIMALS.items():
        run("register-asset", "--rpc", url, "--registry", registry, "--asset", name, "--decimals", decimals,
            "--offchain")
    feed = _contract(w3, owner, "TestPriceFeed.sol", "TestPriceFeed", 8, BTC_PRICE + 1)
    for bad in ("0x12", "not-an-address"):
        refused = run("register-feed", "--rpc", url, "--registry", registry, "--asset", "BTC", "--feed", bad,
                      "--max-age", 3600, ok=False)
        assert f"the feed {bad!r} is not an Ethereum address" in refused.output and "Traceback" not in refused.output
    run("register-feed", "--rpc", url, "--registry", registry, "--asset", "BTC", "--feed", feed.address,
        "--max-age", 3600)
    moved = run("publish", tmp_path / "round", "--rpc", url, "--registry", registry, ok=False)
    assert f"NotFeedPrice('BTC', {BTC_PRICE + 1})" in moved.output
    send(w3, owner, feed.functions.setAnswer(BTC_PRICE, w3.eth.get_block("latest")["timestamp"]).build_transaction(
        {"from": owner.address}))
    run("publish", tmp_path / "round", "--rpc", url, "--registry", registry)
    run("inclusion", tmp_path / "round", "--user", "alice", "--out", tmp_path / "a.json")
    for extra in ([], ["--onchain"]):
        out = run("verify-inclusion", tmp_path / "a.json", "--user-id", "alice", "--rpc", url, "--registry",
                  registry, *extra).output
        assert "covers your debt, 50000.00000000 USD" in out and "58500.00000000 USD" in out, out
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    _bump("USDT:debt", -1)(data)
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    for extra in ([], ["--onchain"]):
        bad = run("verify-inclusion", tmp_path / "bad.json", "--user-id", "alice", "--rpc", url, "--registry",
                  registry, "--json", *extra, ok=False)
        assert json.loads(bad.stdout)["rule"] == "SURPLUS"
