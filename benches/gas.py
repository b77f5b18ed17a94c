"""Gas of submitRound, submitPrivateRound (4 and 40 assets) and verifyInclusion for the production shape (2^16 rows).

    .venv/bin/python benches/gas.py [--log-size 16] [--assets 4,40]

Rounds of a synthetic ledger (``zksolvency.sample``, enough users to need 2^k
rows) are proven with a development SRS (the gas does not depend on the SRS),
the contracts deployed on a fresh anvil, and the receipts' gasUsed reported.
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

from zksolvency.audit import records_of
from zksolvency.chain import anvil, connect
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    inclusion_calldata,
    publish,
    register_round_assets,
)
from zksolvency.prover.srs import dev_setup
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger

OWNER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def measure(log_n: int, assets: int, srs) -> dict:
    names = tuple((f"A{j}", 6, 100.0) for j in range(1, assets + 1))
    users = 3 << (log_n - 3)  # about 3/4 of the records' places: the round needs 2^log_n rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        write_sample_ledger(path, users, seed=assets, assets=names)
        ledger = read_ledger(path, parse_decimals(decimals_spec(names)))
    r = prove_round(ledger, srs, f"gas-{assets}", slots=4)
    statement = r.statement
    assert statement.log_n == log_n, statement.log_n
    owner = Account.from_key(OWNER)
    out = {"log_n": log_n, "assets": assets, "proof_bytes": len(statement.proof)}
    with anvil() as url:
        w3 = connect(url)
        compiled = compile_round_contracts(statement)
        d = deploy_round_contracts(w3, owner, statement, compiled)
        registry = w3.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
        verifier = w3.eth.contract(address=d.verifier, abi=compiled["SolvencyVerifier"]["abi"])
        out["verifyProof_gas"] = verifier.functions.verifyProof(statement.proof, list(statement.public_inputs)).estimate_gas()
        register_round_assets(w3, registry, owner, statement)
        out["submitRound_gas"] = publish(w3, registry, owner, statement)["gasUsed"]
        counts = {int(u): int(c) for u, c in enumerate(r.plan.count)}
        for m in (1, 2, 3):
            u = next((u for u, c in counts.items() if c == m), None)
            if u is None:
                continue
            records = records_of(r.inclusion_file(u), [a.name for a in statement.assets])
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
    args = parser.parse_args()
    srs = dev_setup(args.log_size)
    for k in [int(a) for a in args.assets.split(",")]:
        print(json.dumps(measure(args.log_size, k, srs)), flush=True)
        print(json.dumps(measure_private(args.log_size, k, srs)), flush=True)


if __name__ == "__main__":
    main()
