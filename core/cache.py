"""A local-memory cache backend for the request path: Django's LocMemCache, without the pickling and key checks.

LocMemCache pickles every value on set and unpickles it on get (so callers never share a mutable object), and
checks every key for memcached's rules. For the API key cache (one get per API request) that was 0.03-0.04 ms of
the 0.9 ms a one-at-a-time capture request costs (bench/ingest.py, side by side). Its values are tuples of
immutable fields (the caller copies the one list) under sha256 keys, so neither is needed. Only get, set and
delete are used on it; expiry, the LRU bound (MAX_ENTRIES) and culling are LocMemCache's own.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class PlainLocMemCache(LocMemCache):
    def validate_key(self, key):
        """Keys are made by our code (hex digests), never by a client."""

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        raise NotImplementedError("PlainLocMemCache serves get, set and delete only.")
