"""Items gathered for a short window in this process, then handed on together: one Celery task instead of many.

Capture takes one request per judgement, and about one in seven makes a new failure to embed. Publishing one task
for each cost the web process about a tenth of its CPU per request (bench/ingest.py) and gave the worker one model
call per failure. A Coalescer collects what arrives within `window` seconds (or until `max_items`) and calls
`send` once with all of it, from a thread of its own, so that no request waits for the broker.

What is gathered lives only in this process until it is sent: a process killed in that window (at most `window`
seconds of items) loses them, so use it only where a periodic sweep catches anything missed (the embedding sweep
does). A normal exit sends what is left. A window of 0 sends at once, on the caller's thread.
"""

import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Coalescer:
    def __init__(self, send: Callable[[list], None], *, window: Callable[[], float], max_items: int, name: str):
        self._send, self._window, self._max_items, self._name = send, window, max_items, name
        self._lock = threading.Lock()
        self._pending: list = []
        self._arrived = threading.Event()  # the first items of a window arrived
        self._full = threading.Event()  # max_items reached: send without waiting for the window to end
        self._pid: int | None = None
        atexit.register(self.flush)

    def add(self, items: list) -> None:
        if not items:
            return
        window = self._window()
        if window <= 0:
            self._deliver(list(items))
            return
        with self._lock:
            if self._pid != os.getpid():  # first use here, or a forked child: it inherits no threads
                self._pid, self._pending = os.getpid(), []
                self._arrived.clear()
                self._full.clear()
                threading.Thread(target=self._run, name=f"coalesce-{self._name}", daemon=True).start()
            first = not self._pending
            self._pending.extend(items)
            if first:
                self._arrived.set()
            if len(self._pending) >= self._max_items:
                self._full.set()

    def flush(self) -> None:
        """Send what is gathered now, on the caller's thread (at exit, and in tests)."""
        with self._lock:
            items, self._pending = self._pending, []
        if items and self._pid == os.getpid():
            self._deliver(items)

    def _run(self) -> None:
        while True:
            self._arrived.wait()
            self._arrived.clear()
            self._full.wait(timeout=self._window())
            self._full.clear()
            with self._lock:
                items, self._pending = self._pending, []
            if items:
                self._deliver(items)

    def _deliver(self, items: list) -> None:
        for start in range(0, len(items), self._max_items):
            chunk = items[start : start + self._max_items]
            try:
                self._send(chunk)
            except Exception:  # a broker outage must not kill the thread; the caller's sweep catches these later
                logger.exception("Could not send %d gathered %s items; a sweep will catch them.", len(chunk),
                                 self._name)  # fmt: skip
