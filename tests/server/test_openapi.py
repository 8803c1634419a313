"""openapi.json and the routes the extension registers describe the same API."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from orfeas_nb.server import extension
from orfeas_nb.server.openapi import spec

pytestmark = pytest.mark.unit
METHODS = ("get", "post", "put", "delete", "patch")


def registered() -> dict[str, set[str]]:
    """Route template → methods its handler implements, from the extension's own table (base URL /jh/)."""
    from tornado.web import RequestHandler

    out = {}
    for pattern, handler, *_ in extension._routes("/jh/"):
        if "(?P<rest>" in pattern:
            continue  # the JSON 404 for everything else
        template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        out[template] = {m for m in METHODS if getattr(handler, m) is not getattr(RequestHandler, m)}
    return out


def test_every_registered_route_and_method_is_described_and_nothing_else():
    described = spec("/jh/")
    validate(described)
    paths = {path: {m for m in METHODS if m in item} for path, item in described["paths"].items()}
    assert paths == registered()


def test_paths_follow_the_base_url():
    assert all(path.startswith("/jh/orfeas/") for path in spec("/jh/")["paths"])
    assert spec("/jh/")["paths"]["/jh/orfeas/health"]["get"]["security"] == []  # the one open route
