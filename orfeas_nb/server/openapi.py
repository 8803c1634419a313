"""The OpenAPI 3.1 description of the HTTP API (placeholder until the full description lands)."""

from __future__ import annotations

from typing import Any


def spec(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, with ``servers`` at ``base_url``."""
    return {"openapi": "3.1.0", "info": {"title": "orfeas_nb HTTP API", "version": "1"}, "paths": {}}
