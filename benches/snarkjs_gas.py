"""Gas of snarkjs's exported Groth16 and PLONK verifiers for the same statement, on the same local chain.

    .venv/bin/python benches/snarkjs_gas.py        (needs `npm ci --prefix benches/peer` and `--prefix contracts`)

The statement, in circom (compiled with npm circom2): 15 balances, each below 2^64
(circomlib's Num2Bits(64)), summing to a public total, with a public round tag —
one asset, no storage. A throwaway powers-of-tau ceremony (power 11) is made with
snarkjs itself; the verifiers are the ones `snarkjs zkey export solidityverifier`
writes, compiled with this project's pinned solc and deployed on anvil; the figure
is the gasUsed of a transaction calling `verifyProof` with ample gas (intrinsic gas
included; eth_estimateGas under-estimates these verifiers, and the script shows by
how much).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from eth_account import Account

from zksolvency.chain import anvil, compile_solidity, connect, deploy, send

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer" / "node_modules"
OWNER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
USERS = 15

CIRCUIT = """pragma circom 2.1.0;
include "circomlib/circuits/bitify.circom";

template Solvency(N) {
    signal input balances[N];
    signal input total;
    signal input tag;
    component bits[N];
    var acc = 0;
    for (var i = 0; i < N; i++) {
        bits[i] = Num2Bits(64);
        bits[i].in <== balances[i];
        acc += balances[i];
    }
    total === acc;
    signal tagSquared <== tag * tag;
}

component main {public [total, tag]} = Solvency(%d);
"""


def _run(cwd: Path, *args: str) -> str:
    done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def build(work: Path) -> dict:
    snarkjs, circom = str(PEER / ".bin" / "snarkjs"), str(PEER / ".bin" / "circom2")
    (work / "solvency.circom").write_text(CIRCUIT % USERS)
    # circom2 runs in a WASI sandbox that sees only the working directory.
    shutil.copytree(PEER / "circomlib" / "circuits", work / "circomlib" / "circuits")
    _run(work, circom, "solvency.circom", "--r1cs", "--wasm", "-o", ".")
    balances = [str(10**6 * (i + 1)) for i in range(USERS - 1)] + [str(2**64 - 1)]
    total = sum(int(b) for b in balances)
    (work / "input.json").write_text(json.dumps({"balances": balances, "total": str(total), "tag": "12345"}))
    _run(work, "node", "solvency_js/generate_witness.js", "solvency_js/solvency.wasm", "input.json", "w.wtns")
    _run(work, snarkjs, "powersoftau", "new", "bn128", "11", "pot0.ptau")
    _run(work, snarkjs, "powersoftau", "contribute", "pot0.ptau", "pot1.ptau", "--name=bench", "-e=bench entropy")
    _run(work, snarkjs, "powersoftau", "prepare", "phase2", "pot1.ptau", "pot.ptau")
    out = {}
    for protocol in ("groth16", "plonk"):
        zkey = f"{protocol}.zkey"
        if protocol == "groth16":
            _run(work, snarkjs, "groth16", "setup", "solvency.r1cs", "pot.ptau", "g0.zkey")
            _run(work, snarkjs, "zkey", "contribute", "g0.zkey", zkey, "--name=bench", "-e=bench")
        else:
            _run(work, snarkjs, "plonk", "setup", "solvency.r1cs", "pot.ptau", zkey)
        _run(work, snarkjs, protocol, "prove", zkey, "w.wtns", f"{protocol}_proof.json", f"{protocol}_public.json")
        _run(work, snarkjs, "zkey", "export", "solidityverifier", zkey, f"{protocol}.sol")
        calldata = _run(work, snarkjs, "zkey", "export", "soliditycalldata", f"{protocol}_public.json",
                        f"{protocol}_proof.json")
        calldata = calldata.strip().replace("][", "],[")  # plonk prints its two arrays back to back
        out[protocol] = {"source": (work / f"{protocol}.sol").read_text(), "args": json.loads(f"[{calldata}]")}
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="zksolvency-snarkjs-") as tmp:
        built = build(Path(tmp))
    owner = Account.from_key(OWNER)
    with anvil() as url:
        w3 = connect(url)
        for protocol, item in built.items():
            compiled = compile_solidity({f"{protocol}.sol": item["source"]}, optimize_runs=200)
            (name, contract), = compiled.items()
            address = deploy(w3, contract, owner)
            verifier = w3.eth.contract(address=address, abi=contract["abi"])
            args = [_ints(a) for a in item["args"]]
            assert verifier.functions.verifyProof(*args).call() is True
            # eth_estimateGas is wrong for these verifiers: they return false instead of reverting when the
            # pairing call runs out of gas, so the estimate is the price of that false. A transaction with
            # ample gas pays the real price (verifyProof is a view, but a transaction may call it).
            estimate = verifier.functions.verifyProof(*args).estimate_gas()
            tx = verifier.functions.verifyProof(*args).build_transaction({"from": owner.address, "gas": 2_000_000})
            used = send(w3, owner, tx)["gasUsed"]
            print(json.dumps({"verifier": f"snarkjs {protocol}", "contract": name, "verifyProof_gas": used,
                              "eth_estimateGas": estimate}))


def _ints(value):
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return int(value, 16) if isinstance(value, str) else value


if __name__ == "__main__":
    main()
