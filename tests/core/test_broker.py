"""The serverless broker: messages appear whole, so a consumer never reads a half-written one."""

import pytest
from kombu import Connection
from kombu.transport import filesystem

from core import broker
from core.broker import ALIAS


@pytest.fixture
def connection(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path)}
    with Connection(f"{ALIAS}://", transport_options=options) as conn:
        yield conn, folder


# kombu remembers declared exchanges per process, not per folder: each test uses its own queue name.


def test_messages_round_trip_and_leave_no_partial_files(connection):
    conn, folder = connection
    queue = conn.SimpleQueue("tasks")
    for n in range(5):
        queue.put({"n": n})
    assert not list(folder.glob("*.part")) and len(list(folder.glob("*.tasks.msg"))) == 5
    assert [queue.get(timeout=1).payload["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    queue.close()


def test_a_message_is_invisible_to_consumers_until_it_is_whole(connection, monkeypatch):
    conn, folder = connection
    queue = conn.SimpleQueue("jobs")
    seen_while_writing = []

    def encode(text, *args):  # runs while the producer writes the message
        seen_while_writing.extend(path.name for path in folder.glob("*.jobs.msg"))
        return text.encode()

    monkeypatch.setattr(broker, "str_to_bytes", encode)
    monkeypatch.setattr(filesystem, "str_to_bytes", encode)  # the same check would catch kombu's own _put
    queue.put({"n": 1})
    assert seen_while_writing == []  # kombu's transport has the file under its final name here, still empty
    assert queue.get(timeout=1).payload == {"n": 1}
    queue.close()
