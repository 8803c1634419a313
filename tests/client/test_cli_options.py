"""The CLI's --server and --token options where no server is needed."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.unit


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "ramp.png"
    Image.fromarray((np.add.outer(np.arange(40), np.arange(60)) * 2).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("command", ["image-to-3d", "text-to-image", "text-to-3d"])
def test_generation_commands_take_server_and_token_after_their_own_options(cli, command):
    lines = cli(command, "--help").output.splitlines()
    options = [line.split()[0].rstrip(",") for line in lines if line.strip().startswith("-")]
    assert options[-3:] == ["--server", "--token", "-h"]


def test_token_without_server_is_a_usage_error(cli, photo, tmp_path):
    result = cli("image-to-3d", photo, "-o", tmp_path / "r.stl", "--token", "abc")
    assert result.exit_code == 2 and "--token goes with --server URL" in result.stderr


def test_an_unreachable_server_is_one_line_naming_it(cli, photo, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("image-to-3d", photo, "-o", tmp_path / "r.stl", "--server", f"http://127.0.0.1:{port}/")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot connect to the orfeas server at http://127.0.0.1:{port}/")
    assert len(result.stderr.strip().splitlines()) == 1
