"""The definitions everything else agrees on: normalised content for dedup, deterministic splits, stable ids,
and the canonical JSONL line whose sha256 is a version's hash.

The canonical line is built by PostgreSQL from the jsonb text of each column: jsonb prints a value in one fixed
key order with one fixed spacing, so the same row always gives the same bytes. Freezing stores each row's line
(VersionExample.line) and hashes the lines into the manifest's sha256; the `jsonl` export streams the stored
lines; `export_dataset` re-derives them from the columns with the same CANONICAL_LINE_SQL to verify the hash.
"""

import hashlib
import json
from typing import Any

from core.chat import chat_messages

SPLITS = ("train", "validation", "test")

# One line of the canonical JSONL, over the columns of Example or VersionExample (identical names): the keys in
# this order, each value as jsonb prints it. Concatenating the printed columns is ~1.7x faster than
# jsonb_build_object(...)::text, which would rebuild and re-print every nested value.
CANONICAL_LINE_SQL = (
    """'{"id": ' || to_jsonb(stable_id)::text || ', "split": ' || to_jsonb(split)::text"""
    """ || ', "input": ' || input::text || ', "expected_output": ' || expected_output::text"""
    """ || ', "metadata": ' || metadata::text || ', "lineage": ' || lineage::text || '}'"""
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalise(value: Any) -> Any:
    """Strings whitespace-collapsed and casefolded, recursively; so "Refunds  take 14 days." == "refunds take 14
    days."."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    return value


def content_hash(input: Any, expected_output: Any) -> str:
    """The exact-duplicate key of an example: its normalised input and expected output."""
    payload = canonical_json([normalise(input), normalise(expected_output)])
    return hashlib.sha256(payload.encode()).hexdigest()


def split_for(stable_id: str, ratios: dict[str, float]) -> str:
    """train/validation/test from a hash of the stable id: the same id lands in the same split every time."""
    point = int.from_bytes(hashlib.sha256(stable_id.encode()).digest()[:8], "big") / 2**64
    edge = 0.0
    for split in SPLITS:
        edge += ratios[split]
        if point < edge:
            return split
    return SPLITS[-1]  # float rounding at the very top end


def interaction_stable_id(*, project_id: int, external_id: str) -> str:
    """Promoting the same interaction again addresses the same example (and so the same split)."""
    return hashlib.sha256(f"interaction:{project_id}:{external_id}".encode()).hexdigest()[:32]


def text_of(value: Any) -> str:
    """Readable text of an input or output, for embeddings: chat messages become their contents."""
    messages = chat_messages(value)
    if messages is not None:
        return "\n".join(message["content"] for message in messages)
    return value if isinstance(value, str) else canonical_json(value)
