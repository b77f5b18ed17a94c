"""Sharded margin rounds on a real chain (anvil): a registry of their own kind (ShardedMarginSolvencyRegistry) opens
the round with its terms (the weights fixed then), takes each shard's proof with its equity and debt totals (or its
allocation), and refuses what a cheating exchange would submit; every customer, borrowers included, checks their
records against their shard on every path."""

from __future__ import annotations

import pytest
from eth_account import Account

from inclusion_paths import sharded_paths, verdict
from margin_ledger import HONEST_LEDGER, margin_files
from registry_calls import refusal
from zksolvency.audit import round_keys, verify_statement
from zksolvency.chain import CONTRACTS, ChainError, anvil, compile_solidity, connect, deploy, send
from zksolvency.constants import R_MODULUS
from zksolvency.margin import MarginTerms, read_prices
from zksolvency.onchain import (
    audit_against,
    compile_round_contracts,
    compiled_registry,
    deploy_round_contracts,
    publish,
    publish_sharded,
    recorded_round,
    register_asset,
    register_reserve,
    register_round_assets,
    registry_contract,
    sharded_state,
)
from zksolvency.round import prove_round

OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0
HOLDER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil's account 2
SHARDS = 2


@pytest.fixture(scope="module")
def world(tmp_path_factory, dev_srs):
    """A chain; the public sharded margin round published on a registry of its kind; the round's pieces."""
    tmp = tmp_path_factory.mktemp("shards-margin")
    led, prices = margin_files(tmp, HONEST_LEDGER)
    terms = read_prices(prices, led.assets, led.decimals)
    rnd = prove_round(led, dev_srs, "m-sharded", terms=terms, shards=SHARDS)
    with anvil() as url:
        w3 = connect(url)
        owner = Account.from_key(OWNER_KEY)
        compiled = compile_round_contracts(rnd.statement)
        d = deploy_round_contracts(w3, owner, rnd.statement, compiled)
        registry = registry_contract(w3, d.registry)
        register_round_assets(w3, registry, owner, rnd.statement)
        sent = publish_sharded(w3, registry, owner, rnd.statement)
        keys = {i: round_keys(v) for i, v in verify_statement(rnd.statement, allow_insecure_srs=True).items()}
        yield {"w3": w3, "owner": owner, "ledger": led, "terms": terms, "round": rnd, "registry": registry,
               "deployment": d, "compiled": compiled, "keys": keys, "sent": sent, "srs": dev_srs}


def _fresh(world):
    """Another registry of sharded margin rounds bound to the same verifier, the round's assets registered."""
    w3, owner, st = world["w3"], world["owner"], world["round"].statement
    address = deploy(w3, world["compiled"]["SolvencyRegistry"], owner, world["deployment"].verifier, st.slots)
    registry = registry_contract(w3, address)
    register_round_assets(w3, registry, owner, st)
    return registry


def _weights(st):
    return [w % R_MODULUS for w in st.margin.weights([a.decimals for a in st.assets])]


def _open(world, registry, values=None, terms=None, round_id=None):
    st = world["round"].statement
    fn = registry.functions.openShardedMarginRound(round_id or st.round_id, st.timestamp, [a.name for a in st.assets],
                                                   SHARDS, terms or st.margin.packed(), False,
                                                   values or list(st.values) + list(st.debts))
    send(world["w3"], world["owner"], fn.build_transaction({"from": world["owner"].address}))


def _shard_call(registry, st, i, values=None, weights=None):
    shard = st.shards[i]
    return registry.functions.submitMarginShard(st.round_id, i, shard.proof,
                                                values or list(shard.values) + list(shard.debts),
                                                weights or _weights(st))


def _submit(world, registry, i):
    fn = _shard_call(registry, world["round"].statement, i)
    send(world["w3"], world["owner"], fn.build_transaction({"from": world["owner"].address}))


# --------------------------------------------------------------------------- the honest round


def test_a_sharded_margin_round_completes_on_a_registry_of_its_kind(world):
    registry, st = world["registry"], world["round"].statement
    assert registry.functions.margin().call() and registry.functions.shardedOnly().call()
    assert [what for what, _ in world["sent"]] == ["open"] + [f"shard {i}" for i in range(SHARDS)]
    state = sharded_state(registry, st.round_id)
    assert (state.shard_count, state.verified, state.complete, state.private_totals) == (SHARDS, SHARDS, True, False)
    assert state.unsummed == (0,) * (2 * len(st.assets))  # every equity and debt total taken by the shards
    recorded = recorded_round(registry, st.round_id, 0)
    assert recorded["weights"] == tuple(st.margin.weights([a.decimals for a in st.assets]))
    assert recorded["assets"] == [a.name for a in st.assets] and not recorded["private"]


def test_every_customer_borrowers_included_checks_their_shard_on_every_path(world):
    rnd, registry = world["round"], world["registry"]
    paths = sharded_paths(rnd.statement, world["keys"], registry, measure_gas=False)
    for u, uid in enumerate(rnd.user_ids):
        obj = rnd.inclusion_file(u).to_json()
        assert {name: verdict(lambda: check(obj, uid)) for name, check in paths.items()} == dict.fromkeys(
            paths, "VALID"), uid
        moved = {**obj, "shard": 1 - obj["shard"]}  # the file shown against the other shard
        assert {name: verdict(lambda: check(moved, uid)) for name, check in paths.items()} == dict.fromkeys(
            paths, "OPENING"), uid


def test_the_audit_knows_the_sharded_margin_registry_and_its_rules(world):
    st = world["round"].statement
    vk = st.verifying_key
    assert audit_against(world["w3"], world["registry"].address, st.shape(), vk).matches
    # A registry of margin rounds of one shard bound to the same verifier is audited as what it is, and refuses
    # the sharded round before anything is sent.
    one = registry_contract(world["w3"], deploy(world["w3"], compiled_registry(True), world["owner"],
                                                world["deployment"].verifier, st.slots))
    assert not one.functions.shardedOnly().call()
    assert audit_against(world["w3"], one.address, st.shape(), vk).matches
    register_round_assets(world["w3"], one, world["owner"], st)
    with pytest.raises(ChainError, match="needs a registry of sharded margin rounds"):
        publish_sharded(world["w3"], one, world["owner"], st)
    with pytest.raises(ChainError, match="needs a registry of margin rounds of one shard"):
        publish(world["w3"], world["registry"], world["owner"], st.shards[0])


def test_the_audit_refuses_a_registry_whose_views_call_other_inclusion_rules(world):
    """The registry's code to the byte but its inclusionRules pointing elsewhere (init code of the exchange's own that
    returns the registry's runtime with that immutable changed): the views would apply whatever rules sit there."""
    w3, owner, registry = world["w3"], world["owner"], world["registry"]
    st = world["round"].statement
    rules = bytes.fromhex(registry.functions.inclusionRules().call()[2:])
    other = bytes.fromhex(world["deployment"].verifier[2:])  # any contract's address: here the verifier's
    runtime = bytes(w3.eth.get_code(registry.address))
    assert runtime.count(rules) >= 1
    forged = runtime.replace(rules, other)
    header = bytes([0x61]) + len(forged).to_bytes(2, "big") + bytes([0x80, 0x61]) + (13).to_bytes(2, "big") + bytes(
        [0x60, 0x00, 0x39, 0x60, 0x00, 0xF3])  # CODECOPY the runtime after these 13 bytes, RETURN it
    receipt = send(w3, owner, {"from": owner.address, "data": header + forged, "gas": 10_000_000,
                               "gasPrice": w3.eth.gas_price})
    audit = audit_against(w3, receipt["contractAddress"], st.shape(), st.verifying_key)
    assert audit.differences == (f"the inclusion rules at {w3.to_checksum_address(other)}, which the registry's "
                                 "views call, are not this project's InclusionRules",)
    assert audit_against(w3, registry.address, st.shape(), st.verifying_key).matches


# --------------------------------------------------------------------------- what a cheating exchange submits


def test_weights_other_than_the_openings_are_refused(world):
    registry, st = _fresh(world), world["round"].statement
    _open(world, registry)
    other = _weights(st)
    other[4] = (other[4] + 1) % R_MODULUS  # asset 1's equity weight, one more
    assert "not the round's weights" in refusal(_shard_call(registry, st, 0, weights=other), world["owner"].address)
    _submit(world, registry, 0)  # the round's own weights pass


def test_terms_other_than_the_proofs_fail_every_shard(world):
    registry, st = _fresh(world), world["round"].statement
    terms = list(st.margin.packed())
    terms[0] += 1 << 16  # asset 1's price one unit of 10^-8 USD higher: other weights
    _open(world, registry, terms=terms)
    rehashed = MarginTerms.from_packed(terms).weights([a.decimals for a in st.assets])
    reason = refusal(_shard_call(registry, st, 0, weights=[w % R_MODULUS for w in rehashed]), world["owner"].address)
    assert reason == "zksolvency: quotient identity"  # the verifier's refusal: the proof holds at its terms only


def test_a_debt_moved_between_shards_fails_the_shards_proof(world):
    registry, st = _fresh(world), world["round"].statement
    _open(world, registry)
    k = len(st.assets)
    j = next(j for j in range(k) if st.shards[0].debts[j] > 0)
    values = list(st.shards[0].values) + list(st.shards[0].debts)
    values[k + j] -= 1  # shard 0 claims one unit less debt (the last shard would take it: the sums still hold)
    assert refusal(_shard_call(registry, st, 0, values=values), world["owner"].address) == \
        "zksolvency: quotient identity"
    _submit(world, registry, 0)  # the shard's own totals pass


def test_shard_totals_must_sum_to_the_rounds_equity_and_debt(world):
    registry, st = _fresh(world), world["round"].statement
    k = len(st.assets)
    j = next(j for j in range(k) if st.debts[j] > 0)
    totals = list(st.values) + list(st.debts)
    totals[k + j] += 1  # the round states one unit more debt than its shards prove
    _open(world, registry, values=totals)
    _submit(world, registry, 0)
    assert refusal(_shard_call(registry, st, 1), world["owner"].address) == f"ShardTotalsNotRound({k + j + 1})"


def test_a_shard_twice_or_past_the_last_and_a_short_opening_are_refused(world):
    registry, st = _fresh(world), world["round"].statement
    owner = world["owner"].address
    names = [a.name for a in st.assets]
    short = registry.functions.openShardedMarginRound(st.round_id, st.timestamp, names, SHARDS, st.margin.packed(),
                                                      False, list(st.values))  # no debt totals
    assert "an equity and a debt total for every asset" in refusal(short, owner)
    _open(world, registry)
    _submit(world, registry, 0)
    assert refusal(_shard_call(registry, st, 0), owner) == "ShardExists(0)"
    past = registry.functions.submitMarginShard(st.round_id, SHARDS, st.shards[0].proof,
                                                list(st.shards[0].values) + list(st.shards[0].debts), _weights(st))
    assert refusal(past, owner) == f"BadShard({SHARDS}, {SHARDS})"


def _later(w3, seconds):
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def test_shards_after_the_feeds_age_are_refused(world):
    """The weights are fixed at opening, from the feeds read then: every shard must come within the shortest maxAge
    of the round's feeds, so the round is never completed on prices older than the feeds allow."""
    from zksolvency.onchain import register_price_feed

    w3, owner, st = world["w3"], world["owner"], world["round"].statement
    registry = _fresh(world)
    compiled = compile_solidity({"TestPriceFeed.sol": (CONTRACTS / "test" / "TestPriceFeed.sol").read_text()})
    price = st.margin.prices[[a.name for a in st.assets].index("BTC")]
    feed = deploy(w3, compiled["TestPriceFeed"], owner, 8, price)
    register_price_feed(w3, registry, owner, "BTC", feed, 3600)
    _open(world, registry)
    _submit(world, registry, 0)
    _later(w3, 3601)
    assert refusal(_shard_call(registry, st, 1), owner.address).startswith("TermsExpired(")
    # Without feeds the terms hold a day.
    registry = _fresh(world)
    _open(world, registry)
    _later(w3, 24 * 3600 - 60)
    _submit(world, registry, 0)
    _later(w3, 120)
    assert refusal(_shard_call(registry, st, 1), owner.address).startswith("TermsExpired(")


# --------------------------------------------------------------------------- private totals


def test_a_private_sharded_margin_round_is_allocated_within_the_reserves_the_registry_reads(world, tmp_path):
    w3, owner, led, terms, srs = world["w3"], world["owner"], world["ledger"], world["terms"], world["srs"]
    holder = Account.from_key(HOLDER_KEY)
    net = {a: t - d for a, t, d in zip(led.assets, led.totals(), led.debt_totals())}
    generous = {a: max(v, 0) + 10**12 for a, v in net.items()}
    probe = prove_round(led, srs, "m-probe", private_totals=True, terms=terms, reserves=generous, shards=SHARDS)
    registry = registry_contract(w3, deploy_round_contracts(w3, owner, probe.statement).registry)
    token = compile_solidity({"TestToken.sol": (CONTRACTS / "test" / "TestToken.sol").read_text()})["TestToken"]
    for name, decimals in zip(led.assets, led.decimals):
        if name == "ETH":  # the chain's own currency: the holder's balance (anvil funds it)
            register_asset(w3, registry, owner, name, decimals)
        else:
            contract = w3.eth.contract(address=deploy(w3, token, owner, name, decimals), abi=token["abi"])
            send(w3, owner, contract.functions.mint(holder.address, generous[name]).build_transaction(
                {"from": owner.address}))
            register_asset(w3, registry, owner, name, decimals, contract.address)
        register_reserve(w3, registry, owner, holder, name)
    onchain = {a: registry.functions.reserveUnits(a).call() for a in led.assets}
    honest = prove_round(led, srs, "m-private", private_totals=True, terms=terms, reserves=onchain, shards=SHARDS)
    st = honest.statement
    allocations = [v for shard in st.shards for v in shard.values]
    btc = led.assets.index("BTC")
    allocations[btc] += onchain["BTC"] - sum(shard.values[btc] for shard in st.shards) + 1  # one unit past the chain's
    past = registry.functions.openShardedMarginRound(st.round_id, st.timestamp, list(led.assets), SHARDS,
                                                     st.margin.packed(), True, allocations)
    assert refusal(past, owner.address) == f"AllocationsPastReserves({btc + 1})"
    publish_sharded(w3, registry, owner, honest.statement)
    state = sharded_state(registry, honest.statement.round_id)
    assert (state.private_totals, state.complete) == (True, True)
    keys = {i: round_keys(v) for i, v in verify_statement(honest.statement, allow_insecure_srs=True).items()}
    paths = sharded_paths(honest.statement, keys, registry, measure_gas=False)
    for u, uid in enumerate(honest.user_ids):
        obj = honest.inclusion_file(u).to_json()
        assert {name: verdict(lambda: check(obj, uid)) for name, check in paths.items()} == dict.fromkeys(
            paths, "VALID"), uid


def test_the_pages_module_reaches_pythons_verdict_on_every_customer_against_the_registry(world):
    """The browser page's checking module (in Node, through the same JSON-RPC endpoint) against the sharded margin
    registry: every customer's file, and each moved to the other shard and past the last, to the verdict of the
    Python paths (the registry's ShardedMarginTerms read for the weights)."""
    from test_web import _page_module_chain_verdicts

    rnd, registry = world["round"], world["registry"]
    paths = sharded_paths(rnd.statement, world["keys"], registry, measure_gas=False)
    cases = []
    for u, uid in enumerate(rnd.user_ids):
        obj = rnd.inclusion_file(u).to_json()
        for name, file in ((uid, obj), (f"{uid}_moved", {**obj, "shard": 1 - obj["shard"]}),
                           (f"{uid}_past", {**obj, "shard": SHARDS})):
            got = {verdict(lambda: check(file, uid)) for check in paths.values()}
            assert len(got) == 1, (name, got)
            cases.append({"name": name, "user_id": uid, "file": file, "verdict": got.pop()})
    assert {c["verdict"] for c in cases} == {"VALID", "OPENING", "SHARD"}
    url = world["w3"].provider.endpoint_uri
    assert _page_module_chain_verdicts(url, registry.address, cases) == {c["name"]: c["verdict"] for c in cases}
