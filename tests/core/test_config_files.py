"""Settings from the environment; atomic writes that leave nothing behind on failure."""

from __future__ import annotations

import os

import pytest

from orfeas_nb import config
from orfeas_nb.errors import ExportError, InvalidInput
from orfeas_nb.files import write_bytes, write_json

pytestmark = pytest.mark.unit


def test_every_setting_has_an_env_name_and_doc():
    for name, setting in config.SETTINGS.items():
        assert setting.env == f"ORFEAS_{name.upper()}"
        assert setting.doc
        assert isinstance(config.get(name), setting.kind)


def test_environment_overrides_and_bad_values(monkeypatch):
    monkeypatch.setenv("ORFEAS_MAX_PIXELS", "1234")
    assert config.get("max_pixels") == 1234
    monkeypatch.setenv("ORFEAS_MAX_PIXELS", "lots")
    with pytest.raises(InvalidInput, match="ORFEAS_MAX_PIXELS must be a whole number between 1 and .*; got 'lots'"):
        config.get("max_pixels")
    monkeypatch.setenv("ORFEAS_MAX_PIXELS", "-5")
    with pytest.raises(InvalidInput, match="ORFEAS_MAX_PIXELS must be .*; got '-5'"):
        config.get("max_pixels")
    monkeypatch.delenv("ORFEAS_MAX_PIXELS")
    assert any(env == "ORFEAS_QUEUE_LENGTH" for env, _value, _doc in config.describe())


def test_write_is_atomic_and_creates_folders(tmp_path):
    target = write_json(tmp_path / "a" / "b" / "doc.json", {"x": 1})
    assert target.read_text() == '{\n  "x": 1\n}\n'
    assert os.listdir(target.parent) == ["doc.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "model.stl"
    target.write_bytes(b"old")

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ExportError, match="No space left on device; nothing was written"):
        write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.stl"]


def test_unwritable_folder_is_an_export_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write"):
        write_bytes(blocker / "sub" / "out.stl", b"data")
