"""core/coalesce.py: what arrives within a window goes out in one send, from the coalescer's own thread."""

import os
import threading
import time

from core.coalesce import Coalescer


class Sink:
    def __init__(self, fail_first: bool = False):
        self.calls: list[tuple[list, str]] = []
        self.fail_first = fail_first

    def __call__(self, items: list) -> None:
        if self.fail_first:
            self.fail_first = False
            raise ConnectionError("broker down")
        self.calls.append((list(items), threading.current_thread().name))


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_items_of_one_window_go_out_in_one_send_from_its_thread():
    sink = Sink()
    queue = Coalescer(sink, window=lambda: 0.3, max_items=100, name="t1")
    queue.add([1, 2])
    queue.add([3])
    queue.add([])
    assert sink.calls == []  # not before the window ends
    assert wait_for(lambda: sink.calls)
    time.sleep(0.1)
    assert sink.calls == [([1, 2, 3], "coalesce-t1")]
    queue.add([4])  # the next window
    assert wait_for(lambda: len(sink.calls) == 2)
    assert sink.calls[1][0] == [4]


def test_a_full_window_goes_out_at_once_in_chunks_of_max_items():
    sink = Sink()
    queue = Coalescer(sink, window=lambda: 60, max_items=3, name="t2")
    started = time.monotonic()
    queue.add([1, 2])
    queue.add([3, 4, 5, 6, 7])
    assert wait_for(lambda: sum(len(items) for items, _ in sink.calls) == 7)
    assert time.monotonic() - started < 5  # not the 60 s window
    assert [items for items, _ in sink.calls] == [[1, 2, 3], [4, 5, 6], [7]]


def test_a_window_of_zero_sends_at_once_on_the_callers_thread():
    sink = Sink()
    Coalescer(sink, window=lambda: 0, max_items=10, name="t3").add([1])
    assert sink.calls == [([1], threading.current_thread().name)]


def test_a_failed_send_is_logged_and_the_next_window_still_goes_out(caplog):
    sink = Sink(fail_first=True)
    queue = Coalescer(sink, window=lambda: 0.05, max_items=10, name="t4")
    queue.add([1])
    assert wait_for(lambda: "Could not send 1 gathered t4 items" in caplog.text)
    queue.add([2])
    assert wait_for(lambda: sink.calls)
    assert sink.calls[0][0] == [2]


def test_flush_sends_what_is_gathered_now():
    sink = Sink()
    queue = Coalescer(sink, window=lambda: 60, max_items=10, name="t5")
    queue.add([1, 2])
    queue.flush()
    assert sink.calls == [([1, 2], threading.current_thread().name)]
    queue.flush()  # nothing left
    assert len(sink.calls) == 1


def test_a_forked_child_gets_a_thread_of_its_own():
    read_end, write_end = os.pipe()

    def send(items):
        os.write(write_end, repr(items).encode())

    queue = Coalescer(send, window=lambda: 0.05, max_items=10, name="t6")
    queue.add([1])  # the parent's thread
    assert os.read(read_end, 100) == b"[1]"
    pid = os.fork()
    if pid == 0:  # the child: its add must be sent by a thread it starts itself
        queue.add([2])
        time.sleep(1)
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write_end)
    assert os.read(read_end, 100) == b"[2]"
    os.close(read_end)
