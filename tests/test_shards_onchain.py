"""Sharded rounds on a real local chain (anvil): the registry opens a round of M shards, takes each shard's proof in a
transaction of its own, and is complete when every shard has verified; it refuses what a cheating exchange would
submit, as the Python verifiers refuse the same round written to a file; a customer checks against their shard."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3.logs import DISCARD

from zksolvency.audit import round_keys, verify_round, verify_statement
from zksolvency.chain import CONTRACTS, ChainError, anvil, compile_solidity, connect, deploy, send
from zksolvency.cli import main
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    _transact,
    compile_round_contracts,
    deploy_round_contracts,
    publish_sharded,
    recorded_round,
    register_asset,
    register_reserve,
    register_round_assets,
    sharded_state,
)
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger
from zksolvency.verifier.plonk import VerificationError

import test_shards
from inclusion_paths import sharded_paths, verdict
from registry_calls import refusal

# anvil's well-known development key (account 0), funded on every fresh anvil.
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ASSETS = (("BTC", 8, 0.05), ("ETH", 9, 1.5), ("USDT", 6, 800.0))
TOKENS = (("A1", 6, 100.0), ("A2", 6, 100.0))
SHARDS = 3
USERS = 60
SLOTS = 2


@pytest.fixture(scope="module")
def chain():
    with anvil() as url:
        yield connect(url)


@pytest.fixture(scope="module")
def owner():
    return Account.from_key(OWNER_KEY)


def _prove(tmp, srs, round_id, assets=ASSETS, users=USERS, shards=SHARDS, seed=4, reserves=None):
    path = tmp / f"{round_id}.csv"
    write_sample_ledger(path, users, seed=seed, assets=assets)
    ledger = read_ledger(path, parse_decimals(decimals_spec(assets)))
    return prove_round(ledger, srs, round_id, slots=SLOTS, shards=shards, private_totals=reserves is not None,
                       reserves=reserves), ledger


@pytest.fixture(scope="module")
def public(tmp_path_factory, dev_srs):
    tmp = tmp_path_factory.mktemp("shards-onchain")
    rnd, ledger = _prove(tmp, dev_srs, "sharded-chain")
    # A round of two shards of as many rows a shard (for a proof under another shard count).
    two, _ = _prove(tmp, dev_srs, "two-shards", users=2 * USERS // SHARDS, shards=2, seed=6)
    assert two.statement.log_n == rnd.statement.log_n
    return tmp, rnd, ledger, two


class Deployed:
    """A verifier and registries bound to it: `registry` the one the honest round is published on, `fresh()` more."""

    def __init__(self, w3, owner, statement):
        self.w3, self.owner, self.statement = w3, owner, statement
        self.compiled = compile_round_contracts(statement)
        d = deploy_round_contracts(w3, owner, statement, self.compiled)
        self.verifier = d.verifier
        self.registry = self._contract(d.registry)

    def _contract(self, address):
        return self.w3.eth.contract(address=address, abi=self.compiled["SolvencyRegistry"]["abi"])

    def fresh(self, offchain_assets=True):
        """Another registry bound to the same verifier, the round's assets registered (off-chain) unless not."""
        registry = self._contract(deploy(self.w3, self.compiled["SolvencyRegistry"], self.owner, self.verifier, SLOTS))
        if offchain_assets:
            register_round_assets(self.w3, registry, self.owner, self.statement)
        return registry


@pytest.fixture(scope="module")
def deployed(chain, owner, public):
    _, rnd, _, _ = public
    d = Deployed(chain, owner, rnd.statement)
    register_round_assets(chain, d.registry, owner, rnd.statement)
    return d


def _submit(d, registry, rid, index, shard):
    return _transact(d.w3, registry, d.owner,
                     registry.functions.submitShard(rid, index, shard.proof, list(shard.values)), f"shard {index}")


def _open(d, registry, statement, round_id=None, count=None, totals=None):
    names = [a.name for a in statement.assets]
    fn = registry.functions.openShardedRound(round_id or statement.round_id, statement.timestamp, names,
                                             count or len(statement.shards), list(totals or statement.values))
    return _transact(d.w3, registry, d.owner, fn, "the opening")


# -- the honest round, published in stages ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def half_published(deployed, public):
    """The honest round opened on the registry with only shard 0 submitted."""
    _, rnd, _, _ = public
    st = rnd.statement
    receipt = _open(deployed, deployed.registry, st)
    _submit(deployed, deployed.registry, st.round_id, 0, st.shards[0])
    return receipt


@pytest.fixture(scope="module")
def published(deployed, public, half_published):
    """The honest round completed by publish_sharded, which resumes: it opens nothing and skips shard 0."""
    _, rnd, _, _ = public
    sent = publish_sharded(deployed.w3, deployed.registry, deployed.owner, rnd.statement)
    return sent


def test_a_round_not_complete_refuses_every_inclusion_check(deployed, public, half_published):
    _, rnd, _, _ = public
    st = rnd.statement
    state = sharded_state(deployed.registry, st.round_id)
    assert (state.shard_count, state.verified, state.complete, state.private_totals) == (SHARDS, 1, False, False)
    keys = {i: round_keys(v) for i, v in verify_statement(st, allow_insecure_srs=True).items()}
    paths = sharded_paths(st, keys, deployed.registry)
    for shard in (0, 1):  # a shard verified, and one not yet submitted: the round is not complete
        u = next(u for u in range(USERS) if rnd.inclusion_file(u).shard == shard)
        obj, uid = rnd.inclusion_file(u).to_json(), rnd.user_ids[u]
        got = {name: verdict(lambda: check(obj, uid)) for name, check in paths.items()}
        assert got == {"round": "VALID", "chain": "ROUND_ID", "chain+round": "ROUND_ID", "view": "ROUND_ID",
                       "registry": "ROUND_ID"}, (shard, got)


def test_publish_resumes_and_completes_the_round_with_an_event(deployed, public, published):
    _, rnd, _, _ = public
    st = rnd.statement
    assert [what for what, _ in published] == [f"shard {i}" for i in range(1, SHARDS)]  # opened, shard 0: kept
    state = sharded_state(deployed.registry, st.round_id)
    assert (state.verified, state.complete) == (SHARDS, True) and set(state.unsummed) == {0}
    last = published[-1][1]
    events = deployed.registry.events.ShardedRoundComplete().process_receipt(last, errors=DISCARD)
    assert len(events) == 1 and events[0]["args"]["roundId"] == st.round_id
    assert publish_sharded(deployed.w3, deployed.registry, deployed.owner, st) == []  # nothing left to send
    for i, shard in enumerate(st.shards):
        recorded = recorded_round(deployed.registry, st.round_id, i)
        c = shard.inclusion_commitment
        assert recorded["commitment"] == (c.x, c.y) and recorded["shard_count"] == SHARDS
        assert recorded["assets"] == [a.name for a in st.assets] and not recorded["private"]


# -- a customer's file against the chain: one table, every path ------------------------------------------------


# The file-side changes of a customer's shard, as test_shards makes them (its rounds have as many shards).
assert test_shards.SHARDS == SHARDS
_other_shard, _past_the_last_shard, _no_shard = (test_shards._other_shard, test_shards._past_the_last_shard,
                                                 test_shards._no_shard)


def _more_units(obj):
    slot = next(s for s in obj["records"][0]["slots"] if s["asset"])
    slot["units"] = str(int(slot["units"]) + 1)


INCLUSION_CASES = [
    ("honest", lambda obj: None, "VALID"),
    ("other_shard", _other_shard, "OPENING"),  # the records shown against another shard's commitment
    ("past_the_last_shard", _past_the_last_shard, "SHARD"),  # a shard index >= M
    ("no_shard", _no_shard, "SHARD"),  # a one-shard file for a sharded round
    ("more_units", _more_units, "OPENING"),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in INCLUSION_CASES], ids=[c[0] for c in INCLUSION_CASES])
def test_a_customer_file_checks_against_its_own_shard_on_every_path(deployed, public, published, change, expected):
    _, rnd, _, _ = public
    st = rnd.statement
    keys = {i: round_keys(v) for i, v in verify_statement(st, allow_insecure_srs=True).items()}
    paths = sharded_paths(st, keys, deployed.registry, measure_gas=False)
    for u in (0, USERS - 1):
        obj = rnd.inclusion_file(u).to_json()
        change(obj)
        got = {name: verdict(lambda: check(obj, rnd.user_ids[u])) for name, check in paths.items()}
        assert set(got.values()) == {expected}, got


# -- what a cheating exchange would submit: the registry and the round file's verifier refuse alike ---------------


def _shard_twice(d, pub):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st)
    _submit(d, registry, st.round_id, 0, st.shards[0])
    return refusal(registry.functions.submitShard(st.round_id, 0, st.shards[0].proof, list(st.shards[0].values)),
                   d.owner.address)


def _shard_twice_file(pub, two):
    st = pub.statement
    shards = list(st.shards)
    shards[1] = dataclasses.replace(shards[0], shard=(1, SHARDS))
    verify_statement(dataclasses.replace(st, shards=tuple(shards)), allow_insecure_srs=True)


def _other_index(d, pub):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st)
    return refusal(registry.functions.submitShard(st.round_id, 0, st.shards[1].proof, list(st.shards[1].values)),
                   d.owner.address)


def _other_index_file(pub, two):
    verify_round(dataclasses.replace(pub.statement.shards[1], shard=(0, SHARDS)), allow_insecure_srs=True)


def _other_round(d, pub):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st, round_id="another-round")
    return refusal(registry.functions.submitShard("another-round", 0, st.shards[0].proof,
                                                  list(st.shards[0].values)), d.owner.address)


def _other_round_file(pub, two):
    verify_round(dataclasses.replace(pub.statement.shards[0], round_id="another-round"), allow_insecure_srs=True)


def _other_count(d, pub, two):
    registry, st = d.fresh(), two.statement
    _open(d, registry, st, count=SHARDS)  # its id, time and totals, but 3 shards: its proofs are for 2
    return refusal(registry.functions.submitShard(st.round_id, 0, st.shards[0].proof, list(st.shards[0].values)),
                   d.owner.address)


def _other_count_file(pub, two):
    verify_round(dataclasses.replace(two.statement.shards[0], shard=(0, SHARDS)), allow_insecure_srs=True)


def _totals(st, delta):
    return [st.values[0] + delta] + list(st.values[1:])


def _totals_inflated(d, pub):
    """The round opened with a total its shards do not reach: the last shard is refused, the round never completes."""
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st, totals=_totals(st, 1))
    for i in range(SHARDS - 1):
        _submit(d, registry, st.round_id, i, st.shards[i])
    last = st.shards[SHARDS - 1]
    return refusal(registry.functions.submitShard(st.round_id, SHARDS - 1, last.proof, list(last.values)),
                   d.owner.address)


def _totals_deflated(d, pub):
    """A total below the shards' sum: the shard that passes it is refused."""
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st, totals=_totals(st, -1))
    for i in range(SHARDS):
        try:
            _submit(d, registry, st.round_id, i, st.shards[i])
        except ChainError as e:
            return str(e).partition(": ")[2]
    raise AssertionError("the registry accepted")


def _totals_file(delta):
    def check(pub, two):
        st = pub.statement
        verify_statement(dataclasses.replace(st, values=tuple(_totals(st, delta))), allow_insecure_srs=True)
    return check


def _index_past_count(d, pub):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st)
    return refusal(registry.functions.submitShard(st.round_id, SHARDS, st.shards[0].proof, list(st.shards[0].values)),
                   d.owner.address)


def _index_past_count_file(pub, two):
    st = pub.statement
    shards = list(st.shards)
    shards[0] = dataclasses.replace(shards[0], shard=(SHARDS, SHARDS))
    verify_statement(dataclasses.replace(st, shards=tuple(shards)), allow_insecure_srs=True)


def _opened_twice(d, pub):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st)
    names = [a.name for a in st.assets]
    return refusal(registry.functions.openShardedRound(st.round_id, st.timestamp, names, SHARDS + 1, list(st.values)),
                   d.owner.address)


def _opened_twice_publish(d, pub):
    """publish_sharded against a round opened under the same id with another shard count."""
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st, count=SHARDS + 1)
    publish_sharded(d.w3, registry, d.owner, st)


def _one_shard_round_under_a_sharded_id(d, pub, two):
    registry, st = d.fresh(), pub.statement
    _open(d, registry, st)
    names = [a.name for a in st.assets]
    return refusal(registry.functions.submitRound(st.round_id, st.timestamp, st.shards[0].proof, names,
                                                  list(st.shards[0].values)), d.owner.address)


SUBMISSION_CASES = [
    # (case, what the registry does, the start of its reason, what the Python verifier or publish is given)
    ("shard_twice", _shard_twice, "ShardExists(0)", _shard_twice_file),
    ("other_index", _other_index, "zksolvency: ", _other_index_file),
    ("other_round", _other_round, "zksolvency: ", _other_round_file),
    ("other_count", lambda d, pub, two: _other_count(d, pub, two), "zksolvency: ", _other_count_file),
    ("totals_inflated", _totals_inflated, "ShardTotalsNotRound(1)", _totals_file(1)),
    ("totals_deflated", _totals_deflated, "ShardTotalsNotRound(1)", _totals_file(-1)),
    ("index_past_count", _index_past_count, f"BadShard({SHARDS}, {SHARDS})", _index_past_count_file),
    ("opened_twice", _opened_twice, "RoundExists", None),
    ("one_shard_round_under_a_sharded_id", _one_shard_round_under_a_sharded_id, "RoundExists", None),
]


@pytest.mark.parametrize("case, on_chain, reason, in_file", [c for c in SUBMISSION_CASES],
                         ids=[c[0] for c in SUBMISSION_CASES])
def test_what_a_cheating_exchange_submits_is_refused_by_the_registry_and_the_python_verifier(
        deployed, public, case, on_chain, reason, in_file):
    _, rnd, _, two = public
    got = on_chain(deployed, rnd, two) if on_chain.__code__.co_argcount == 3 else on_chain(deployed, rnd)
    assert got.startswith(reason), got
    if in_file is not None:
        with pytest.raises(VerificationError):
            in_file(rnd, two)
    elif case == "opened_twice":
        with pytest.raises(ChainError, match=f"opened with {SHARDS + 1} shards"):
            _opened_twice_publish(deployed, rnd)


def test_the_honest_twin_of_every_refused_file_verifies(public):
    _, rnd, _, two = public
    verify_statement(rnd.statement, allow_insecure_srs=True)
    verify_statement(two.statement, allow_insecure_srs=True)


# -- private totals: allocations within the reserves the registry reads ----------------------------------------


@pytest.fixture(scope="module")
def private(chain, owner, tmp_path_factory, dev_srs):
    """A registry of private rounds over two ERC-20 assets held by the owner, and a sharded round proven against
    the reserves it reads."""
    tmp = tmp_path_factory.mktemp("shards-private")
    huge = {name: 10**15 for name, _, _ in TOKENS}
    probe, _ = _prove(tmp, dev_srs, "probe", assets=TOKENS, reserves=huge)
    d = Deployed(chain, owner, probe.statement)
    token = compile_solidity({"TestToken.sol": (CONTRACTS / "test" / "TestToken.sol").read_text()})["TestToken"]
    for name, decimals, _ in TOKENS:
        address = deploy(chain, token, owner, name, decimals)
        contract = chain.eth.contract(address=address, abi=token["abi"])
        send(chain, owner, contract.functions.mint(owner.address, 10**15).build_transaction({"from": owner.address}))
        register_asset(chain, d.registry, owner, name, decimals, address)
        register_reserve(chain, d.registry, owner, owner, name)
    reserves = {name: d.registry.functions.reserveUnits(name).call() for name, _, _ in TOKENS}
    rnd, _ = _prove(tmp, dev_srs, "sharded-private", assets=TOKENS, reserves=reserves)
    assert rnd.statement.log_n == probe.statement.log_n
    return d, rnd


def test_a_private_sharded_round_is_opened_within_the_reserves_and_completes(private):
    d, rnd = private
    st = rnd.statement
    sent = publish_sharded(d.w3, d.registry, d.owner, st)
    assert [what for what, _ in sent] == ["open"] + [f"shard {i}" for i in range(SHARDS)]
    state = sharded_state(d.registry, st.round_id)
    assert (state.private_totals, state.complete, state.unsummed) == (True, True, ())
    keys = {i: round_keys(v) for i, v in verify_statement(st, allow_insecure_srs=True).items()}
    paths = sharded_paths(st, keys, d.registry, measure_gas=False)
    obj = rnd.inclusion_file(1).to_json()
    assert {name: verdict(lambda: check(obj, rnd.user_ids[1])) for name, check in paths.items()} == dict.fromkeys(
        paths, "VALID")
    recorded = recorded_round(d.registry, st.round_id, obj["shard"])
    assert recorded["private"] and recorded["assets"] == [a.name for a in st.assets]


def _bumped_allocations(st):
    """Every shard's allocation, shard 0's first asset raised so that the allocations pass the reserves by 1."""
    rows = [list(s.values) for s in st.shards]
    rows[0][0] += st.values[0] - sum(r[0] for r in rows) + 1
    return rows


def test_allocations_past_the_reserves_are_refused_by_the_registry_and_the_python_verifier(private):
    d, rnd = private
    st = rnd.statement
    registry = d.fresh(offchain_assets=False)
    for name, _, _ in TOKENS:
        registered = d.registry.functions.assetOf(name).call()
        register_asset(d.w3, registry, d.owner, name, registered[1], registered[3])
        register_reserve(d.w3, registry, d.owner, d.owner, name)
    rows = _bumped_allocations(st)
    names = [a.name for a in st.assets]
    flat = [v for r in rows for v in r]
    assert refusal(registry.functions.openPrivateShardedRound("bumped", st.timestamp, names, SHARDS, flat),
                   d.owner.address) == "AllocationsPastReserves(1)"
    shards = list(st.shards)
    shards[0] = dataclasses.replace(shards[0], values=tuple(rows[0]))
    with pytest.raises(VerificationError, match="allocations of A1 sum to more than its reserves"):
        verify_statement(dataclasses.replace(st, shards=tuple(shards)), allow_insecure_srs=True)
    # A shard proof whose reserves input is not the allocation fixed at opening.
    honest = [v for s in st.shards for v in s.values]
    _transact(d.w3, registry, d.owner,
              registry.functions.openPrivateShardedRound(st.round_id, st.timestamp, names, SHARDS, honest), "open")
    other = [st.shards[0].values[0] - 1] + list(st.shards[0].values[1:])
    assert refusal(registry.functions.submitShard(st.round_id, 0, st.shards[0].proof, other),
                   d.owner.address) == "NotAllocation(0)"
    with pytest.raises(VerificationError):
        verify_round(dataclasses.replace(st.shards[0], values=tuple(other),
                                         public_inputs=(st.shards[0].public_inputs[0], *other)),
                     allow_insecure_srs=True)


# -- the commands --------------------------------------------------------------------------------------------------


def test_cli_deploys_publishes_resumably_and_audits_a_sharded_round(chain, public, monkeypatch, dev_srs):
    tmp, rnd, _, _ = public
    url = chain.provider.endpoint_uri
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args])
        assert (result.exit_code == 0) == ok, result.output
        return result

    out_dir = tmp / "cli-round"
    rnd.write(out_dir)
    dev_srs.truncated(9).save(tmp / "srs.bin")
    monkeypatch.setenv("ZKSOLVENCY_PRIVATE_KEY", OWNER_KEY)
    addresses = json.loads(run("deploy", out_dir, "--rpc", url, "--allow-insecure-srs", "--json").stdout)
    for name, decimals, _ in ASSETS:
        run("register-asset", "--rpc", url, "--registry", addresses["registry"], "--asset", name, "--decimals",
            decimals, "--offchain")
    out = json.loads(run("publish", out_dir, "--rpc", url, "--registry", addresses["registry"], "--json").stdout)
    assert out["complete"] and out["shard_count"] == SHARDS and len(out["transactions"]) == SHARDS + 1
    assert out["gas_used"] == sum(t["gas_used"] for t in out["transactions"])
    again = json.loads(run("publish", out_dir, "--rpc", url, "--registry", addresses["registry"], "--json").stdout)
    assert again["complete"] and again["transactions"] == []
    audit = json.loads(run("audit-deployment", "--rpc", url, "--registry", addresses["registry"], "--srs",
                           tmp / "srs.bin", "--round", out_dir / "round.json", "--json").stdout)
    assert audit["matches"]
    # A customer checks their file against the chain alone, and through the registry's view; a file whose shard
    # the exchange changed is refused: another shard's commitment does not open it, a shard the round lacks is rule 21.
    ledger = public[2]
    uid = ledger.user_ids[5]
    run("inclusion", out_dir, "--user", uid, "--out", tmp / "u.json")
    for extra in ([], ["--onchain"]):
        out = json.loads(run("verify-inclusion", tmp / "u.json", "--user-id", uid, "--rpc", url, "--registry",
                             addresses["registry"], "--json", *extra).stdout)
        assert out["valid"] and out["balances"]
    both = json.loads(run("verify-inclusion", tmp / "u.json", "--user-id", uid, "--rpc", url, "--registry",
                          addresses["registry"], "--round", out_dir / "round.json", "--allow-insecure-srs",
                          "--srs", tmp / "srs.bin", "--json").stdout)
    assert both["valid"]
    data = json.loads((tmp / "u.json").read_text(encoding="utf-8"))
    for shard, rule in (((data["shard"] + 1) % SHARDS, "OPENING"), (SHARDS, "SHARD")):
        (tmp / "moved.json").write_text(json.dumps({**data, "shard": shard}), encoding="utf-8")
        out = json.loads(run("verify-inclusion", tmp / "moved.json", "--user-id", uid, "--rpc", url, "--registry",
                             addresses["registry"], "--json", ok=False).stdout)
        assert out["valid"] is False and out["rule"] == rule, out
