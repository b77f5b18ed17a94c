"""The chain side: compiling the contracts with the pinned npm solc, a local anvil, and web3.py calls.

Tooling comes from ``contracts/node_modules`` (``npm ci`` in ``contracts/``, which
``make test`` runs): ``solc`` (solcjs) through ``contracts/compile.mjs``, and
``anvil`` from npm ``@foundry-rs/anvil``, started on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from zksolvency.files import cache_dir, write_atomic
from zksolvency.verifier.transcript import keccak256

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
SOLIDITY_SOURCES = ("SolvencyRegistry.sol",)
EVM_VERSION = "cancun"


class ChainError(RuntimeError):
    pass


def _tool(name: str) -> Path:
    path = CONTRACTS / "node_modules" / ".bin" / name
    if not path.exists():
        raise ChainError(f"{path} is missing: run `npm ci` in {CONTRACTS} (make test does)")
    return path


def compile_solidity(sources: dict, optimize_runs: int = 1) -> dict:
    """{contract name: {"abi", "bytecode", "runtime", "immutables"}} for Solidity sources {file name: text}.

    ``immutables``: the (start, length) byte ranges of the runtime code that the
    constructor fills with immutable values.

    The output is kept in the cache directory under a hash of the request and the
    compiler's version, so that a command needing only an ABI does not run solc.
    """
    _tool("solcjs")
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": optimize_runs},
            "evmVersion": EVM_VERSION,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                                            "evm.deployedBytecode.immutableReferences"]}},
        },
    }
    version = json.loads((CONTRACTS / "node_modules" / "solc" / "package.json").read_text())["version"]
    key = keccak256((version + json.dumps(request, sort_keys=True)).encode()).hex()[:32]
    cached = cache_dir() / f"solc-{key}.json"
    if cached.is_file():
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # recompiled below
    done = subprocess.run(["node", str(CONTRACTS / "compile.mjs")], input=json.dumps(request), capture_output=True,
                          text=True, check=False, cwd=CONTRACTS)
    if done.returncode != 0:
        raise ChainError(f"solc failed: {done.stderr.strip()}")
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ChainError("solc: " + "\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    out = {}
    for file_contracts in output["contracts"].values():
        for name, c in file_contracts.items():
            deployed = c["evm"]["deployedBytecode"]
            out[name] = {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"],
                         "runtime": "0x" + deployed["object"],
                         "immutables": sorted((r["start"], r["length"]) for refs in
                                              deployed.get("immutableReferences", {}).values() for r in refs)}
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(cached, json.dumps(out))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def anvil(block_gas_limit: int = 30_000_000):
    """A fresh local chain on 127.0.0.1 and a free port; yields its RPC URL; stopped on exit."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(_tool("anvil")), "--host", "127.0.0.1", "--port", str(port), "--silent",
         "--gas-limit", str(block_gas_limit)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise ChainError(f"anvil did not start: {proc.stderr.read().decode(errors='replace')}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def connect(url: str):
    """A web3 client of the node at ``url``. Without ENS (no name is ever resolved through the node) and without
    the validation middleware's chain-id request before every call (transactions carry their chain id)."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 120}))
    for name in ("validation", "ens_name_to_address"):
        w3.middleware_onion.remove(name)
    if not w3.is_connected():
        raise ChainError(f"no Ethereum node answers at {url}")
    return w3


def deploy(w3, compiled: dict, account, *args, gas: int | None = None) -> str:
    """Deploy a compiled contract from ``account`` (a LocalAccount); return its address."""
    contract = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    tx = contract.constructor(*args).build_transaction({
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address),
        **({"gas": gas} if gas else {}),
    })
    receipt = send(w3, account, tx)
    return receipt["contractAddress"]


def send(w3, account, tx: dict):
    """Sign, send, wait; raise ChainError with the revert reason if it failed."""
    tx.setdefault("chainId", w3.eth.chain_id)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address))
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise ChainError(f"transaction {tx_hash.hex()} reverted")
    return receipt
