"""The hostile-upload corpus through the Studio's upload widget, driven as the browser drives it (set_state).

A client controls the upload's bytes, its file name and MIME type, and the export file name: every
bad one is refused inline (escaped), no name from a client becomes a path, and every update the kernel
would send back still serialises as Jupyter sends it.
"""

from __future__ import annotations

import re
from pathlib import Path

import comm
import pytest
from comm.base_comm import BaseComm
from jupyter_client.session import json_packer

from orfeas_nb.widgets import Studio
from tests.security.corpus import ACCEPTED, HOSTILE_NAMES, REJECTED, Case

pytestmark = pytest.mark.security

ids = lambda case: case.name  # noqa: E731


@pytest.fixture(autouse=True)
def packed(monkeypatch) -> list[bytes]:
    """Replace the comm with one that serialises every message exactly as jupyter_client's Session does."""
    sent: list[bytes] = []

    class PackingComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            sent.append(json_packer(data or {}))

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: PackingComm(*args, **kwargs))
    return sent


@pytest.fixture
def studio(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORFEAS_OUTPUT_DIR", "out")
    s = Studio(quality=1, size_mm=30)
    yield s
    s.close()


def upload(studio: Studio, data: bytes, name: str, mime: str = "image/png") -> None:
    studio.upload.upload.set_state({"value": [{"name": name, "type": mime, "size": len(data),
                                               "last_modified": 1_700_000_000_000, "content": memoryview(data)}]})


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def assert_escaped(markup: str) -> None:
    """No tag from a client survives into HTML the front end renders."""
    assert not re.search(r"<(?!/?span\b)[a-zA-Z!?/]", markup), markup


@pytest.mark.parametrize("case", REJECTED, ids=ids)
def test_rejected_uploads_are_refused_inline_and_start_no_job(case: Case, studio, tmp_path):
    name = HOSTILE_NAMES[REJECTED.index(case) % len(HOSTILE_NAMES)]
    upload(studio, case.data, name, mime="image/png")  # the MIME type a client claims changes nothing
    panel = studio.upload
    assert panel.loaded is None and panel.data is None and panel.thumbnail.value == b""
    assert re.search(case.reject, panel.error), panel.error
    assert_escaped(panel.message.value)
    assert studio.generate() is None
    assert re.search(case.reject, studio.progress.status.value)
    assert_escaped(studio.progress.status.value)
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("case", [c for c in ACCEPTED if not c.name.startswith("hostile-name")], ids=ids)
def test_odd_but_valid_uploads_are_accepted_with_a_thumbnail(case: Case, studio):
    upload(studio, case.data, "picture.png", mime="application/x-msdownload")
    panel = studio.upload
    assert panel.error == "" and panel.data == case.data
    assert panel.loaded.image.mode == case.mode and (case.size is None or panel.loaded.size == case.size)
    assert bytes(panel.thumbnail.value).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_client_file_name_never_becomes_a_path(name, studio, tmp_path, packed):
    case = next(c for c in ACCEPTED if c.name == "hostile-name-0")
    upload(studio, case.data, name)
    assert studio.upload.error == ""
    assert_escaped(studio.upload.message.value)
    job = studio.generate()
    assert job is not None and job.wait(60) and job.status == "done", job.error
    saved = studio.export.save()
    assert saved is not None, studio.export.link.outputs
    assert files_under(tmp_path) == {f"out/studio/{saved.name}", f"out/studio/{saved.stem}.manifest.json"}
    assert re.fullmatch(r"relief-[0-9a-f]{8}\.stl", saved.name), "named by method and content hash, not by the client"
    assert json_packer(studio.upload.message.value)  # every update still serialises for the wire


@pytest.mark.parametrize("stem", ["../../escape", "/etc/passwd", "sub/dir", "..", ".hidden", "a" * 101, "name\x00",
                                  "con\nnext", "<img src=x onerror=alert(1)>", "", " "])
def test_a_hostile_export_name_from_the_client_is_refused_inline(stem, studio, tmp_path):
    upload(studio, ACCEPTED[0].data, "x.png")
    job = studio.generate()
    assert job.wait(60) and job.status == "done"
    studio.export.name.set_state({"value": stem})  # typed (or forged) in the browser
    assert studio.export.save() is None
    markup = studio.export.link.outputs[0]["data"]["text/html"]
    assert "is not allowed" in markup
    assert_escaped(markup)
    assert files_under(tmp_path) == set()
    assert not (tmp_path.parent / "escape.stl").exists()


@pytest.mark.parametrize("prompt", ["x" * 5000, "an owl\x1b[31m red", "owl\x00", "   ", "\u202egnp.exe"])
def test_hostile_prompts_are_refused_inline(prompt, studio):
    studio.prompt.prompt.set_state({"value": prompt})
    studio.source.selected_index = 1
    assert studio.generate() is None
    status = studio.progress.status.value
    assert "prompt" in status and ("ORFEAS_MAX_PROMPT_CHARS" in status or "control character" in status
                                   or "empty" in status), status
    assert_escaped(status)


def test_markup_in_a_prompt_is_text_and_stays_escaped(studio, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ORFEAS_TEXT_TO_IMAGE_MODEL", str(Path("no-such-model-folder").resolve()))
    studio.prompt.prompt.set_state({"value": "<script>alert(document.cookie)</script> a ceramic owl"})
    studio.source.selected_index = 1
    job = studio.generate()
    assert job is not None and job.wait(60)
    assert job.status == "failed"  # no weights here: the point is what reaches the page
    assert_escaped(studio.progress.status.value)
    assert "<script>" not in studio.progress.status.value
