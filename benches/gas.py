"""Gas of submitRound (4 and 40 assets) and verifyInclusion for the production shape (2^16 rows, 16-bit limbs).

    .venv/bin/python benches/gas.py [--log-size 16] [--assets 4,40]

Rounds of random rows are proven with a development SRS (the gas does not depend
on the SRS), the contracts deployed on a fresh anvil, and the receipts' gasUsed
reported; verifyInclusion's figure is eth_estimateGas of the view call (21,000
intrinsic gas included), as `zksolvency verify-inclusion --onchain` reports it,
and its execution gas: that estimate less the 21,000 intrinsic gas and the
calldata's gas (4 a zero byte, 16 another), what the function itself consumes.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from eth_account import Account

from zksolvency.artifacts import Asset, RoundStatement
from zksolvency.chain import anvil, connect
from zksolvency.circuits.solvency import RECORD_ROWS, SolvencyCircuit, SolvencyShape
from zksolvency.hashing import round_tag
from zksolvency.onchain import compile_round_contracts, deploy_round_contracts, publish
from zksolvency.prover.field import Fr
from zksolvency.prover.openings import single_opening
from zksolvency.prover.plonk import keygen, prove_with_polynomials
from zksolvency.prover.srs import dev_setup
from zksolvency.verifier.formats import Proof

OWNER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def measure(log_n: int, assets: int, srs, rng) -> dict:
    shape = SolvencyShape(log_n)
    circuit = SolvencyCircuit(shape)
    records = 1000
    hashes = Fr.to_canonical_limbs(Fr.random(records, rng))
    ids = rng.integers(0, assets + 1, size=(records, shape.slots)).astype(np.uint32)
    units = rng.integers(0, 1 << 40, size=(records, shape.slots), dtype=np.uint64)
    units[ids == 0] = 0
    totals = [int(units[ids == j].astype(object).sum()) for j in range(1, assets + 1)]
    round_id = f"gas-{assets}"
    public = [round_tag(round_id)] + totals
    pk = keygen(circuit.cs, log_n, srs, circuit.fixed)
    proof, polys = prove_with_polynomials(pk, circuit.witness(hashes, ids, units), public)
    parsed = Proof.from_bytes(proof, pk.layout)
    commitment = parsed.argument_commitments[pk.layout.argument_columns.index(circuit.inclusion)]
    statement = RoundStatement(round_id, "-", False, tuple(Asset(f"A{j}", 6) for j in range(1, assets + 1)),
                               shape.slots, log_n, tuple(totals), tuple(public), commitment, proof, pk.vk)
    owner = Account.from_key(OWNER)
    with anvil() as url:
        w3 = connect(url)
        compiled = compile_round_contracts(statement)
        d = deploy_round_contracts(w3, owner, statement, compiled)
        registry = w3.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
        verifier = w3.eth.contract(address=d.verifier, abi=compiled["SolvencyVerifier"]["abi"])
        verify_gas = verifier.functions.verifyProof(proof, public).estimate_gas()
        submit_gas = publish(w3, registry, owner, statement)["gasUsed"]
        record = 7
        row = RECORD_ROWS * record
        pi = single_opening(srs, polys[circuit.inclusion], log_n, row)
        words = []
        for s in range(shape.slots):
            words += [int(ids[record, s]), int(units[record, s])]
        h = Fr.to_ints(Fr.from_canonical_limbs(hashes[record : record + 1]))[0]
        call = registry.functions.verifyInclusion(round_id, row, h, words, [pi.x, pi.y])
        assert call.call() is True
        inclusion_gas = call.estimate_gas()
        data = bytes.fromhex(call._encode_transaction_data()[2:])
        calldata_gas = sum(4 if b == 0 else 16 for b in data)
        code_size = len(w3.eth.get_code(d.verifier))
        registry_size = len(w3.eth.get_code(d.registry))
        hardfork = w3.provider.make_request("anvil_nodeInfo", [])["result"].get("hardFork")
    return {"log_n": log_n, "assets": assets, "proof_bytes": len(proof), "verifyProof_gas": verify_gas,
            "submitRound_gas": submit_gas, "verifyInclusion_gas": inclusion_gas,
            "verifyInclusion_execution_gas": inclusion_gas - 21_000 - calldata_gas,
            "verifyInclusion_calldata_gas": calldata_gas, "verifier_code_bytes": code_size,
            "registry_code_bytes": registry_size, "hardfork": hardfork}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-size", type=int, default=16)
    parser.add_argument("--assets", default="4,40")
    args = parser.parse_args()
    srs = dev_setup(args.log_size)
    rng = np.random.default_rng(1)
    for k in [int(a) for a in args.assets.split(",")]:
        print(json.dumps(measure(args.log_size, k, srs, rng)), flush=True)


if __name__ == "__main__":
    main()
