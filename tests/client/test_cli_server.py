"""The CLI's generation commands with ``--server``: the same files, lines and exit codes as local runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_orfeas

from .conftest import Served

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_sd):
    server = Served(tmp_path_factory.mktemp("served"), env={"ORFEAS_TEXT_TO_IMAGE_MODEL": str(tiny_sd)})
    yield server
    server.stop()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "ramp.png"
    Image.fromarray((np.add.outer(np.arange(40), np.arange(60)) * 2).astype(np.uint8)).save(path)
    return path


def test_image_to_3d_on_the_server_writes_what_a_local_run_writes(served, cli, photo, tmp_path):
    args = ("image-to-3d", photo, "--quality", "3", "--size-mm", "30", "-O", "height_mm=4")
    remote = run_orfeas(*args, "-o", tmp_path / "remote.stl", "--server", served.url, "--token", served.token)
    local = cli(*args, "-o", tmp_path / "local.stl")
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout.replace("remote.stl", "X") == local.output.replace("local.stl", "X")
    assert "watertight: yes" in remote.stdout
    assert (tmp_path / "remote.stl").stat().st_size == (tmp_path / "local.stl").stat().st_size
    manifest = json.loads((tmp_path / "remote.manifest.json").read_text())
    assert manifest["file"] == "remote.stl" and manifest["parameters"]["height_mm"] == 4


def test_the_token_may_come_from_orfeas_token(served, cli, photo, tmp_path, monkeypatch):
    monkeypatch.setenv("ORFEAS_TOKEN", served.token)
    result = cli("image-to-3d", photo, "-o", tmp_path / "m.3mf", "--quality", "1", "--server", served.token_url.split("?")[0])
    assert result.exit_code == 0 and (tmp_path / "m.3mf").is_file()


@pytest.mark.parametrize("bad", [("--quality", "11"), ("--method", "nope"), ("-O", "height_mm=-2")])
def test_bad_input_on_the_server_is_exit_2_with_the_local_line(served, cli, photo, tmp_path, bad):
    remote = cli("image-to-3d", photo, "-o", tmp_path / "r.stl", *bad, "--server", served.url, "--token", served.token)
    local = cli("image-to-3d", photo, "-o", tmp_path / "l.stl", *bad)
    assert (remote.exit_code, remote.stderr) == (2, local.stderr)
    assert len(remote.stderr.strip().splitlines()) == 1 and not list(tmp_path.glob("r.*"))


def test_a_bad_token_is_exit_2_saying_how_to_give_it(served, cli, photo, tmp_path):
    result = cli("image-to-3d", photo, "-o", tmp_path / "r.stl", "--server", served.url, "--token", "wrong")
    assert result.exit_code == 2 and "the token was not accepted" in result.stderr and "--token" in result.stderr
    assert not (tmp_path / "r.stl").exists()


def test_text_to_image_on_the_server(served, tmp_path):
    out = tmp_path / "owl.png"
    result = run_orfeas("text-to-image", "a small ceramic owl", "-o", out, "--seed", "5", "--steps", "2",
                        "--server", served.token_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out} (64×64, seed 5)"
    with Image.open(out) as image:
        assert json.loads(image.info["orfeas"])["seed"] == 5
    assert json.loads((tmp_path / "owl.manifest.json").read_text())["seed"] == 5


def test_text_to_3d_on_the_server(served, cli, tmp_path):
    out = tmp_path / "pawn.stl"
    result = cli("text-to-3d", "a chess pawn", "-o", out, "--method", "relief", "--quality", "2", "--seed", "4",
                 "--steps", "2", "--server", served.url, "--token", served.token)
    assert result.exit_code == 0, result.stderr
    assert "watertight: yes, seed 4)" in result.output and out.is_file()
