"""The API key lookup of every request (settings.API_KEY_RESOLVER): one hand-written query, its answer kept briefly.

An active key with its project, or None (services/api_keys.py records its use). One prepared statement
rather than an ORM query compiled on each request. A key found active is remembered by this
process (the "api_keys" cache, local memory) for settings.API_KEY_CACHE_SECONDS (5 s by default) and answered from
memory meanwhile: a revoked key is
refused by every worker within that many seconds (at once with 0). Unknown and revoked keys are never remembered,
so a new key works at once and a guessed key always costs a query. Each request gets its own model instances.
"""

import time
from datetime import datetime
from functools import cache

import psycopg
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from feedback.models import ApiKey, Project
from feedback.selectors.api_keys import api_key_hash

# sha256 of the raw key -> (time.time() at which the entry expires, the row of _query()).
remembered = caches["api_keys"]


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
    # A server-side prepared statement: planned once per connection rather than on every request. Errors go through
    # Django's wrapper, as its own cursors' do: a lost connection is a django.db.OperationalError (a 503) and is
    # closed at the end of the request, instead of a raw psycopg error that left it broken for every next request.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [raw_key[:12], secret_hash], prepare=True)
        return cursor.fetchone()


def api_key_resolve(raw_key: str) -> ApiKey | None:
    """The active key for a raw bearer token, with its project loaded, or None."""
    secret_hash = api_key_hash(raw_key)
    ttl = settings.API_KEY_CACHE_SECONDS
    entry = remembered.get(secret_hash) if ttl > 0 else None
    if entry is not None:
        row = entry[1]
    else:
        row = _fetch(raw_key, secret_hash)
        if row is None:
            return None  # never remembered: a new key works at once, a guessed key always costs a query
        if ttl > 0:
            remembered.set(secret_hash, (time.time() + ttl, row), timeout=ttl)
    _, key_fields, project_fields = _query()
    # Fresh instances (and a fresh scopes list) for each request, so no request sees another one's changes.
    key_values = [list(value) if isinstance(value, list) else value for value in row[: len(key_fields)]]
    api_key = ApiKey.from_db(connection.alias, key_fields, key_values)
    api_key.project = Project.from_db(connection.alias, project_fields, row[len(key_fields) :])
    return api_key


def api_key_remember_last_used(raw_key: str, when: datetime) -> None:
    """Keep a remembered key's last_used_at in step with the row, so the next minute's requests do not write it;
    the entry keeps its expiry."""
    secret_hash = api_key_hash(raw_key)
    entry = remembered.get(secret_hash)
    if entry is not None:
        expires, row = entry
        position = _query()[1].index("last_used_at")
        left = expires - time.time()
        if left > 0:
            remembered.set(secret_hash, (expires, (*row[:position], when, *row[position + 1 :])), timeout=left)
