"""Sweeps: a grid of training runs that survives a kill and scales out.

A grid is written as ``key=v1,v2 key=v1,...`` (the cartesian product of the values), e.g.
``"init=xavier,he depth=10,30 activation=tanh,relu lr=0.01,0.1 seed=0,1,2"``. Each point is one
run (:func:`run_config`: a zoo model, a start of the registry, :func:`initlab.lab.train.train`)
with a stable id, a hash of its full configuration.

Results go to a :class:`RunStore`, an SQLite file (the standard library's embedded database)
with one row per **finished** run, written by the driver in a single transaction. A run that is
not finished has no row, so a sweep killed at any moment — even with SIGKILL — loses no finished
run, and ``resume=True`` runs exactly the missing ones (a finished run is never run twice: its id
is the table's primary key). Runs execute in this process (``workers=1``), in ``workers`` local
processes, or as Ray tasks on an existing Ray cluster (``backend="ray"``, optional extra
``initlab[cluster]``); in every case only the driver writes the store.

Keys: ``init`` (any start, :mod:`initlab.lab.starts`), ``sigma_w2``/``sigma_b2`` (the
``meanfield`` start: W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²), instead of ``init``), ``dataset``,
``model``, ``activation``, ``depth``, ``width``, ``lr``, ``epochs``, ``batch_size``,
``optimizer``, ``seed``, ``n_train``, ``n_test``, ``standardize``.

Examples:
    >>> g = parse_grid("init=xavier,he depth=2,3 seed=0")
    >>> len(g), g.configs()[0]["init"], g.configs()[0]["depth"]
    (4, 'xavier', 2)
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from initlab.errors import InitError

#: Grid keys, their types and default values.
DEFAULTS: dict[str, Any] = {
    "init": "he",
    "dataset": "digits",
    "model": "mlp",
    "activation": "relu",
    "depth": 3,
    "width": 64,
    "lr": 0.01,
    "epochs": 5,
    "batch_size": 64,
    "optimizer": "sgd",
    "seed": 0,
    "n_train": None,
    "n_test": None,
    "standardize": True,
    "sigma_w2": None,
    "sigma_b2": None,
}
_INTS = {"depth", "width", "epochs", "batch_size", "seed", "n_train", "n_test"}
_FLOATS = {"lr", "sigma_w2", "sigma_b2"}
_BOOLS = {"standardize"}
BACKENDS = ("local", "ray")
SCHEMA = "initlab.sweep/1"


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` (a whitespace class when " ") outside parentheses; empty parts dropped.

    Examples:
        >>> split_top_level("zeros, critical(sigma_b2=0.05, q_star=1),he")
        ['zeros', 'critical(sigma_b2=0.05, q_star=1)', 'he']
    """
    out, depth, cur = [], 0, ""
    for ch in text:
        if depth == 0 and (ch.isspace() if sep == " " else ch == sep):
            if cur.strip():
                out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _value(key: str, text: str) -> Any:
    if key in _INTS:
        try:
            v = int(text)
        except ValueError:
            raise InitError(f"grid: {key} takes integers, got {text!r}") from None
        if v < (0 if key == "seed" else 1):
            raise InitError(f"grid: {key} must be ≥ {0 if key == 'seed' else 1}, got {v}")
        return v
    if key in _FLOATS:
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or x < 0 or (x == 0 and key != "sigma_b2"):
            raise InitError(f"grid: {key} takes finite numbers "
                            f"{'≥ 0' if key == 'sigma_b2' else '> 0'}, got {text!r}")
        return x
    if key in _BOOLS:
        low = text.lower()
        if low not in ("true", "false", "1", "0", "yes", "no"):
            raise InitError(f"grid: {key} takes true/false, got {text!r}")
        return low in ("true", "1", "yes")
    return text


@dataclass(frozen=True)
class Grid:
    """The axes of a sweep: (key, values) pairs in the order given; :meth:`configs` is their
    cartesian product (the last key varies fastest), each completed with :data:`DEFAULTS`."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...]

    def __len__(self) -> int:
        return math.prod(len(v) for _, v in self.axes)

    def __str__(self) -> str:
        return " ".join(f"{k}={','.join(str(x) for x in v)}" for k, v in self.axes)

    def configs(self) -> list[dict[str, Any]]:
        keys = [k for k, _ in self.axes]
        out = []
        for combo in itertools.product(*(v for _, v in self.axes)):
            out.append(complete(dict(zip(keys, combo, strict=True))))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"axes": {k: list(v) for k, v in self.axes}, "runs": len(self)}


def complete(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every missing key at its default; ``sigma_w2``/``sigma_b2`` become the
    ``init`` ``meanfield(...)`` start.

    Examples:
        >>> complete({"sigma_w2": 1.5})["init"]
        'meanfield(sigma_w2=1.5, sigma_b2=0)'
    """
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise InitError(f"grid: unknown key(s) {unknown}; use {', '.join(DEFAULTS)}")
    cfg = {**DEFAULTS, **config}
    if cfg["sigma_w2"] is not None or cfg["sigma_b2"] is not None:
        if "init" in config and not str(config["init"]).startswith("meanfield("):
            raise InitError("grid: give init=… or sigma_w2=…/sigma_b2=…, not both (σ_w², σ_b² "
                            "pick the meanfield start)")
        from initlab.lab.starts import get_start

        w2 = cfg["sigma_w2"] if cfg["sigma_w2"] is not None else 2.0
        b2 = cfg["sigma_b2"] if cfg["sigma_b2"] is not None else 0.0
        cfg["init"] = get_start(f"meanfield(sigma_w2={w2}, sigma_b2={b2})").name
    elif isinstance(cfg["init"], str):
        from initlab.lab.starts import get_start

        cfg["init"] = get_start(cfg["init"]).name  # canonical: "normal(std=1)" → "normal"
    return cfg


def parse_grid(grid: str | Mapping[str, Sequence[Any]] | Grid) -> Grid:
    """A :class:`Grid` from ``"key=v1,v2 key=v1"`` or a mapping key → values.

    Values inside parentheses keep their commas and spaces:
    ``"init=he,critical(sigma_b2=0.05, q_star=1) depth=3"``.

    Raises:
        InitError: an unknown key (the message lists them), a repeated key, a bad value, an
            empty grid.

    Examples:
        >>> str(parse_grid({"depth": [2, 4], "init": ["he"]}))
        'depth=2,4 init=he'
    """
    if isinstance(grid, Grid):
        return grid
    if isinstance(grid, Mapping):
        items = [(str(k), [str(x) for x in (v if isinstance(v, list | tuple) else [v])])
                 for k, v in grid.items()]
    elif isinstance(grid, str):
        items = []
        for token in split_top_level(grid, " "):
            key, eq, rest = token.partition("=")
            if not eq or not key.strip() or not rest.strip():
                raise InitError(f"grid: expected key=v1,v2,… but got {token!r} (e.g. "
                                "'init=xavier,he depth=10,30 seed=0,1')")
            items.append((key.strip(), split_top_level(rest, ",")))
    else:
        raise InitError(f"grid must be a string like 'init=xavier,he depth=10,30' or a mapping, "
                        f"got {type(grid).__name__}")
    if not items:
        raise InitError("grid: empty; e.g. 'init=xavier,he depth=10,30 seed=0,1'")
    axes: list[tuple[str, tuple[Any, ...]]] = []
    seen: set[str] = set()
    for key, values in items:
        if key not in DEFAULTS:
            raise InitError(f"grid: unknown key {key!r}; use {', '.join(DEFAULTS)}")
        if key in seen:
            raise InitError(f"grid: key {key!r} is given twice; list all its values once")
        seen.add(key)
        vals = tuple(_value(key, v) for v in values)
        if not vals:
            raise InitError(f"grid: {key} has no values")
        if len(set(map(str, vals))) != len(vals):
            raise InitError(f"grid: {key} repeats a value: {list(values)}")
        axes.append((key, vals))
    g = Grid(tuple(axes))
    check_configs(g.configs())
    return g


def check_configs(configs: Iterable[Mapping[str, Any]]) -> None:
    """Fail before running anything: every start, data set, model, activation and optimizer
    must exist (files named by ``idx:``/``npz:`` must exist too)."""
    from initlab.lab.data import available_datasets
    from initlab.lab.starts import get_start
    from initlab.lab.train import OPTIMIZERS
    from initlab.lab.zoo import LAB_MODELS, activation_module

    checked: set[tuple[str, str]] = set()
    for c in configs:
        for key in ("init", "dataset", "model", "activation", "optimizer"):
            v = c[key]
            if (key, v) in checked:
                continue
            checked.add((key, v))
            if key == "init":
                get_start(v)
            elif key == "activation":
                activation_module(v)  # unknown, or gated (swiglu): refused here, not in a run
            elif key == "model" and v not in LAB_MODELS:
                raise InitError(f"grid: unknown model {v!r}; use {', '.join(LAB_MODELS)}")
            elif key == "optimizer" and v not in OPTIMIZERS:
                raise InitError(f"grid: optimizer must be one of {', '.join(OPTIMIZERS)}")
            elif key == "dataset":
                if v.startswith(("idx:", "npz:")):
                    path = v[4:].split(",")[0].strip()
                    if not Path(path).expanduser().is_file():
                        raise InitError(f"grid: dataset file {path!r} does not exist")
                elif v not in available_datasets():
                    raise InitError(f"grid: unknown dataset {v!r}; use "
                                    f"{', '.join(available_datasets())}, idx:PATH or npz:PATH")


def run_id(config: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit id of a (completed) configuration: BLAKE2b of its sorted JSON.

    Examples:
        >>> run_id(complete({"depth": 3})) == run_id(complete({"depth": 3}))
        True
    """
    text = json.dumps(dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@functools.lru_cache(maxsize=4)
def _data(name: str, standardize: bool, n_train: int | None, n_test: int | None) -> Any:
    from initlab.lab.data import load_dataset

    # one split for the whole sweep (seed 0): a run's seed varies weights and batch order only
    return load_dataset(name, seed=0, standardize=standardize, n_train=n_train, n_test=n_test)


def run_config(config: Mapping[str, Any], device: str | Any = "cpu") -> dict[str, Any]:
    """Run one point of a grid; returns the :class:`~initlab.lab.train.RunRecord` as a dict.

    The data split is the same for every run (seed 0); ``seed`` seeds the weights and the
    batch order. Same configuration ⇒ the same numbers (``seconds`` aside). ``device``: where
    the model trains (built and initialized on the CPU, then moved; a device other than the
    CPU is recorded in the record's ``config``, not in the run's id).

    Examples:
        >>> r = run_config(complete({"dataset": "spirals", "depth": 1, "width": 8,
        ...                          "epochs": 1, "n_train": 64, "n_test": 32}))
        >>> r["steps"], r["config"]["init"]
        (1, 'he')
    """
    import torch

    from initlab.devices import resolve_device
    from initlab.lab.starts import get_start
    from initlab.lab.train import train
    from initlab.lab.zoo import build_model

    dev = resolve_device(device)
    cfg = complete(config)
    split = _data(cfg["dataset"], cfg["standardize"], cfg["n_train"], cfg["n_test"])
    torch.manual_seed(cfg["seed"])
    model = build_model(cfg["model"], split.input_shape, split.out_features, depth=cfg["depth"],
                        width=cfg["width"], activation=cfg["activation"])
    get_start(cfg["init"]).apply(model, split.x_train[:256], seed=cfg["seed"])
    where = {} if dev.type == "cpu" else {"device": str(dev)}
    rec = train(model, split, epochs=cfg["epochs"], lr=cfg["lr"],
                batch_size=cfg["batch_size"], seed=cfg["seed"], optimizer=cfg["optimizer"],
                config={**{k: v for k, v in cfg.items() if v is not None}, **where}, device=dev)
    return rec.to_dict()


# ---------------------------------------------------------------------------- the store ------
_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    record TEXT NOT NULL,
    final_accuracy REAL,
    final_loss REAL,
    diverged INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    seconds REAL,
    finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredRun:
    """One finished run as stored: its id, configuration and record (a RunRecord dict)."""

    run_id: str
    config: dict[str, Any]
    record: dict[str, Any]
    finished_at: float

    @property
    def accuracy(self) -> float:
        v = self.record.get("final_test_accuracy")
        return math.nan if v is None else float(v)

    @property
    def loss(self) -> float:
        v = self.record.get("final_train_loss")
        return math.nan if v is None else float(v)


class RunStore:
    """An SQLite file with one row per finished run (table ``runs``) and the sweep's settings
    (table ``meta``). Every :meth:`add` is one transaction: after a crash a run is either
    completely there or not at all (SQLite's atomic commit).

    Examples:
        >>> import tempfile, os
        >>> with RunStore(os.path.join(tempfile.mkdtemp(), "r.sqlite")) as st:
        ...     st.add("abc", {"depth": 1}, {"final_test_accuracy": 0.5, "steps": 3})
        ...     st.finished_ids(), len(st)
        ({'abc'}, 1)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InitError(f"store {str(self.path)!r} is a folder; give a file such as "
                            "runs.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), timeout=30)
            self._db.executescript(_TABLES)
        except sqlite3.DatabaseError as e:
            raise InitError(f"store {str(self.path)!r} is not an initlab SQLite store ({e}); "
                            "give a new path") from None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def finished_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT run_id FROM runs")}

    def add(self, rid: str, config: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """Insert one finished run in its own transaction (an id already there is an error:
        a run is never stored twice)."""
        acc = record.get("final_test_accuracy")
        loss = record.get("final_train_loss")
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rid, json.dumps(dict(config), sort_keys=True), json.dumps(dict(record)),
                     acc, loss, int(bool(record.get("diverged", False))),
                     int(record.get("steps", 0)), record.get("seconds"), time.time()))
        except sqlite3.IntegrityError:
            raise InitError(f"store {str(self.path)!r} already holds run {rid}") from None

    def set_meta(self, key: str, value: Any) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             (key, json.dumps(value)))

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def runs(self) -> list[StoredRun]:
        """Every finished run, in the order they finished."""
        rows = self._db.execute(
            "SELECT run_id, config, record, finished_at FROM runs ORDER BY rowid")
        return [StoredRun(r[0], json.loads(r[1]), json.loads(r[2]), r[3]) for r in rows]


def load_runs(path: str | Path) -> list[StoredRun]:
    """The finished runs of a store file.

    Raises:
        InitError: no such file, or not a store.
    """
    p = Path(path)
    if not p.is_file():
        raise InitError(f"no sweep store at {str(p)!r}; run `initlab sweep --grid … --store "
                        f"{p}` first")
    with RunStore(p) as st:
        return st.runs()


# ------------------------------------------------------------------------- running -----------
@dataclass(frozen=True)
class SweepResult:
    """What a call of :func:`run_sweep` did: the grid's size, the runs it found finished in the
    store (``skipped``), the runs it finished now (``ran``), and whether Ctrl-C stopped it."""

    store: str
    total: int
    skipped: int
    ran: int
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.skipped + self.ran == self.total

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "store": self.store, "total": self.total,
                "skipped": self.skipped, "ran": self.ran, "interrupted": self.interrupted,
                "complete": self.complete, "seconds": self.seconds}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # N processes × 1 thread: no oversubscription


def _run_indexed(item: tuple[Any, ...]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(run_id, config[, device])`` → ``(run_id, config, record)`` (picklable, for workers)."""
    rid, cfg, *dev = item
    return rid, cfg, run_config(cfg, *dev)


def run_sweep(
    grid: str | Mapping[str, Sequence[Any]] | Grid,
    store: str | Path,
    *,
    resume: bool = False,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    on_run: Callable[[str, dict[str, Any], dict[str, Any]], None] | None = None,
    device: str | Any = "cpu",
) -> SweepResult:
    """Run every point of ``grid`` not yet in ``store``; store each finished run at once.

    Args:
        grid: a :class:`Grid`, its text form or a mapping (see :func:`parse_grid`).
        store: the SQLite file (created if missing).
        resume: skip the runs already in the store. Without it, a store that already holds
            runs of this grid is refused (so results are never mixed up by accident).
        workers: local processes (``backend="local"``); 1 runs in this process.
        backend: ``"local"`` or ``"ray"`` (Ray tasks on the cluster at ``address``; needs
            ``pip install 'initlab[cluster]'``).
        address: the Ray cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``);
            None starts a local Ray instance.
        on_run: ``on_run(run_id, config, record)`` after every stored run (progress).
        device: where every run trains (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; local
            backend only). Not part of a run's id: ``--resume`` on another device continues.

    A ``KeyboardInterrupt`` stops the sweep: the result says ``interrupted=True``, and every run
    finished until then is in the store.

    Raises:
        InitError: a bad grid, store, backend or worker count; a store with finished runs and
            ``resume=False``; Ray not installed; a device this machine lacks, or not the CPU
            with Ray.
    """
    from initlab.devices import resolve_device

    dev = resolve_device(device)
    g = parse_grid(grid)
    if backend not in BACKENDS:
        raise InitError(f"sweep: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InitError(f"sweep: workers must be an int ≥ 1, got {workers!r}")
    if address is not None and backend != "ray":
        raise InitError("sweep: --address is for --backend ray")
    if backend == "ray" and dev.type != "cpu":
        raise InitError(f"sweep: device={str(dev)!r} with backend 'ray' is not supported (Ray "
                        "tasks are scheduled on CPUs here); use device='cpu' or the local backend")
    if backend == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise InitError("sweep: --backend ray needs Ray: pip install 'initlab[cluster]'")
        if address is not None:
            _check_reachable(address)  # before the store exists: a refused sweep leaves no file
    t0 = time.perf_counter()
    configs = g.configs()
    items = [(run_id(c), c) for c in configs]
    with RunStore(store) as st:
        done = st.finished_ids()
        ours = [rid for rid, _ in items if rid in done]
        if ours and not resume:
            raise InitError(f"store {str(store)!r} already holds {len(ours)} of this grid's "
                            f"{len(items)} runs; pass --resume to run only the missing ones, "
                            "or give a new --store")
        st.set_meta("grid", str(g))
        st.set_meta("schema", SCHEMA)
        todo = [(rid, c, str(dev)) for rid, c in items if rid not in done]
        ran = 0
        interrupted = False

        def keep(rid: str, cfg: dict[str, Any], rec: dict[str, Any]) -> None:
            nonlocal ran
            st.add(rid, cfg, rec)
            ran += 1
            if on_run is not None:
                on_run(rid, cfg, rec)

        try:
            if backend == "ray":
                _run_ray(todo, address, keep)
            elif workers == 1 or len(todo) <= 1:
                for item in todo:
                    keep(*_run_indexed(item))
            else:
                _run_pool(todo, workers, keep)
        except KeyboardInterrupt:
            interrupted = True
    return SweepResult(str(store), len(items), len(ours), ran, interrupted,
                       time.perf_counter() - t0)


def _run_pool(todo: list[tuple[Any, ...]], workers: int,
              keep: Callable[[str, dict[str, Any], dict[str, Any]], None]) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # a fresh interpreter per worker: no forked torch state
    pool = ctx.Pool(min(workers, len(todo)), initializer=_worker_init)
    try:
        for rid, cfg, rec in pool.imap_unordered(_run_indexed, todo):
            keep(rid, cfg, rec)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse a Ray address whose host does not accept a TCP connection within ``timeout``
    seconds: ``ray.init`` itself retries an unreachable head for minutes, printing warnings.
    ``"auto"`` (a cluster found from this machine's Ray files) and ``"local"`` (a new local
    instance) are left to Ray.

    Examples:
        >>> _check_reachable("auto")
        >>> _check_reachable("no-port")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        initlab.errors.InitError: sweep: --address 'no-port' is not HOST:PORT, ...
    """
    import socket

    if address in ("auto", "local"):  # Ray finds (auto) or starts (local) a cluster itself
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InitError(
            f"sweep: --address {address!r} is not HOST:PORT, ray://HOST:PORT, auto or local"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise InitError(
            f"sweep: cannot reach the Ray cluster at {address} ({e.strerror or e}); is its head "
            "running (`ray start --head` prints the address)? Without --address, --backend ray "
            "starts a local instance"
        ) from None


def _run_ray(todo: list[tuple[Any, ...]], address: str | None,
             keep: Callable[[str, dict[str, Any], dict[str, Any]], None]) -> None:
    try:
        import ray
    except ImportError:
        raise InitError("sweep: --backend ray needs Ray: pip install 'initlab[cluster]'"
                        ) from None
    started = False
    if not ray.is_initialized():
        try:
            if address is None:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False,
                         log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except Exception as e:  # a cluster that is not there, a bad address
            raise InitError(f"sweep: cannot connect to Ray at {address or 'a local instance'} "
                            f"({type(e).__name__}: {e})") from None
        started = True
    pending: list[Any] = []
    try:
        task = ray.remote(num_cpus=1)(_run_indexed)
        pending = [task.remote(item) for item in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                keep(*ray.get(ref))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------------- summaries ---------
def varying_keys(runs: Sequence[StoredRun]) -> list[str]:
    """The configuration keys whose value differs between runs, in :data:`DEFAULTS` order
    (``init`` left out when it only follows ``sigma_w2``/``sigma_b2``)."""
    keys = []
    for k in DEFAULTS:
        vals = {json.dumps(r.config.get(k), sort_keys=True) for r in runs}
        if len(vals) > 1:
            keys.append(k)
    if "init" in keys and ({"sigma_w2", "sigma_b2"} & set(keys)) and all(
            str(r.config.get("init")).startswith("meanfield(") for r in runs):
        keys.remove("init")
    return keys


@dataclass(frozen=True)
class SweepGroup:
    """The runs sharing one setting of ``keys`` (all but the seed by default)."""

    setting: tuple[tuple[str, Any], ...]
    n: int
    accuracy_mean: float
    accuracy_std: float
    loss_mean: float
    diverged: int

    def to_dict(self) -> dict[str, Any]:
        def f(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {**dict(self.setting), "n": self.n, "accuracy_mean": f(self.accuracy_mean),
                "accuracy_std": f(self.accuracy_std), "loss_mean": f(self.loss_mean),
                "diverged": self.diverged}


def summarize_runs(runs: Sequence[StoredRun], by: Sequence[str] | None = None) -> list[SweepGroup]:
    """Group runs by ``by`` (default: the varying keys except ``seed``) and aggregate the final
    test accuracy (a diverged run counts its last accuracy, NaN → 0) and train loss.

    Examples:
        >>> rs = [StoredRun(str(i), {"depth": d, "seed": s}, {"final_test_accuracy": a,
        ...       "final_train_loss": 1.0}, 0.0)
        ...       for i, (d, s, a) in enumerate([(2, 0, .5), (2, 1, .7), (4, 0, .2)])]
        >>> [(g.setting, g.n, round(g.accuracy_mean, 2)) for g in summarize_runs(rs)]
        [((('depth', 2),), 2, 0.6), ((('depth', 4),), 1, 0.2)]
    """
    if by is None:
        by = [k for k in varying_keys(runs) if k != "seed"]
    groups: dict[str, list[StoredRun]] = {}
    settings: dict[str, tuple[tuple[str, Any], ...]] = {}
    for r in runs:
        setting = tuple((k, r.config.get(k)) for k in by)
        key = json.dumps(setting)
        groups.setdefault(key, []).append(r)
        settings[key] = setting
    out = []
    for key, rs in groups.items():
        accs = [a if math.isfinite(a) else 0.0 for a in (r.accuracy for r in rs)]
        losses = [v for v in (r.loss for r in rs) if math.isfinite(v)]
        out.append(SweepGroup(
            settings[key], len(rs), statistics.fmean(accs),
            statistics.stdev(accs) if len(accs) > 1 else 0.0,
            statistics.fmean(losses) if losses else math.nan,
            sum(bool(r.record.get("diverged")) for r in rs)))
    return sorted(out, key=lambda g: [_sort_key(v) for _, v in g.setting])


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


__all__ = [
    "BACKENDS",
    "DEFAULTS",
    "Grid",
    "RunStore",
    "StoredRun",
    "SweepGroup",
    "SweepResult",
    "check_configs",
    "complete",
    "load_runs",
    "parse_grid",
    "run_config",
    "run_id",
    "run_sweep",
    "split_top_level",
    "summarize_runs",
    "varying_keys",
]
