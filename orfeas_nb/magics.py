"""The IPython extension: ``%load_ext orfeas_nb`` adds the ``%orfeas`` line magic.

``%orfeas <subcommand> ...`` runs the ``orfeas`` command line in the kernel (no subprocess) and returns
a :class:`CommandResult` with the exit code and what the command printed; ``%orfeas studio`` returns a
:class:`~orfeas_nb.widgets.Studio`.

Example (in a notebook cell)::

    %load_ext orfeas_nb
    %orfeas methods
    %orfeas image-to-3d photo.png -o photo.stl --quality 4
    studio = %orfeas studio
"""

from __future__ import annotations

import contextlib
import io
import shlex
from dataclasses import dataclass
from typing import Any

import click
from IPython.core.magic import Magics, line_magic, magics_class


@dataclass(frozen=True)
class CommandResult:
    """What ``%orfeas <subcommand>`` did: exit code (0 ok, 2 bad input, 3, 4, 1), stdout and stderr text."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command succeeded (exit code 0)."""
        return self.exit_code == 0

    def __repr__(self) -> str:
        text = (self.stdout + self.stderr).rstrip("\n")
        return text if self.ok else f"{text}\n(exit code {self.exit_code})".lstrip("\n")


def run_command(line: str) -> CommandResult:
    """Run ``orfeas <line>`` in this process and capture its output and exit code.

    >>> run_command("methods").ok
    True
    """
    from .cli import cli

    try:
        args = shlex.split(line)
    except ValueError as exc:
        return CommandResult(2, "", f"error: cannot split the command line: {exc}\n")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            returned = cli.main(args, prog_name="%orfeas", standalone_mode=False)
        except click.ClickException as exc:
            exc.show(file=err)
            returned = exc.exit_code
        except click.Abort:
            returned = 1
    code = returned if isinstance(returned, int) else 0
    return CommandResult(code, out.getvalue(), err.getvalue())


@magics_class
class OrfeasMagics(Magics):
    """``%orfeas``: the ``orfeas`` command line inside the kernel, plus ``%orfeas studio``."""

    @line_magic
    def orfeas(self, line: str) -> Any:
        """``%orfeas studio`` shows the Studio; ``%orfeas SUBCOMMAND ...`` runs the CLI and returns its result."""
        words = line.split()
        if words[:1] == ["studio"]:
            if len(words) > 1:
                return CommandResult(2, "", "error: %orfeas studio takes no arguments; set them in the Studio\n")
            from .widgets import Studio

            return Studio()
        return run_command(line)


def load_ipython_extension(ipython: Any) -> None:
    """Register :class:`OrfeasMagics` with ``ipython``."""
    ipython.register_magics(OrfeasMagics)
