"""The on-chain commands: deploy, register-reserve, publish, and verify-inclusion against a registry.

Keys come only from the environment: ``ZKSOLVENCY_PRIVATE_KEY`` (the exchange,
owner of the registry) and ``ZKSOLVENCY_RESERVE_KEY`` (a reserve holder).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from zksolvency.cli_round import _emit, _progress, clean_errors

OWNER_KEY = "ZKSOLVENCY_PRIVATE_KEY"
RESERVE_KEY = "ZKSOLVENCY_RESERVE_KEY"


def _account(variable: str):
    from eth_account import Account

    key = os.environ.get(variable)
    if not key:
        raise click.ClickException(f"set the environment variable {variable} to the signing key")
    try:
        return Account.from_key(key)
    except Exception:
        raise click.ClickException(f"{variable} does not hold a valid private key") from None


def _connect(rpc: str):
    from zksolvency.chain import ChainError, connect

    try:
        return connect(rpc)
    except ChainError as e:
        raise click.ClickException(str(e)) from None


def _chain_errors(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from zksolvency.chain import ChainError

        try:
            return fn(*args, **kwargs)
        except ChainError as e:
            raise click.ClickException(str(e)) from None

    return clean_errors(wrapper)


@click.command("deploy")
@click.argument("round_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rpc", required=True, help="The node's JSON-RPC URL.")
@click.option("--allow-insecure-srs", is_flag=True, help="Deploy a verifier made from a development SRS (tests only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_chain_errors
def deploy_command(round_dir, rpc, allow_insecure_srs, as_json):
    """Deploy the verifier of the round's circuit shape and a registry bound to it (key: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.artifacts import RoundStatement
    from zksolvency.onchain import deploy_round_contracts
    from zksolvency.round import ROUND_FILE

    statement = RoundStatement.load(round_dir / ROUND_FILE)
    if statement.verifying_key.insecure and not allow_insecure_srs:
        raise click.ClickException("the round was made with an insecure development SRS (use --allow-insecure-srs)")
    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    _progress("compiling and deploying the verifier and the registry")
    d = deploy_round_contracts(w3, owner, statement)
    _emit({"verifier": d.verifier, "registry": d.registry}, as_json, f"verifier {d.verifier}\nregistry {d.registry}")


@click.command("register-reserve")
@click.option("--registry", "registry_address", required=True)
@click.option("--rpc", required=True)
@click.option("--asset", required=True, help="The asset's name, as in the ledger.")
@click.option("--token", default=None, help="The ERC-20 contract (omit for the chain's native currency).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_chain_errors
def register_reserve_command(registry_address, rpc, asset, token, as_json):
    """Register the ZKSOLVENCY_RESERVE_KEY address as a reserve of ASSET, signed by it (owner: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.onchain import register_reserve, registry_contract

    owner, holder = _account(OWNER_KEY), _account(RESERVE_KEY)
    w3 = _connect(rpc)
    registry = registry_contract(w3, registry_address)
    receipt = register_reserve(w3, registry, owner, holder, asset, token)
    result = {"asset": asset, "holder": holder.address, "token": token, "tx": "0x" + receipt["transactionHash"].hex(),
              "block": receipt["blockNumber"], "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"{holder.address} registered as a reserve of {asset} (block {receipt['blockNumber']})")


@click.command("publish")
@click.argument("round_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rpc", required=True)
@click.option("--registry", "registry_address", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_chain_errors
def publish_command(round_dir, rpc, registry_address, as_json):
    """Submit the round to the registry (key: ZKSOLVENCY_PRIVATE_KEY); a refused round exits non-zero with the reason."""
    from zksolvency.artifacts import RoundStatement
    from zksolvency.onchain import publish, registry_contract
    from zksolvency.round import ROUND_FILE

    statement = RoundStatement.load(round_dir / ROUND_FILE)
    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    registry = registry_contract(w3, registry_address)
    receipt = publish(w3, registry, owner, statement)
    result = {"tx": "0x" + receipt["transactionHash"].hex(), "block": receipt["blockNumber"],
              "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"round {statement.round_id!r} recorded in block {receipt['blockNumber']} "
                           f"({receipt['gasUsed']} gas)")


def verify_inclusion_onchain(inclusion_file: Path, rpc: str, registry_address: str, onchain: bool, as_json: bool):
    """verify-inclusion --rpc --registry: against the commitment the registry recorded."""
    import sys

    from zksolvency.artifacts import InclusionFile
    from zksolvency.onchain import check_inclusion_onchain, recorded_round, registry_contract

    inclusion = InclusionFile.load(inclusion_file)
    if not inclusion.assets:
        raise click.ClickException(f"{inclusion_file}: the file lists no assets; check it with --round round.json")
    w3 = _connect(rpc)
    registry = registry_contract(w3, registry_address)
    recorded = recorded_round(registry, inclusion.round_id)
    names = list(inclusion.assets)
    balances = {name: 0 for name in names}
    for r in inclusion.rows:
        for name, units in r.slots:
            if name is not None:
                balances[name] += units
    result = {"round_id": inclusion.round_id, "user_id": inclusion.user_id,
              "balances": {k: str(v) for k, v in balances.items()}}
    if onchain:
        valid, gas = check_inclusion_onchain(registry, inclusion, names)
        result["gas"] = gas
    else:
        valid = _local_check(w3, registry, recorded, inclusion, names)
    result["valid"] = valid
    lines = [f"{'VALID' if valid else 'INVALID'}: {inclusion.user_id!r} in round {inclusion.round_id!r} "
             f"(recorded in block {recorded['block']})"]
    lines += [f"  {k:<10} {v}" for k, v in balances.items()]
    _emit(result, as_json, "\n".join(lines))
    if not valid:
        sys.exit(1)


def _local_check(w3, registry, recorded, inclusion, names) -> bool:
    """The pairing check in Python against the registry's record and its verifier's keys."""
    from zksolvency.encoding import G1Point, G2Point
    from zksolvency.onchain import inclusion_calls
    from zksolvency.verifier.inclusion import combine, opening_holds
    from zksolvency.verifier.formats import VerifyingKey

    verifier_address = registry.functions.verifier().call()
    abi = [{"name": "inclusionKeys", "type": "function", "stateMutability": "pure", "inputs": [],
            "outputs": [{"name": "n", "type": "uint256"}, {"name": "omega", "type": "uint256"},
                        {"name": "g2", "type": "uint256[4]"}, {"name": "tauG2", "type": "uint256[4]"}]}]
    n, _, g2, tau = w3.eth.contract(address=verifier_address, abi=abi).functions.inclusionKeys().call()
    vk = VerifyingKey("", n.bit_length() - 1, bytes(32), bytes(32), False, G1Point(1, 2),
                      G2Point((g2[1], g2[0]), (g2[3], g2[2])), G2Point((tau[1], tau[0]), (tau[3], tau[2])), ())
    commitment = G1Point(*recorded["commitment"])
    for row, h, words, proof in inclusion_calls(names, inclusion):
        if not 0 <= row < n or h == 0:
            return False
        if not opening_holds(vk, commitment, row, combine([h] + words, recorded["gamma"]), G1Point(*proof)):
            return False
    return True


COMMANDS = (deploy_command, register_reserve_command, publish_command)
