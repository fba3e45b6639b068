"""Exports of a version, streamed in constant memory and in ordinal order.

Rows come from a server-side cursor in chunks; PostgreSQL builds the JSON text of each line, so Python only joins
strings. `jsonl` is the canonical JSONL whose sha256 is the version's hash (see canonical.py).
"""

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from examples_lib.canonical import CANONICAL_LINE_SQL
from examples_lib.models import VersionExample

CHUNK_ROWS = 5_000
PARQUET_READ_BYTES = 1024 * 1024
TABLE = VersionExample._meta.db_table

# Chat messages from an input: a list of {role, content} as is, {"messages": [...]} unwrapped, anything else as
# one user message (strings as they are, JSON as its text).
_MESSAGES_SQL = """CASE
    WHEN jsonb_typeof(input) = 'array' AND NOT jsonb_path_exists(input, '$[*] ? (!(exists(@.role)))') THEN input
    WHEN jsonb_typeof(input) = 'object' AND jsonb_typeof(input->'messages') = 'array' THEN input->'messages'
    ELSE jsonb_build_array(jsonb_build_object('role', 'user', 'content', {content_input}))
END"""


def _content(column: str) -> str:
    """An assistant/user message content: a JSON string as is, other JSON as its text."""
    return f"CASE WHEN jsonb_typeof({column}) = 'string' THEN {column} ELSE to_jsonb({column}::text) END"


def _assistant(column: str) -> str:
    return f"jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', {_content(column)}))"


_ORIGINAL = _assistant("lineage->'original_output'")
_MESSAGES = _MESSAGES_SQL.format(content_input=_content("input"))
_LINE_SQL = {
    "jsonl": "line",
    "openai-chat": f"jsonb_build_object('messages', {_MESSAGES} || {_assistant('expected_output')})::text",
    "openai-dpo": (
        f"jsonb_build_object('input', jsonb_build_object('messages', {_MESSAGES}),"
        f" 'preferred_output', {_assistant('expected_output')},"
        f" 'non_preferred_output', {_ORIGINAL})::text"
    ),
}
_WHERE_EXTRA = {"openai-dpo": "AND lineage->>'verdict' = 'corrected' AND lineage->'original_output' IS NOT NULL"}
COLUMNS = ["id", "split", "input", "expected_output", "metadata", "lineage"]
_COLUMN_VALUES = ["stable_id", "split", "input::text", "expected_output::text", "metadata::text", "lineage::text"]
_COLUMNS_SQL = ", ".join(_COLUMN_VALUES)
# CSV (RFC 4180) built by PostgreSQL: every field quoted, quotes doubled. JSON text has no raw line breaks, so one
# row is one line. Cells are JSON text, so that types survive (a string cell reads "..." once JSON-decoded). A cell
# that starts with = + - @ or a tab or carriage return gets a leading ' (OWASP, CSV injection): a spreadsheet would
# run it as a formula (an id "=HYPERLINK(...)", a number -1+cmd).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_SQL = ", ".join(f"chr({ord(char)})" for char in FORMULA_STARTS)


def _csv_cell(value: str) -> str:
    escaped = f"CASE WHEN left({value}, 1) IN ({_FORMULA_SQL}) THEN chr(39) || {value} ELSE {value} END"
    return f"""'"' || replace({escaped}, '"', '""') || '"'"""


_LINE_SQL["csv"] = " || ',' || ".join(_csv_cell(value) for value in _COLUMN_VALUES)


@dataclass(frozen=True)
class Format:
    content_type: str
    extension: str


FORMATS = {
    "jsonl": Format("application/x-ndjson", "jsonl"),
    "openai-chat": Format("application/x-ndjson", "jsonl"),
    "openai-dpo": Format("application/x-ndjson", "jsonl"),
    "csv": Format("text/csv; charset=utf-8", "csv"),
    "parquet": Format("application/vnd.apache.parquet", "parquet"),
}


def _chunks(select: str, *, version_id: int, split: str | None, extra: str = "") -> Iterator[list[tuple]]:
    sql = f"SELECT {select} FROM {TABLE} WHERE version_id = %s"
    params: list = [version_id]
    if split:
        sql += " AND split = %s"
        params.append(split)
    sql += f" {extra} ORDER BY ordinal"
    # Inside a transaction the named cursor streams as PostgreSQL produces rows (no WITH HOLD materialisation).
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows


def _sha256(select: str, *, version_id: int) -> str:
    digest = hashlib.sha256()
    for rows in _chunks(select, version_id=version_id, split=None):
        digest.update(("\n".join(row[0] for row in rows) + "\n").encode())
    return digest.hexdigest()


def stored_sha256(*, version_id: int) -> str:
    """sha256 of a version's canonical JSONL as stored (what the `jsonl` export streams)."""
    return _sha256("line", version_id=version_id)


def canonical_sha256(*, version_id: int) -> str:
    """sha256 of a version's canonical JSONL re-derived from the frozen columns, independently of the stored
    lines: the check that what is exported is still what was frozen."""
    return _sha256(CANONICAL_LINE_SQL, version_id=version_id)


def _lines(fmt: str, *, version_id: int, split: str | None, on_rows: Callable[[int], None]) -> Iterator[bytes]:
    for rows in _chunks(_LINE_SQL[fmt], version_id=version_id, split=split, extra=_WHERE_EXTRA.get(fmt, "")):
        on_rows(len(rows))
        yield ("\n".join(row[0] for row in rows) + "\n").encode()


def _csv(*, version_id: int, split: str | None, on_rows: Callable[[int], None]) -> Iterator[bytes]:
    yield (",".join(COLUMNS) + "\n").encode()
    yield from _lines("csv", version_id=version_id, split=split, on_rows=on_rows)


def _parquet(*, version_id: int, split: str | None, on_rows: Callable[[int], None]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    # Parquet's footer comes last, so the file is written first (one row group per chunk, on disk, not in
    # memory), then streamed.
    with tempfile.TemporaryFile() as spool:
        with pq.ParquetWriter(spool, schema, compression="zstd") as writer:
            for rows in _chunks(_COLUMNS_SQL, version_id=version_id, split=split):
                columns = [pa.array(column, pa.string()) for column in zip(*rows, strict=True)]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                on_rows(len(rows))
        spool.seek(0)
        while block := spool.read(PARQUET_READ_BYTES):
            yield block


def export_stream(
    *, version_id: int, fmt: str, split: str | None = None, on_rows: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The bytes of one export, chunk by chunk. `on_rows(n)` is told how many rows each chunk held."""
    on_rows = on_rows or (lambda n: None)
    if fmt == "csv":
        return _csv(version_id=version_id, split=split, on_rows=on_rows)
    if fmt == "parquet":
        return _parquet(version_id=version_id, split=split, on_rows=on_rows)
    return _lines(fmt, version_id=version_id, split=split, on_rows=on_rows)
