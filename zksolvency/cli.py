"""The `zksolvency` command line: one click group, one command per user task."""

from __future__ import annotations

import json
import sys

import click


def _progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


def _emit(result: dict, as_json: bool, render) -> None:
    """One JSON object on stdout with --json, else a human-readable report."""
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(render(result))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zksolvency")
def main() -> None:
    """Zero-knowledge proofs of solvency over BN254: prove, verify, publish."""


@main.command()
@click.option("--log-size", type=click.IntRange(1, 23), default=16, show_default=True,
              help="Measure at 2^N elements / points.")
@click.option("--repeat", type=click.IntRange(1, 50), default=3, show_default=True,
              help="Timed runs per figure (median reported).")
@click.option("--circuit", is_flag=True,
              help="Instead, prove and verify a synthetic circuit of 2^N rows (8 advice columns, dev SRS).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(log_size: int, repeat: int, circuit: bool, as_json: bool) -> None:
    """Measure this machine: field multiplication, NTT and MSM at 2^N, or a whole proof (--circuit)."""
    from zksolvency.bench import measure, measure_circuit

    if circuit:
        result = measure_circuit(log_size, progress=_progress)
        _emit(result, as_json, lambda r: "\n".join([
            f"circuit              2^{r['log_size']} rows, {r['advice_columns']} advice columns",
            f"prove                {r['prove_seconds']:.3f} s",
            f"verify               {r['verify_seconds']:.3f} s ({'valid' if r['valid'] else 'INVALID'})",
            f"proof                {r['proof_bytes']} bytes",
            f"peak memory          {r['peak_rss_mb']:.0f} MB",
        ]))
        if not result["valid"]:
            sys.exit(1)
        return
    result = measure(log_size, repeat=repeat, progress=_progress)

    def render(r):
        lines = [
            f"size                 2^{r['log_size']}",
            f"field multiplication {r['field_mul_ns']:.1f} ns per product",
            f"NTT                  {r['ntt_seconds']:.4f} s",
        ]
        for bits, seconds in r["msm_seconds"].items():
            lines.append(f"MSM, {bits:>3}-bit scalars {seconds:.4f} s")
        return "\n".join(lines)

    _emit(result, as_json, render)


def _register() -> None:
    from zksolvency.cli_chain import COMMANDS as CHAIN_COMMANDS
    from zksolvency.cli_round import COMMANDS
    from zksolvency.cli_setup import setup
    from zksolvency.cli_web import COMMANDS as WEB_COMMANDS

    for command in (setup, *COMMANDS, *CHAIN_COMMANDS, *WEB_COMMANDS):
        main.add_command(command)


_register()

if __name__ == "__main__":
    sys.exit(main())
