"""The on-chain commands: deploy, register-asset, register-reserve, register-feed, publish, audit-deployment.

Keys come only from the environment: ``ZKSOLVENCY_PRIVATE_KEY`` (the exchange,
owner of the registry) and ``ZKSOLVENCY_RESERVE_KEY`` (a reserve holder).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from zksolvency.cli_common import clean_errors, connect as _connect, emit as _emit, progress as _progress

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


@click.command("deploy")
@click.argument("round_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rpc", required=True, help="The node's JSON-RPC URL.")
@click.option("--allow-insecure-srs", is_flag=True, help="Deploy a verifier made from a development SRS (tests only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def deploy_command(round_dir, rpc, allow_insecure_srs, as_json):
    """Deploy the verifier of the round's circuit shape and a registry bound to it (key: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.artifacts import load_round
    from zksolvency.onchain import deploy_round_contracts
    from zksolvency.verifier.development import is_development_key
    from zksolvency.round import ROUND_FILE

    statement = load_round(round_dir / ROUND_FILE)  # a sharded round's shards share one shape: one verifier
    if is_development_key(statement.verifying_key) and not allow_insecure_srs:
        raise click.ClickException("the round was made with an insecure development SRS (use --allow-insecure-srs)")
    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    _progress("compiling and deploying the verifier and the registry")
    d = deploy_round_contracts(w3, owner, statement)
    _emit({"verifier": d.verifier, "registry": d.registry}, as_json, f"verifier {d.verifier}\nregistry {d.registry}")


@click.command("register-asset")
@click.option("--registry", "registry_address", required=True)
@click.option("--rpc", required=True)
@click.option("--asset", required=True, help="The asset's name, as in the ledger.")
@click.option("--decimals", required=True, type=click.IntRange(0, 30), help="Decimals of the round's unit of it.")
@click.option("--token", default=None, help="The ERC-20 contract holding it (omit for the chain's native currency).")
@click.option("--offchain", is_flag=True, help="Its reserves are not on this chain (public rounds only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def register_asset_command(registry_address, rpc, asset, decimals, token, offchain, as_json):
    """Register ASSET once and for good: its units and where its reserves are (owner: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.onchain import register_asset, registry_contract

    if offchain and token:
        raise click.UsageError("--offchain and --token exclude each other")
    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    receipt = register_asset(w3, registry_contract(w3, registry_address), owner, asset, decimals, token, offchain)
    result = {"asset": asset, "decimals": decimals, "token": token, "tx": "0x" + receipt["transactionHash"].hex(),
              "block": receipt["blockNumber"], "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"{asset} registered with {decimals} decimals (block {receipt['blockNumber']})")


@click.command("register-reserve")
@click.option("--registry", "registry_address", required=True)
@click.option("--rpc", required=True)
@click.option("--asset", required=True, help="A registered asset's name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def register_reserve_command(registry_address, rpc, asset, as_json):
    """Register the ZKSOLVENCY_RESERVE_KEY address as a reserve of ASSET, signed by it (owner: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.onchain import register_reserve, registry_contract

    owner, holder = _account(OWNER_KEY), _account(RESERVE_KEY)
    w3 = _connect(rpc)
    registry = registry_contract(w3, registry_address)
    receipt = register_reserve(w3, registry, owner, holder, asset)
    result = {"asset": asset, "holder": holder.address, "tx": "0x" + receipt["transactionHash"].hex(),
              "block": receipt["blockNumber"], "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"{holder.address} registered as a reserve of {asset} (block {receipt['blockNumber']})")


@click.command("register-feed")
@click.option("--registry", "registry_address", required=True)
@click.option("--rpc", required=True)
@click.option("--asset", required=True, help="A registered asset's name.")
@click.option("--feed", required=True, help="The price feed's address (AggregatorV3Interface, USD, <= 8 decimals).")
@click.option("--max-age", required=True, type=click.IntRange(1, 86_400),
              help="Seconds an answer counts for: an older one makes a margin round's submission fail.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def register_feed_command(registry_address, rpc, asset, feed, max_age, as_json):
    """Register, once and for good, the feed ASSET's price is taken from in margin rounds (owner: ZKSOLVENCY_PRIVATE_KEY)."""
    from zksolvency.onchain import register_price_feed, registry_contract

    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    receipt = register_price_feed(w3, registry_contract(w3, registry_address), owner, asset, feed, max_age)
    result = {"asset": asset, "feed": feed, "max_age": max_age, "tx": "0x" + receipt["transactionHash"].hex(),
              "block": receipt["blockNumber"], "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"{asset}'s price now comes from {feed} (block {receipt['blockNumber']})")


@click.command("publish")
@click.argument("round_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rpc", required=True)
@click.option("--registry", "registry_address", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def publish_command(round_dir, rpc, registry_address, as_json):
    """Submit the round to the registry (key: ZKSOLVENCY_PRIVATE_KEY); a refused round exits non-zero with the reason.

    A sharded round is opened, then each shard is submitted in a transaction of its own; a rerun skips what the
    registry already holds."""
    from zksolvency.artifacts import ShardedStatement, load_round
    from zksolvency.onchain import publish, publish_sharded, registry_contract, sharded_state
    from zksolvency.round import ROUND_FILE

    statement = load_round(round_dir / ROUND_FILE)
    owner = _account(OWNER_KEY)
    w3 = _connect(rpc)
    registry = registry_contract(w3, registry_address)
    if isinstance(statement, ShardedStatement):
        def heard(what, receipt):
            _progress(f"{what}: block {receipt['blockNumber']}, {receipt['gasUsed']} gas")

        sent = publish_sharded(w3, registry, owner, statement, heard)
        state = sharded_state(registry, statement.round_id)
        result = {"round_id": statement.round_id, "shard_count": state.shard_count, "verified": state.verified,
                  "complete": state.complete, "gas_used": sum(r["gasUsed"] for _, r in sent),
                  "transactions": [{"what": what, "tx": "0x" + r["transactionHash"].hex(), "block": r["blockNumber"],
                                    "gas_used": r["gasUsed"]} for what, r in sent]}
        _emit(result, as_json, f"round {statement.round_id!r}: {state.verified} of {state.shard_count} shards "
                               f"recorded{' (complete)' if state.complete else ''}; {len(sent)} transactions "
                               f"now, {result['gas_used']} gas")
        return
    receipt = publish(w3, registry, owner, statement)
    result = {"tx": "0x" + receipt["transactionHash"].hex(), "block": receipt["blockNumber"],
              "gas_used": receipt["gasUsed"]}
    _emit(result, as_json, f"round {statement.round_id!r} recorded in block {receipt['blockNumber']} "
                           f"({receipt['gasUsed']} gas)")


@click.command("audit-deployment")
@click.option("--rpc", required=True)
@click.option("--registry", "registry_address", required=True)
@click.option("--srs", "srs_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ceremony SRS the verifier must be generated from.")
@click.option("--round", "round_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A round.json of the registry (for the circuit's shape).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def audit_deployment_command(rpc, registry_address, srs_path, round_file, as_json):
    """Check that the registry's verifier is the one generated from SRS for the round's shape, and the registry bound
    to it: audited once, the registry then pins every customer's check against it (verify-inclusion --rpc)."""
    import sys

    from zksolvency.artifacts import load_round
    from zksolvency.onchain import audit_deployment
    from zksolvency.prover.srs import SRS

    statement = load_round(round_file)
    srs = SRS.load(srs_path)
    w3 = _connect(rpc)
    _progress("regenerating and compiling the verifier, reading the deployed code")
    audit = audit_deployment(w3, registry_address, srs, statement)
    result = {"verifier": audit.verifier, "registry": audit.registry, "matches": audit.matches,
              "srs": "0x" + srs.digest.hex()}
    if not audit.matches:
        result["differences"] = list(audit.differences)
    text = (f"MATCHES: the registry {audit.registry} is bound to the verifier {audit.verifier} generated from the "
            f"SRS 0x{srs.digest.hex()}" if audit.matches else
            "DOES NOT MATCH:\n" + "\n".join(f"  {d}" for d in audit.differences))
    _emit(result, as_json, text)
    if not audit.matches:
        sys.exit(1)


COMMANDS = (deploy_command, register_asset_command, register_reserve_command, register_feed_command, publish_command,
            audit_deployment_command)
