"""A round's work in progress, kept beside its target until the whole round is written: a rerun resumes from it.

``.<target>.partial/`` (mode 0700: it holds salts) beside the round directory::

    plan.json           format, round id, time, the fingerprint of the ledger and options, shards, log_n
    plan.npz            every customer's shard and salt, every shard's record places
    shard-<i>.npz       a proven shard: proof, verifying key, inclusion commitment, openings (written whole)

The plan is drawn once (assignment, salts, places, time); a rerun with the same
ledger and options takes it and proves only the shards that have no file yet.
A rerun with another ledger or other options is refused: the partial round
would not be its round. The target itself is written only when every shard is
proven and verified (``zksolvency.round.Round.write``), and the partial
directory is removed then.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zksolvency.files import write_atomic

PARTIAL_FORMAT = "zksolvency-partial/1"


class PartialError(ValueError):
    """A partial round that cannot be resumed (the message says why and what to do)."""


@dataclass
class Plan:
    round_id: str
    timestamp: str
    fingerprint: str
    shards: int
    log_n: int
    shard_of_user: np.ndarray  # (users,) int64
    salts: list  # bytes per user
    places: list  # per shard: (records,) int64 record places


def partial_dir(out: Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.partial"


class Partial:
    """The partial directory of the round to be written at ``out``."""

    def __init__(self, out: Path):
        self.path = partial_dir(out)

    def exists(self) -> bool:
        return (self.path / "plan.json").is_file()

    def round_id(self):
        """The round id of a plan already drawn, or None."""
        if not self.exists():
            return None
        return self._plan_json()["round_id"]

    def _plan_json(self) -> dict:
        try:
            meta = json.loads((self.path / "plan.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise PartialError(f"{self.path}: cannot read the partial round ({e}); remove it to start afresh") from None
        if not isinstance(meta, dict) or meta.get("format") != PARTIAL_FORMAT:
            raise PartialError(f"{self.path}: not a partial round of format {PARTIAL_FORMAT}; remove it to start afresh")
        return meta

    def load_plan(self, fingerprint: str, round_id: str) -> Plan | None:
        """The plan drawn by an earlier run of the same round, or None if there is none."""
        if not self.exists():
            return None
        meta = self._plan_json()
        if meta["fingerprint"] != fingerprint:
            raise PartialError(f"{self.path}: a partial round from another ledger or other options is there; "
                               "rerun with the same ones to resume it, or remove it to start afresh")
        if meta["round_id"] != round_id:
            raise PartialError(f"{self.path}: the partial round there is round {meta['round_id']!r}, not "
                               f"{round_id!r}; rerun with that id to resume it, or remove it to start afresh")
        with np.load(self.path / "plan.npz", allow_pickle=False) as z:
            salts = [bytes(s) for s in z["salts"]]
            offsets = z["place_offsets"]
            places = [z["places"][offsets[i]:offsets[i + 1]] for i in range(meta["shards"])]
            shard_of_user = z["shard_of_user"]
        return Plan(meta["round_id"], meta["timestamp"], fingerprint, meta["shards"], meta["log_n"], shard_of_user,
                    salts, places)

    def save_plan(self, plan: Plan) -> None:
        self.path.mkdir(mode=0o700, parents=False, exist_ok=True)
        os.chmod(self.path, 0o700)
        offsets = np.zeros(plan.shards + 1, dtype=np.int64)
        np.cumsum([len(p) for p in plan.places], out=offsets[1:])
        buffer = io.BytesIO()
        np.savez(buffer, shard_of_user=plan.shard_of_user,
                 salts=np.frombuffer(b"".join(plan.salts), dtype=np.uint8).reshape(len(plan.salts), -1),
                 places=np.concatenate(plan.places) if plan.places else np.zeros(0, np.int64),
                 place_offsets=offsets)
        write_atomic(self.path / "plan.npz", buffer.getvalue())
        meta = {"format": PARTIAL_FORMAT, "round_id": plan.round_id, "timestamp": plan.timestamp,
                "fingerprint": plan.fingerprint, "shards": plan.shards, "log_n": plan.log_n}
        write_atomic(self.path / "plan.json", json.dumps(meta, sort_keys=True) + "\n")

    def _shard_file(self, index: int) -> Path:
        return self.path / f"shard-{index:07d}.npz"

    def save_shard(self, result) -> None:
        """Keep a proven (and verified) shard."""
        buffer = io.BytesIO()
        np.savez(buffer, proof=np.frombuffer(result.proof, np.uint8),
                 verifying_key=np.frombuffer(result.verifying_key.to_bytes(), np.uint8),
                 inclusion_commitment=np.frombuffer(result.inclusion_commitment.to_bytes(), np.uint8),
                 openings=np.frombuffer(result.openings, np.uint8))
        write_atomic(self._shard_file(result.index), buffer.getvalue())

    def load_shard(self, index: int):
        """A shard proven by an earlier run (a ShardProof), or None."""
        from zksolvency.cluster import ShardProof
        from zksolvency.encoding import G1Point
        from zksolvency.verifier.formats import VerifyingKey

        path = self._shard_file(index)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return ShardProof(index, z["proof"].tobytes(), VerifyingKey.from_bytes(z["verifying_key"].tobytes()),
                                  G1Point.from_bytes(z["inclusion_commitment"].tobytes()), z["openings"].tobytes(),
                                  {"resumed": True})
        except Exception:
            path.unlink(missing_ok=True)  # a damaged file: the shard is proven again
            return None

    def drop_shard(self, index: int) -> None:
        self._shard_file(index).unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
