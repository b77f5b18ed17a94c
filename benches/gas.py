"""Gas of submitRound, submitPrivateRound (4 and 40 assets) and verifyInclusion for the production shape (2^16 rows),
and of their margin forms (submitMarginRound, verifyMarginInclusion) for the same ledger with debts.

    .venv/bin/python benches/gas.py [--log-size 16] [--assets 4,40] [--only spot|private|margin]

Rounds of a synthetic ledger (``zksolvency.sample``, enough users to need 2^k
rows) are proven with a development SRS (the gas does not depend on the SRS),
the contracts deployed on a fresh anvil, and the receipts' gasUsed reported.
The margin ledger is the spot one with a third of its users borrowing A1 for
half of what their collateral covers (every asset at 1 USD, ratio 90%); its
prices are stated by the exchange (no feeds), and with a feed for each asset
(``--feeds``: a test feed per asset, read at submission).
verifyInclusion is measured for users of one, two and three records (one call,
every opening checked at once): eth_estimateGas of the view call (21,000
intrinsic gas included), as `zksolvency verify-inclusion --onchain` reports it,
and its execution gas: that estimate less the 21,000 intrinsic gas and the
calldata's gas (4 a zero byte, 16 another), what the function itself consumes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from eth_account import Account

from zksolvency.audit import records_of, round_keys, verify_round
from zksolvency.chain import anvil, connect
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.margin import MarginTerms
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    inclusion_calldata,
    margin_inclusion_calldata,
    publish,
    register_round_assets,
    registry_contract,
)
from zksolvency.prover.srs import dev_setup
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger

OWNER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _ledger(log_n: int, assets: int, margin: bool):
    """The synthetic ledger of ``assets`` assets filling 2^log_n rows; ``margin``: a third of its users borrow A1
    for half of what their collateral covers, every asset at 1 USD with a ratio of 90%."""
    import csv
    from decimal import Decimal

    names = tuple((f"A{j}", 6, 100.0) for j in range(1, assets + 1))
    users = 3 << (log_n - 3)  # about 3/4 of the records' places: the round needs 2^log_n rows
    if margin:
        users = users * 3 // 4  # debtors take three slots more (a debt and two surplus words)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        write_sample_ledger(path, users, seed=assets, assets=names)
        if margin:
            rows = list(csv.reader(path.open(encoding="utf-8")))
            rows[0].append("A1:debt")
            for k, row in enumerate(rows[1:]):
                cover = sum(Decimal(c) for c in row[1:] if c) * 9 / 10
                row.append(str((cover / 2).quantize(Decimal("0.000001"), rounding="ROUND_DOWN"))
                           if k % 3 == 0 and cover else "")
            with path.open("w", newline="", encoding="utf-8") as f:
                csv.writer(f, lineterminator="\n").writerows(rows)
        ledger = read_ledger(path, parse_decimals(decimals_spec(names)))
    return ledger


def measure(log_n: int, assets: int, srs, margin: bool = False, feeds: bool = False) -> dict:
    ledger = _ledger(log_n, assets, margin)
    terms = MarginTerms((10**8,) * assets, (9_000,) * assets) if margin else None
    r = prove_round(ledger, srs, f"gas-{assets}", slots=4, terms=terms)
    statement = r.statement
    assert statement.log_n == log_n, statement.log_n
    owner = Account.from_key(OWNER)
    kind = "margin" + ("+feeds" if feeds else "") if margin else "spot"
    out = {"kind": kind, "log_n": log_n, "assets": assets, "proof_bytes": len(statement.proof)}
    with anvil() as url:
        w3 = connect(url)
        compiled = compile_round_contracts(statement)
        d = deploy_round_contracts(w3, owner, statement, compiled)
        registry = registry_contract(w3, d.registry)
        verifier = w3.eth.contract(address=d.verifier, abi=compiled["SolvencyVerifier"]["abi"])
        out["verifyProof_gas"] = verifier.functions.verifyProof(statement.proof, list(statement.public_inputs)).estimate_gas()
        register_round_assets(w3, registry, owner, statement)
        if feeds:
            from zksolvency.chain import CONTRACTS, compile_solidity, deploy
            from zksolvency.onchain import register_price_feed

            feed = compile_solidity({"TestPriceFeed.sol": (CONTRACTS / "test" / "TestPriceFeed.sol").read_text()})
            for a in statement.assets:
                address = deploy(w3, feed["TestPriceFeed"], owner, 8, 10**8)
                register_price_feed(w3, registry, owner, a.name, address, 3600)
        out["submitMarginRound_gas" if margin else "submitRound_gas"] = publish(w3, registry, owner, statement)["gasUsed"]
        counts = {int(u): int(c) for u, c in enumerate(r.plan.count)}
        keys = round_keys(verify_round(statement, allow_insecure_srs=True)) if margin else None
        for m in (1, 2, 3):
            u = next((u for u, c in counts.items() if c == m), None)
            if u is None:
                continue
            records = records_of(r.inclusion_file(u), [a.name for a in statement.assets], keys)
            if margin:
                args, weights = margin_inclusion_calldata(records, keys.weights)
                call = registry.functions.verifyMarginInclusion(statement.round_id, args, weights)
            else:
                call = registry.functions.verifyInclusion(statement.round_id, *inclusion_calldata(records))
            assert call.call() is True
            gas = call.estimate_gas()
            data = bytes.fromhex(call._encode_transaction_data()[2:])
            calldata_gas = sum(4 if b == 0 else 16 for b in data)
            out[f"verifyInclusion_gas_{m}_records"] = gas
            out[f"verifyInclusion_execution_gas_{m}_records"] = gas - 21_000 - calldata_gas
        out["verifier_code_bytes"] = len(w3.eth.get_code(d.verifier))
        out["registry_code_bytes"] = len(w3.eth.get_code(d.registry))
        out["hardfork"] = w3.provider.make_request("anvil_nodeInfo", [])["result"].get("hardFork")
    return out


def measure_private(log_n: int, assets: int, srs) -> dict:
    """submitPrivateRound: every asset registered as an ERC-20, one reserve each."""
    from zksolvency.chain import CONTRACTS, compile_solidity, deploy, send
    from zksolvency.onchain import register_asset, register_reserve

    names = tuple((f"A{j}", 6, 100.0) for j in range(1, assets + 1))
    users = 3 << (log_n - 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        write_sample_ledger(path, users, seed=assets, assets=names)
        ledger = read_ledger(path, parse_decimals(decimals_spec(names)))
    owner = Account.from_key(OWNER)
    huge = {name: 10**30 for name, _, _ in names}
    probe = prove_round(ledger, srs, "probe", slots=4, private_totals=True, reserves=huge)
    with anvil() as url:
        w3 = connect(url)
        compiled = compile_round_contracts(probe.statement)
        d = deploy_round_contracts(w3, owner, probe.statement, compiled)
        registry = w3.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
        token_compiled = compile_solidity({"TestToken.sol": (CONTRACTS / "test" / "TestToken.sol").read_text()})
        for name, _, _ in names:
            token = deploy(w3, token_compiled["TestToken"], owner, name, 6)
            contract = w3.eth.contract(address=token, abi=token_compiled["TestToken"]["abi"])
            send(w3, owner, contract.functions.mint(owner.address, 10**30).build_transaction({"from": owner.address}))
            register_asset(w3, registry, owner, name, 6, token)
            register_reserve(w3, registry, owner, owner, name)
        reserves = {name: registry.functions.reserveUnits(name).call() for name, _, _ in names}
        r = prove_round(ledger, srs, f"gas-private-{assets}", slots=4, private_totals=True, reserves=reserves)
        gas = publish(w3, registry, owner, r.statement)["gasUsed"]
    return {"log_n": log_n, "assets": assets, "submitPrivateRound_gas": gas}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-size", type=int, default=16)
    parser.add_argument("--assets", default="4,40")
    parser.add_argument("--only", choices=("spot", "private", "margin"))
    args = parser.parse_args()
    srs = dev_setup(args.log_size)
    for k in [int(a) for a in args.assets.split(",")]:
        if args.only in (None, "spot"):
            print(json.dumps(measure(args.log_size, k, srs)), flush=True)
        if args.only in (None, "private"):
            print(json.dumps(measure_private(args.log_size, k, srs)), flush=True)
        if args.only in (None, "margin"):
            print(json.dumps(measure(args.log_size, k, srs, margin=True)), flush=True)
            print(json.dumps(measure(args.log_size, k, srs, margin=True, feeds=True)), flush=True)


if __name__ == "__main__":
    main()
