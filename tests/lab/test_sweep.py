"""Sweeps: grid parsing, the SQLite store, resume after SIGKILL, local workers, Ray, show."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from initlab.errors import InitError
from initlab.lab.sweep import (
    RunStore,
    complete,
    load_runs,
    parse_grid,
    run_config,
    run_id,
    run_sweep,
    summarize_runs,
)

# tiny runs: spirals, one hidden layer of 8 units, one epoch over 128 examples (2 steps)
TINY = "dataset=spirals width=8 epochs=1 n_train=128 n_test=64 batch_size=64"


def _numbers(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != "seconds"}  # wall time varies


def test_parse_grid_product_order_and_parentheses():
    g = parse_grid("init=normal(std=1),meanfield(sigma_w2=1.5, sigma_b2=0.05) depth=2,3  seed=0")
    assert len(g) == 4 and str(g).startswith("init=normal(std=1),meanfield(")
    cfgs = g.configs()
    assert [(c["init"], c["depth"]) for c in cfgs] == [  # canonical start names
        ("normal", 2), ("normal", 3), ("meanfield(sigma_w2=1.5, sigma_b2=0.05)", 2),
        ("meanfield(sigma_w2=1.5, sigma_b2=0.05)", 3)]
    assert cfgs[0]["width"] == 64 and cfgs[0]["dataset"] == "digits"  # the defaults
    g2 = parse_grid({"sigma_w2": [1.0, 2.0], "sigma_b2": [0.05]})
    assert [c["init"] for c in g2.configs()] == ["meanfield(sigma_w2=1, sigma_b2=0.05)",
                                                 "meanfield(sigma_w2=2, sigma_b2=0.05)"]
    assert run_id(cfgs[0]) == run_id(complete(cfgs[0])) != run_id(cfgs[1])


@pytest.mark.parametrize("grid, words", [
    ("", "empty"),
    ("depth", "expected key=v1,v2"),
    ("colour=red", "unknown key 'colour'"),
    ("depth=2 depth=3", "given twice"),
    ("depth=2,2", "repeats a value"),
    ("depth=two", "takes integers"),
    ("depth=0", "must be ≥ 1"),
    ("lr=-1", "finite numbers > 0"),
    ("standardize=maybe", "true/false"),
    ("init=he sigma_w2=1", "not both"),
    ("init=nosuch", "unknown start 'nosuch'"),
    ("dataset=cifar", "unknown dataset 'cifar'"),
    ("dataset=npz:/no/such.npz", "does not exist"),
    ("model=vit", "unknown model"),
    ("activation=nosuch", "nosuch"),
])
def test_bad_grids(grid, words):
    with pytest.raises(InitError, match=words):
        parse_grid(grid)


def test_store_resume_and_refusal(tmp_path):
    store = tmp_path / "runs.sqlite"
    grid = f"init=zeros,he depth=1,2 seed=0 {TINY}"
    first = run_sweep(grid, store)
    assert (first.total, first.skipped, first.ran, first.complete) == (4, 0, 4, True)
    runs = load_runs(store)
    assert len(runs) == 4 and {r.run_id for r in runs} == {run_id(c)
                                                           for c in parse_grid(grid).configs()}
    # the stored record is the run itself: running the same configuration again gives it
    assert _numbers(run_config(runs[0].config)) == _numbers(runs[0].record)
    with pytest.raises(InitError, match="already holds 4 of this grid's 4 runs; pass --resume"):
        run_sweep(grid, store)
    again = run_sweep(grid, store, resume=True)
    assert (again.skipped, again.ran) == (4, 0)
    bigger = run_sweep(f"init=zeros,he depth=1,2,3 seed=0 {TINY}", store, resume=True)
    assert (bigger.total, bigger.skipped, bigger.ran) == (6, 4, 2) and len(load_runs(store)) == 6
    with RunStore(store) as st:
        with pytest.raises(InitError, match="already holds run"):
            st.add(runs[0].run_id, runs[0].config, runs[0].record)
        assert st.meta()["grid"].startswith("init=zeros,he depth=1,2,3")


def test_bad_store_and_arguments(tmp_path):
    (tmp_path / "junk.sqlite").write_text("not a database at all" * 100)
    with pytest.raises(InitError, match="not an initlab SQLite store"):
        run_sweep(f"depth=1 {TINY}", tmp_path / "junk.sqlite")
    with pytest.raises(InitError, match="is a folder"):
        run_sweep(f"depth=1 {TINY}", tmp_path)
    with pytest.raises(InitError, match="workers must be"):
        run_sweep(f"depth=1 {TINY}", tmp_path / "a.sqlite", workers=0)
    with pytest.raises(InitError, match="backend must be one of local, ray"):
        run_sweep(f"depth=1 {TINY}", tmp_path / "a.sqlite", backend="dask")
    with pytest.raises(InitError, match="no sweep store"):
        load_runs(tmp_path / "missing.sqlite")


def test_sigkill_mid_sweep_then_resume_loses_and_repeats_nothing(tmp_path):
    """A real `initlab sweep` process killed with SIGKILL in the middle of the grid: every run
    it finished is in the store, untouched by the resume, and the resume runs only the rest."""
    store = tmp_path / "runs.sqlite"
    grid = "init=he,xavier seed=0,1,2,3,4,5 dataset=digits depth=2 width=32 epochs=4"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "initlab", "sweep", "--grid", grid,
                             "--store", str(store), "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    count = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists():
                with sqlite3.connect(store, timeout=30) as db:
                    try:
                        count = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                    except sqlite3.OperationalError:  # the table is being created
                        count = 0
                if count >= 3:
                    break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    before = {r.run_id: r for r in load_runs(store)}
    assert 3 <= len(before) < 12, "the sweep must be killed in the middle of the grid"
    result = run_sweep(grid, store, resume=True)
    assert (result.skipped, result.ran, result.total) == (len(before), 12 - len(before), 12)
    after = load_runs(store)
    assert len(after) == 12 and len({r.run_id for r in after}) == 12
    for r in after:  # the runs finished before the kill are the very same rows
        if r.run_id in before:
            assert r.record == before[r.run_id].record
            assert r.finished_at == before[r.run_id].finished_at


def test_local_workers_give_the_same_runs(tmp_path):
    grid = f"init=he,lecun seed=0,1 {TINY}"
    run_sweep(grid, tmp_path / "one.sqlite")
    res = run_sweep(grid, tmp_path / "two.sqlite", workers=2)
    assert res.ran == 4
    one = {r.run_id: _numbers(r.record) for r in load_runs(tmp_path / "one.sqlite")}
    two = {r.run_id: _numbers(r.record) for r in load_runs(tmp_path / "two.sqlite")}
    assert one == two


def test_summaries_group_over_seeds(tmp_path):
    run_sweep(f"init=zeros,he seed=0,1 depth=1 {TINY}", tmp_path / "s.sqlite")
    groups = summarize_runs(load_runs(tmp_path / "s.sqlite"))
    assert [dict(g.setting)["init"] for g in groups] == ["he", "zeros"]
    assert all(g.n == 2 for g in groups)


def test_ray_backend_on_a_local_instance(tmp_path):
    """Ray (initlab[cluster]): the runs are Ray tasks, the driver stores them; the same
    records as in-process runs."""
    pytest.importorskip("ray")
    grid = f"init=he,zeros seed=0 {TINY}"
    res = run_sweep(grid, tmp_path / "ray.sqlite", backend="ray")
    assert (res.ran, res.complete) == (2, True)
    run_sweep(grid, tmp_path / "local.sqlite")
    ray_runs = {r.run_id: _numbers(r.record) for r in load_runs(tmp_path / "ray.sqlite")}
    local = {r.run_id: _numbers(r.record) for r in load_runs(tmp_path / "local.sqlite")}
    assert ray_runs == local


def test_json_of_a_result(tmp_path):
    r = run_sweep(f"depth=1 {TINY}", tmp_path / "j.sqlite")
    d = json.loads(r.to_json())
    assert d["schema"] == "initlab.sweep/1" and d["complete"] is True


def test_ray_unreachable_address_is_refused_at_once(tmp_path):
    """A Ray address nobody listens on: ``ray.init`` would retry for minutes; the sweep names
    the address within the 5 s connection timeout and writes no store."""
    pytest.importorskip("ray")
    import socket
    import time

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(InitError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        run_sweep(f"depth=1 {TINY}", tmp_path / "r.sqlite", backend="ray",
                  address=f"127.0.0.1:{port}")  # fmt: skip
    assert time.monotonic() - start < 30  # generous on a loaded machine; ray.init took > 120 s
    assert not (tmp_path / "r.sqlite").exists()
    with pytest.raises(InitError, match="is not HOST:PORT"):
        run_sweep(f"depth=1 {TINY}", tmp_path / "r.sqlite", backend="ray", address="nowhere")
