"""The explorer's FastAPI app: routes that validate their inputs and call the library.

Every route computes with the same library calls as the CLI (:mod:`initlab.lab.views`,
:func:`initlab.doctor`, :func:`initlab.plan`, :func:`initlab.lab.check.check_initializer`,
:func:`initlab.lab.train.train`); the page only draws what they return. Inputs are bounded
(depth, width, batch, grid size, epochs, run time) and a bad one gets a 422 whose ``detail`` is
one sentence a person can act on. Nothing the page sends is imported or evaluated: starts,
activations, schemes and examples are looked up by name in the library's registries; the only
code the server imports is what its command line named (the model factory, the function to
check). At most ``max_concurrent`` computations run at once (others wait up to 15 s, then 503),
and one training run at a time.

Examples:
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app())
    >>> client.get("/api/weights", params={"scheme": "he", "fan_in": 1024}).json()["bound"]
    0.07654655446197431
    >>> client.get("/api/signal", params={"depth": 1000}).status_code
    422
"""

from __future__ import annotations

import copy
import json
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from initlab.errors import InitError

#: Work bound of the signal views: depth · width² · batch (float64 forward + backward ≈ 1 s).
MAX_SIGNAL_WORK = 2e9
#: Longest training run the page may ask for (seconds, all starts together).
MAX_TRAIN_SECONDS = 300.0
#: Seconds a request waits for a free computation slot before a 503.
GATE_TIMEOUT = 15.0
#: Results kept per view (moving a slider back is then instant).
CACHE_SIZE = 128


def static_dir() -> Path:
    """The page's files, shipped in the package (``initlab/web/static``)."""
    return Path(str(resources.files("initlab.web") / "static"))


def plotly_js() -> Path:
    """``plotly.min.js`` from the installed ``plotly`` Python package (no CDN: works offline).

    Raises:
        InitError: plotly is not installed or does not ship the file.
    """
    try:
        import plotly
    except ImportError:  # pragma: no cover - declared dependency
        raise InitError("the explorer needs plotly: pip install 'plotly>=5.20'") from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - every plotly wheel ships it
        raise InitError(f"plotly {plotly.__version__} has no {path}; reinstall plotly")
    return path


# ----------------------------------------------------------------------------- the state ---


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        value = make()
        with self.lock:
            self.data[key] = value
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return value


@dataclass
class _Job:
    id: str
    events: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    done: bool = False


@dataclass
class ExplorerState:
    """What the server was started with and its shared state (caches, limits, jobs)."""

    model_target: str | None = None
    model: Any = None
    example_input: Any = None
    check_target: str | None = None
    check_fn: Callable[..., Any] | None = None
    max_concurrent: int = 2
    #: where the training view's runs train (the "Your model" view runs where its model is)
    device: Any = "cpu"
    gate: threading.BoundedSemaphore = field(init=False)
    cache: _LRU = field(default_factory=lambda: _LRU(CACHE_SIZE))
    jobs: dict[str, _Job] = field(default_factory=dict)
    jobs_lock: threading.Lock = field(default_factory=threading.Lock)
    #: the doctor hooks the model it measures: one request at a time on the shared model
    model_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.gate = threading.BoundedSemaphore(self.max_concurrent)


def _busy() -> HTTPException:
    return HTTPException(503, "the explorer is busy with other requests; try again in a moment")


def _compute(state: ExplorerState, key: Any, make: Callable[[], Any]) -> Any:
    """Run ``make`` under the concurrency gate (cached by ``key``); InitError → 422."""

    def gated() -> Any:
        if not state.gate.acquire(timeout=GATE_TIMEOUT):
            raise _busy()
        try:
            return make()
        finally:
            state.gate.release()

    try:
        return state.cache.get(key, gated) if key is not None else gated()
    except InitError as e:
        raise HTTPException(422, str(e)) from None


def _bad(message: str) -> HTTPException:
    return HTTPException(422, message)


# --------------------------------------------------------------------------------- names ---
def _start_names() -> list[str]:
    from initlab.lab.starts import available_starts

    return [s.name for s in available_starts()]


def _check_start(name: str, field_name: str = "start") -> str:
    """A start from the registry, by name (options allowed: ``critical(sigma_b2=0.05)``);
    never a ``pkg.module:function`` (that would import code the page chose)."""
    names = _start_names()
    base = name.split("(", 1)[0].strip()
    if ":" in name or base not in names:
        raise _bad(f"{field_name}: unknown start {name!r}; choose one of {', '.join(names)}")
    return name


def _check_activation(name: str) -> str:
    from initlab.core.activations import get_activation

    if name not in _activation_names():
        raise _bad(f"activation: unknown {name!r}; choose one of {', '.join(_activation_names())}")
    return get_activation(name).name


def _activation_names() -> list[str]:
    return ["relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "selu", "gelu", "silu",
            "softplus", "mish"]


# ----------------------------------------------------------------------- request bodies ---


class TrainRequest(BaseModel):
    """A training comparison: each start trains the same MLP on the same data and seed."""

    starts: list[str] = Field(default=["zeros", "normal", "xavier", "he"], min_length=1,
                              max_length=6)
    dataset: str = "digits"
    activation: str = "relu"
    depth: int = Field(default=4, ge=1, le=20)
    width: int = Field(default=64, ge=2, le=512)
    epochs: int = Field(default=10, ge=1, le=100)
    lr: float = Field(default=0.01, gt=0, le=10)
    optimizer: str = "sgd"
    batch_size: int = Field(default=64, ge=1, le=1024)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    max_seconds: float = Field(default=60.0, gt=0, le=MAX_TRAIN_SECONDS)


# ----------------------------------------------------------------------------- the app ---
def _human(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path")]
        name = ".".join(loc) or "request"
        got = e.get("input")
        msg = e.get("msg", "invalid")
        ctx = e.get("ctx") or {}
        hint = ""
        if "le" in ctx or "lt" in ctx:
            hint = f"; use a value ≤ {ctx.get('le', ctx.get('lt'))}"
        elif "ge" in ctx or "gt" in ctx:
            hint = f"; use a value ≥ {ctx.get('ge', ctx.get('gt'))}"
        shown = "" if got is None or isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{name}: {msg[0].lower() + msg[1:]}{shown}{hint}")
    return "; ".join(parts)


router = APIRouter()


async def _timing(request: Request, call_next: Callable[..., Any]) -> Any:
    """``Server-Timing: app;dur=<wall ms>, cpu;dur=<process CPU ms>`` on every response (the CPU
    time is what the request costs on an idle machine; wall time also counts waiting for a core)."""
    t0, c0 = time.perf_counter(), time.process_time()
    response = await call_next(request)
    if "server-timing" not in response.headers:
        ms = (time.perf_counter() - t0) * 1e3
        cpu = (time.process_time() - c0) * 1e3
        response.headers["Server-Timing"] = f"app;dur={ms:.2f}, cpu;dur={cpu:.2f}"
    return response


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = list(exc.errors())
    return JSONResponse(
        status_code=422,
        content={"detail": _human(errs),
                 "errors": json.loads(json.dumps(errs, default=str))},
    )


async def _init_error(request: Request, exc: InitError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": str(exc)})


# ------------------------------------------------------------------------- page ---
@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(static_dir() / "index.html", media_type="text/html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/static/plotly.min.js", include_in_schema=False)
def plotly() -> FileResponse:
    return FileResponse(plotly_js(), media_type="application/javascript",
                        headers={"Cache-Control": "max-age=86400"})


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    files = {"app.js": "application/javascript", "style.css": "text/css"}
    if name not in files:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(static_dir() / name, media_type=files[name])


# ------------------------------------------------------------------------- meta ---
@router.get("/api/meta")
def meta(request: Request) -> dict[str, Any]:
    """Everything the menus offer: activations, starts, schemes, datasets, policies."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.check import CHECK_SCHEMES
    from initlab.lab.check_examples import EXAMPLES
    from initlab.lab.data import available_datasets
    from initlab.lab.starts import available_starts
    from initlab.lab.views import DISTRIBUTIONS, weight_schemes
    from initlab.model.policies import POLICIES

    return {
        "activations": _activation_names(),
        "starts": [{"name": s.name, "label": s.label, "description": s.description,
                    "kind": s.kind} for s in available_starts()],
        "weight_schemes": list(weight_schemes()),
        "distributions": list(DISTRIBUTIONS),
        "datasets": [d for d in available_datasets() if d in ("digits", "mnist", "mnist1d")],
        "optimizers": ["sgd", "adam"],
        "policies": list(POLICIES),
        "check_schemes": list(CHECK_SCHEMES),
        "check_examples": [
            {"name": k, "scheme": v[1], "mistake": v[2]} for k, v in EXAMPLES.items()
        ],
        "check_target": state.check_target,
        "model": state.model_target if state.model is not None else None,
        "limits": {"signal_work": MAX_SIGNAL_WORK, "train_seconds": MAX_TRAIN_SECONDS},
    }


# ----------------------------------------------------------- views 1 and 3: signal ---
@router.get("/api/signal")
def signal(request: Request,
    activation: str = "relu",
    start: str = "he",
    width: Annotated[int, Query(ge=2, le=2048)] = 128,
    depth: Annotated[int, Query(ge=1, le=200)] = 20,
    sigma_b: Annotated[float, Query(ge=0, le=10)] = 0.0,
    input_scale: Annotated[float, Query(ge=1e-6, le=1000)] = 1.0,
    batch: Annotated[int, Query(ge=2, le=4096)] = 64,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Views 1 and 3: activation and gradient through depth, the mean-field curve, the
    per-layer factor, the signal-propagation table and the doctor's findings."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.views import signal_propagation

    act = _check_activation(activation)
    st = _check_start(start)
    work = depth * width * width * batch
    if work > MAX_SIGNAL_WORK:
        raise _bad(
            f"depth × width² × batch = {work:.3g} is more than this page computes at once "
            f"({MAX_SIGNAL_WORK:.0e}); lower width (cost grows with its square) or batch"
        )
    key = ("signal", act, st, width, depth, sigma_b, input_scale, batch, seed)
    return _compute(state, key, lambda: signal_propagation(
        act, st, width, depth, sigma_b, input_scale, batch, seed).to_dict())


# ------------------------------------------------------------------- view 2: weights ---
@router.get("/api/weights")
def weights(request: Request,
    scheme: str = "xavier",
    fan_in: Annotated[int, Query(ge=1, le=65536)] = 1024,
    fan_out: Annotated[int, Query(ge=1, le=65536)] = 512,
    distribution: str = "uniform",
    activation: str = "relu",
    bins: Annotated[int, Query(ge=5, le=200)] = 60,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """View 2: a real draw's histogram, the theoretical density, std and bounds."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.views import DISTRIBUTIONS, weight_distribution, weight_schemes

    if scheme not in weight_schemes():
        raise _bad(f"scheme: unknown {scheme!r}; choose one of {', '.join(weight_schemes())}")
    if distribution not in DISTRIBUTIONS:
        raise _bad(f"distribution: unknown {distribution!r}; choose one of "
                   f"{', '.join(DISTRIBUTIONS)}")
    act = _check_activation(activation)
    key = ("weights", scheme, fan_in, fan_out, distribution, act, bins, seed)
    return _compute(state, key, lambda: weight_distribution(
        scheme, fan_in, fan_out, distribution, act, bins, seed).to_dict())


# --------------------------------------------------------------------- view 4: phase ---
@router.get("/api/phase/map")
def phase_map_route(request: Request,
    activation: str = "tanh",
    n_w: Annotated[int, Query(ge=2, le=200)] = 80,
    n_b: Annotated[int, Query(ge=2, le=200)] = 50,
    correlation: bool = True,
) -> dict[str, Any]:
    """View 4: the phase diagram (χ₁, ξ_c, phase codes, critical line) on a grid;
    ``correlation=false`` leaves out c*, χ_c, ξ_c (the page draws χ₁ and the critical line)."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.views import phase_map

    act = _check_activation(activation)
    return _compute(state, ("phase_map", act, n_w, n_b, correlation),
                    lambda: phase_map(act, n_w, n_b, correlation))


@router.get("/api/phase/point")
def phase_point_route(request: Request,
    activation: str = "tanh",
    sigma_w2: Annotated[float, Query(ge=0, le=100)] = 1.5,
    sigma_b2: Annotated[float, Query(ge=0, le=10)] = 0.05,
    depth: Annotated[int, Query(ge=1, le=200)] = 30,
    width: Annotated[int, Query(ge=2, le=512)] = 256,
    c0: Annotated[float, Query(ge=-1, le=1)] = 0.5,
) -> dict[str, Any]:
    """View 4: q*, χ₁, ξ_c, the phase and the depth profile at one point."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.views import phase_point

    act = _check_activation(activation)
    key = ("phase_point", act, sigma_w2, sigma_b2, depth, width, c0)
    return _compute(state, key, lambda: phase_point(
        act, sigma_w2, sigma_b2, depth, width, c0).to_dict())


# --------------------------------------------------------------------- view 5: train ---
@router.post("/api/train")
def train_start(request: Request, req: TrainRequest) -> dict[str, Any]:
    """View 5: start a training comparison; follow it at ``/api/train/{job}/events``."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.data import available_datasets
    from initlab.lab.live import compare_live

    starts = [_check_start(s, "starts") for s in req.starts]
    if len(set(starts)) != len(starts):
        raise _bad(f"starts: {starts} repeats a start; give each once")
    act = _check_activation(req.activation)
    if req.dataset not in available_datasets() or ":" in req.dataset:
        raise _bad(f"dataset: unknown {req.dataset!r}; choose one of "
                   f"{', '.join(available_datasets())}")
    if req.optimizer not in ("sgd", "adam"):
        raise _bad(f"optimizer: {req.optimizer!r} is not sgd or adam")
    with state.jobs_lock:
        running = [j for j in state.jobs.values() if not j.done]
        if running:
            raise HTTPException(
                429, f"a training run ({running[0].id}) is already going; cancel it or wait")
        job = _Job(uuid.uuid4().hex[:12])
        state.jobs[job.id] = job

    def work() -> None:
        try:
            with state.gate:
                compare_live(
                    starts, dataset=req.dataset, activation=act, depth=req.depth,
                    width=req.width, epochs=req.epochs, lr=req.lr, optimizer=req.optimizer,
                    batch_size=req.batch_size, seed=req.seed, max_seconds=req.max_seconds,
                    on_event=job.events.put, should_stop=job.stop.is_set,
                    device=state.device,
                )
        except InitError as e:
            job.events.put({"type": "error", "detail": str(e)})
        except Exception as e:  # keep the server alive; tell the page
            job.events.put({"type": "error", "detail": f"{type(e).__name__}: {e}"})
        finally:
            job.done = True
            job.events.put(None)

    job.thread = threading.Thread(target=work, name=f"train-{job.id}", daemon=True)
    job.thread.start()
    return {"job": job.id, "events": f"/api/train/{job.id}/events"}


def _job(request: Request, job_id: str) -> _Job:
    state: ExplorerState = request.app.state.explorer
    job = state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no training run {job_id!r}; start one with POST /api/train")
    return job


@router.get("/api/train/{job_id}/events")
def train_events(request: Request, job_id: str) -> StreamingResponse:
    """Server-sent events: ``begin``, one ``step`` per mini-batch, one ``run`` per finished
    start, then ``end`` (see :func:`initlab.lab.live.compare_live`)."""
    job = _job(request, job_id)

    def stream() -> Iterator[str]:
        while True:
            try:
                ev = job.events.get(timeout=15)
            except queue.Empty:
                yield ": keep-alive\n\n"
                continue
            if ev is None:
                yield "event: close\ndata: {}\n\n"
                return
            yield f"data: {json.dumps(ev)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.post("/api/train/{job_id}/cancel")
def train_cancel(request: Request, job_id: str) -> dict[str, Any]:
    """Stop a training run after its current mini-batch."""
    job = _job(request, job_id)
    job.stop.set()
    return {"job": job_id, "cancelled": True, "done": job.done}


# ----------------------------------------------------------------- view 6: the model ---
def _need_model(state: ExplorerState) -> None:
    if state.model is None:
        raise HTTPException(
            404, "no model: start the explorer with one, e.g. "
            "`initlab explore pkg.module:factory --input-shape 8,3,32,32`")


@router.get("/api/model")
def model_view(request: Request) -> dict[str, Any]:
    """View 6: the model's doctor report as built and the plan of each policy."""
    state: ExplorerState = request.app.state.explorer

    _need_model(state)

    def make() -> dict[str, Any]:
        with state.model_lock:
            return _model_report(state)

    return _compute(state, ("model",), make)


def _model_report(state: ExplorerState) -> dict[str, Any]:
    """The doctor on the model as built and the plan of every policy (errors kept per policy)."""
    import initlab
    from initlab.model.policies import POLICIES

    dx = initlab.doctor(state.model, state.example_input, samples=False)
    plans = {}
    for p in POLICIES:
        try:
            pl = initlab.plan(state.model, state.example_input, policy=p)
            plans[p] = {"rows": [r.to_dict() for r in pl.rows], "error": None}
        except InitError as e:
            plans[p] = {"rows": [], "error": str(e)}
    return {"model": state.model_target, "diagnosis": dx.to_dict(), "plans": plans}


@router.get("/api/model/doctor")
def model_doctor(request: Request, policy: str = "auto",
                 seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> dict[str, Any]:
    """View 6: the doctor re-run on a copy of the model initialized with ``policy``."""
    state: ExplorerState = request.app.state.explorer
    import initlab
    from initlab.model.policies import POLICIES

    _need_model(state)
    if policy not in POLICIES:
        raise _bad(f"policy: unknown {policy!r}; choose one of {', '.join(POLICIES)}")

    def make() -> dict[str, Any]:
        with state.model_lock:  # never copy it while the doctor's hooks are on it
            m = copy.deepcopy(state.model)
        pl = initlab.init(m, state.example_input, policy=policy, seed=seed)
        dx = initlab.doctor(m, state.example_input, samples=False)
        return {"policy": policy, "plan": [r.to_dict() for r in pl.rows],
                "diagnosis": dx.to_dict()}

    return _compute(state, ("model_doctor", policy, seed), make)


# ---------------------------------------------------------------------- view 7: learn ---
@router.get("/api/learn")
def learn() -> dict[str, Any]:
    """View 7: knowledge checks and troubleshooting cases, each with a live demo."""
    from initlab.web.learn import LEARN

    return {"items": list(LEARN)}


# ------------------------------------------------------------------------ check page ---
@router.get("/api/check")
def check(request: Request,
    example: str = "xavier_normal",
    scheme: str = "xavier_normal",
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """The check page: a learner's initializer (a shipped example, or ``cli`` for the
    function named on the command line) against initlab's reference."""
    state: ExplorerState = request.app.state.explorer
    from initlab.lab.check import CHECK_SCHEMES, check_initializer, get_check_scheme
    from initlab.lab.check_examples import EXAMPLES

    try:
        get_check_scheme(scheme)
    except InitError:
        raise _bad(
            f"scheme: unknown {scheme!r}; choose one of {', '.join(CHECK_SCHEMES)}"
        ) from None
    if example == "cli":
        if state.check_fn is None:
            raise _bad("example: 'cli' needs a function on the command line: "
                       "`initlab explore --check my_module:my_xavier`")
        fn, label = state.check_fn, state.check_target or "cli"
    elif example in EXAMPLES:
        fn, label = EXAMPLES[example][0], f"initlab.lab.check_examples:{example}"
    else:
        raise _bad(f"example: unknown {example!r}; choose one of "
                   f"{', '.join([*EXAMPLES, 'cli'])}")
    return _compute(state, ("check", example, scheme, seed), lambda: check_initializer(
        fn, scheme, seed=seed, name=label).to_dict())


@router.get("/api/health")
def health() -> dict[str, Any]:
    return {"ok": True, "time": time.time()}


def _warm_phase_tables() -> None:
    """Build the phase view's per-activation quadrature tables (kept across requests by
    :mod:`initlab.theory.phase`) for every activation of the menu, so that choosing one costs
    only its grid (≈ 0.1 s each, once)."""
    from initlab.theory.phase import warm_tables

    for name in _activation_names():
        warm_tables(name)


def create_app(
    model_target: str | None = None,
    model: Any = None,
    example_input: Any = None,
    check_target: str | None = None,
    check_fn: Callable[..., Any] | None = None,
    *,
    max_concurrent: int = 2,
    warm: bool = False,
    device: Any = "cpu",
) -> FastAPI:
    """The explorer app. ``model``/``example_input``: the "Your model" view's model (imported by
    the CLI from ``model_target``); ``check_fn``: a learner's function for the check page
    (from ``check_target``); ``warm``: run each view once at start-up so the first control move
    is fast; ``device``: where the training view trains (``"cpu"``, ``"cuda"``…).

    Raises:
        InitError: plotly missing (the page's charts), a device this machine lacks.
    """
    from initlab.devices import resolve_device

    device = resolve_device(device)
    plotly_js()
    app = FastAPI(
        title="initlab explorer",
        version="1",
        description="Interactive views of initialization: every number computed by initlab.",
        docs_url=None,  # FastAPI's docs pages load Swagger UI / ReDoc from a CDN: offline, no
        redoc_url=None,  # the spec itself stays at /openapi.json
    )
    app.state.explorer = ExplorerState(model_target, model, example_input, check_target,
                                       check_fn, max_concurrent=max_concurrent, device=device)
    app.middleware("http")(_timing)
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(InitError, _init_error)  # type: ignore[arg-type]
    app.include_router(router)
    if warm:
        from starlette.requests import Request as _Req

        req = _Req({"type": "http", "app": app})
        signal(req)
        weights(req)
        phase_point_route(req)
        _warm_phase_tables()
    return app


__all__ = ["MAX_SIGNAL_WORK", "MAX_TRAIN_SECONDS", "ExplorerState", "TrainRequest", "create_app",
           "plotly_js", "router", "static_dir"]
