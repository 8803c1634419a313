"""``%load_ext orfeas_nb`` and the ``%orfeas`` magic, run in a real IPython shell."""

from __future__ import annotations

import subprocess
import sys

import pytest
import trimesh
from IPython.core.interactiveshell import InteractiveShell

import orfeas_nb
from orfeas_nb.magics import CommandResult, run_command
from orfeas_nb.widgets import Studio

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "orfeas_nb")
    return ip


def test_a_subcommand_runs_in_process_and_returns_its_output(shell):
    result = shell.run_line_magic("orfeas", "methods")
    assert isinstance(result, CommandResult) and result.ok and result.exit_code == 0
    assert result.stdout.startswith("relief:") and "height_mm=" in result.stdout
    assert repr(result) == result.stdout.rstrip("\n")


def test_image_to_3d_writes_the_file(shell, tmp_path):
    out = tmp_path / "logo.stl"
    result = shell.run_line_magic("orfeas", f"image-to-3d '{orfeas_nb.samples.path('logo')}' -o '{out}' --quality 2")
    assert result.ok, result.stderr
    assert trimesh.load(out).is_watertight and f"wrote {out}" in result.stdout


@pytest.mark.parametrize(
    ("line", "code", "text"),
    [
        ("image-to-3d /no/such.png -o x.stl", 2, "error: no image file at '/no/such.png'; check the path"),
        ("image-to-3d", 2, "Missing argument 'IMAGE'"),
        ("no-such-command", 2, "No such command"),
        ("methods 'unclosed", 2, "cannot split the command line"),
        ("studio extra", 2, "takes no arguments"),
    ],
)
def test_errors_give_the_cli_exit_code_and_one_message_not_a_traceback(shell, line, code, text):
    result = shell.run_line_magic("orfeas", line)
    assert result.exit_code == code and not result.ok
    assert text in result.stderr and "Traceback" not in result.stderr
    assert repr(result).endswith(f"(exit code {code})")


def test_help_exits_zero():
    result = run_command("--help")
    assert result.ok and "image-to-3d" in result.stdout


def test_studio_magic_returns_a_studio(shell):
    studio = shell.run_line_magic("orfeas", "studio")
    try:
        assert isinstance(studio, Studio)
    finally:
        studio.close()


def test_the_extension_hook_does_not_import_widgets_until_used():
    code = (
        "import sys, orfeas_nb\n"
        "assert callable(orfeas_nb.load_ipython_extension)\n"
        "print(sorted(m for m in ('ipywidgets', 'pythreejs', 'IPython') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
