"""The API key lookup of every request, in one hand-written query (settings.API_KEY_RESOLVER).

Same answer as selectors/api_keys.api_key_resolve (an active key with its project, or None; last_used_at written
at most once a minute), without compiling an ORM query on each request: profiling the capture endpoints showed
the compiled lookup to be about half of the Python time of a single-feedback request. No caching, so a revoked
key is refused from its next request.
"""

from functools import cache

import psycopg
from django.db import connection
from django.utils import timezone

from feedback.models import ApiKey, Project
from feedback.selectors.api_keys import _LAST_USED_RESOLUTION_SECONDS, api_key_hash


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


def api_key_resolve(raw_key: str) -> ApiKey | None:
    """The active key for a raw bearer token, with its project loaded, or None."""
    sql, key_fields, project_fields = _query()
    connection.ensure_connection()
    # A server-side prepared statement: planned once per connection rather than on every request.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [raw_key[:12], api_key_hash(raw_key)], prepare=True)
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = ApiKey.from_db(connection.alias, key_fields, row[: len(key_fields)])
    api_key.project = Project.from_db(connection.alias, project_fields, row[len(key_fields) :])
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > _LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
