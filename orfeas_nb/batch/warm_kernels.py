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

import asyncio
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

from jupyter_client import AsyncKernelManager, KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from .. import config
from .forks import fork_server, start_fork_server


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
        start_fork_server(preloaded_modules())


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


class WarmProvisioner(LocalProvisioner):
    """A kernel provisioner (jupyter_client's public provisioner API) that forks kernels from the warm server.

    It is jupyter_client's local provisioner (connection file, ports, paths) with its own
    :meth:`launch_kernel`: when the command runs this Python's ipykernel, the kernel is forked from this
    process's fork server, and :meth:`poll`, :meth:`wait`, :meth:`send_signal`, :meth:`kill`,
    :meth:`terminate` and :meth:`cleanup` act on that forked process (its exit status comes from the fork
    server, its signals go to its process group, or through a pidfd to the process itself). Any other
    command starts as a new process, exactly as with the local provisioner.
    """

    forked: multiprocessing.process.BaseProcess | None = None
    pidfd: int | None = None

    @property
    def has_process(self) -> bool:
        return self.forked is not None or super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        arguments = _ipykernel_arguments(cmd)
        if arguments is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = kwargs.get("cwd")
        self.forked = fork_server(preloaded_modules()).Process(
            target=_run_kernel, args=(arguments, env, cwd, os.getpid()), name="orfeas-kernel", daemon=True
        )
        self.forked.start()  # daemonic: a worker that exits takes its kernels along instead of waiting for them
        with contextlib.suppress(OSError):  # no pidfd before Linux 5.3: signals then go by pid
            self.pidfd = os.pidfd_open(self.forked.pid)
        self.pid = self.pgid = self.forked.pid  # _run_kernel makes it the leader of its own group
        self.cwd = cwd or os.getcwd()
        return self.connection_info

    async def poll(self) -> int | None:
        """None while the forked kernel runs, then its exit code (negative: the signal that ended it)."""
        if self.forked is None:
            return await super().poll()
        return self.forked.exitcode

    async def wait(self) -> int | None:
        """Wait until the forked kernel has ended (its fork server tells, through the process's sentinel)."""
        if self.forked is None:
            return await super().wait()
        ended = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.forked.sentinel, ended.set)
        try:
            if self.forked.exitcode is None:
                await ended.wait()
        finally:
            loop.remove_reader(self.forked.sentinel)
        self.forked.join()
        code = self.forked.exitcode
        self.forked.close()
        self.forked = None  # has_process is now False, as after the local provisioner's wait
        self._close_pidfd()
        return code

    async def send_signal(self, signum: int) -> None:
        """Signal the forked kernel's process group (the kernel and what it started); nothing once it has ended."""
        if self.forked is None:
            return await super().send_signal(signum)
        if self.forked.exitcode is not None:
            return None
        try:
            os.killpg(self.forked.pid, signum)
        except ProcessLookupError:  # the group is not made yet (or is gone): the process itself
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signum)
            else:
                os.kill(self.forked.pid, signum)
        return None

    async def kill(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().kill(restart)
        return await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().terminate(restart)
        return await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Give back the ports (the local provisioner's part) and the pidfd."""
        self._close_pidfd()
        await super().cleanup(restart)

    def _close_pidfd(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class WarmKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels come from :class:`WarmProvisioner`.

    It hands its (public) ``provisioner`` to the manager before the kernel starts, which jupyter_client
    then uses as it uses the one its factory would have made.
    """

    async def start_kernel(self, **kw: Any) -> None:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        await super().start_kernel(**kw)
