"""Faults while writing: SIGKILL mid-export and a full disk never leave a partial target file.

Atomic writes go to a hidden ``.<name>.<pid>.<random>.part`` sibling that is renamed over the target, so
a reader sees the old file or the whole new one. A killed writer leaves that hidden temporary behind;
the next successful write of the same target removes it once its writer is gone.
"""

from __future__ import annotations

import errno
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import orfeas_nb
from orfeas_nb import files
from orfeas_nb.errors import ExportError
from orfeas_nb.files import write_bytes
from tests.conftest import ROOT
from tests.security.corpus import ACCEPTED

pytestmark = pytest.mark.security

FACES = 300_000  # a 15 MB binary STL: big enough that writing it takes a while

WRITER = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    import trimesh
    from orfeas_nb.model import Model3D

    rng = np.random.default_rng(7)
    mesh = trimesh.Trimesh(rng.random(({FACES} // 2 + 2, 3)) * 100, rng.integers(0, {FACES} // 2, ({FACES}, 3)),
                           process=False)
    model = Model3D(mesh, {{"task": "fault-test"}})
    target, reference = sys.argv[1], sys.argv[2]
    model.export(reference, manifest=False)
    print("ready", flush=True)
    while True:
        model.export(target)
    """
)


def stl_is_complete(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) >= 84 and len(data) == 84 + 50 * int.from_bytes(data[80:84], "little")


def hidden_parts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


def start_writer(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder / "model.stl"), str(folder / "reference.stl")],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.slow
def test_sigkill_mid_export_never_leaves_a_partial_target(tmp_path):
    """Kill a process exporting a 15 MB model again and again until 4 kills have landed mid-write."""
    rng = random.Random(3)
    folder = tmp_path / "out"
    folder.mkdir()
    kills_mid_write = kills = 0
    for attempt in range(8):  # until 4 kills have landed while this writer's temporary was open
        if kills_mid_write == 4:
            break
        kills += 1
        earlier = set(hidden_parts(folder))  # left by the writers killed before
        target = folder / "model.stl"
        if attempt % 2:  # every other round starts from an older, complete model that must survive
            reference = (folder / "reference.stl").read_bytes()
            write_bytes(target, f"old model #{attempt}".encode().ljust(80, b" ") + reference[80:])
        before = target.read_bytes() if target.exists() else None
        proc = start_writer(folder)
        deadline = time.monotonic() + 30
        while not set(hidden_parts(folder)) - earlier and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01) if attempt else 0)  # the first kill lands at once: before any rename
        caught_writing = bool(set(hidden_parts(folder)) - earlier)  # this writer's temporary is open right now
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        kills_mid_write += caught_writing
        if attempt == 0:
            assert not target.exists(), "the first export was killed before its rename: there must be no target"
        assert target.exists() or before is None, "a kill mid-write must never remove the previous model"
        if target.exists():
            assert stl_is_complete(target)
            assert target.read_bytes() in (before, (folder / "reference.stl").read_bytes()), "old or whole new, never a mix"
        for part in hidden_parts(folder):
            assert part.name.startswith("."), "a temporary must be hidden"
            assert not part.match("*.stl") and not part.match("*.json"), "a glob for models must never pick it"
    assert kills_mid_write == 4, f"only {kills_mid_write} of {kills} kills landed while a temporary was open"
    print(f"SIGKILL: {kills} kills, {kills_mid_write} while a temporary was open, {len(hidden_parts(folder))} left behind")

    leftovers = hidden_parts(folder)
    assert leftovers, "killed writers leave their hidden temporaries"
    old = time.time() - files.STALE_PART_SECONDS - 5
    for part in leftovers:
        os.utime(part, (old, old))
    write_bytes(folder / "model.stl", (folder / "reference.stl").read_bytes())
    assert hidden_parts(folder) == [], "the next write of the target removes temporaries of dead writers"
    assert stl_is_complete(folder / "model.stl")


def test_a_live_writers_temporary_is_never_removed(tmp_path):
    target = tmp_path / "model.stl"
    ours = tmp_path / f".model.stl.{os.getpid()}.abcd1234.part"  # this very process: alive
    fresh = tmp_path / ".model.stl.999999999.abcd1234.part"  # a dead pid, but written just now (maybe another host)
    other = tmp_path / ".other.stl.999999999.abcd1234.part"  # another target's temporary
    for part in (ours, fresh, other):
        part.write_bytes(b"in progress")
    old = time.time() - files.STALE_PART_SECONDS - 5
    os.utime(ours, (old, old))
    os.utime(other, (old, old))
    write_bytes(target, b"whole")
    assert {p.name for p in tmp_path.iterdir()} == {"model.stl", ours.name, fresh.name, other.name}
    os.utime(fresh, (old, old))
    assert files.remove_stale_temporaries(target) == [fresh]


def test_files_take_the_umask_without_the_process_umask_ever_changing(tmp_path, monkeypatch):
    """Setting umask(0) even for a moment would make files other threads create then world-writable."""
    previous = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("write_bytes must not touch the process umask"))
        for i in range(3):
            write_bytes(tmp_path / f"f{i}.bin", b"x" * 1000)
    finally:
        monkeypatch.undo()
        os.umask(previous)
    assert {(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()} == {0o640}


def test_a_planted_symlink_temporary_is_never_followed(tmp_path, monkeypatch):
    """In a shared folder, another user could plant a link where the temporary goes: O_EXCL refuses it."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    monkeypatch.setattr(files.secrets, "token_hex", lambda n: "fixed")
    (tmp_path / f".model.stl.{os.getpid()}.fixed.part").symlink_to(victim)
    with pytest.raises(ExportError, match="File exists"):
        write_bytes(tmp_path / "model.stl", b"new")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "model.stl").exists()


# --- a full disk ---------------------------------------------------------------------------------------


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_during_export_is_an_export_error_and_keeps_the_old_files(tmp_path, monkeypatch):
    model = orfeas_nb.image_to_3d(ACCEPTED[0].data, quality=1, size_mm=20)
    first = model.export(tmp_path / "model.stl")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bigger = orfeas_nb.image_to_3d(ACCEPTED[0].data, quality=3, size_mm=30)
    monkeypatch.setattr(os, "fsync", _disk_full)  # ext4 with delayed allocation reports ENOSPC here
    with pytest.raises(ExportError, match="No space left on device; nothing was written"):
        bigger.export(first)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_disk_full_in_the_cli_is_one_line_exit_1_and_no_file(cli, tmp_path, monkeypatch):
    image = tmp_path / "in.png"
    image.write_bytes(ACCEPTED[0].data)
    monkeypatch.setattr(os, "fsync", _disk_full)
    result = cli("image-to-3d", image, "-o", tmp_path / "out" / "model.glb", "--quality", "1")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "No space left on device; nothing was written" in result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def _small_file_limit() -> None:  # runs in the child: files may not grow past 64 KiB, writes fail with EFBIG
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_real_kernel_write_failure_leaves_no_partial_file(tmp_path):
    """The kernel refuses to let the file grow (RLIMIT_FSIZE): the same path as a disk filling up mid-write."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.stl").write_bytes(b"old model")
    proc = subprocess.run(
        [sys.executable, "-m", "orfeas_nb", "image-to-3d", str(orfeas_nb.samples.path("scene")), "-o",
         str(out / "model.stl"), "--quality", "6", "-O", "triangulation=grid"],
        capture_output=True, text=True, cwd=ROOT, preexec_fn=_small_file_limit, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "File too large; nothing was written" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [p.name for p in out.iterdir()] == ["model.stl"]
    assert (out / "model.stl").read_bytes() == b"old model"
