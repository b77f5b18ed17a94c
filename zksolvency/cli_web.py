"""The web command: serve the browser verification page with its pin, or write it to one file."""

from __future__ import annotations

from pathlib import Path

import click

from zksolvency.cli_common import clean_errors, progress


@click.command("web")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="The port on 127.0.0.1 (0: a free one).")
@click.option("--vk-digest", default=None, help="Pin the page to this verifying key (customers drop round.json) ...")
@click.option("--round", "round_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="... with a round of that key (its circuit goes into the page, which verifies rounds' proofs).")
@click.option("--registry", "registry_address", default=None, help="Pin the page to this SolvencyRegistry ...")
@click.option("--rpc", default=None, help="... read through this JSON-RPC endpoint, from the customer's browser.")
@click.option("--allow-insecure-srs", is_flag=True, help="Accept rounds of a development SRS (tests only; shown red).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the pinned page to this one file instead of serving it.")
@clean_errors
def web_command(port, vk_digest, round_file, registry_address, rpc, allow_insecure_srs, out_file):
    """Serve the customers' verification page (127.0.0.1 only), pinned to a verifying key or a registry."""
    from zksolvency.files import write_atomic
    from zksolvency.web import PagePin, PinError, pinned_page, server

    try:
        if vk_digest is not None and round_file is not None and registry_address is None and rpc is None:
            pin = PagePin.for_round(vk_digest.lower(), round_file, allow_insecure_srs)
        else:
            pin = PagePin(vk_digest.lower() if vk_digest else None, registry_address, rpc, allow_insecure_srs,
                          circuit="" if round_file is not None else None)
    except PinError as e:
        raise click.UsageError(str(e)) from None
    if out_file is not None:
        write_atomic(out_file, pinned_page(pin))
        progress(f"wrote the page pinned to {pin.describe()} to {out_file}")
        return
    httpd = server(pin, port)
    click.echo(f"the verification page: http://127.0.0.1:{httpd.server_address[1]}/  (pinned to {pin.describe()})",
               err=False)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


COMMANDS = (web_command,)
