"""Capture writes (API.md, Capture): interactions and feedback, idempotent, one set-based INSERT per batch.

Each batch is atomic: one statement per kind, in one transaction when it holds both. Every item is cleaned
(services/capture_items.py), then INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING
(services/capture_sql.py); the content_hash of ids that already existed tells a retry (200) from a conflicting
replay (409). The database's unique constraints make this safe under concurrency.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from core.validation import encodable
from feedback.services.capture_items import ItemInvalid, feedback_clean, interaction_clean
from feedback.services.capture_sql import feedback_insert, interactions_insert, stored_hashes
from feedback.services.failures import failures_enqueue_embedding


@dataclass(slots=True)
class ItemResult:
    status: int
    id: str | None = None
    error: dict | None = None
    interaction_id: str | None = None
    is_negative: bool | None = None
    interaction: "ItemResult | None" = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.id is not None:
            body["id"] = self.id
        if self.error is not None:
            body["error"] = self.error
        if self.interaction_id is not None:
            body["interaction_id"] = self.interaction_id
        if self.is_negative is not None:
            body["is_negative"] = self.is_negative
        if self.interaction is not None:
            body["interaction"] = self.interaction.as_dict()
        return body


@dataclass(slots=True)
class IngestResult:
    interactions: list[ItemResult] = field(default_factory=list)
    feedback: list[ItemResult] = field(default_factory=list)
    new_failure_ids: list[int] = field(default_factory=list)


def _error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _invalid(exc: ItemInvalid) -> dict:
    return _error("invalid", "The item is invalid; see fields.", exc.fields)


def _conflict(kind: str, external_id: str) -> dict:
    return _error(
        "conflict",
        f"The {kind} id '{external_id}' was already used with other content; use a new id for new content.",
        {"id": ["already used with other content"]},
    )


def _resolve(table: str, project_id: int, rows: list, inserted: set[str], extra: str = "") -> list:
    """Per row: ("created"|"same"|"conflict"|"missing", stored extra columns). Repeats of an id within the batch
    are judged against the first occurrence, like a retry."""
    first: dict[str, str] = {}
    for row in rows:
        first.setdefault(row.external_id, row.content_hash)
    others = [eid for eid in first if eid not in inserted]
    stored = stored_hashes(table, project_id, others, extra)
    outcomes, seen = [], set()
    for row in rows:
        eid = row.external_id
        if eid in inserted:
            winner_hash, rest = first[eid], ()
            created = eid not in seen
        elif eid in stored:
            winner_hash, *rest = stored[eid]
            created = False
        else:
            outcomes.append(("missing", ()))
            seen.add(eid)
            continue
        seen.add(eid)
        if created:
            outcomes.append(("created", tuple(rest)))
        else:
            outcomes.append(("same" if row.content_hash == winner_hash else "conflict", tuple(rest)))
    return outcomes


def _apply_interactions(project_id: int, items: list[Any]) -> list[ItemResult]:
    results: list[ItemResult | None] = []
    rows, positions = [], []
    for item in items:
        try:
            row = interaction_clean(item)
        except ItemInvalid as exc:
            results.append(ItemResult(400, id=_item_id(item), error=_invalid(exc)))
            continue
        positions.append(len(results))
        results.append(None)
        rows.append(row)
    if rows:
        first_rows = list({r.external_id: r for r in reversed(rows)}.values())
        inserted = set(interactions_insert(project_id, first_rows))
        for position, row, (outcome, _) in zip(
            positions, rows, _resolve("feedback_interaction", project_id, rows, inserted), strict=True
        ):
            if outcome == "conflict":
                results[position] = ItemResult(409, id=row.external_id, error=_conflict("interaction", row.external_id))
            else:
                results[position] = ItemResult(201 if outcome == "created" else 200, id=row.external_id)
    return results  # type: ignore[return-value]


def _item_id(item: Any) -> str | None:
    """The id of an invalid item, to echo in its result when it can be echoed (a string that encodes)."""
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and encodable(value) and len(value) <= 255 else None


def _apply_feedback(project_id: int, items: list[Any], inline: list[ItemResult | None]) -> tuple[list, list[int]]:
    results: list[ItemResult | None] = []
    rows, positions = [], []
    for item, inline_result in zip(items, inline, strict=True):
        if inline_result is not None and inline_result.status >= 400:
            error = dict(inline_result.error or {})
            error["fields"] = {f"interaction.{k}": v for k, v in error.get("fields", {}).items()}
            results.append(ItemResult(inline_result.status, id=_item_id(item), error=error))
            continue
        try:
            row = feedback_clean(item, interaction_external_id=inline_result.id if inline_result else None)
        except ItemInvalid as exc:
            results.append(ItemResult(400, id=_item_id(item), error=_invalid(exc)))
            continue
        positions.append(len(results))
        results.append(ItemResult(0, interaction=inline_result))
        rows.append(row)
    new_failures: list[int] = []
    if rows:
        first_rows = list({r.external_id: r for r in reversed(rows)}.values())
        inserted, new_failures = feedback_insert(project_id, first_rows)
        outcomes = _resolve("feedback_feedback", project_id, rows, set(inserted), ", is_negative")
        for position, row, (outcome, rest) in zip(positions, rows, outcomes, strict=True):
            result = results[position]
            result.id, result.interaction_id = row.external_id, row.interaction_external_id
            if outcome == "missing":
                result.status = 404
                result.error = _error(
                    "interaction_not_found",
                    f"No interaction '{row.interaction_external_id}' in this project; post it first or send it"
                    " inline as 'interaction'.",
                    {"interaction_id": ["not found"]},
                )
            elif outcome == "conflict":
                result.status, result.error = 409, _conflict("feedback", row.external_id)
            elif outcome == "created":
                result.status, result.is_negative = 201, inserted[row.external_id][1]
            else:
                result.status = 200
                result.is_negative = rest[0] if rest else inserted[row.external_id][1]
    return results, new_failures


def capture_ingest(*, project_id: int, interactions: list[Any], feedback: list[Any]) -> IngestResult:
    """Apply a batch (interactions first, then feedback) atomically; one result per item, in order.

    Items are raw decoded JSON; a bad item gets its error in its result and never stops the others. Feedback
    may carry an inline 'interaction' object, created (idempotently) before the feedback.
    """
    inline_items = [item.get("interaction") if isinstance(item, dict) else None for item in feedback]
    inline_positions = [i for i, value in enumerate(inline_items) if value is not None]
    # Each kind is written by one statement, atomic by itself; a transaction (two more round trips, which is a
    # good part of a single-item request) is needed only when a batch writes both kinds.
    both_kinds = bool(interactions or inline_positions) and bool(feedback)
    with transaction.atomic() if both_kinds else nullcontext():
        result = IngestResult(interactions=_apply_interactions(project_id, interactions))
        inline: list[ItemResult | None] = [None] * len(feedback)
        if inline_positions:
            applied = _apply_interactions(project_id, [inline_items[i] for i in inline_positions])
            for position, applied_result in zip(inline_positions, applied, strict=True):
                inline[position] = applied_result
        result.feedback, result.new_failure_ids = _apply_feedback(project_id, feedback, inline)
        failures_enqueue_embedding(interaction_ids=result.new_failure_ids)
    return result
