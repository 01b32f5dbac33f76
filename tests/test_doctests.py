"""The ``Examples:`` blocks of every initlab layer run and print what they show.

Style rule: every public function documents itself with an example; this keeps those examples
honest in CI (they are otherwise only run by ``pytest --doctest-modules``, which the README's
test command does not do). About 15 s.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
import torch

import initlab.core
import initlab.lab
import initlab.model
import initlab.probe
import initlab.report
import initlab.theory


def _modules(package) -> list[str]:
    names = [package.__name__]
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return sorted(names)


MODULES = [
    *_modules(initlab.core),
    *_modules(initlab.theory),
    *_modules(initlab.model),
    *_modules(initlab.probe),
    *_modules(initlab.lab),
    *_modules(initlab.report),
    "initlab.schemes",
    "initlab.policies",
    "initlab.files",
]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_the_modules_have_examples():
    """The walk found the layers' modules (guards against a silently empty parametrization)."""
    assert "initlab.core.schemes" in MODULES and "initlab.theory.meanfield" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    for test in finder.find(module, name, globs=dict(vars(module))):
        result = runner.run(test, out=failures.append)
        assert result.failed == 0, f"{test.name}:\n{''.join(failures)}"
