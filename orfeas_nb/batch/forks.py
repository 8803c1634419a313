"""Fork servers: the standard library's ``forkserver`` start method, preloaded with the modules a child needs.

The batch's client forks its Dask workers from one (see :mod:`.cluster`), and each worker keeps its own
for warm kernels (see :mod:`.warm_kernels`). Fork servers are clean, single-threaded processes, so
forking from one is safe even when the batch starts from a Jupyter kernel.
"""

from __future__ import annotations

import multiprocessing


def start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def fork_server(modules: list[str]) -> multiprocessing.context.BaseContext:
    """The ``forkserver`` context; its server, when this process starts one, imports ``modules`` first.

    A process has one fork server and its list counts only until the server starts.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(modules)
    return context


def start_fork_server(modules: list[str]) -> None:
    """Start this process's fork server now, loading ``modules`` in the background (a running one is reused)."""
    from multiprocessing import forkserver

    fork_server(modules)
    forkserver.ensure_running()
