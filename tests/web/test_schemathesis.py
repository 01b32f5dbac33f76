"""Property-based run of the explorer's OpenAPI spec (schemathesis): whatever the inputs the
spec allows, the server never answers with a 5xx, and every 422 carries a sentence a person can
act on. Bounded: 8 generated examples per operation, derandomized (the training routes, which
start threads, are covered in test_api)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from initlab.lab.zoo import deep_mlp  # noqa: E402
from initlab.web.app import create_app  # noqa: E402

_model = deep_mlp(depth=2, width=8, in_features=4, out_features=3, activation="tanh")
app = create_app("tests:tiny", _model, _model.example_input(8))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
OPERATIONS = [r.ok() for r in schema.get_all_operations() if "/api/train" not in r.ok().path]
# the heavy views at the spec's largest sizes take seconds each; keep the run short
CAPS = {"width": 64, "batch": 64, "depth": 8, "n_w": 20, "n_b": 20}


def test_spec_covers_every_view():
    paths = {op.path for op in OPERATIONS}
    assert {"/api/signal", "/api/weights", "/api/phase/map", "/api/phase/point", "/api/model",
            "/api/model/doctor", "/api/learn", "/api/check", "/api/meta"} <= paths


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_api_never_fails_and_explains_errors(operation):
    @given(case=operation.as_strategy())
    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        for k, cap in CAPS.items():
            v = (case.query or {}).get(k)
            if isinstance(v, int) and v > cap:
                case.query[k] = cap
        response = case.call()
        assert response.status_code < 500, response.text
        if response.status_code == 422:
            detail = response.json()["detail"]
            assert isinstance(detail, str) and len(detail) > 10

    run()
