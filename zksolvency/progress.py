"""Progress of a round on stderr: bars with a time estimate (tqdm) on a terminal, plain lines otherwise.

One bar for the whole round (shards proven, of all) and one per shard being
proven (its steps); elsewhere (a log, a pipe) every step is one line starting
with "… ", as every command's progress. Nothing of it goes to stdout, so
``--json`` output is unchanged.
"""

from __future__ import annotations

import sys

import click

PREFIX = "… "


class Lines:
    """Plain lines on stderr."""

    def __init__(self):
        self.count, self.done_count = 1, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def message(self, text: str) -> None:
        click.echo(f"{PREFIX}{text}", err=True)

    def start(self, count: int, done: int) -> None:
        self.count, self.done_count = count, done

    def step(self, index: int, text: str) -> None:
        self.message(f"shard {index}: {text}" if self.count > 1 else text)

    def done(self, index: int) -> None:
        self.done_count += 1
        if self.count > 1:
            self.message(f"shard {index} proven and verified ({self.done_count} of {self.count})")


class Bars(Lines):
    """tqdm bars on stderr: the round's shards, and each running shard's steps."""

    def __init__(self):
        super().__init__()
        self.round_bar, self.shard_bars = None, {}

    def __exit__(self, *exc):
        for bar in list(self.shard_bars.values()):
            bar.close()
        if self.round_bar is not None:
            self.round_bar.close()
        return False

    def message(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(f"{PREFIX}{text}", file=sys.stderr)

    def start(self, count: int, done: int) -> None:
        from tqdm import tqdm

        super().start(count, done)
        self.round_bar = tqdm(total=count, initial=done, desc="round", unit="shard", file=sys.stderr,
                              dynamic_ncols=True)

    def step(self, index: int, text: str) -> None:
        from tqdm import tqdm

        from zksolvency.cluster import SHARD_STEPS

        bar = self.shard_bars.get(index)
        if bar is None:
            bar = self.shard_bars[index] = tqdm(total=SHARD_STEPS, desc=f"shard {index}", unit="step",
                                                file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.set_postfix_str(text[:40], refresh=False)
        if bar.n < bar.total:
            bar.update(1)

    def done(self, index: int) -> None:
        self.done_count += 1
        bar = self.shard_bars.pop(index, None)
        if bar is not None:
            bar.close()
        if self.round_bar is not None:
            self.round_bar.update(1)


def round_progress():
    """Bars when stderr is a terminal, plain lines otherwise."""
    return Bars() if sys.stderr.isatty() else Lines()
