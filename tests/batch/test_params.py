"""Parameter files: grid and list shapes, stable run ids, and a clear message for every bad file."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orfeas_nb.batch.params import check_against_notebook, expand, read_params_file, run_id
from orfeas_nb.errors import InvalidInput

pytestmark = pytest.mark.unit

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), st.text(max_size=6), st.floats(-1e6, 1e6))


axes = st.lists(scalars, min_size=1, max_size=3, unique_by=lambda v: json.dumps(v))


@given(st.dictionaries(names, axes, min_size=1, max_size=3))
def test_grid_is_the_cartesian_product_with_one_distinct_id_per_run(grid):
    runs = expand({"grid": grid})
    assert len(runs) == math.prod(len(v) for v in grid.values())
    assert all(set(run) == set(grid) for run in runs)
    assert len({run_id(run) for run in runs}) == len(runs)


@given(st.dictionaries(names, scalars, min_size=1, max_size=6))
def test_run_id_ignores_key_order_and_has_a_fixed_shape(params):
    reordered = dict(reversed(list(params.items())))
    assert run_id(params) == run_id(reordered)
    assert re.fullmatch(r"run-[0-9a-f]{12}", run_id(params))


def test_run_id_is_stable_across_versions_and_tells_types_apart():
    # pinned: a changed hash would make every rerun redo finished runs
    assert run_id({"quality": 4, "method": "relief"}) == run_id({"method": "relief", "quality": 4})
    assert run_id({"quality": 4}) != run_id({"quality": 4.0}) != run_id({"quality": "4"})


def test_common_values_apply_to_every_run_and_runs_override_them():
    runs = expand({"runs": [{"q": 1}, {"q": 2, "m": "b"}], "common": {"m": "a", "s": 5}})
    assert runs == [{"m": "a", "s": 5, "q": 1}, {"m": "b", "s": 5, "q": 2}]
    assert expand([{"q": 1}, {"q": 2}]) == [{"q": 1}, {"q": 2}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("grid", "mapping with 'grid' or 'runs'"),
        ({}, "mapping with 'grid' or 'runs'"),
        ({"grid": {"q": [1]}, "runs": [{"q": 1}]}, "exactly one of"),
        ({"common": {"q": 1}}, "exactly one of"),
        ({"grid": {"q": [1]}, "extra": 1}, "unknown key(s) extra"),
        ({"grid": {"q": 1}}, "grid.q must be a non-empty list"),
        ({"grid": {"q": []}}, "grid.q must be a non-empty list"),
        ({"grid": {}}, "'grid' is empty"),
        ({"grid": {"not a name": [1]}}, "Python identifiers"),
        ({"runs": []}, "non-empty list"),
        ({"runs": [1, 2]}, "'runs[0]' must map"),
        ({"runs": [{"q": 1}, {"q": 1}]}, "run 1 repeats run 0"),
        ({"runs": [{"q": float("nan")}]}, "not plain data"),
        ({"runs": [{"q": {1, 2}}]}, "not plain data"),
    ],
)
def test_bad_documents_are_refused_with_what_to_do(document, message):
    with pytest.raises(InvalidInput) as info:
        expand(document)
    assert message in str(info.value)


def test_a_grid_larger_than_the_limit_is_refused_before_it_is_expanded(monkeypatch):
    monkeypatch.setenv("ORFEAS_BATCH_MAX_RUNS", "100")
    huge = {"grid": {f"p{i}": list(range(100)) for i in range(12)}}  # 10^24 runs: must not be built
    with pytest.raises(InvalidInput, match="ORFEAS_BATCH_MAX_RUNS=100"):
        expand(huge)
    with pytest.raises(InvalidInput, match="101 runs"):
        expand({"runs": [{"q": i} for i in range(101)]})


def test_yaml_and_json_files_read_the_same(tmp_path):
    (tmp_path / "a.yaml").write_text("grid:\n  quality: [4, 8]\ncommon:\n  method: relief\n")
    (tmp_path / "a.json").write_text(json.dumps({"grid": {"quality": [4, 8]}, "common": {"method": "relief"}}))
    assert expand(read_params_file(tmp_path / "a.yaml")) == expand(read_params_file(tmp_path / "a.json"))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.txt", "grid: {}", "must end in .yaml, .yml or .json"),
        ("p.yaml", "grid: [1, 2", "not valid YAML"),
        ("p.json", "{grid", "not valid JSON"),
        ("p.yml", b"\xff\xfe\x00bad", "cannot read"),
    ],
)
def test_unreadable_files_are_invalid_input(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InvalidInput, match=message):
        read_params_file(path)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        read_params_file(tmp_path / "nope.yaml")


def test_parameters_must_be_declared_by_the_notebook():
    declared = {"quality": 6, "output_dir": ""}
    check_against_notebook([{"quality": 4}], declared, "nb.ipynb", "output_dir")
    with pytest.raises(InvalidInput, match=r"nb.ipynb has no parameter\(s\) qualty; its parameters cell declares: quality"):
        check_against_notebook([{"qualty": 4}], declared, "nb.ipynb", "output_dir")
    with pytest.raises(InvalidInput, match="'output_dir' is set by orfeas batch"):
        check_against_notebook([{"output_dir": "x"}], declared, "nb.ipynb", "output_dir")


def test_yaml_aliases_are_refused_so_a_small_file_cannot_expand_to_gigabytes(tmp_path):
    lines = ["common:", "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join([*lines, "runs:", "  - {x: 1}"]) + "\n")
    with pytest.raises(InvalidInput, match=r"not valid YAML: .*aliases \(\*l0\) are not allowed"):
        read_params_file(tmp_path / "bomb.yaml")
    (tmp_path / "anchor.yaml").write_text("grid:\n  q: &qs [1, 2]\n")  # an anchor alone is harmless
    assert expand(read_params_file(tmp_path / "anchor.yaml")) == [{"q": 1}, {"q": 2}]


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deeply_nested_files_are_invalid_input_not_a_crash(tmp_path, suffix):
    path = tmp_path / f"deep{suffix}"
    path.write_text('{"runs": [{"x": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        read_params_file(path)


def test_deep_values_given_from_python_are_invalid_input():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(InvalidInput, match="not plain data"):
        expand({"runs": [{"x": deep}]})


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("top.yaml", "grid: {x: [1]}\ngrid: {x: [2]}\n", "the key 'grid' twice in one mapping (line 2, column 1)"),
        ("grid.yaml", "grid:\n  x: [1]\n  y: [2]\n  x: [3]\n", "the key 'x' twice in one mapping (line 4, column 3)"),
        ("runs.yml", "runs:\n  - {x: 1}\n  - {x: 2, x: 3}\n", "the key 'x' twice in one mapping (line 3, column 12)"),
        ("top.json", '{"runs": [], "runs": [{"x": 1}]}', "the key 'runs' twice in one mapping"),
        ("nested.json", '{"runs": [{"x": 1, "x": 2}]}', "the key 'x' twice in one mapping"),
    ],
)
def test_a_key_repeated_in_one_mapping_is_refused_not_last_wins(tmp_path, name, text, where):
    (tmp_path / name).write_text(text)
    with pytest.raises(InvalidInput) as error:
        read_params_file(tmp_path / name)
    assert str(error.value) == f"{name} has {where}; give each key once (the last one would silently win)"


def test_the_same_key_in_different_mappings_and_yaml_merge_keys_are_fine(tmp_path):
    (tmp_path / "p.yaml").write_text("grid: {x: [1, 2]}\ncommon: {<<: {y: 1, z: 1}, z: 2}\n")
    assert read_params_file(tmp_path / "p.yaml") == {"grid": {"x": [1, 2]}, "common": {"y": 1, "z": 2}}
    (tmp_path / "p.json").write_text('{"runs": [{"x": 1}, {"x": 2}]}')
    assert read_params_file(tmp_path / "p.json") == {"runs": [{"x": 1}, {"x": 2}]}
