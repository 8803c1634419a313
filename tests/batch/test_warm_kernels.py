"""The warm-kernel provisioner through jupyter_client's public API: start, run, interrupt, kill, wait, clean up."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from orfeas_nb.batch import warm_kernels
from orfeas_nb.batch.warm_kernels import WarmKernelManager, WarmProvisioner

pytestmark = pytest.mark.integration


async def run_code(km: WarmKernelManager, code: str) -> dict:
    """Execute ``code`` in the manager's kernel and return the reply's content."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        return (await client.execute_interactive(code, timeout=60, store_history=False)).get("content", {})
    finally:
        client.stop_channels()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm kernels are forked on Linux only")
def test_a_forked_kernel_runs_is_interrupted_killed_and_reaped(tmp_path):
    async def scenario() -> dict:
        km = WarmKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        provisioner = km.provisioner
        assert isinstance(provisioner, WarmProvisioner) and provisioner.forked is not None  # forked, not Popen
        seen = {"pid": provisioner.pid, "parent": provisioner.forked.pid}
        reply = await run_code(km, "import os, sys; print(os.getppid(), os.getpgid(0), os.getcwd())")
        assert reply["status"] == "ok"
        seen["alive"] = await km.is_alive()
        seen["poll_running"] = await provisioner.poll()
        await provisioner.send_signal(signal.SIGINT)  # an interrupt reaches the kernel, which survives it
        await asyncio.sleep(0.5)
        seen["after_interrupt"] = await provisioner.poll()
        await provisioner.kill()
        seen["exit"] = await asyncio.wait_for(provisioner.wait(), timeout=30)
        seen["has_process"] = provisioner.has_process
        seen["pidfd"] = provisioner.pidfd
        await km.cleanup_resources()
        return seen

    seen = asyncio.run(scenario())
    assert seen["alive"] and seen["poll_running"] is None and seen["after_interrupt"] is None
    assert seen["exit"] == -signal.SIGKILL and seen["has_process"] is False and seen["pidfd"] is None
    with pytest.raises(ProcessLookupError):  # reaped by its fork server: nothing left behind
        os.kill(seen["pid"], 0)


def test_a_command_other_than_this_pythons_ipykernel_starts_as_a_new_process():
    assert warm_kernels._ipykernel_arguments([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]
    assert warm_kernels._ipykernel_arguments(["/usr/bin/other-python", "-m", "ipykernel_launcher", "-f", "c.json"]) is None
    assert warm_kernels._ipykernel_arguments([sys.executable, "-m", "other_kernel", "-f", "c.json"]) is None


def test_no_private_name_of_another_library_is_used():
    """Every ``obj._name`` in the module is this module's own (or os._exit, which is public)."""
    source = Path(warm_kernels.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    own = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    private = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    }
    assert private - own == {"_exit"}
    assert "_async_pre_start_kernel" not in own and "Popen" not in source
