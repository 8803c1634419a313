"""The ORFEAS HTTP API on the Jupyter server: a server extension with its routes, job store and engine.

- :mod:`.extension` — what Jupyter loads: monitoring, the store, the engine and the routes
- :mod:`.handlers` and :mod:`.base` — the routes under ``{base_url}orfeas/``; :mod:`.params` checks request values
- :mod:`.store` — durable job records (SQLite) and files; :mod:`.engine` and :mod:`.work` — jobs on Dask
- :mod:`.openapi` — the OpenAPI 3.1 description served at ``orfeas/openapi.json``
"""

from __future__ import annotations

from .extension import (
    SETTINGS_KEY,
    _cleanup,
    _health,
    _jupyter_server_extension_points,
    _load_jupyter_server_extension,
    _metrics_folder,
    detailed_health,
    jobs_dir,
)

__all__ = [
    "SETTINGS_KEY",
    "_cleanup",
    "_health",
    "_jupyter_server_extension_points",
    "_load_jupyter_server_extension",
    "_metrics_folder",
    "detailed_health",
    "jobs_dir",
]
