"""Reserves on a real chain, as a cheating exchange would register them: each counted once, in the units
the registry registered, under the one name of its token, signed by its holder (a key or an EIP-1271 wallet)."""

from __future__ import annotations

import pytest
from eth_account import Account

from registry_calls import refusal
from zksolvency.chain import CONTRACTS, ChainError, anvil, compile_solidity, connect, deploy, send
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    publish,
    recorded_round,
    register_asset,
    register_reserve,
)
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger

# anvil's well-known development keys (accounts 0 and 1), funded on every fresh anvil.
KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
]
ASSETS = (("ETH", 9, 1.5), ("TOK", 6, 100.0))
ZERO = "0x" + "00" * 20


def _fund(w3, owner, to, wei):
    send(w3, owner, {"to": to, "value": wei, "from": owner.address, "gas": 60_000,
                     "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})


def _contract(w3, owner, file, name, *args):
    compiled = compile_solidity({file: (CONTRACTS / "test" / file).read_text()})[name]
    address = deploy(w3, compiled, owner, *args)
    return w3.eth.contract(address=address, abi=compiled["abi"])


@pytest.fixture(scope="module")
def world(tmp_path_factory, dev_srs):
    """A fresh chain, a registry for two-asset private rounds, an ERC-20, ETH and TOK registered."""
    tmp = tmp_path_factory.mktemp("reserves")
    with anvil() as url:
        w3 = connect(url)
        owner, eth_holder = (Account.from_key(k) for k in KEYS)
        token = _contract(w3, owner, "TestToken.sol", "TestToken", "Test token", 6)
        probe = _private_round(tmp, dev_srs, "probe", {"ETH": 10**30, "TOK": 10**30})
        compiled = compile_round_contracts(probe.statement)
        d = deploy_round_contracts(w3, owner, probe.statement, compiled)
        registry = w3.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
        register_asset(w3, registry, owner, "ETH", 9)
        register_asset(w3, registry, owner, "TOK", 6, token.address)
        yield {"w3": w3, "owner": owner, "eth_holder": eth_holder, "token": token, "registry": registry, "tmp": tmp,
               "srs": dev_srs}


def _private_round(tmp, srs, round_id, reserves, seed=3, assets=ASSETS):
    path = tmp / f"{round_id}.csv"
    write_sample_ledger(path, 40, seed=seed, assets=assets)
    ledger = read_ledger(path, parse_decimals(decimals_spec(assets)))
    return prove_round(ledger, srs, round_id, slots=2, private_totals=True, reserves=reserves)


def test_a_reserve_counts_once_however_often_it_is_registered(world):
    w3, owner, holder, registry = world["w3"], world["owner"], world["eth_holder"], world["registry"]
    before = registry.functions.reserveUnits("ETH").call()
    register_reserve(w3, registry, owner, holder, "ETH")  # the positive twin
    once = registry.functions.reserveUnits("ETH").call()
    assert once == before + w3.eth.get_balance(holder.address) // 10**9
    with pytest.raises(ChainError, match=r"ReserveExists\('ETH', '" + holder.address.lower()):
        register_reserve(w3, registry, owner, holder, "ETH")  # the same signature again: refused
    assert registry.functions.reserveUnits("ETH").call() == once


def test_assets_are_registered_once_with_their_units_and_their_own_token(world):
    w3, owner, registry, token = world["w3"], world["owner"], world["registry"], world["token"]
    assert registry.functions.assetOf("TOK").call() == [True, 6, 1, token.address]
    fn = registry.functions.registerAsset
    assert refusal(fn("ETH", 10, ZERO), owner.address) == "AssetExists('ETH')"  # decimals are immutable
    assert refusal(fn("WETH", 18, ZERO), owner.address) == "BadInput('token already registered under another name')"
    assert refusal(fn("TOK2", 6, token.address), owner.address) == (
        "BadInput('token already registered under another name')")
    assert refusal(fn("FAKE", 6, world["eth_holder"].address), owner.address) == "BadInput('token is not a contract')"
    not_a_token = _contract(w3, owner, "TestWallet.sol", "TestWallet", owner.address)
    assert refusal(fn("FAKE", 6, not_a_token.address), owner.address) == "BadInput('token has no decimals()')"
    assert refusal(fn("", 6, ZERO), owner.address) == "BadInput('asset name')"
    assert refusal(fn("X" * 65, 6, ZERO), owner.address) == "BadInput('asset name')"
    assert refusal(fn("BIG", 31, ZERO), owner.address) == "BadInput('decimals')"
    assert refusal(registry.functions.registerReserve("NOPE", owner.address, b""), owner.address) == (
        "UnknownAsset('NOPE')")
    assert refusal(fn("OTHER", 6, ZERO), world["eth_holder"].address) == "NotOwner"
    register_asset(w3, registry, owner, "OTHER", 2, _contract(w3, owner, "TestToken.sol", "TestToken", "o", 2).address)
    assert registry.functions.registeredAssets().call() == ["ETH", "TOK", "OTHER"]


def test_a_contract_wallet_registers_with_an_eip1271_signature(world):
    w3, owner, registry = world["w3"], world["owner"], world["registry"]
    signer, stranger = Account.create(), Account.create()
    wallet = _contract(w3, owner, "TestWallet.sol", "TestWallet", signer.address)
    _fund(w3, owner, wallet.address, 3 * 10**18)
    with pytest.raises(ChainError, match="BadSignature"):
        register_reserve(w3, registry, owner, wallet.address, "ETH",
                         sign=lambda digest: stranger.unsafe_sign_hash(digest).signature)
    before = registry.functions.reserveUnits("ETH").call()
    register_reserve(w3, registry, owner, wallet.address, "ETH",
                     sign=lambda digest: signer.unsafe_sign_hash(digest).signature)
    assert registry.functions.reserveUnits("ETH").call() == before + 3 * 10**9
    names, units = registry.functions.reservesNow().call()
    assert dict(zip(names, units))["ETH"] == before + 3 * 10**9


def test_private_rounds_count_registered_reserves_in_registered_units(world):
    w3, owner, registry, token, tmp = world["w3"], world["owner"], world["registry"], world["token"], world["tmp"]
    holder = Account.create()
    _fund(w3, owner, holder.address, 10**17)
    send(w3, owner, token.functions.mint(holder.address, 10**12).build_transaction({"from": owner.address}))
    register_reserve(w3, registry, owner, holder, "TOK")

    def make(round_id, seed, assets=ASSETS):
        units = {name: registry.functions.reserveUnits(name).call() for name, _, _ in assets}
        return _private_round(tmp, world["srs"], round_id, units, seed=seed, assets=assets)

    covered = make("private-1", seed=4)
    publish(w3, registry, owner, covered.statement)  # the positive twin
    assert recorded_round(registry, "private-1")["block"] > 0
    # The same assets counted in other units than the registered ones: refused before anything is sent.
    tenfold = make("private-2", seed=5, assets=(("ETH", 10, 1.5), ("TOK", 6, 100.0)))
    with pytest.raises(ChainError, match="counts ETH with 10 decimals, the registry with 9"):
        publish(w3, registry, owner, tenfold.statement)
    # A round naming an asset twice.
    assert refusal(registry.functions.submitPrivateRound("private-3", "t", covered.statement.proof, ["ETH", "ETH"]),
                   owner.address) == "BadInput('an asset named twice')"
    # Reserves that leave before submission.
    emptied = make("private-4", seed=6)
    send(w3, holder, token.functions.transfer(owner.address, 10**12).build_transaction({"from": holder.address}))
    with pytest.raises(ChainError, match="refuses the round: zksolvency: (quotient identity|pairing check failed)"):
        publish(w3, registry, owner, emptied.statement)


def test_the_cli_registers_assets_and_reserves_once(world, monkeypatch):
    import json

    from click.testing import CliRunner

    from zksolvency.cli import main

    url, registry = world["w3"].provider.endpoint_uri, world["registry"].address
    holder = Account.create()
    monkeypatch.setenv("ZKSOLVENCY_PRIVATE_KEY", KEYS[0])
    monkeypatch.setenv("ZKSOLVENCY_RESERVE_KEY", holder.key.hex())
    token = _contract(world["w3"], world["owner"], "TestToken.sol", "TestToken", "c", 8)

    def run(*args):
        return CliRunner().invoke(main, [*args, "--rpc", url, "--registry", registry, "--json"])

    done = run("register-asset", "--asset", "CLI", "--decimals", "8", "--token", token.address)
    assert done.exit_code == 0 and json.loads(done.stdout)["decimals"] == 8, done.output
    again = run("register-asset", "--asset", "CLI", "--decimals", "8", "--token", token.address)
    assert again.exit_code == 1 and "AssetExists('CLI')" in again.output
    first = run("register-reserve", "--asset", "CLI")
    assert first.exit_code == 0 and json.loads(first.stdout)["holder"] == holder.address, first.output
    twice = run("register-reserve", "--asset", "CLI")
    assert twice.exit_code == 1 and "ReserveExists" in twice.output and "Traceback" not in twice.output


def test_the_registry_binds_names_decimals_and_time_in_the_round_tag(world):
    """The registry derives the tag from its registered assets: the same function as the Python verifier's, and a
    proof submitted under another time (or names) fails the verifier."""
    from zksolvency.hashing import round_tag

    w3, owner, registry, tmp = world["w3"], world["owner"], world["registry"], world["tmp"]
    tag = registry.functions.roundTag("r-7", "2026-12-03T00:00:00Z", ["TOK", "ETH"]).call()
    assert tag == round_tag("r-7", "2026-12-03T00:00:00Z", [("TOK", 6), ("ETH", 9)])
    assert refusal(registry.functions.roundTag("r-7", "t", ["ETH", "BTC"]), owner.address) == "UnknownAsset('BTC')"
    assert refusal(registry.functions.roundTag("r-7", "t", ["ETH", "ETH"]), owner.address) == (
        "BadInput('an asset named twice')")
    holder, token = Account.create(), world["token"]
    _fund(w3, owner, holder.address, 10**17)
    send(w3, owner, token.functions.mint(holder.address, 10**13).build_transaction({"from": owner.address}))
    register_reserve(w3, registry, owner, holder, "TOK")
    if registry.functions.reserveUnits("ETH").call() == 0:
        register_reserve(w3, registry, owner, world["eth_holder"], "ETH")
    units = {name: registry.functions.reserveUnits(name).call() for name, _, _ in ASSETS}
    r = _private_round(tmp, world["srs"], "labels-1", units, seed=9)
    st = r.statement
    names = [a.name for a in st.assets]
    other_time = registry.functions.submitPrivateRound(st.round_id, "2030-01-01T00:00:00Z", st.proof, names)
    assert refusal(other_time, owner.address) in ("zksolvency: quotient identity", "zksolvency: pairing check failed")
    publish(w3, registry, owner, st)  # the positive twin, under its own labels
    assert recorded_round(registry, st.round_id)["assets"] == names
