"""Sharded rounds on a real Dask LocalCluster, and their faults: a worker killed mid-shard, the coordinator killed
mid-round, a shard whose proof does not verify. The round completes with the same statement, resumes, or stops
naming the shard; nothing is ever written at the target before the whole round is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolvency.artifacts import load_round
from zksolvency.audit import verify_statement
from zksolvency.cli import main
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.partial import partial_dir
from zksolvency.round import RoundError, prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger

USERS = 48


@pytest.fixture(scope="module")
def files(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("faults")
    dev_srs.truncated(8).save(d / "srs.bin")
    totals = write_sample_ledger(d / "ledger.csv", USERS, seed=3)
    return d, totals, read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))


def _prove_args(d, out, *extra):
    return ["prove", str(d / "ledger.csv"), "--srs", str(d / "srs.bin"), "--decimals", decimals_spec(), "--out",
            str(out), "--round-id", "faults", *extra]


def test_a_sharded_round_on_the_embedded_local_cluster(files):
    d, totals, _ = files
    result = CliRunner().invoke(main, _prove_args(d, d / "local", "--shards", "2", "--workers", "2", "--json"),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Dask LocalCluster of 2 single-threaded workers; dashboard http://127.0.0.1:" in result.stderr
    report = json.loads(result.stdout)  # --json unchanged by sharding
    assert set(report) == {"round_dir", "round_id", "n", "users", "seconds", "proof_seconds", "inclusion_seconds"}
    statement = load_round(d / "local" / "round.json")
    verify_statement(statement, allow_insecure_srs=True)
    assert dict(zip([a.name for a in statement.assets], statement.values)) == totals
    assert not partial_dir(d / "local").exists()


@pytest.fixture
def cluster():
    import logging

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as c, Client(c) as client:
        yield c, client


def test_a_worker_killed_mid_shard_has_its_shard_proven_again(files, dev_srs, cluster, tmp_path):
    from zksolvency.cluster import Remote

    d, totals, ledger = files
    local, client = cluster
    pids = client.run(os.getpid)  # worker address -> process id
    killed = []

    def kill_a_worker_mid_shard():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                if any(str(k).startswith("zksolvency-shard-") for k in keys) and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append((address, [str(k) for k in keys]))
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_mid_shard)
    killer.start()
    rnd = prove_round(ledger, dev_srs, "killed-worker", shards=2, out_dir=tmp_path / "round",
                      cluster=Remote(local.scheduler_address, d / "srs.bin", dev_srs.truncated(8).digest))
    killer.join()
    assert killed, "no worker was proving a shard"
    verify_statement(rnd.statement, allow_insecure_srs=True)  # the same statement: the round's totals, 2 shards
    assert dict(zip([a.name for a in rnd.statement.assets], rnd.statement.values)) == totals
    assert len(rnd.statement.shards) == 2
    rnd.write(tmp_path / "round")
    assert not partial_dir(tmp_path / "round").exists()


def test_a_killed_coordinator_resumes_from_the_shards_already_proven(files, tmp_path):
    d, totals, _ = files
    out = tmp_path / "round"
    partial = partial_dir(out)
    cli = Path(sys.executable).parent / "zksolvency"
    args = _prove_args(d, out, "--shards", "3", "--workers", "1")
    coordinator = subprocess.Popen([str(cli), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and coordinator.poll() is None and not list(partial.glob("shard-*.npz")):
            time.sleep(0.05)
        assert coordinator.poll() is None, coordinator.stderr.read().decode()
        os.killpg(coordinator.pid, signal.SIGKILL)  # the coordinator and its LocalCluster, mid-round
    finally:
        coordinator.wait(timeout=60)
        coordinator.stderr.close()
    kept = sorted(p.name for p in partial.glob("shard-*.npz"))
    assert kept and len(kept) < 3 and not out.exists()  # nothing at the target
    import numpy as np

    commitments = {int(name[6:13]): np.load(partial / name)["inclusion_commitment"].tobytes().hex() for name in kept}
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{len(kept)} of 3 shards already proven" in result.stderr
    statement = load_round(out / "round.json")
    verify_statement(statement, allow_insecure_srs=True)
    for index, commitment in commitments.items():  # resumed, not proven again
        assert statement.shards[index].inclusion_commitment.to_bytes().hex() == commitment
    assert dict(zip([a.name for a in statement.assets], statement.values)) == totals
    assert not partial.exists()


class TamperingCluster:
    """An executor whose worker returns shard ``bad`` with a changed proof byte (a faulty or hostile worker)."""

    def __init__(self, srs, bad: int):
        from zksolvency.cluster import InProcess

        self.inner, self.bad = InProcess(srs), bad

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def prove(self, tasks, on_step=None):
        for result in self.inner.prove(tasks, on_step):
            if result.index == self.bad:
                proof = bytearray(result.proof)
                proof[-1] ^= 1
                result.proof = bytes(proof)
            yield result


def test_a_shard_whose_proof_does_not_verify_stops_the_round_naming_it(files, dev_srs, tmp_path):
    _, _, ledger = files
    out = tmp_path / "round"
    with pytest.raises(RoundError, match="shard 1 of 2: its proof does not verify"):
        prove_round(ledger, dev_srs, "bad-shard", shards=2, out_dir=out, cluster=TamperingCluster(dev_srs, 1))
    assert not out.exists()
    kept = sorted(p.name for p in partial_dir(out).glob("shard-*.npz"))
    assert kept == ["shard-0000000.npz"]  # the shard proven before it is kept; the bad one is not
    # A kept shard damaged on disk is refused too, naming it, and dropped so that a rerun proves it again.
    with np_open(partial_dir(out) / kept[0]) as z:
        fields = dict(z)
    fields["proof"] = fields["proof"].copy()
    fields["proof"][-1] ^= 1
    import numpy as np

    np.savez(partial_dir(out) / kept[0], **fields)
    with pytest.raises(RoundError, match="shard 0 of 2: its proof does not verify"):
        prove_round(ledger, dev_srs, "bad-shard", shards=2, out_dir=out)
    assert not out.exists() and not list(partial_dir(out).glob("shard-*.npz"))
    rnd = prove_round(ledger, dev_srs, "bad-shard", shards=2, out_dir=out)  # the positive twin
    rnd.write(out)
    verify_statement(load_round(out / "round.json"), allow_insecure_srs=True)


def np_open(path):
    import numpy as np

    return np.load(path, allow_pickle=False)


def test_a_rerun_with_another_ledger_is_refused(files, dev_srs, tmp_path):
    d, _, ledger = files
    out = tmp_path / "round"
    with pytest.raises(RoundError):
        prove_round(ledger, dev_srs, "changed", shards=2, out_dir=out, cluster=TamperingCluster(dev_srs, 0))
    other = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    other.units = other.units.copy()
    other.units[0] += 1
    with pytest.raises(RoundError, match="another ledger or other options"):
        prove_round(other, dev_srs, "changed", shards=2, out_dir=out)
    with pytest.raises(RoundError, match="is round 'changed', not 'renamed'"):
        prove_round(ledger, dev_srs, "renamed", shards=2, out_dir=out)
    assert partial_dir(out).stat().st_mode & 0o777 == 0o700  # it holds salts


def test_an_unreachable_scheduler_is_one_clear_error(files, tmp_path):
    d, _, _ = files
    result = CliRunner().invoke(main, _prove_args(d, tmp_path / "round", "--shards", "2", "--scheduler",
                                                  "tcp://127.0.0.1:9"))
    assert result.exit_code == 1 and "cannot reach the Dask scheduler tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_a_worker_of_two_threads_proves_one_shard_at_a_time(files, dev_srs, tmp_path):
    """A worker with more threads runs one shard with all of them, never two shards side by side: two at once would
    hold both in memory, so a worker of two threads could take no larger shard than two of one thread."""
    import logging

    from distributed import Client, LocalCluster

    from zksolvency.cluster import PROGRESS_TOPIC, Remote

    d, totals, ledger = files
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as local, Client(local) as client:
        rnd = prove_round(ledger, dev_srs, "two-threads", shards=3, out_dir=tmp_path / "round",
                          cluster=Remote(local.scheduler_address, d / "srs.bin", dev_srs.truncated(8).digest))
        events = client.get_events(PROGRESS_TOPIC)
    verify_statement(rnd.statement, allow_insecure_srs=True)
    spans = {}
    for at, event in events:
        first, last = spans.get(event["shard"], (at, at))
        spans[event["shard"]] = (min(first, at), max(last, at))
    assert sorted(spans) == [0, 1, 2]
    assert sorted(e["shard"] for _, e in events if e["message"] == "proven") == [0, 1, 2]
    ordered = sorted(spans.values())
    assert all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:])), f"shards overlapped on one worker: {ordered}"
