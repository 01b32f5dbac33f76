"""The explorer's API: every endpoint, and every bad input answered with a 422 a person can act
on (the detail names the parameter and what to do)."""

from __future__ import annotations

import json
import math
import time

import pytest


def test_meta_lists_the_registries(client):
    m = client.get("/api/meta").json()
    names = [s["name"] for s in m["starts"]]
    assert {"zeros", "small", "normal", "xavier", "he", "critical"} <= set(names)
    assert "digits" in m["datasets"] and "mnist" in m["datasets"]
    assert m["model"] == "tests:tiny_mlp" and m["check_target"] == "tests:my_he"


def test_page_and_offline_plotly(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/plotly.min.js" in page.text
    assert "cdn" not in page.text.lower()
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000  # the real bundle
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN
    assert client.get("/openapi.json").json()["info"]["title"] == "initlab explorer"


def test_signal_view_matches_theory_for_xavier_on_relu(client):
    r = client.get("/api/signal", params={"activation": "relu", "start": "xavier",
                                          "width": 64, "depth": 6, "batch": 32})
    assert r.status_code == 200
    d = r.json()
    assert "app;dur=" in r.headers["server-timing"]
    assert len(d["pre_rms"]) == 6 and len(d["rows"]) == 7  # Input + 6 hidden layers
    assert d["theory_factor"] == pytest.approx(0.5, rel=0.05)  # σ_w² ≈ 1 on ReLU: ×½ per layer
    assert [r["layer"] for r in d["rows"]][:2] == ["Input", "Hidden 1"]
    assert {"Layer", "Mean"} - set(d["rows"][0]) == {"Layer", "Mean"}  # plain keys
    assert d["rows"][-1]["status"] == "Vanishing"


def test_weights_view_the_seeds_exercise(client):
    xa = client.get("/api/weights", params={"scheme": "xavier", "fan_in": 1024,
                                            "fan_out": 512}).json()
    he = client.get("/api/weights", params={"scheme": "he", "fan_in": 1024,
                                            "fan_out": 512}).json()
    assert round(xa["bound"], 4) == 0.0625 and round(he["bound"], 4) == 0.0765
    assert xa["sample_max"] <= xa["bound"]  # a real uniform draw stays in its bounds
    assert len(xa["counts"]) == 60 == len(xa["centers"])


def test_phase_views(client):
    m = client.get("/api/phase/map", params={"activation": "tanh", "n_w": 10, "n_b": 6}).json()
    assert len(m["chi1"]) == 6 and len(m["chi1"][0]) == 10
    fast = client.get("/api/phase/map", params={"activation": "tanh", "n_w": 10, "n_b": 6,
                                                "correlation": "false"}).json()
    assert fast["chi1"] == m["chi1"] and fast["critical_sigma_w2"] == m["critical_sigma_w2"]
    assert m["c_star"][0][-1] is not None and fast["c_star"][0][-1] is None  # chaotic corner
    p = client.get("/api/phase/point", params={"activation": "tanh", "sigma_w2": 2.5,
                                               "sigma_b2": 0.05, "depth": 10,
                                               "width": 64}).json()
    assert p["phase"] == "chaotic" and p["xi_c"] == pytest.approx(11.796, abs=1e-3)
    assert len(p["q"]) == 11 == len(p["sim_q"])
    nofp = client.get("/api/phase/point", params={"activation": "relu", "sigma_w2": 3,
                                                  "depth": 5, "width": 16}).json()
    assert nofp["phase"] == "no fixed point" and "sigma_w2 <" in nofp["note"]


def test_model_view_and_policy_rerun(client, bare_client):
    d = client.get("/api/model").json()
    assert d["diagnosis"]["schema"] == "initlab.diagnosis/1"
    assert "he" in d["plans"] and d["plans"]["he"]["rows"]
    r = client.get("/api/model/doctor", params={"policy": "he"}).json()
    assert r["policy"] == "he" and r["plan"]
    nomodel = bare_client.get("/api/model")
    assert nomodel.status_code == 404 and "initlab explore pkg.module:factory" in nomodel.json()[
        "detail"]


def test_learn_demos_point_at_valid_controls(client):
    items = client.get("/api/learn").json()["items"]
    assert {"zeros", "barely_learns", "unstable", "redundant"} <= {i["id"] for i in items}
    routes = {"variance": "/api/signal", "signal": "/api/signal", "weights": "/api/weights",
              "phase": "/api/phase/point", "check": "/api/check"}
    for it in items:
        demo = it["demo"]
        if demo["view"] in routes:  # each demo's settings are accepted by its view's API
            r = client.get(routes[demo["view"]], params=demo["params"])
            assert r.status_code == 200, (it["id"], r.text)


def test_check_page(client):
    d = client.get("/api/check", params={"example": "xavier_uniform_no_sqrt3",
                                         "scheme": "xavier_uniform"}).json()
    assert d["mistake"] == "uniform_bound_no_sqrt3"
    cli = client.get("/api/check", params={"example": "cli", "scheme": "kaiming_normal"}).json()
    assert cli["function"] == "tests:my_he" and cli["mistake"] == "fan_out_for_fan_in"


def _events(client, job):
    out = []
    with client.stream("GET", f"/api/train/{job}/events") as s:
        for line in s.iter_lines():
            if line.startswith("data: ") and line != "data: {}":
                out.append(json.loads(line[6:]))
    return out


def test_train_streams_epochs_then_ends(client):
    r = client.post("/api/train", json={"starts": ["zeros", "he"], "depth": 2, "width": 16,
                                        "epochs": 2, "dataset": "digits"})
    assert r.status_code == 200, r.text
    evs = _events(client, r.json()["job"])
    assert evs[0]["type"] == "begin" and evs[-1]["type"] == "end"
    assert evs[-1]["reason"] == "finished"
    per_epoch = evs[0]["steps_per_epoch"]
    steps = [e for e in evs if e["type"] == "step"]
    assert len(steps) == 2 * 2 * per_epoch  # every mini-batch of both runs, live
    assert [e["type"] for e in evs].count("run") == 2
    final = evs[-1]["final"]
    assert len(final["he"]["train_loss"]) == 2
    assert final["he"]["final_test_accuracy"] > final["zeros"]["final_test_accuracy"] + 0.3


def test_train_cancel_and_one_run_at_a_time(client):
    r = client.post("/api/train", json={"starts": ["xavier"], "depth": 2, "width": 16,
                                        "epochs": 100, "dataset": "digits"})
    job = r.json()["job"]
    busy = client.post("/api/train", json={"starts": ["he"]})
    assert busy.status_code == 429 and "already going" in busy.json()["detail"]
    time.sleep(0.3)
    assert client.post(f"/api/train/{job}/cancel").json()["cancelled"]
    evs = _events(client, job)
    assert evs[-1]["reason"] == "cancelled"
    assert client.post("/api/train/nope/cancel").status_code == 404


@pytest.mark.parametrize(
    ("url", "params", "needle"),
    [
        ("/api/signal", {"depth": 1000}, "depth"),
        ("/api/signal", {"depth": 0}, "≥ 1"),
        ("/api/signal", {"width": "wide"}, "width"),
        ("/api/signal", {"width": 2048, "batch": 4096}, "lower width"),
        ("/api/signal", {"start": "os:system"}, "choose one of"),
        ("/api/signal", {"start": "he(gain=__import__)"}, "unknown option"),
        ("/api/signal", {"activation": "swish2"}, "choose one of"),
        ("/api/signal", {"sigma_b": -1}, "sigma_b"),
        ("/api/signal", {"input_scale": "nan"}, "input_scale"),
        ("/api/weights", {"fan_in": 0}, "fan_in"),
        ("/api/weights", {"fan_in": 10**9}, "≤ 65536"),
        ("/api/weights", {"scheme": "magic"}, "choose one of"),
        ("/api/weights", {"distribution": "cauchy"}, "choose one of"),
        ("/api/weights", {"bins": 10**6}, "bins"),
        ("/api/phase/map", {"n_w": 5000}, "n_w"),
        ("/api/phase/map", {"activation": "nope"}, "activation"),
        ("/api/phase/point", {"sigma_w2": -1}, "sigma_w2"),
        ("/api/phase/point", {"c0": 2}, "c0"),
        ("/api/model/doctor", {"policy": "magic"}, "choose one of"),
        ("/api/check", {"scheme": "magic"}, "choose one of"),
        ("/api/check", {"example": "os.system"}, "choose one of"),
    ],
)
def test_bad_inputs_get_actionable_422(client, url, params, needle):
    r = client.get(url, params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and needle in detail


def test_check_cli_example_without_a_function(bare_client):
    r = bare_client.get("/api/check", params={"example": "cli"})
    assert r.status_code == 422 and "--check" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"starts": []}, "starts"),
        ({"starts": ["he", "he"]}, "repeats"),
        ({"starts": ["pkg.mod:fn"]}, "choose one of"),
        ({"dataset": "npz:/etc/passwd"}, "dataset"),
        ({"epochs": 10**6}, "epochs"),
        ({"max_seconds": 10**6}, "max_seconds"),
        ({"lr": -1}, "lr"),
        ({"optimizer": "lbfgs"}, "optimizer"),
    ],
)
def test_bad_training_requests(client, body, needle):
    r = client.post("/api/train", json=body)
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"]


def test_concurrency_gate_answers_503_when_saturated(bare_client):
    state = bare_client.app.state.explorer
    taken = [state.gate.acquire(timeout=1) for _ in range(state.max_concurrent)]
    try:
        # the gate waits 15 s before giving up; make it impatient for the test
        import initlab.web.app as webapp

        old = webapp.GATE_TIMEOUT
        webapp.GATE_TIMEOUT = 0.05
        r = bare_client.get("/api/weights", params={"seed": 12345})
        assert r.status_code == 503 and "busy" in r.json()["detail"]
    finally:
        webapp.GATE_TIMEOUT = old
        for t in taken:
            if t:
                state.gate.release()


@pytest.mark.parametrize("law", ["normal", "uniform", "truncated_normal"])
def test_weight_histogram_follows_the_density(client, law):
    d = client.get("/api/weights", params={"scheme": "he", "fan_in": 1024, "fan_out": 512,
                                           "distribution": law}).json()
    n = d["n_drawn"]
    lo, hi = (d["lo"] or -math.inf), (d["hi"] or math.inf)
    for a, b, c, x in zip(d["edges"], d["edges"][1:], d["counts"], d["centers"], strict=False):
        width = b - a
        p = _interp(x, d["curve_x"], d["curve_y"]) * width  # the bin's expected mass
        if p < 0.005 or a < lo or b > hi:  # tails and bins straddling the support's edge
            continue
        # a bin's count is Binomial(n, p): 5 standard errors, plus 1 % for the midpoint rule
        assert abs(c * width - p) <= 5 * math.sqrt(p * (1 - p) / n) + 0.01 * p, (law, x)
    assert d["sample_std"] == pytest.approx(d["std"], rel=5 * math.sqrt(2 / n))


def _interp(x, xs, ys):
    i = next(k for k in range(1, len(xs)) if xs[k] >= x)
    t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    return ys[i - 1] + t * (ys[i] - ys[i - 1])
