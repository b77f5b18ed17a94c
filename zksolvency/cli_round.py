"""The round commands: prove, verify, inclusion, verify-inclusion."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zksolvency.cli_common import clean_errors, connect as _connect, emit as _emit, progress as _progress


@click.command("prove")
@click.argument("ledger", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ledger", "ledger_source", default=None,
              help="The ledger: a CSV file, postgresql://USER@HOST:PORT/DB or sqlite:///PATH (with --query; the "
                   "password from PGPASSWORD or .pgpass).")
@click.option("--query", default=None,
              help="With a database --ledger: SELECT user_id, asset, amount[, debt] FROM ... (one row per customer "
                   "and asset).")
@click.option("--srs", "srs_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The SRS made by `zksolvency setup`.")
@click.option("--decimals", required=True, help="Decimals of each asset's smallest unit, e.g. BTC=8,ETH=9.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The round directory to create (absent or empty).")
@click.option("--round-id", default=None, help="The round's name (default: the UTC time).")
@click.option("--slots", type=click.IntRange(2, 16), default=4, show_default=True,
              help="Asset slots per record (even: a record spans two rows).")
@click.option("--private-totals", is_flag=True, help="Publish reserves only; prove totals <= reserves.")
@click.option("--reserves", default=None, help="Reserves per asset in asset units, e.g. BTC=12.5,ETH=300.")
@click.option("--round-up", is_flag=True, help="Round amounts with too many decimals up instead of refusing them.")
@click.option("--prices", "prices_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Margin rounds: CSV asset,price,ratio_bps (price in USD per whole unit; ratio 0..10000).")
@click.option("--shards", type=click.IntRange(1, 1 << 20), default=None,
              help="Split the customers at random among this many shards, each proven by itself on Dask.")
@click.option("--shard-log-size", type=click.IntRange(1, 28), default=None,
              help="Or: rows per shard, 2^K (as many shards as the records need).")
@click.option("--scheduler", default=None,
              help="Prove the shards on this running Dask scheduler (tcp://HOST:8786) instead of a LocalCluster.")
@click.option("--workers", type=click.IntRange(1, 4096), default=None,
              help="Workers of the LocalCluster started for a sharded round (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def prove_command(ledger, ledger_source, query, srs_path, decimals, out_dir, round_id, slots, private_totals, reserves,
                  round_up, prices_file, shards, shard_log_size, scheduler, workers, as_json):
    """Prove a round from LEDGER (CSV: user_id,<ASSET>,...) or --ledger and write round.json and inclusion.sqlite."""
    from zksolvency.ingest import parse_amounts, parse_decimals
    from zksolvency.prover.srs import SRS
    from zksolvency.round import check_output_dir, check_round_id, default_round_id, prove_round

    if reserves is not None and not private_totals:
        raise click.UsageError("--reserves goes with --private-totals")
    if private_totals and reserves is None:
        raise click.UsageError("--private-totals needs --reserves")
    if slots % 2:
        raise click.BadParameter(f"{slots} is odd: a record spans two rows of equally many slots", param_hint="--slots")
    if (ledger is None) == (ledger_source is None):
        raise click.UsageError("name the ledger once: a CSV file as LEDGER, or --ledger (a CSV file or a database URL)")
    if shards is not None and shard_log_size is not None:
        raise click.UsageError("--shards and --shard-log-size exclude each other")
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers sizes the LocalCluster; a --scheduler has its own workers")
    check_output_dir(out_dir)
    from zksolvency.partial import Partial

    # A rerun resumes a partial round (zksolvency.partial): under its round id unless another is given.
    round_id = round_id if round_id is not None else Partial(out_dir).round_id() or default_round_id()
    round_id = check_round_id(round_id)
    asset_decimals = parse_decimals(decimals)
    read = _ledger_reader(str(ledger) if ledger is not None else ledger_source, query)
    _progress(f"loading the SRS {srs_path}")
    srs = SRS.load(srs_path)
    ledger_data = read(asset_decimals, round_up, _progress)
    terms = None
    if prices_file is not None:
        from zksolvency.margin import read_prices

        terms = read_prices(prices_file, ledger_data.assets, ledger_data.decimals)
    elif ledger_data.margin:
        raise click.UsageError("the ledger has debts (<ASSET>:debt columns, or a debt column in the query): "
                               "a margin round needs --prices FILE")
    reserve_units = None
    if private_totals:
        reserve_units = parse_amounts(reserves, dict(zip(ledger_data.assets, ledger_data.decimals)))
    from zksolvency.progress import round_progress

    sharded = shards not in (None, 1) or shard_log_size is not None or scheduler is not None
    cluster = _cluster(scheduler, workers, srs_path, srs) if sharded else None
    with round_progress() as bars:
        result = prove_round(ledger_data, srs, round_id, slots, private_totals, reserve_units,
                             progress=bars.message, terms=terms, shards=shards, shard_log_size=shard_log_size,
                             cluster=cluster, out_dir=out_dir, shard_progress=bars)
    _progress(f"writing {out_dir}")
    result.write(out_dir)
    report = {
        "round_dir": str(out_dir),
        "round_id": round_id,
        "n": result.statement.n,
        "users": ledger_data.users,
        **{k: round(v, 3) for k, v in result.timings.items()},
    }
    _emit(report, as_json,
          f"round {round_id!r}: {ledger_data.users} users in 2^{result.statement.log_n} rows, "
          f"proof {result.timings['proof_seconds']:.1f} s, inclusion proofs {result.timings['inclusion_seconds']:.1f} s, "
          f"total {result.timings['seconds']:.1f} s -> {out_dir}")


def _cluster(scheduler, workers, srs_path, srs):
    """The Dask cluster that proves a sharded round's shards: a running scheduler, or a LocalCluster."""
    from zksolvency.cluster import Embedded, Remote

    if scheduler is not None:
        return Remote(scheduler, srs_path.resolve(), srs.digest, say=_progress)
    return Embedded(srs_path.resolve(), srs.digest, workers, say=_progress)


def _ledger_reader(source: str, query):
    """The reader of the ledger ``source`` names: a database URL (with ``--query``) or a CSV file."""
    from zksolvency.ingest import read_ledger
    from zksolvency.ledger_db import is_database_url, read_database_ledger

    if is_database_url(source):
        if query is None:
            raise click.UsageError("a database ledger needs --query \"SELECT user_id, asset, amount FROM ...\"")
        return lambda decimals, round_up, progress: read_database_ledger(source, query, decimals, round_up, progress)
    if query is not None:
        raise click.UsageError("--query goes with a database --ledger (postgresql://... or sqlite:///...)")
    return lambda decimals, round_up, progress: read_ledger(Path(source), decimals, round_up, progress)


def _statement_report(statement) -> dict:
    shards = statement.shard_statements
    sharded = {} if len(shards) == 1 else {
        "shard_count": len(shards),
        "shards": [{"allocation" if s.private_totals else "totals":
                    {a.name: str(v) for a, v in zip(s.assets, s.values)}} for s in shards],
    }
    return {
        "round_id": statement.round_id,
        "timestamp": statement.timestamp,
        "n": statement.n,
        "assets": {a.name: a.decimals for a in statement.assets},
        statement.values_name: {a.name: str(v) for a, v in zip(statement.assets, statement.values)},
        **_margin_report(statement),
        **sharded,
    }


def _margin_report(statement) -> dict:
    """A margin round's prices (units of 10^-8 USD per whole unit), ratios and, in public mode, debt totals."""
    if statement.margin is None:
        return {}
    names = [a.name for a in statement.assets]
    out = {
        "prices": {a: str(p) for a, p in zip(names, statement.margin.prices)},
        "collateral_ratios_bps": dict(zip(names, statement.margin.ratios)),
    }
    if statement.debts is not None:
        out["debts"] = {a: str(d) for a, d in zip(names, statement.debts)}
    return out


def _format_units(units: int, decimals: int) -> str:
    whole, frac = divmod(units, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)


def _pin_options(fn):
    """--srs FILE, --vk-digest HEX or --unpinned: what the verdict's verifying key is pinned to (exactly one)."""
    fn = click.option("--unpinned", is_flag=True,
                      help="Take the round's own verifying key unchecked (the verdict then says nothing was pinned).")(fn)
    fn = click.option("--vk-digest", default=None,
                      help="Pin the verifying key to this digest (0x and 64 hex digits), published by whoever checked it.")(fn)
    fn = click.option("--srs", "srs_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="Pin the verifying key to this SRS: it must be the circuit's for it.")(fn)
    return fn


def _pin_report(pin, registry_address):
    """The "pin" of verify-inclusion's report: the key's pin, the registry's, or both."""
    out = {} if pin is None or pin.kind == "none" else dict(pin.to_json())
    if registry_address is not None:
        out["registry"] = registry_address
    return out or "none"


def _pin(srs_path, vk_digest, unpinned, required: bool = True):
    """The Pin the options name (UsageError unless exactly one is given, when ``required``)."""
    from zksolvency.audit import UNPINNED, Pin

    given = [x for x in (srs_path, vk_digest, unpinned or None) if x is not None]
    if len(given) > 1:
        raise click.UsageError("--srs, --vk-digest and --unpinned exclude each other")
    if not given:
        if required:
            raise click.UsageError("pin the verifying key: --srs FILE (a ceremony you hold), --vk-digest HEX "
                                   "(published by whoever checked the key), or --unpinned")
        return None
    if unpinned:
        return UNPINNED
    if vk_digest is not None:
        text = vk_digest.lower()
        digits = text[2:] if text.startswith("0x") else ""
        if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
            raise click.BadParameter("expected 0x and 64 hex digits", param_hint="--vk-digest")
        return Pin.to_vk_digest(bytes.fromhex(digits))
    from zksolvency.prover.srs import SRS

    _progress(f"loading the SRS {srs_path}")
    return Pin.to_srs(SRS.load(srs_path))


@click.command("verify")
@click.argument("round_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--allow-insecure-srs", is_flag=True, help="Accept a round made with a development SRS (tests only).")
@_pin_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def verify_command(round_file, allow_insecure_srs, srs_path, vk_digest, unpinned, as_json):
    """Verify a round's proof (round.json) and print the statement it proves."""
    from zksolvency.artifacts import load_round
    from zksolvency.audit import verify_statement
    from zksolvency.verifier.development import is_development_key
    from zksolvency.verifier.plonk import VerificationError

    pin = _pin(srs_path, vk_digest, unpinned)
    statement = load_round(round_file)
    keys = {"pin": pin.to_json(), "vk_digest": "0x" + statement.verifying_key.digest().hex(),
            "srs_digest": "0x" + statement.verifying_key.srs_digest.hex()}
    try:
        verify_statement(statement, allow_insecure_srs, pin)
    except VerificationError as e:
        _emit({"valid": False, "reason": str(e), **_statement_report(statement), **keys}, as_json,
              f"INVALID: {e}\n{pin.describe()}")
        sys.exit(1)
    report = {"valid": True, **_statement_report(statement), **keys}
    shards = statement.shard_statements
    if len(shards) > 1:
        lines = [f"VALID: round {statement.round_id!r} ({statement.timestamp}), {len(shards)} shards of "
                 f"{statement.n} rows, every shard's proof verified"]
        what = ("reserves (the shards' allocations sum to at most them; each shard's liabilities proven not to "
                "exceed its allocation)" if statement.private_totals else "totals (the sums of the shards')")
    else:
        lines = [f"VALID: round {statement.round_id!r} ({statement.timestamp}), {statement.n} rows"]
        what = "reserves (liabilities proven not to exceed them)" if statement.private_totals else "totals"
    lines.append(f"{what}:")
    for a, v in zip(statement.assets, statement.values):
        lines.append(f"  {a.name:<10} {_format_units(v, a.decimals)}")
    if statement.margin is not None:
        from zksolvency.margin import QUOTE, QUOTE_DECIMALS

        if statement.debts is not None:
            lines.append("debts (owed to the exchange):")
            for a, d in zip(statement.assets, statement.debts):
                lines.append(f"  {a.name:<10} {_format_units(d, a.decimals)}")
        lines.append(f"prices ({QUOTE}) and collateral ratios; every account's haircut collateral covers its debt:")
        for a, p, r in zip(statement.assets, statement.margin.prices, statement.margin.ratios):
            lines.append(f"  {a.name:<10} {_format_units(p, QUOTE_DECIMALS):>24}  {r / 100:g}%")
    lines.append(f"verifying key {keys['vk_digest']} (SRS {keys['srs_digest']}), {pin.describe()}")
    if is_development_key(statement.verifying_key):
        lines.append("WARNING: made with an insecure development SRS")
    _emit(report, as_json, "\n".join(lines))


@click.command("inclusion")
@click.argument("round_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="The user id, as in the ledger.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@clean_errors
def inclusion_command(round_dir, user_id, out_file):
    """Export one user's inclusion proof from the exchange's private store."""
    from zksolvency.artifacts import InclusionFile, InclusionRecord, load_round
    from zksolvency.audit import label_of
    from zksolvency.encoding import G1Point
    from zksolvency.round import ROUND_FILE
    from zksolvency.store import STORE_NAME, read_user

    statement = load_round(round_dir / ROUND_FILE)
    round_id, salt, shard, rows = read_user(round_dir / STORE_NAME, user_id)
    sharded = len(statement.shard_statements) > 1
    names = [a.name for a in statement.assets]
    margin = statement.margin is not None
    inclusion = InclusionFile(
        round_id,
        user_id,
        salt,
        tuple(
            InclusionRecord(row, tuple((label_of(a, names, margin), u) for a, u in slots), G1Point.from_bytes(proof))
            for row, slots, proof in rows
        ),
        tuple(names),
        shard if sharded else None,
    )
    inclusion.save(out_file)
    _progress(f"wrote {len(rows)} record(s) to {out_file}")


@click.command("verify-inclusion")
@click.argument("inclusion_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user-id", required=True, help="Your user id: a file made out to another id is refused.")
@click.option("--round", "round_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The round's round.json (its proof is verified; with --rpc, it must be the recorded round).")
@click.option("--rpc", default=None, help="Check against the commitment recorded on-chain (with --registry).")
@click.option("--registry", "registry_address", default=None, help="The SolvencyRegistry's address.")
@click.option("--onchain", is_flag=True,
              help="With --rpc: let the registry's view decide (sends the records' slots and hashes to the node).")
@click.option("--allow-insecure-srs", is_flag=True, help="Accept a round made with a development SRS (tests only).")
@_pin_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@clean_errors
def verify_inclusion_command(inclusion_file, user_id, round_file, rpc, registry_address, onchain, allow_insecure_srs,
                             srs_path, vk_digest, unpinned, as_json):
    """Check your inclusion proof (against round.json, the chain, or both); show your balance of every asset."""
    from zksolvency.artifacts import InclusionFile, load_round
    from zksolvency.audit import check_identity, check_inclusion, round_keys, shard_of, verify_statement
    from zksolvency.verifier.inclusion import InclusionError, Rule
    from zksolvency.verifier.plonk import VerificationError

    if (rpc is None) != (registry_address is None):
        raise click.UsageError("--rpc and --registry go together")
    try:
        user_id.encode("utf-8")
    except UnicodeEncodeError:
        raise click.BadParameter("not valid Unicode (an undecodable byte)", param_hint="--user-id") from None
    if onchain and rpc is None:
        raise click.UsageError("--onchain needs --rpc and --registry")
    if rpc is None and round_file is None:
        raise click.UsageError("give --round round.json, or --rpc and --registry (or both)")
    # A round file's key needs a pin. Against the chain, a key pin (--srs, or --vk-digest of the round's key)
    # also audits the registry's verifier; without one the verdict rests on the registry's own audit.
    pin = _pin(srs_path, vk_digest, unpinned, required=round_file is not None)
    if pin is not None and pin.kind == "vk_digest" and round_file is None:
        raise click.UsageError("--vk-digest pins a round file's key: give --round too")
    if pin is not None and pin.kind == "none" and round_file is None:
        raise click.UsageError("--unpinned goes with --round (against the chain alone, the registry is the pin)")
    inclusion = InclusionFile.load(inclusion_file)
    statement = load_round(round_file) if round_file is not None else None
    round_id = statement.round_id if statement is not None else inclusion.round_id
    report = {"round_id": round_id, "user_id": user_id, "pin": _pin_report(pin, registry_address)}
    where = []
    try:
        keys = None
        if statement is not None:
            # The round as `verify` checks it (every shard's proof and the shards' sums), then the customer's shard.
            check_identity(inclusion, statement.round_id, user_id)
            shard = shard_of(statement, inclusion)
            keys = round_keys(verify_statement(statement, allow_insecure_srs, pin)[shard])
            names = [a.name for a in statement.assets]
            decimals = {a.name: a.decimals for a in statement.assets}
            shown_shard = f", shard {shard} of {len(statement.shard_statements)}" if inclusion.shard is not None else ""
            where.append(f"round file {round_file}{shown_shard} ({pin.describe()})")
        if rpc is not None:
            from zksolvency.audit import audit_registry
            from zksolvency.onchain import ViewCheck, recorded_keys, registry_contract

            registry = registry_contract(_connect(rpc), registry_address)
            keys, recorded = recorded_keys(registry, round_id, keys, inclusion.shard)
            if pin is not None and pin.kind != "none":
                audit_registry(registry, recorded, statement, pin)
            if statement is None:
                names, decimals = recorded["assets"], recorded["decimals"]
            elif names != recorded["assets"]:
                raise InclusionError(Rule.ROUND_RECORD, f"the registry recorded round {round_id!r} with other assets "
                                                        f"than the round file's")
            audited = "audited against the pin" if pin is not None and pin.kind != "none" else "pinned by the " \
                "registry's own audit (audit-deployment)"
            where.append(f"registry {registry.address} (recorded in block {recorded['block']}; its verifier "
                         f"{audited})")
        final = ViewCheck(registry, round_id, shard=inclusion.shard) if onchain else None
        balances = check_inclusion(inclusion, keys, round_id, names, user_id, final)
    except (VerificationError, InclusionError) as e:
        from zksolvency.audit import PinError

        rule = getattr(e, "rule", None)
        report.update(valid=False, reason=str(e),
                      rule=rule.name if rule is not None else "pin" if isinstance(e, PinError) else "proof")
        _emit(report, as_json, f"INVALID: user id {user_id!r}, round {round_id!r}: {e}")
        sys.exit(1)
    report.update(valid=True, balances={k: str(v) for k, v in balances.items()})
    if onchain:
        report["gas"] = final.gas
    lines = [f"VALID: user id {user_id!r} is included in round {round_id!r} with:"]
    if keys.weights is not None:
        from zksolvency.audit import account_summary

        summary = account_summary(balances, names, [decimals[a] for a in names], keys.weights)
        report.update(balances={a: str(v) for a, v in summary["equity"].items()},
                      debts={a: str(v) for a, v in summary["debt"].items()},
                      collateral_usd=_format_units(summary["collateral_usd_units"], 8),
                      debt_usd=_format_units(summary["debt_usd_units"], 8), collateral_covers_debt=True)
        lines.append(f"  {'asset':<10} {'equity':>24} {'debt':>24}")
        lines += [f"  {a:<10} {_format_units(summary['equity'][a], decimals[a]):>24} "
                  f"{_format_units(summary['debt'][a], decimals[a]):>24}" for a in names]
        if any(summary["debt"].values()):
            lines.append(f"your collateral after haircuts, {_format_units(summary['collateral_usd_units'], 8)} USD, "
                         f"covers your debt, {_format_units(summary['debt_usd_units'], 8)} USD (checked exactly)")
        else:
            lines.append("no debt: your balances back no one's loan (weighted 0 in every account's collateral)")
    else:
        lines += [f"  {name:<10} {_format_units(v, decimals[name])}" for name, v in balances.items()]
    lines.append("checked against " + " and ".join(where))
    _emit(report, as_json, "\n".join(lines))


COMMANDS = (prove_command, verify_command, inclusion_command, verify_inclusion_command)
