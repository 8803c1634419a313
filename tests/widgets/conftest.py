"""Widget tests without a browser: every comm is replaced by one that records what would be sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import comm
import pytest
from comm.base_comm import BaseComm

from orfeas_nb import samples


@dataclass
class Sent:
    """Every comm message the kernel side would have sent to the front end."""

    messages: list[tuple[str, dict, list]] = field(default_factory=list)

    def total_bytes(self) -> int:
        """JSON plus binary buffers, as they would travel to the browser."""
        return sum(len(json.dumps(data, default=str)) + sum(memoryview(b).nbytes for b in buffers)
                   for _, data, buffers in self.messages)

    def updates(self, key: str) -> list:
        """Values of ``key`` in 'update' messages, in order."""
        return [data["state"][key] for kind, data, _ in self.messages
                if kind == "comm_msg" and data.get("method") == "update" and key in data.get("state", {})]


@pytest.fixture(autouse=True)
def sent(monkeypatch) -> Sent:
    record = Sent()

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            record.messages.append((msg_type, data or {}, list(buffers or [])))

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))
    return record


def upload_state(data: bytes, name: str = "picture.png", mime: str = "image/png") -> dict:
    """The state a browser's FileUpload sends: name, type, size, last_modified and content as a memoryview."""
    return {"value": [{"name": name, "type": mime, "size": len(data), "last_modified": 1_700_000_000_000,
                       "content": memoryview(data)}]}


@pytest.fixture
def logo_bytes() -> bytes:
    return samples.path("logo").read_bytes()
