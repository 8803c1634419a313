"""A model and its manifest under SIGKILL and concurrent writers: old pair, no pair, or one writer's whole pair.

A writer killed between writing its two temporaries leaves the old pair untouched. One killed between its
two renames leaves the journal; the next writer or reader of that folder (``files.recover``, which every
publication and ``orfeas reproduce`` call first) puts the old pair back, or removes the new file where there
was no pair. Concurrent writers are serialised at the renames: the pair on disk is always one writer's.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import orfeas_nb
from orfeas_nb import files
from orfeas_nb.mesh.export import mesh_chunks
from orfeas_nb.model import manifest_path
from tests.conftest import ROOT

pytestmark = pytest.mark.security

KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import orfeas_nb
    from orfeas_nb import files

    target, where = sys.argv[1], sys.argv[2]
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=77.0)
    if where == "between-writes":  # the model's temporary is complete, the manifest's not begun
        add = files.Publication.add

        def add_then_die(self, path, data):
            record = add(self, path, data)
            os.kill(os.getpid(), signal.SIGKILL)

        files.Publication.add = add_then_die
    else:  # the model renamed into place, the manifest not yet
        rename = files._rename

        def rename_then_die(temp, final):
            rename(temp, final)
            os.kill(os.getpid(), signal.SIGKILL)

        files._rename = rename_then_die
    model.export(target)
    """
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def kill_during_export(target: Path, where: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target), where], cwd=ROOT, capture_output=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()


@pytest.mark.parametrize("old_pair", [True, False], ids=["over-an-old-pair", "first-export"])
@pytest.mark.parametrize("where", ["between-writes", "between-renames"])
def test_sigkill_between_the_two_files_leaves_the_old_pair_or_none(tmp_path, where, old_pair):
    target = tmp_path / "m.stl"
    if old_pair:
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), quality=1).export(target)
    before = snapshot(tmp_path)
    kill_during_export(target, where)
    if where == "between-writes":
        assert snapshot(tmp_path) == before, "nothing is renamed before both temporaries are complete"
        assert not (tmp_path / files.JOURNAL_NAME).exists()
        assert not files.recover(tmp_path)
    else:
        assert (tmp_path / files.JOURNAL_NAME).exists(), "the kill landed between the renames: the journal says so"
        assert snapshot(tmp_path) != before  # the window a reader outside orfeas_nb can see, until the next writer
        assert files.recover(tmp_path)
        assert not (tmp_path / files.JOURNAL_NAME).exists()
    assert snapshot(tmp_path) == before, "old pair intact, or no pair: never one file alone"
    if old_pair:
        assert json.loads(manifest_path(target).read_text())["output"]["sha256"] == sha(target)


def test_the_next_export_into_the_folder_undoes_a_killed_one_first(tmp_path):
    target = tmp_path / "m.stl"
    orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), quality=1).export(target)
    before = snapshot(tmp_path)
    kill_during_export(target, "between-renames")
    orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1).export(tmp_path / "other.glb")
    after = snapshot(tmp_path)
    assert {name: after[name] for name in before} == before
    assert sorted(after) == ["m.manifest.json", "m.stl", "other.glb", "other.manifest.json"]


def _writer(model, target: str, rounds: int, barrier) -> None:
    for _ in range(rounds):
        barrier.wait()
        model.export(target)
        barrier.wait()


@pytest.mark.parametrize("writers", [2, 8])
def test_concurrent_writers_leave_one_writers_whole_pair(tmp_path, writers):
    rounds = 20
    shapes = orfeas_nb.samples.path("shapes")
    models = [orfeas_nb.image_to_3d(shapes, quality=1, size_mm=30.0 + 5 * i) for i in range(writers)]
    expected = {}
    for i, model in enumerate(models):
        digest = hashlib.sha256()
        for chunk in mesh_chunks(model.mesh, "glb", model.manifest):
            digest.update(memoryview(chunk).cast("B"))
        expected[digest.hexdigest()] = i
    assert len(expected) == writers
    target = tmp_path / "shared.glb"
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    procs = [context.Process(target=_writer, args=(model, str(target), rounds, barrier)) for model in models]
    for proc in procs:
        proc.start()
    winners = []
    try:
        for _ in range(rounds):
            barrier.wait(timeout=30)  # all start exporting at once
            barrier.wait(timeout=30)  # all done
            manifest = json.loads(manifest_path(target).read_text())
            winner = expected.get(sha(target))
            assert winner is not None, "the model on disk is one writer's whole file"
            assert manifest["output"]["sha256"] == sha(target), "the manifest describes the model beside it"
            assert manifest["parameters"]["size_mm"] == 30.0 + 5 * winner
            assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.glb", "shared.manifest.json"]
            winners.append(winner)
    finally:
        for proc in procs:
            proc.join(60)
    assert all(proc.exitcode == 0 for proc in procs)
    print(f"{writers} writers × {rounds} rounds: every pair whole; winners {winners}")
