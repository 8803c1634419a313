"""What ``health-detailed`` shows: host CPU, memory and GPUs (from the monitoring sampler), kernels, the engine."""

from __future__ import annotations

from typing import Any

from .. import __version__

SETTINGS_KEY = "orfeas_monitoring"


def _health(state: dict[str, Any], kernels: int) -> dict[str, Any]:
    """Host CPU, memory, GPU memory per device, kernels and the metrics folder (part of health-detailed)."""
    snapshot = state["sampler"].latest()
    return {
        "version": __version__,
        "cpu_percent": snapshot.cpu_percent,
        "memory": {"used_bytes": snapshot.memory_used_bytes, "total_bytes": snapshot.memory_total_bytes},
        "gpus": [
            {"id": g.gpu_id, "used_bytes": g.used_bytes, "total_bytes": g.total_bytes, "source": g.source}
            for g in snapshot.gpus
        ],
        "kernels": kernels,
        "metrics_dir": str(state["folder"]),
    }


def detailed_health(settings: dict[str, Any], kernels: int, engine: dict[str, Any]) -> dict[str, Any]:
    """``GET health-detailed``: ``healthy`` or ``degraded`` (with the reason), host, GPUs, kernels and the engine."""
    state = settings.get(SETTINGS_KEY)
    if state is not None:
        host = _health(state, kernels)
    else:  # prometheus-client missing: no host sampler
        host = {"version": __version__, "cpu_percent": None, "memory": None, "gpus": [], "kernels": kernels,
                "metrics_dir": None}
    memory = host["memory"]
    used = round(100.0 * memory["used_bytes"] / memory["total_bytes"], 1) if memory and memory["total_bytes"] else None
    reasons = []
    if engine["state"] == "failed":
        reasons.append(f"the job engine failed to start: {engine['reason']}")
    if used is not None and used >= 95:
        reasons.append(f"memory is {used}% used")
    return {"status": "degraded" if reasons else "healthy", "reason": "; ".join(reasons) or None,
            "cpu_percent": host["cpu_percent"], "memory_percent": used, "gpu_available": bool(host["gpus"]),
            "gpu_count": len(host["gpus"]), **host, "engine": engine}
