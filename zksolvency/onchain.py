"""A round on-chain: deploy its verifier and a registry, register reserves, publish, check inclusion.

Everything goes through ``zksolvency.chain`` (pinned solc, web3.py). Keys come
from the caller (the CLI reads them from the environment, never from flags or
files).
"""

from __future__ import annotations

from dataclasses import dataclass

from zksolvency.artifacts import InclusionFile, RoundStatement
from zksolvency.chain import CONTRACTS, ChainError, compile_solidity, send
from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape
from zksolvency.hashing import user_hash
from zksolvency.verifier.solidity import generate_verifier

REGISTRY_SOURCE = CONTRACTS / "SolvencyRegistry.sol"


def circuit_of(statement: RoundStatement) -> SolvencyCircuit:
    return SolvencyCircuit(SolvencyShape(statement.log_n, statement.slots, statement.private_totals))


# The contracts are deployed once and called every round: the optimizer is told so (runs), which
# trades a larger code (still far below the 24,576-byte limit) for less gas per call.
OPTIMIZER_RUNS = 100_000


def compile_round_contracts(statement: RoundStatement) -> dict:
    """The round's generated verifier and the registry, compiled together."""
    verifier = generate_verifier(circuit_of(statement).cs, statement.verifying_key, contract="SolvencyVerifier")
    return compile_solidity({"SolvencyVerifier.sol": verifier, "SolvencyRegistry.sol": REGISTRY_SOURCE.read_text()},
                            optimize_runs=OPTIMIZER_RUNS)


@dataclass(frozen=True)
class Deployment:
    verifier: str
    registry: str


def deploy_round_contracts(w3, account, statement: RoundStatement, compiled: dict | None = None) -> Deployment:
    from zksolvency.chain import deploy

    compiled = compiled or compile_round_contracts(statement)
    verifier = deploy(w3, compiled["SolvencyVerifier"], account)
    registry = deploy(w3, compiled["SolvencyRegistry"], account, verifier, statement.slots)
    return Deployment(verifier, registry)


def registry_contract(w3, address: str):
    from zksolvency.chain import compile_solidity

    abi = compile_solidity({"SolvencyRegistry.sol": REGISTRY_SOURCE.read_text()})["SolvencyRegistry"]["abi"]
    return w3.eth.contract(address=w3.to_checksum_address(address), abi=abi)


def register_reserve(w3, registry, owner, holder, asset: str, token: str | None = None):
    """The holder signs the registry's message; the owner registers it. Returns the receipt."""
    from eth_account.messages import encode_defunct

    token = w3.to_checksum_address(token) if token else "0x" + "00" * 20
    message = registry.functions.reserveMessage(asset, holder.address, token).call()
    signature = holder.sign_message(encode_defunct(primitive=message)).signature
    tx = registry.functions.registerReserve(asset, holder.address, token, signature).build_transaction(
        {"from": owner.address})
    return send(w3, owner, tx)


def publish(w3, registry, owner, statement: RoundStatement):
    """Submit the round; in private mode the registry reads the reserves. Returns the receipt."""
    if statement.private_totals:
        fn = registry.functions.submitPrivateRound(
            statement.round_id, statement.proof, [a.name for a in statement.assets],
            [a.decimals for a in statement.assets])
    else:
        fn = registry.functions.submitRound(statement.round_id, statement.proof, list(statement.values))
    try:
        fn.call({"from": owner.address})  # a revert's reason, before paying for it
    except Exception as e:  # web3 raises ContractLogicError and friends
        raise ChainError(f"the registry refuses the round: {_reason(e)}") from None
    return send(w3, owner, fn.build_transaction({"from": owner.address}))


def _reason(e: Exception) -> str:
    message = getattr(e, "message", None) or str(e)
    return message.replace("execution reverted: ", "")


def inclusion_calls(statement_assets, inclusion: InclusionFile):
    """(row, user hash, slots words, proof words) for each row of a user's file."""
    index = {a: j for j, a in enumerate(statement_assets, start=1)}
    h = user_hash(inclusion.round_id, inclusion.user_id, inclusion.salt)
    for r in inclusion.rows:
        words = []
        for name, units in r.slots:
            words += [index[name] if name is not None else 0, units]
        yield r.row, h, words, [r.proof.x, r.proof.y]


def check_inclusion_onchain(registry, inclusion: InclusionFile, asset_names) -> tuple[bool, int]:
    """(all rows hold, total gas estimate of the view calls) through ``verifyInclusion``."""
    ok, gas = True, 0
    for row, h, words, proof in inclusion_calls(asset_names, inclusion):
        fn = registry.functions.verifyInclusion(inclusion.round_id, row, h, words, proof)
        ok = ok and bool(fn.call())
        gas += fn.estimate_gas()
    return ok, gas


def recorded_round(registry, round_id: str) -> dict:
    try:
        x, y, gamma, block, timestamp = registry.functions.roundOf(round_id).call()
    except Exception as e:
        raise ChainError(f"the registry has no round {round_id!r}: {_reason(e)}") from None
    return {"commitment": (x, y), "gamma": gamma, "block": block, "timestamp": timestamp}


__all__ = [
    "Deployment", "compile_round_contracts", "deploy_round_contracts", "registry_contract", "register_reserve",
    "publish", "check_inclusion_onchain", "recorded_round", "circuit_of",
]
