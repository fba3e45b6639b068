"""Rate limits per API key (API.md: 429 with Retry-After), shared by every web process.

settings.API_RATE_LIMIT requests per second per key, counted in fixed windows of API_RATE_LIMIT_WINDOW_SECONDS (a
key may burst to the window's whole allowance); 0 turns limiting off. Counts are shared through Redis when the
broker is Redis, else through the database (an unlogged table, core.RateLimitCount).

A request does not wait for the shared store: each process counts its own requests and adds them to the shared
count at most every API_RATE_LIMIT_SYNC_SECONDS per key (and at once when its estimate reaches the limit), so a
capture request costs a dictionary update, and the store one statement per key and process every 0.2 s. The price
is precision: each process may let through up to its requests of one sync interval beyond the limit. A refused key
is refused from memory until its window ends (no statement per refused request).
"""

import math
import threading
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

_UPSERT = (
    "INSERT INTO core_ratelimitcount (bucket, window_start, count) VALUES (%s, %s, %s) "
    "ON CONFLICT (bucket, window_start) DO UPDATE SET count = core_ratelimitcount.count + EXCLUDED.count "
    "RETURNING count"
)
_PRUNE = "DELETE FROM core_ratelimitcount WHERE window_start < %s"
_PRUNE_SECONDS = 60.0


class DatabaseStore:
    def __init__(self, window: int):
        self.window, self.pruned_at = window, 0.0

    def add(self, bucket: str, window_start: int, count: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT, [bucket, window_start, count])
            total = cursor.fetchone()[0]
            now = time.monotonic()
            if now - self.pruned_at >= _PRUNE_SECONDS:
                self.pruned_at = now
                cursor.execute(_PRUNE, [window_start - 2 * self.window])
        return total


class RedisStore:
    def __init__(self, url: str, window: int):
        import redis

        self.client, self.window = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), window

    def add(self, bucket: str, window_start: int, count: int) -> int:
        name = f"goldloop:ratelimit:{bucket}:{window_start}"
        pipe = self.client.pipeline()
        pipe.incrby(name, count)
        pipe.expire(name, 2 * self.window)
        return int(pipe.execute()[0])


@dataclass
class _Count:
    window_start: int
    pending: int = 0  # this process's requests not yet added to the shared count
    shared: int = 0  # the shared count as of the last sync (ours included)
    synced_at: float = 0.0
    refused: bool = False


class RateLimiter:
    def __init__(self, *, per_second: float, window: int, sync_seconds: float, store):
        self.allowance = max(1, int(per_second * window))
        self.window, self.sync_seconds, self.store = window, sync_seconds, store
        self.counts: dict[str, _Count] = {}
        self.lock = threading.Lock()

    def check(self, bucket: str) -> float | None:
        """Count one request; None when it may proceed, else the seconds until the key's window ends."""
        now = time.time()
        window_start = int(now // self.window) * self.window
        wait = window_start + self.window - now
        with self.lock:
            count = self.counts.get(bucket)
            if count is None or count.window_start != window_start:
                count = self.counts[bucket] = _Count(window_start)
                if len(self.counts) > 10_000:  # keys seen in older windows
                    self.counts = {k: v for k, v in self.counts.items() if v.window_start == window_start}
                    self.counts[bucket] = count
            if count.refused:
                return wait
            count.pending += 1
            if count.shared + count.pending > self.allowance or now - count.synced_at >= self.sync_seconds:
                count.shared = self.store.add(bucket, window_start, count.pending)
                count.pending, count.synced_at = 0, now
            if count.shared + count.pending > self.allowance:
                count.refused = True
                return wait
        return None


@cache
def _limiter(per_second: float, window: int, sync_seconds: float, store: str) -> RateLimiter:
    if store.startswith(("redis://", "rediss://")):
        backend = RedisStore(store, window)
    else:
        backend = DatabaseStore(window)
    return RateLimiter(per_second=per_second, window=window, sync_seconds=sync_seconds, store=backend)


def rate_limiter() -> RateLimiter | None:
    if settings.API_RATE_LIMIT <= 0:
        return None
    return _limiter(
        float(settings.API_RATE_LIMIT),
        settings.API_RATE_LIMIT_WINDOW_SECONDS,
        settings.API_RATE_LIMIT_SYNC_SECONDS,
        settings.API_RATE_LIMIT_STORE,
    )


def rate_limit_check(api_key) -> None:
    """Raise Throttled (429 with Retry-After) when this key is over its limit."""
    limiter = rate_limiter()
    if limiter is None or api_key is None:
        return
    wait = limiter.check(f"key:{api_key.pk}")
    if wait is not None:
        raise exceptions.Throttled(wait=math.ceil(wait))


class ApiKeyRateThrottle(BaseThrottle):
    """DRF's side of the same limit (settings REST_FRAMEWORK DEFAULT_THROTTLE_CLASSES)."""

    def allow_request(self, request, view) -> bool:
        rate_limit_check(request.auth)
        return True
