"""Parameter files for ``orfeas batch``: a grid (cartesian product) or a list of runs, and run ids.

A file is YAML or JSON (by suffix; ``.yaml``/``.yml``/``.json``) in one of these shapes::

    grid:                 # every combination: 3 × 2 = 6 runs
      quality: [4, 6, 8]
      method: [relief, lithophane]
    common:               # optional: the same values in every run
      size_mm: 60

    runs:                 # or an explicit list (a top-level list works too)
      - {quality: 4}
      - {quality: 8, method: extrude}

A key may appear only once in a mapping: a repeated key is refused rather than letting the last one
silently win.

Each run is named by :func:`run_id`, a hash of its parameters that does not depend on key order, so
the same parameters always land in the same folder and a rerun can skip what already finished.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidInput

Params = dict[str, Any]
_KEYS = {"grid", "runs", "common"}


class _RepeatedKey(ValueError):
    """A mapping in a parameter file names the same key twice."""


def run_id(params: Mapping[str, Any]) -> str:
    """A stable folder name for one parameter set: ``run-`` and 12 hex digits of a SHA-256.

    >>> run_id({"quality": 4, "method": "relief"}) == run_id({"method": "relief", "quality": 4})
    True
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "run-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def read_params_file(path: str | os.PathLike) -> Any:
    """Parse a YAML or JSON parameter file (the suffix decides) into plain Python data."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InvalidInput(f"parameter file {path.name!r} must end in .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"parameter file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read parameter file {path}: {exc}") from exc
    try:
        if suffix == ".json":
            return json.loads(text, object_pairs_hook=_unique_pairs)
        return _load_yaml(text)
    except _RepeatedKey as exc:
        raise InvalidInput(f"{path.name} has {exc}; give each key once (the last one would silently win)") from None
    except RecursionError:
        raise InvalidInput(f"{path.name} is nested too deeply to be a parameter file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name} is not valid JSON: {exc}") from exc
    except ValueError as exc:  # yaml.YAMLError is not a ValueError: _load_yaml re-raises it as one
        raise InvalidInput(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from exc


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook``: a dict, or :class:`_RepeatedKey` if a key comes twice."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _RepeatedKey(f"the key {key!r} twice in one mapping")
        document[key] = value
    return document


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` without aliases (a few hundred bytes of nested aliases can expand to
    gigabytes) and without repeated keys in a mapping."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"aliases (*{event.anchor}) are not allowed: write the values out", event.start_mark
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):
            seen = []
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: {...}` is YAML's own override rule
                    continue
                key = self.construct_object(key_node, deep=True)
                if key in seen:  # a list, not a set: an unhashable key is left to PyYAML's own error
                    mark = key_node.start_mark
                    raise _RepeatedKey(f"the key {key!r} twice in one mapping (line {mark.line + 1}, column {mark.column + 1})")
                seen.append(key)
            return super().construct_mapping(node, deep=deep)

    loader = NoAliasLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
    finally:
        loader.dispose()


def expand(document: Any) -> list[Params]:
    """Turn a parameter document (grid, runs list or top-level list) into the list of runs.

    >>> expand({"grid": {"q": [1, 2], "m": ["a"]}, "common": {"s": 5}})
    [{'s': 5, 'q': 1, 'm': 'a'}, {'s': 5, 'q': 2, 'm': 'a'}]
    """
    if isinstance(document, list):
        document = {"runs": document}
    if not isinstance(document, dict) or not document:
        raise InvalidInput("parameters must be a mapping with 'grid' or 'runs' (and optionally 'common'), or a list")
    unknown = set(document) - _KEYS
    if unknown:
        raise InvalidInput(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; use 'grid' or 'runs', and 'common'")
    if ("grid" in document) == ("runs" in document):
        raise InvalidInput("give exactly one of 'grid' (every combination) or 'runs' (a list of parameter sets)")
    common = _mapping("common", document.get("common") or {})
    if "grid" in document:
        runs = _grid(_mapping("grid", document["grid"]))
    else:
        runs = _runs(document["runs"])
    runs = [{**common, **run} for run in runs]
    _check_values(runs)
    _check_unique(runs)
    return runs


def _mapping(where: str, value: Any) -> Params:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
        raise InvalidInput(f"'{where}' must map parameter names (Python identifiers) to values")
    return value


def _grid(grid: Params) -> list[Params]:
    if not grid:
        raise InvalidInput("'grid' is empty: give at least one parameter with a list of values")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise InvalidInput(
                f"grid.{name} must be a non-empty list of values; put a single fixed value under 'common'"
            )
    _check_count(math.prod(len(values) for values in grid.values()))
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _runs(runs: Any) -> list[Params]:
    if not isinstance(runs, list) or not runs:
        raise InvalidInput("'runs' must be a non-empty list of parameter mappings")
    _check_count(len(runs))
    return [_mapping(f"runs[{i}]", run) for i, run in enumerate(runs)]


def _check_count(count: int) -> None:
    limit = config.get("batch_max_runs")
    if count > limit:
        raise InvalidInput(f"{count:,} runs is more than ORFEAS_BATCH_MAX_RUNS={limit:,}; split the sweep or raise the limit")


def _check_values(runs: Iterable[Params]) -> None:
    for i, run in enumerate(runs):
        try:
            json.dumps(run, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidInput(f"run {i} has a value that is not plain data (text, number, bool, list, mapping): {exc}") from exc


def _check_unique(runs: list[Params]) -> None:
    seen: dict[str, int] = {}
    for i, run in enumerate(runs):
        key = run_id(run)
        if key in seen:
            raise InvalidInput(f"run {i} repeats run {seen[key]} ({run}); remove the duplicate")
        seen[key] = i


def check_against_notebook(runs: list[Params], declared: Mapping[str, Any], notebook: str, reserved: str | None) -> None:
    """Every parameter must be declared in the notebook's ``parameters`` cell; ``reserved`` is set by batch."""
    for run in runs:
        if reserved is not None and reserved in run:
            raise InvalidInput(f"'{reserved}' is set by orfeas batch to each run's own folder; remove it from the parameters")
        unknown = sorted(set(run) - set(declared))
        if unknown:
            raise InvalidInput(
                f"{notebook} has no parameter(s) {', '.join(unknown)}; its parameters cell declares: "
                f"{', '.join(declared) or 'nothing'}"
            )
