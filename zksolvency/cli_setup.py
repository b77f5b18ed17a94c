"""`zksolvency setup`: an SRS from a powers-of-tau ceremony file, or an insecure one for tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from zksolvency.cli_common import progress as _progress
from zksolvency.prover.srs import MAX_LOG_SIZE


class _LogSize(click.IntRange):
    """0..MAX_LOG_SIZE, refusing a long value without repeating it whole."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and len(value) > 20:
            self.fail(f"{value[:20]!r}… is not a whole number from 0 to {MAX_LOG_SIZE}", param, ctx)
        return super().convert(value, param, ctx)


@click.command("setup")
@click.option("--ptau", "ptau", type=click.Path(dir_okay=False, path_type=Path),
              help="A snarkjs / Perpetual Powers of Tau .ptau file to import.")
@click.option("--dev", is_flag=True, help="An INSECURE deterministic setup for tests (anyone can forge proofs).")
@click.option("--k", "--log-size", "log_size", type=_LogSize(0, MAX_LOG_SIZE), default=None,
              help="Serve circuits of up to 2^K rows (required with --dev; with --ptau, keep only that much).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write srs.bin (atomically).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def setup(ptau, dev, log_size, out, as_json):
    """Make srs.bin: import and check a ceremony (--ptau FILE) or an insecure dev setup (--dev --k K)."""
    from zksolvency.prover.srs import SetupError, dev_setup, import_ptau

    if bool(ptau) == dev:
        raise click.UsageError("give exactly one of --ptau FILE and --dev")
    if dev and log_size is None:
        raise click.UsageError("--dev needs --k K (circuits of up to 2^K rows)")
    started = time.perf_counter()
    try:
        if dev:
            srs = dev_setup(log_size, progress=_progress)
        else:
            srs = import_ptau(ptau, max_log_size=log_size, progress=_progress)
        # Everything reported is known before the file is written: a run that fails writes nothing.
        result = {
            "srs": str(out),
            "powers": int(srs.g1_powers.shape[0]),
            "max_log_size": srs.max_log_size,
            "insecure": srs.insecure,
            "digest": "0x" + srs.digest.hex(),
        }
        _progress(f"writing {out}")
        srs.save(out)
    except SetupError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"{out}: cannot write the SRS: {e.strerror or e}") from None
    result["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        kind = "INSECURE development SRS" if srs.insecure else "SRS"
        click.echo(f"{kind} for circuits of up to 2^{srs.max_log_size} rows -> {out}\ndigest {result['digest']}")
