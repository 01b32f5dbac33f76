from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from initlab.lab import check_examples
from initlab.lab.zoo import deep_mlp
from initlab.web.app import create_app


@pytest.fixture(scope="module")
def model():
    return deep_mlp(depth=3, width=16, in_features=8, out_features=4, activation="relu")


@pytest.fixture(scope="module")
def client(model):
    app = create_app("tests:tiny_mlp", model, model.example_input(16), "tests:my_he",
                     check_examples.kaiming_normal_fan_out)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def bare_client():
    with TestClient(create_app()) as c:
        yield c
