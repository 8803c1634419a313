"""Fixture notebooks for batch tests, written with nbformat (no stored .ipynb for nbval to collect)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.processes import stop

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, *sources: str, parameters: str) -> Path:
    """A notebook whose first code cell (tagged ``parameters``) is ``parameters``, then ``sources``."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    params = nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def square_notebook(tmp_path) -> Path:
    """``square.ipynb``: writes x² to ``output_dir/square.txt``; raises ValueError when ``fail`` is true."""
    return write_notebook(
        tmp_path / "square.ipynb",
        "import pathlib\nout = pathlib.Path(output_dir)\nout.mkdir(parents=True, exist_ok=True)",
        "if fail:\n    raise ValueError(f'asked to fail at x={x}')",
        "(out / 'square.txt').write_text(str(x * x))\n"
        "(out / 'sub').mkdir(exist_ok=True)\n(out / 'sub' / 'x.txt').write_text(str(x))",
        parameters="x = 2  # the number to square\nfail = False  # raise in the second cell\n"
        "output_dir = 'out'  # where files go",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    stop(process, grace=10)


def dask_command() -> str:
    """The ``dask`` command of this Python environment."""
    beside = Path(sys.executable).with_name("dask")
    return str(beside) if beside.exists() else shutil.which("dask")


@pytest.fixture
def dask_scheduler(tmp_path):
    """A Dask scheduler and one worker started as separate processes on 127.0.0.1; always stopped after."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = dask_command()
    commands = {
        "scheduler": [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        "worker": [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                   "--local-directory", str(tmp_path / "worker-space")],
    }
    processes = []
    with contextlib.ExitStack() as stack:
        try:
            for name, command in commands.items():
                log = stack.enter_context((tmp_path / f"{name}.log").open("wb"))
                processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
            yield address
        finally:
            for process in reversed(processes):
                _stop(process)
