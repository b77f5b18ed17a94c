"""What every command module shares: progress on stderr, one report on stdout, and errors as one line."""

from __future__ import annotations

import functools
import json

import click


def progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


def emit(result: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps(result, sort_keys=True, ensure_ascii=False) if as_json else text)


def clean_errors(fn):
    """Turn the project's input, verification and chain errors into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _input_errors() as e:
            raise click.ClickException(str(e)) from None

    return wrapper


def _input_errors() -> tuple:
    from zksolvency.artifacts import ArtifactError
    from zksolvency.chain import ChainError
    from zksolvency.cluster import ClusterError
    from zksolvency.encoding import EncodingError
    from zksolvency.ingest import LedgerError, SpecError
    from zksolvency.margin import MarginError
    from zksolvency.partial import PartialError
    from zksolvency.prover.srs import SetupError
    from zksolvency.round import RoundError
    from zksolvency.store import StoreError

    return (ArtifactError, ChainError, ClusterError, EncodingError, LedgerError, MarginError, PartialError, SpecError,
            SetupError, RoundError, StoreError)


def connect(rpc: str):
    from zksolvency.chain import connect as connect_node

    return connect_node(rpc)
