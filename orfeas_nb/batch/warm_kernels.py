"""Warm kernels for batch runs: each kernel is forked from a process that has already imported the stack.

A fresh IPython kernel spends about a second starting Python and ipykernel, and the notebook then
spends another second importing numpy, trimesh, scipy and orfeas_nb: on short runs that is most of
the work. In a local batch each worker keeps a *kernel fork server* (the standard library's
``forkserver`` start method) that imports ipykernel and the modules in ``ORFEAS_BATCH_PRELOAD`` once;
every run's kernel is then a fork of it, started with the run's command line, environment and folder,
in a session of its own. The server never runs notebook code, so each kernel starts from modules as
they are right after import, like a new process; NumPy's global random state, the one thing a fork
would copy, is seeded afresh in every kernel.

Kernels start the usual way (a new process) when warm kernels cannot apply: not on Linux, a worker
that is a daemonic process (``dask worker`` started by hand), a kernel whose command is not this
Python's ipykernel, or ``ORFEAS_BATCH_PRELOAD=none``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import uuid
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from .. import config
from . import cluster


def preloaded_modules() -> list[str]:
    """What warm kernels find imported: ipykernel and ``ORFEAS_BATCH_PRELOAD`` (none when it is ``none``)."""
    chosen = config.get("batch_preload")
    if chosen.strip().lower() == "none":
        return []
    return ["ipykernel.kernelapp", *(name.strip() for name in chosen.split(",") if name.strip())]


def available() -> bool:
    """Whether this process can start warm kernels (see the module notes)."""
    return (
        sys.platform.startswith("linux")
        and bool(preloaded_modules())
        and not multiprocessing.current_process().daemon
    )


def warm_up() -> None:
    """Start loading this process's kernel server now, if warm kernels apply (it loads in the background)."""
    if available():
        cluster.start_fork_server(preloaded_modules())


def _ipykernel_arguments(cmd: list[str]) -> list[str] | None:
    """The kernel's own arguments when ``cmd`` runs this Python's ipykernel launcher, else None."""
    if len(cmd) > 3 and cmd[1:3] == ["-m", "ipykernel_launcher"] and os.path.realpath(cmd[0]) == os.path.realpath(
        sys.executable
    ):
        return cmd[3:]
    return None


def _end_with(pid: int) -> None:
    """End this process as soon as process ``pid`` has ended (what ipykernel does for a kernel's parent)."""
    try:
        select.select([os.pidfd_open(pid)], [], [])
    except ProcessLookupError:
        pass
    except OSError:  # no pidfd before Linux 5.3: look every second
        with contextlib.suppress(ProcessLookupError):
            while True:
                os.kill(pid, 0)
                time.sleep(1)
    os._exit(1)


def _run_kernel(arguments: list[str], env: dict[str, str], cwd: str | None, owner: int) -> None:
    """The forked child: become a kernel exactly as ``python -m ipykernel_launcher ARGUMENTS`` would.

    Its parent is the server, which outlives the worker that asked for the kernel (``owner``): the
    kernel watches the owner itself, so that a worker killed mid-run leaves no kernel behind.
    """
    os.setsid()  # its own process group, as jupyter_client gives kernels: signals to it reach no one else
    multiprocessing.current_process().daemon = False  # code in the notebook may start processes of its own
    threading.Thread(target=_end_with, args=(owner,), name="orfeas-owner-watch", daemon=True).start()
    os.environ.clear()
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # the server's global random state must not be shared
    from ipykernel import kernelapp

    # ipykernel read JPY_PARENT_PID when the server imported it: name the parent (the server) explicitly
    arguments = [*arguments, f"--IPKernelApp.parent_handle={os.getppid()}"]
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *arguments]  # as `python -m` sets it
    kernelapp.launch_new_instance(argv=arguments)


class ForkedKernel:
    """The few ``subprocess.Popen`` methods jupyter_client uses, for a kernel forked from the server."""

    stdin = stdout = stderr = None

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, forking the kernel from the warm server when it can."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        arguments = _ipykernel_arguments(cmd)
        if arguments is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = kwargs.get("cwd")
        process = cluster.fork_server(preloaded_modules()).Process(
            target=_run_kernel, args=(arguments, env, cwd, os.getpid()), name="orfeas-kernel", daemon=True
        )
        process.start()  # daemonic: a worker that exits takes its kernels along instead of waiting for them
        self.process = ForkedKernel(process)
        self.pid = self.pgid = process.pid  # _run_kernel makes it the leader of its own group
        self.cwd = cwd or os.getcwd()
        return self.connection_info


class WarmKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels come from :class:`WarmProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)
