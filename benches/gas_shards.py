"""Gas of a sharded round on the registry: opening it (openShardedRound, or openPrivateShardedRound reading the
reserves) and each shard's submitShard, for M shards, beside submitRound of a round of one shard of the same rows.

    .venv/bin/python benches/gas_shards.py [--shard-log-size 16] [--assets 4,40] [--shards 2,4,8] [--private]
        [--margin]

``--margin``: margin rounds (benches/gas.py's margin ledger: a third of the customers borrowing, every asset at
1 USD with a ratio of 90%) on a ShardedMarginSolvencyRegistry (openShardedMarginRound, submitMarginShard), beside
submitMarginRound of a round of one shard of the same rows on a MarginSolvencyRegistry.

Each round is a synthetic ledger (``zksolvency.sample``) of enough customers to fill M shards of 2^k rows
(customers placed at random, ``prove_round(shards=M)``), proven in this process with a development SRS (the gas
does not depend on the SRS) and published by ``publish_sharded`` on a fresh anvil; the receipts' gasUsed are
reported, one JSON line a round. A shard's verification costs what a round of one shard costs (the verifier does
not grow with the rows but for log n squarings), so the total is about M submissions and one opening.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from eth_account import Account

from zksolvency.chain import CONTRACTS, anvil, compile_solidity, connect, deploy, send
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    publish,
    publish_sharded,
    register_asset,
    register_reserve,
    register_round_assets,
    registry_contract,
)
from zksolvency.prover.srs import dev_setup
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger

OWNER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _ledger(users: int, assets: int):
    names = tuple((f"A{j}", 6, 100.0) for j in range(1, assets + 1))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        write_sample_ledger(path, users, seed=assets, assets=names)
        return read_ledger(path, parse_decimals(decimals_spec(names)))


def _tokens(w3, registry, owner, names) -> dict:
    """Every asset an ERC-20 with one reserve held by the owner; the reserves as the registry reads them."""
    compiled = compile_solidity({"TestToken.sol": (CONTRACTS / "test" / "TestToken.sol").read_text()})
    for name in names:
        token = deploy(w3, compiled["TestToken"], owner, name, 6)
        contract = w3.eth.contract(address=token, abi=compiled["TestToken"]["abi"])
        send(w3, owner, contract.functions.mint(owner.address, 10**30).build_transaction({"from": owner.address}))
        register_asset(w3, registry, owner, name, 6, token)
        register_reserve(w3, registry, owner, owner, name)
    return {name: registry.functions.reserveUnits(name).call() for name in names}


def measure(log_n: int, assets: int, shards: int, srs, private: bool, margin: bool = False) -> dict:
    from gas import _ledger as margin_ledger
    from zksolvency.margin import MarginTerms

    # About 3/4 of each shard's record places (the random split needs room): every shard 2^log_n rows.
    if margin:  # gas.py's margin ledger of M shards' rows, a little fewer customers (the random split)
        ledger = margin_ledger(log_n + (shards - 1).bit_length(), assets, True)
    else:
        ledger = _ledger(shards * (3 << (log_n - 3)) * 7 // 8, assets)
    terms = MarginTerms((10**8,) * assets, (9_000,) * assets) if margin else None
    owner = Account.from_key(OWNER)
    names = list(ledger.assets)
    with anvil() as url:
        w3 = connect(url)
        huge = {name: 10**30 for name in names} if private else None
        probe = prove_round(ledger, srs, "probe", slots=4, shards=shards, private_totals=private, reserves=huge,
                            terms=terms)
        st = probe.statement
        assert st.log_n == log_n and len(st.shard_statements) == shards, (st.log_n, len(st.shard_statements))
        d = deploy_round_contracts(w3, owner, st, compile_round_contracts(st))
        registry = registry_contract(w3, d.registry)
        if private:
            reserves = _tokens(w3, registry, owner, names)
            st = prove_round(ledger, srs, f"gas-sharded-private-{assets}", slots=4, shards=shards,
                             private_totals=True, reserves=reserves, terms=terms).statement
        else:
            register_round_assets(w3, registry, owner, st)
        sent = publish_sharded(w3, registry, owner, st)
        single = None
        if not private:
            # One round of one shard of the same rows, on the same registry (margin: on a registry of margin
            # rounds of one shard bound to the same verifier).
            one_ledger = margin_ledger(log_n, assets, True) if margin else _ledger(3 << (log_n - 3), assets)
            one = prove_round(one_ledger, srs, f"gas-one-{assets}", slots=4, terms=terms).statement
            assert one.log_n == log_n
            if margin:
                registry = registry_contract(w3, deploy_round_contracts(w3, owner, one).registry)
                register_round_assets(w3, registry, owner, one)
            single = publish(w3, registry, owner, one)["gasUsed"]
    gas = {what: receipt["gasUsed"] for what, receipt in sent}
    per_shard = [g for what, g in gas.items() if what.startswith("shard")]
    return {"mode": "private" if private else "public", "margin": margin, "shard_log_n": log_n, "assets": assets, "shards": shards,
            "open_gas": gas["open"], "submitShard_gas_median": statistics.median(per_shard),
            "submitShard_gas_max": max(per_shard), "total_gas": sum(gas.values()), "submitRound_gas_one_shard": single}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shard-log-size", type=int, default=16)
    parser.add_argument("--assets", default="4,40")
    parser.add_argument("--shards", default="2,4,8")
    parser.add_argument("--private", action="store_true", help="Private totals: allocations within the reserves.")
    parser.add_argument("--margin", action="store_true", help="Margin rounds (a sharded margin registry).")
    args = parser.parse_args()
    srs = dev_setup(args.shard_log_size)
    for k in [int(a) for a in args.assets.split(",")]:
        for m in [int(s) for s in args.shards.split(",")]:
            print(json.dumps(measure(args.shard_log_size, k, m, srs, args.private, args.margin)), flush=True)


if __name__ == "__main__":
    main()
