"""The docstring examples of initlab.scale run (tests/test_doctests.py walks the other layers)."""

from __future__ import annotations

import doctest
import importlib

import pytest
import torch

MODULES = ["initlab.scale", "initlab.scale.sharded", "initlab.scale.checkpoint",
           "initlab.scale.distcp"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module)
    for t in tests:
        runner.run(t)
    assert runner.failures == 0, f"{name}: {runner.failures} doctest failure(s)"
    assert name == "initlab.scale" or runner.tries > 0
