"""The set-based statements of capture (services/capture.py): one INSERT ... SELECT FROM unnest(...) per batch.

Each runs as a server-side prepared statement on Django's connection, inside the caller's transaction. A batch of
one row (every single-item request) reads its row from VALUES (...) with one parameter per column instead: the same
statement otherwise, without adapting a dozen one-element arrays on each request.
"""

from functools import cache
from typing import Any

import psycopg
from django.db import connection

from feedback.models import Feedback, Interaction
from feedback.rules import is_failure_sql, is_negative_sql
from feedback.services.capture_items import FeedbackRow, InteractionRow


@cache
def _constant_columns(model) -> tuple[list[str], list[Any]]:
    """Columns our INSERTs do not fill, with their Python defaults: raw SQL must supply what the ORM would, and
    this keeps the inserts right when another part of the app adds a field with a default."""
    handled = {
        Interaction: {"id", "project_id", "external_id", "input", "output", "model", "prompt_version", "trace_id",
                      "metadata", "occurred_at", "created_at", "content_hash"},
        Feedback: {"id", "project_id", "interaction_id", "external_id", "name", "data_type", "value_number",
                   "value_string", "comment", "correction", "source", "author", "metadata", "is_negative",
                   "content_hash", "created_at"},
    }[model]  # fmt: skip
    columns, values = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.column in handled or model_field.has_db_default():
            continue
        if not model_field.has_default() and model_field.null:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        values.append(model_field.get_db_prep_save(model_field.get_default(), connection))
    return columns, values


def _rows_source(types: tuple[str, ...], *, single: bool) -> str:
    """The FROM item that yields the rows: unnest of one array per column, or VALUES of one row."""
    if single:
        return "(VALUES ({}))".format(", ".join(f"%s::{t}" for t in types))
    # %b: the arrays go in binary; psycopg's text form escapes every quote of every JSON text with a regular
    # expression, which cost as much as the rest of the insert (0.33 against 0.16 ms a row, OTLP spans in process).
    return "unnest({})".format(", ".join(f"%b::{t}[]" for t in types))


def _row_params(rows: list, slots: tuple[str, ...]) -> list:
    """The parameters for _rows_source: the one row's values, or one list per column."""
    if len(rows) == 1:
        return [getattr(rows[0], name) for name in slots]
    return [[getattr(r, name) for r in rows] for name in slots]


def _fetchall_prepared(sql: str, params: list) -> list[tuple]:
    """Run one of the capture statements as a server-side prepared statement on Django's connection (and in its
    transaction). Planning these statements costs more than running them for a few rows; prepared, each
    connection plans them once. (Django's own cursors bind parameters client-side, so they cannot be prepared.)"""
    connection.ensure_connection()
    # Errors through Django's wrapper, as its own cursors' (see feedback/selectors/api_key_lookup.py).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


# The SQL types of the row fields, in the order of their dataclass (which _row_params follows).
_INTERACTION_TYPES = ("text", "text", "text", "text", "text", "text", "text", "timestamptz", "text")
_FEEDBACK_TYPES = ("text",) * 4 + ("float8",) + ("text",) * 6 + ("timestamptz", "text")


@cache
def _interactions_sql(single: bool) -> str:
    extra_columns, extra_values = _constant_columns(Interaction)
    extra_sql = "".join(f", {c}" for c in extra_columns)
    extra_params = "".join(", %s" for _ in extra_values)
    return f"""
        INSERT INTO feedback_interaction (project_id, external_id, input, output, model, prompt_version, trace_id,
                                          metadata, occurred_at, created_at, content_hash{extra_sql})
        SELECT %s, t.external_id, t.input::jsonb, t.output::jsonb, t.model, t.prompt_version, t.trace_id,
               t.metadata::jsonb, coalesce(t.occurred_at, now()), now(), t.content_hash{extra_params}
        FROM {_rows_source(_INTERACTION_TYPES, single=single)}
             AS t(external_id, input, output, model, prompt_version, trace_id, metadata, occurred_at, content_hash)
        ORDER BY t.external_id
        ON CONFLICT (project_id, external_id) DO NOTHING
        RETURNING external_id, id
    """


def interactions_insert(project_id: int, rows: list[InteractionRow]) -> dict[str, int]:
    _, extra_values = _constant_columns(Interaction)
    sql = _interactions_sql(len(rows) == 1)
    return dict(_fetchall_prepared(sql, [project_id, *extra_values, *_row_params(rows, InteractionRow.__slots__)]))


@cache
def _feedback_sql(single: bool) -> str:
    extra_columns, extra_values = _constant_columns(Feedback)
    extra_sql = "".join(f", {c}" for c in extra_columns)
    extra_params = "".join(", %s" for _ in extra_values)
    # is_negative and is_failure follow the rules of feedback/rules.py. The counters are incremented rather than
    # recomputed (that is services/failures.py), which stays right under concurrency: an UPDATE re-reads a row
    # changed by a transaction that committed meanwhile. For the same reason a stored is_failure is only ever
    # raised here (new feedback never unmakes a failure), never lowered from this statement's snapshot of the
    # reviews. The rows are locked in id order first, so that concurrent batches never deadlock; the lock reads
    # the latest committed flag, so an interaction BECAME a failure when it was none and is one now.
    is_negative = is_negative_sql(
        name="t.name", value_number="t.value_number", correction="t.correction", threshold="st.threshold"
    )
    is_failure = is_failure_sql(negative_count="i.negative_count + d.neg", interaction_id="i.id")
    return f"""
        WITH ins AS (
            INSERT INTO feedback_feedback (project_id, interaction_id, external_id, name, data_type, value_number,
                                           value_string, comment, correction, source, author, metadata, is_negative,
                                           content_hash, created_at{extra_sql})
            SELECT %s, i.id, t.external_id, t.name, t.data_type, t.value_number, t.value_string, t.comment,
                   t.correction::jsonb, t.source, t.author, t.metadata::jsonb,
                   {is_negative},
                   t.content_hash, coalesce(t.created_at, now()){extra_params}
            FROM {_rows_source(_FEEDBACK_TYPES, single=single)}
                 AS t(external_id, interaction_external_id, name, data_type, value_number, value_string, comment,
                      correction, source, author, metadata, created_at, content_hash)
            -- One lookup per row by the unique index (external_id, project_id): "+ 0" keeps the indexes that lead
            -- with project_id out of the planner's choice, which stale statistics of a new project would mislead.
            JOIN LATERAL (
                SELECT id FROM feedback_interaction
                WHERE external_id = t.interaction_external_id AND project_id + 0 = %s LIMIT 1
            ) i ON true
            LEFT JOIN LATERAL (
                SELECT threshold FROM feedback_scorethreshold WHERE project_id = %s AND name = t.name LIMIT 1
            ) st ON true
            ORDER BY t.external_id
            ON CONFLICT (project_id, external_id) DO NOTHING
            RETURNING external_id, interaction_id, is_negative
        ),
        d AS (
            SELECT interaction_id AS id, count(*) AS n, count(*) FILTER (WHERE is_negative) AS neg
            FROM ins GROUP BY interaction_id
        ),
        locked AS MATERIALIZED (
            SELECT i.id, i.is_failure AS was_failure, d.n, d.neg FROM d JOIN feedback_interaction i ON i.id = d.id
            ORDER BY i.id FOR NO KEY UPDATE OF i
        ),
        upd AS (
            UPDATE feedback_interaction i
            SET feedback_count = i.feedback_count + d.n,
                negative_count = i.negative_count + d.neg,
                is_failure = i.is_failure OR (d.neg > 0 AND {is_failure})
            FROM locked d
            WHERE i.id = d.id
            RETURNING i.id, i.is_failure AND NOT d.was_failure AS became_failure
        )
        SELECT ins.external_id, ins.interaction_id, ins.is_negative FROM ins
        UNION ALL
        SELECT NULL, upd.id, NULL FROM upd WHERE upd.became_failure
    """


def feedback_insert(project_id: int, rows: list[FeedbackRow]) -> tuple[dict[str, tuple[int, bool]], list[int]]:
    """Insert new feedback and add it to its interactions' counters, in one statement; returns the inserted
    {external_id: (interaction pk, is_negative)} and the interactions that became failures."""
    _, extra_values = _constant_columns(Feedback)
    sql = _feedback_sql(len(rows) == 1)
    params = [project_id, *extra_values, *_row_params(rows, FeedbackRow.__slots__), project_id, project_id]
    inserted, became = {}, []
    for external_id, pk, negative in _fetchall_prepared(sql, params):
        if external_id is None:
            became.append(pk)
        else:
            inserted[external_id] = (pk, negative)
    return inserted, sorted(became)


def stored_hashes(table: str, project_id: int, external_ids: list[str], extra: str = "") -> dict[str, tuple]:
    if not external_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, content_hash{extra} FROM {table} WHERE external_id = ANY(%s) AND project_id + 0 = %s",
            [external_ids, project_id],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}
