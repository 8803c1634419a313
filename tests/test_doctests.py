"""Every runnable example in orfeas_nb's docstrings works (examples that need weights are plain code blocks)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import orfeas_nb

pytestmark = pytest.mark.unit

MODULES = sorted(
    name
    for name in (m.name for m in pkgutil.walk_packages(orfeas_nb.__path__, "orfeas_nb."))
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["orfeas_nb", *MODULES])
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed (see output)"
