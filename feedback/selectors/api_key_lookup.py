"""The API key lookup of every request (settings.API_KEY_RESOLVER): one hand-written query, its answer kept briefly.

An active key with its project, or None (services/api_keys.py records its use). One prepared statement
rather than an ORM query compiled on each request. A key found active is remembered by this
process for settings.API_KEY_CACHE_SECONDS (5 s by default) and answered from memory meanwhile: a revoked key is
refused by every worker within that many seconds (at once with 0). Unknown and revoked keys are never remembered,
so a new key works at once and a guessed key always costs a query. Each request gets its own model instances.
"""

import time
from datetime import datetime
from functools import cache

import psycopg
from django.conf import settings
from django.db import connection

from feedback.models import ApiKey, Project
from feedback.selectors.api_keys import api_key_hash

# sha256 of the raw key -> (time.monotonic() until which the row may be served, the row of _query()).
_remembered: dict[str, tuple[float, tuple]] = {}
_REMEMBERED_MAX = 10_000


@cache
def _query() -> tuple[str, list[str], list[str]]:
    key_fields = [f.attname for f in ApiKey._meta.concrete_fields]
    project_fields = [f.attname for f in Project._meta.concrete_fields]
    quote = connection.ops.quote_name
    key_columns = [f"k.{quote(f.column)}" for f in ApiKey._meta.concrete_fields]
    project_columns = [f"p.{quote(f.column)}" for f in Project._meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(key_columns + project_columns)} FROM {ApiKey._meta.db_table} k "
        f"JOIN {Project._meta.db_table} p ON p.id = k.project_id "
        "WHERE k.prefix = %s AND k.revoked_at IS NULL AND k.secret_hash = %s LIMIT 1"
    )
    return sql, key_fields, project_fields


def _fetch(raw_key: str, secret_hash: str) -> tuple | None:
    sql, _, _ = _query()
    connection.ensure_connection()
    # A server-side prepared statement: planned once per connection rather than on every request.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [raw_key[:12], secret_hash], prepare=True)
        return cursor.fetchone()


def api_key_resolve(raw_key: str) -> ApiKey | None:
    """The active key for a raw bearer token, with its project loaded, or None."""
    secret_hash = api_key_hash(raw_key)
    ttl = settings.API_KEY_CACHE_SECONDS
    remembered = _remembered.get(secret_hash) if ttl > 0 else None
    if remembered is not None and remembered[0] > time.monotonic():
        row = remembered[1]
    else:
        row = _fetch(raw_key, secret_hash)
        if row is None:
            _remembered.pop(secret_hash, None)
            return None
        if ttl > 0:
            if len(_remembered) >= _REMEMBERED_MAX:
                _remembered.clear()
            _remembered[secret_hash] = (time.monotonic() + ttl, row)
    _, key_fields, project_fields = _query()
    # Fresh instances (and a fresh scopes list) for each request, so no request sees another one's changes.
    key_values = [list(value) if isinstance(value, list) else value for value in row[: len(key_fields)]]
    api_key = ApiKey.from_db(connection.alias, key_fields, key_values)
    api_key.project = Project.from_db(connection.alias, project_fields, row[len(key_fields) :])
    return api_key


def api_key_remember_last_used(raw_key: str, when: datetime) -> None:
    """Keep a remembered key's last_used_at in step with the row, so the next minute's requests do not write it."""
    secret_hash = api_key_hash(raw_key)
    remembered = _remembered.get(secret_hash)
    if remembered is not None:
        expires, row = remembered
        position = _query()[1].index("last_used_at")
        _remembered[secret_hash] = (expires, (*row[:position], when, *row[position + 1 :]))
