"""Hostile prompts in the CLI, and what the metrics endpoint reveals after hostile calls (nothing of theirs).

Prompts are checked before any model is looked up, so these run without weights. The metrics endpoint
listens on loopback only and its label values stay a small known set whatever callers send.
"""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import orfeas_nb
from orfeas_nb import monitoring
from orfeas_nb.errors import InvalidInput
from tests.security.corpus import ACCEPTED, REJECTED

pytestmark = pytest.mark.security

PROMPTS = {
    "over-long": ("owl " * 400, "ORFEAS_MAX_PROMPT_CHARS"),
    "escape sequence": ("an owl \x1b[2J\x1b[31mred", "control character"),
    "NUL": ("owl\x00; rm -rf ~", "control character"),
    "right-to-left override": ("a cat \u202egnp.exe", "control character"),
    "bidi isolate": ("\u2066owl\u2069", "control character"),
    "only whitespace": (" \t\n ", "empty"),
}


@pytest.mark.parametrize("command", ["text-to-image", "text-to-3d"])
@pytest.mark.parametrize("kind", PROMPTS)
def test_cli_refuses_hostile_prompts_with_exit_2_before_touching_a_model(kind, command, cli, tmp_path):
    prompt, reason = PROMPTS[kind]
    out = tmp_path / ("out.png" if command == "text-to-image" else "out.stl")
    result = cli(command, prompt, "-o", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and reason in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr  # nothing the terminal would act on
    assert list(tmp_path.iterdir()) == []


def test_markup_is_an_ordinary_prompt():
    from orfeas_nb.validation import validate_prompt

    text = "<script>alert(1)</script> <b>owl</b> & {{7*7}} ${jndi:ldap://x}"
    assert validate_prompt(text) == text  # refused nowhere, escaped wherever it is shown (see test_widgets)


def _providers(text: str) -> set[str]:
    return {sample.labels["provider"] for family in text_string_to_metric_families(text)
            if family.name.startswith("orfeas_") for sample in family.samples if "provider" in sample.labels}


def _scrape(server) -> str:
    return urllib.request.urlopen(server.url, timeout=10).read().decode()


def test_metrics_listen_on_loopback_and_leak_no_caller_text():
    server = monitoring.serve(port=0)
    try:
        assert server.addr == "127.0.0.1"
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):  # the port is not open on this host's other interface
            with socket.socket() as probe:
                probe.settimeout(2)
                assert probe.connect_ex((other, server.port)) != 0
        before = _providers(_scrape(server))
        for case in (*REJECTED[:5], *ACCEPTED[-3:]):  # ACCEPTED[-3:]: good pictures under hostile file names
            try:
                orfeas_nb.image_to_3d(case.data, quality=1, size_mm=20)
            except InvalidInput:
                pass
        for method in ("../../etc/passwd", "<script>", "x" * 300, "relief\n"):
            with pytest.raises(InvalidInput, match="unknown method"):
                orfeas_nb.image_to_3d(ACCEPTED[0].data, method=method)
        text = _scrape(server)
    finally:
        server.stop()
    assert _providers(text) - before <= {*orfeas_nb.methods(), "unknown"}, "label values stay a known set"
    for leaked in ("passwd", "<script>", "x" * 50, "svg", "upload"):
        assert leaked not in text
