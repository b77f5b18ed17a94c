"""Where shards are proven: in this process, or on the workers of a Dask cluster (``dask.distributed``).

A worker receives one ``ShardTask`` (its shard's witness: the table of record
hashes, slots and account keys, and the shard's public values; no user id, no
salt, nothing of any other shard) and the SRS by path (a shared file system;
``LocalCluster`` workers share this machine's), and returns a ``ShardProof``.
The task travels inside the task graph rather than scattered to one worker,
so the scheduler still holds it when a worker dies and proves it again on
another (Dask's ``allowed-failures``, 3 by default).

``Embedded`` starts a ``LocalCluster`` of single-threaded worker processes on
127.0.0.1; ``Remote`` joins a running scheduler (``--scheduler tcp://HOST:8786``).
Both print the dashboard's address. ``InProcess`` proves in this process, with
every core: a round of one shard without ``--scheduler``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

PROGRESS_TOPIC = "zksolvency-shard-progress"


@dataclass
class ShardTask:
    """Everything a worker needs to prove one shard (besides the SRS)."""

    index: int
    log_n: int
    slots: int
    private_totals: bool
    margin: bool
    record_hash: np.ndarray  # (records places, 4) canonical limbs, 0 on empty places
    assets: np.ndarray  # (places, S)
    units: np.ndarray  # (places, S)
    positions: np.ndarray  # first row of each of the shard's records, in the shard's record order
    values: list  # the shard's totals (public mode) or allocation (private mode), per asset
    public_inputs: list
    totals: list | None = None  # private spot mode: the shard's totals (advice)
    accounts: np.ndarray | None = None  # margin: (places, 4) account keys
    margin_form: np.ndarray | None = None  # margin: (places,) bool
    weights: list | None = None  # margin: the key weights


@dataclass
class ShardProof:
    """A worker's answer: the shard's proof, verifying key and inclusion commitment, and one opening per record."""

    index: int
    proof: bytes
    verifying_key: object  # zksolvency.verifier.formats.VerifyingKey
    inclusion_commitment: object  # G1Point
    openings: bytes  # 64 bytes per record, in the shard's record order
    timings: dict = field(default_factory=dict)


def prove_shard(task: ShardTask, srs, progress=None) -> ShardProof:
    """Prove one shard: witness, proof, and every record's inclusion opening."""
    from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape
    from zksolvency.prover.g1 import encode
    from zksolvency.prover.openings import all_openings
    from zksolvency.prover.plonk import keygen, prove_with_polynomials
    from zksolvency.verifier.formats import Proof

    say = progress or (lambda message: None)
    shape = SolvencyShape(task.log_n, task.slots, task.private_totals, task.margin)
    circuit = SolvencyCircuit(shape)
    say("building the witness")
    if task.margin:
        witness = circuit.margin_witness(task.record_hash, task.assets, task.units, task.accounts, task.margin_form,
                                         task.weights, task.values if task.private_totals else None)
    else:
        witness = circuit.witness(task.record_hash, task.assets, task.units, task.totals,
                                  task.values if task.private_totals else None)
    srs = srs.truncated(task.log_n)
    say("proving")
    started = time.perf_counter()
    pk = keygen(circuit.cs, task.log_n, srs, circuit.fixed)
    proof, polys = prove_with_polynomials(pk, witness, task.public_inputs, progress=say)
    proof_seconds = time.perf_counter() - started
    say(f"inclusion proofs for all {shape.records} record places")
    started = time.perf_counter()
    openings = all_openings(srs, polys[circuit.inclusion], task.log_n, progress=say)
    openings = encode(np.ascontiguousarray(openings[task.positions]))
    inclusion_seconds = time.perf_counter() - started
    parsed = Proof.from_bytes(proof, pk.layout)
    commitment = parsed.argument_commitments[pk.layout.argument_columns.index(circuit.inclusion)]
    say("done")
    return ShardProof(task.index, proof, pk.vk, commitment, openings,
                      {"proof_seconds": proof_seconds, "inclusion_seconds": inclusion_seconds})


# The steps prove_shard reports (a progress bar's length).
SHARD_STEPS = 12


class ClusterError(RuntimeError):
    """The cluster could not prove a shard (the message names it)."""


class InProcess:
    """Prove the shards one after another in this process (every core on each)."""

    dashboard = None

    def __init__(self, srs):
        self.srs = srs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def prove(self, tasks, on_step=None):
        """Yield a ShardProof per task, in order; ``on_step(index, message)`` reports progress."""
        for task in tasks:
            yield prove_shard(task, self.srs, (lambda m, i=task.index: on_step(i, m)) if on_step else None)


_worker_srs: dict = {}
# A worker proves one shard at a time, with all of its threads (numba's): a worker of two threads that ran two
# shards at once would hold both in memory, each at half the speed, so more threads could never make room for a
# larger shard.
_one_shard_at_a_time = threading.Lock()


def _prove_on_worker(task: ShardTask, srs_path: str, srs_digest: bytes) -> ShardProof:
    """The task a worker runs: the SRS loaded once per worker process (and checked), numba on the worker's threads."""
    import numba
    from distributed import get_worker

    from zksolvency.prover.srs import SRS

    worker = get_worker()

    def say(message: str) -> None:
        worker.log_event(PROGRESS_TOPIC, {"shard": task.index, "message": message})

    with _one_shard_at_a_time:
        numba.set_num_threads(max(1, min(worker.state.nthreads, numba.config.NUMBA_NUM_THREADS)))
        srs = _worker_srs.get(srs_path)
        if srs is None:
            srs = _worker_srs[srs_path] = SRS.load(srs_path)
        if srs.digest != srs_digest:
            raise ClusterError(f"the SRS at {srs_path} on worker {worker.address} is not the coordinator's")
        say("started")
        proven = prove_shard(task, srs, say)
        say("proven")
        return proven


class DaskCluster:
    """Prove shards on a Dask cluster: ``Embedded`` (a LocalCluster) or ``Remote`` (a scheduler's address)."""

    def __init__(self, srs_path, srs_digest: bytes, say=None):
        self.srs_path, self.srs_digest = str(srs_path), srs_digest
        self.say = say or (lambda message: None)
        self.client = None
        self._cluster = None

    @property
    def dashboard(self):
        return self.client.dashboard_link if self.client is not None else None

    def _connect(self):
        raise NotImplementedError

    def __enter__(self):
        import dask

        # A task carries its shard's witness (megabytes): that is the point, not a mistake to warn about.
        dask.config.set({"distributed.admin.large-graph-warning-threshold": "16GiB"})
        self._connect()
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        return False

    def prove(self, tasks, on_step=None, in_flight: int | None = None):
        """Yield a ShardProof per task as they complete, keeping at most ``in_flight`` tasks submitted (the
        witnesses in flight bound the coordinator's memory)."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if on_step is not None:
            self.client.subscribe_topic(PROGRESS_TOPIC,
                                        lambda event: on_step(event[1]["shard"], event[1]["message"]))
        workers = max(1, sum(self.client.nthreads().values()))
        limit = in_flight or 2 * workers
        tasks = iter(tasks)
        pending = as_completed()
        index_of = {}

        def submit_next() -> bool:
            task = next(tasks, None)
            if task is None:
                return False
            future = self.client.submit(_prove_on_worker, task, self.srs_path, self.srs_digest, pure=False,
                                        key=f"zksolvency-shard-{task.index}-{time.time_ns()}")
            index_of[future.key] = task.index
            pending.add(future)
            return True

        for _ in range(limit):
            if not submit_next():
                break
        try:
            for future in pending:
                index = index_of.pop(future.key)
                try:
                    result = future.result()
                except KilledWorker:
                    raise ClusterError(f"shard {index}: every worker that took it died (out of memory?); "
                                       "the shards proven so far are kept for a rerun") from None
                future.release()
                submit_next()
                yield result
        finally:
            for future in list(pending.futures):
                future.cancel()
            if on_step is not None:
                self.client.unsubscribe_topic(PROGRESS_TOPIC)


class Embedded(DaskCluster):
    """A LocalCluster on this machine: ``workers`` single-threaded worker processes on 127.0.0.1."""

    def __init__(self, srs_path, srs_digest: bytes, workers: int | None = None, say=None):
        super().__init__(srs_path, srs_digest, say)
        self.workers = workers

    def _connect(self):
        import logging
        import os

        from distributed import Client, LocalCluster

        workers = self.workers or os.cpu_count() or 1
        self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        self.client = Client(self._cluster)
        self.say(f"started a Dask LocalCluster of {workers} single-threaded workers; dashboard {self.dashboard}")


class Remote(DaskCluster):
    """A running Dask scheduler (``tcp://HOST:8786``); its workers need the SRS at the same path."""

    def __init__(self, address: str, srs_path, srs_digest: bytes, say=None):
        super().__init__(srs_path, srs_digest, say)
        self.address = address

    def _connect(self):
        from distributed import Client

        try:
            self.client = Client(self.address, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler {self.address}: {e}") from None
        try:
            self.client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            self.client.close()
            raise ClusterError(f"the Dask scheduler {self.address} has no worker (waited 60 s)") from None
        workers = len(self.client.nthreads())
        self.say(f"joined the Dask scheduler {self.address} ({workers} workers); dashboard {self.dashboard}")
