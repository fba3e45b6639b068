"""Langfuse scores -> feedback (API.md, Connect), through the capture service, and scores that wait for their trace.

A score names a trace (`traceId`) and maybe an observation (`observationId`, a span id). An observation's
interaction is the one whose id is that span id (services/connect_traces.py); a trace's is its latest LLM span.
A score whose interaction has not arrived yet (the SDK sends scores and spans on separate queues, so this is the
common case, not a race) is kept in PendingScore and attached, set-based, when the spans arrive.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from feedback.models import PendingScore
from feedback.services.capture import ItemResult, capture_ingest
from feedback.services.capture_items import ItemInvalid, feedback_clean

_SOURCES = {"ANNOTATION": "sme", "EVAL": "automated", "API": "end_user"}
_KNOWN_KEYS = {"id", "traceId", "observationId", "name", "value", "dataType", "comment", "metadata", "timestamp",
               "source", "stringValue"}  # fmt: skip


@dataclass(slots=True)
class ScoreItem:
    item: dict  # a capture feedback item without its interaction_id
    trace_id: str
    observation_id: str


def _text(score: dict, key: str, errors: dict, *, max_length: int = 255) -> str:
    value = score.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        errors.setdefault(key, []).append(f"Must be a string of at most {max_length} characters.")
        return ""
    return value


def score_clean(score: Any) -> ScoreItem:
    """A Langfuse score body as a capture feedback item, or ItemInvalid (field names as Langfuse spells them)."""
    if not isinstance(score, dict):
        raise ItemInvalid({"non_field_errors": ["Each score must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    trace_id = _text(score, "traceId", errors, max_length=200)
    observation_id = _text(score, "observationId", errors)
    if not trace_id and not observation_id:
        errors["traceId"] = ["goldloop keeps scores on a trace or an observation; send traceId."]
    name = _text(score, "name", errors, max_length=100)
    if not name:
        errors.setdefault("name", ["This field is required."])
    value, data_type = score.get("value"), score.get("dataType") or ""
    data_type = data_type.upper() if isinstance(data_type, str) else "?"
    if not data_type:
        data_type = "CATEGORICAL" if isinstance(value, str) else "NUMERIC"
    if data_type not in {"NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT", "CORRECTION"}:
        errors.setdefault("dataType", []).append("Must be NUMERIC, BOOLEAN, CATEGORICAL, TEXT or CORRECTION.")
    if name.lower() in settings.CONNECT_CORRECTION_SCORE_NAMES and isinstance(value, str):
        data_type = "CORRECTION"
    metadata = score.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        metadata = {"value": metadata}
    langfuse = {k: v for k, v in score.items() if k not in _KNOWN_KEYS and v is not None}
    item: dict[str, Any] = {
        "id": score.get("id") or uuid.uuid4().hex,
        "comment": score.get("comment"),
        "metadata": {**(metadata or {}), **({"langfuse": langfuse} if langfuse else {})},
        "created_at": score.get("timestamp"),
        "source": _SOURCES.get(str(score.get("source") or "API").upper(), "end_user"),
    }
    if data_type == "BOOLEAN":
        if value not in (0, 1, True, False):
            errors.setdefault("value", []).append("A BOOLEAN score's value is 1 or 0.")
        elif name.lower() in settings.CONNECT_THUMBS_SCORE_NAMES:
            item.update(name="thumbs", value="up" if value else "down")
            if name != "thumbs":
                item["metadata"]["score_name"] = name
        else:
            item.update(name=name, value=bool(value))
    elif data_type == "NUMERIC":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.setdefault("value", []).append("A NUMERIC score's value is a number.")
        item.update(name=name, value=value)
    elif data_type == "CATEGORICAL":
        item.update(name=name, value=value if isinstance(value, str) else score.get("stringValue", value))
    elif data_type == "TEXT":  # free text: goldloop's comment
        comment = score.get("comment")
        texts = (value if isinstance(value, str) else "", comment if isinstance(comment, str) else "")
        item["comment"] = "\n\n".join(t for t in texts if t)
        if not texts[0]:
            errors.setdefault("value", []).append("A TEXT score's value is a string.")
        if comment is not None and not isinstance(comment, str):
            errors.setdefault("comment", []).append("Must be a string.")
        item["metadata"]["score_name"] = name
    else:  # CORRECTION: the output as it should have been
        if not isinstance(value, str) or not value:
            errors.setdefault("value", []).append("A CORRECTION score's value is the corrected output (a string).")
        item["correction"] = value
        item["metadata"]["score_name"] = name
    if errors:
        raise ItemInvalid(errors)
    return ScoreItem({k: v for k, v in item.items() if v is not None}, trace_id, observation_id)


def _targets(project_id: int, observation_ids: list[str], trace_ids: list[str]) -> tuple[set[str], dict[str, str]]:
    """Which observation ids are interactions, and each trace's interaction (its latest LLM span); one query.

    "project_id + 0" leaves the indexes that lead with (external_id, project) and (trace_id, project) as the only
    candidates, as in services/capture_sql.py: a new project's stale statistics would otherwise pick a project scan."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT external_id, NULL FROM feedback_interaction WHERE external_id = ANY(%s) AND project_id + 0 = %s
            UNION ALL
            SELECT * FROM (
                SELECT DISTINCT ON (trace_id) external_id, trace_id FROM feedback_interaction
                WHERE trace_id = ANY(%s) AND trace_id <> '' AND project_id + 0 = %s
                ORDER BY trace_id, occurred_at DESC, id DESC
            ) t
            """,
            [observation_ids, project_id, trace_ids, project_id],
        )
        rows = cursor.fetchall()
    return {eid for eid, trace in rows if trace is None}, {trace: eid for eid, trace in rows if trace is not None}


def _interaction_of(score: ScoreItem, observations: set[str], traces: dict[str, str]) -> str | None:
    if score.observation_id:
        return score.observation_id if score.observation_id in observations else None
    return traces.get(score.trace_id)


def scores_ingest(*, project_id: int, scores: list[Any]) -> list[ItemResult]:
    """Record Langfuse scores as feedback; one result per score, in order: 201/200 as capture answers, 202 for a
    score kept until its trace arrives, 4xx for an invalid one."""
    results: list[ItemResult | None] = [None] * len(scores)
    cleaned: list[tuple[int, ScoreItem]] = []
    for position, score in enumerate(scores):
        try:
            cleaned.append((position, score_clean(score)))
        except ItemInvalid as exc:
            sid = score.get("id") if isinstance(score, dict) and isinstance(score.get("id"), str) else None
            error = {"code": "invalid", "message": "The score is invalid; see fields.", "fields": exc.fields}
            results[position] = ItemResult(400, id=sid, error=error)
    observations, traces = _targets(
        project_id,
        sorted({s.observation_id for _, s in cleaned if s.observation_id}),
        sorted({s.trace_id for _, s in cleaned if not s.observation_id}),
    )
    ready, waiting = [], []
    for position, score in cleaned:
        target = _interaction_of(score, observations, traces)
        if target is None:
            waiting.append((position, score))
        else:
            ready.append((position, {**score.item, "interaction_id": target}))
    if ready:
        captured = capture_ingest(project_id=project_id, interactions=[], feedback=[item for _, item in ready])
        for (position, _), result in zip(ready, captured.feedback, strict=True):
            results[position] = result
    if waiting:
        _keep_pending(project_id, waiting, results)
    return results  # type: ignore[return-value]


def _keep_pending(project_id: int, waiting: list[tuple[int, ScoreItem]], results: list) -> None:
    for position, score in waiting:
        # Validate now what capture would refuse later, so that a kept score never turns out invalid.
        probe = capture_probe({**score.item, "interaction_id": "pending"})
        results[position] = probe or ItemResult(202, id=score.item["id"])
    rows = [
        PendingScore(
            project_id=project_id,
            external_id=score.item["id"],
            trace_id=score.trace_id,
            observation_id=score.observation_id,
            item=score.item,
        )
        for position, score in waiting
        if results[position].status == 202
    ]
    PendingScore.objects.bulk_create(rows, ignore_conflicts=True)
    # The spans may have arrived between our look-up and our insert: look again now that the scores are stored
    # (the span path does the same after its insert, so one of the two always sees the other).
    pending_scores_attach(
        project_id=project_id,
        observation_ids=sorted({r.observation_id for r in rows if r.observation_id}),
        trace_ids=sorted({r.trace_id for r in rows if not r.observation_id}),
    )


def capture_probe(item: dict) -> ItemResult | None:
    """The 400 result capture would give this feedback item, or None when it is valid."""
    try:
        feedback_clean(item)
    except ItemInvalid as exc:
        error = {"code": "invalid", "message": "The score is invalid; see fields.", "fields": exc.fields}
        return ItemResult(400, id=item.get("id"), error=error)
    return None


def pending_scores_attach(
    *, project_id: int, observation_ids: list[str], trace_ids: list[str], skipped_span_ids: list[str] | None = None
) -> int:
    """Attach the kept scores that these spans answer: scores on one of the observations, scores on one of the
    traces, and scores on a span that was not an LLM call (they go to that trace's interaction). Returns how
    many were attached."""
    if not observation_ids and not trace_ids and not skipped_span_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, p.item, coalesce(o.external_id, t.external_id)
            FROM feedback_pendingscore p
            LEFT JOIN feedback_interaction o
                   ON o.external_id = p.observation_id AND o.project_id + 0 = p.project_id AND p.observation_id <> ''
            LEFT JOIN LATERAL (
                SELECT external_id FROM feedback_interaction
                WHERE trace_id = p.trace_id AND project_id + 0 = p.project_id AND trace_id <> ''
                  AND (p.observation_id = '' OR p.observation_id = ANY(%(skipped)s))
                ORDER BY occurred_at DESC, id DESC LIMIT 1
            ) t ON true
            WHERE p.project_id = %(project)s
              AND (p.observation_id = ANY(%(observations)s) OR p.observation_id = ANY(%(skipped)s)
                   OR (p.observation_id = '' AND p.trace_id = ANY(%(traces)s)))
            """,
            {
                "project": project_id,
                "observations": list(observation_ids),
                "skipped": list(skipped_span_ids or []),
                "traces": list(trace_ids),
            },
        )
        found = [(pk, item, target) for pk, item, target in cursor.fetchall() if target is not None]
    if not found:
        return 0
    items = [{**_json(item), "interaction_id": target} for _, item, target in found]
    captured = capture_ingest(project_id=project_id, interactions=[], feedback=items)
    done = [pk for (pk, _, _), result in zip(found, captured.feedback, strict=True) if result.status != 404]
    PendingScore.objects.filter(pk__in=done).delete()
    return len(done)


def _json(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else value
