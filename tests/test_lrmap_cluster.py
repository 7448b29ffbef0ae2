"""``xl-backprop map --scheduler``: the map's batches on a Dask cluster (a LocalCluster of two
worker processes here) give the local run's CSV byte for byte; an unreachable scheduler is one
line naming it, within seconds, and nothing written."""

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import cli, lrmap

distributed = pytest.importorskip("distributed")

GRID = np.geomspace(0.01, 1e5, 6)
STEPS = 300
THRESHOLD = 1e-4
ARGV = ["map", "--lr-hidden", "0.01:1e5:6", "--lr-output", "0.01:1e5:6", "--steps", str(STEPS)]
ARGV += ["--threshold", str(THRESHOLD), "--quiet"]


DIE_ONCE = "XL_BACKPROP_TEST_DIE_ONCE"  # a folder: the first batch to run there kills its worker


def dying_batch(job, lr_h, lr_o, parallel=False):
    """lrmap.run_batch, but the first call on the cluster ends its worker process abruptly."""
    marker = Path(os.environ[DIE_ONCE]) / "died"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return run_batch(job, lr_h, lr_o, parallel)


run_batch = lrmap.run_batch


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    os.environ[DIE_ONCE] = str(tmp_path_factory.mktemp("die-once"))  # the workers inherit it
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:  # fmt: skip
        yield c


def test_cluster_run_equals_the_local_run(tmp_path, cluster):
    local = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD)
    remote = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD, scheduler=cluster.scheduler_address, tile=4, batch=8)
    lrmap.write_csv(tmp_path / "local.csv", local)
    lrmap.write_csv(tmp_path / "remote.csv", remote)
    assert (tmp_path / "remote.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_a_worker_that_dies_is_replaced_and_its_batch_run_again(tmp_path, cluster, monkeypatch):
    local = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD)
    monkeypatch.setattr(lrmap, "run_batch", dying_batch)  # what the cluster's tasks run
    remote = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD, scheduler=cluster.scheduler_address, tile=4, batch=8)
    assert (Path(os.environ[DIE_ONCE]) / "died").exists()  # a worker did die
    lrmap.write_csv(tmp_path / "local.csv", local)
    lrmap.write_csv(tmp_path / "remote.csv", remote)
    assert (tmp_path / "remote.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_cli_with_scheduler_writes_the_local_csv(tmp_path, cluster):
    assert cli.main([*ARGV, "--out", str(tmp_path / "a.png"), "--csv", str(tmp_path / "a.csv")]) == 0
    argv = [*ARGV, "--out", str(tmp_path / "b.png"), "--csv", str(tmp_path / "b.csv")]
    assert cli.main([*argv, "--scheduler", cluster.scheduler_address, "--tile", "3"]) == 0
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_unreachable_scheduler_one_line_within_seconds_nothing_written(tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    t0 = time.monotonic()
    code = cli.main([*ARGV, "--scheduler", address, "--out", str(tmp_path / "m.png"), "--csv", str(tmp_path / "m.csv")])
    elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and address in err and "--scheduler" in err, err
    assert elapsed < lrmap.CONNECT_TIMEOUT + 10
    assert list(tmp_path.iterdir()) == []
