"""Adding to a draft: direct examples or promoted reviewed interactions, with exact and near dedup."""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from examples_lib.canonical import content_hash, interaction_stable_id, split_for, text_of
from examples_lib.models import Dataset, Example
from feedback.models.clusters import EMBEDDING_DIMENSIONS
from feedback.selectors.promotion import promotion_candidates

logger = logging.getLogger(__name__)


@dataclass
class AddResult:
    """What happened to each item of one request, in the API's vocabulary."""

    added: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    near_duplicates: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[dict]]:
        return {
            "added": self.added,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "near_duplicates": self.near_duplicates,
            "refused": self.refused,
        }


def _lineage_of(candidate: dict[str, Any]) -> dict[str, Any]:
    review = candidate["review"]
    return {
        "source": "interaction",
        "interaction_id": candidate["external_id"],
        "interaction_pk": candidate["pk"],
        "feedback_ids": candidate["feedback_ids"],
        "review_id": review["id"],
        "reviewer": review["reviewer"],
        "verdict": review["verdict"],
        "error_category": review["error_category"],
        "reviewed_at": review["created_at"].isoformat(),
        "cluster": candidate["cluster"],
        "model": candidate["model"],
        "prompt_version": candidate["prompt_version"],
        "original_output": candidate["output"],
    }


@transaction.atomic
def examples_promote(
    *, dataset: Dataset, external_ids: list[str] | None = None, interactions: QuerySet | None = None
) -> AddResult:
    """Add reviewed interactions to the draft; the expected output is the SME's correction, or the original output
    the SME marked correct. Unknown, unreviewed and invalid interactions are refused with a reason."""
    candidates = promotion_candidates(project=dataset.project, external_ids=external_ids, interactions=interactions)
    result = AddResult()
    found = {candidate["external_id"] for candidate in candidates}
    for external_id in dict.fromkeys(external_ids or []):
        if external_id not in found:
            result.refused.append(
                {"interaction_id": external_id, "code": "not_found", "reason": "No interaction with this id."}
            )
    drafts = []
    for candidate in candidates:
        ref = {"interaction_id": candidate["external_id"]}
        review = candidate["review"]
        if review is None:
            # Unreviewed, or an overlap item still collecting verdicts ("pending") or with SMEs who disagree and no
            # adjudication yet ("disputed"): feedback.selectors.adjudication.settlement says which and why.
            reason = candidate.get("refusal") or "Not reviewed by an SME yet; review it before promoting."
            result.refused.append({**ref, "code": candidate.get("settlement", "unreviewed"), "reason": reason})
        elif review["verdict"] == "invalid":
            reason = "The SME marked it invalid (it cannot be used)."
            result.refused.append({**ref, "code": "invalid", "reason": reason})
        else:
            expected = review["correction"] if review["verdict"] == "corrected" else candidate["output"]
            stable_id = interaction_stable_id(project_id=dataset.project_id, external_id=candidate["external_id"])
            drafts.append(
                {
                    "ref": ref,
                    "stable_id": stable_id,
                    "input": candidate["input"],
                    "expected_output": expected,
                    "metadata": {},
                    "lineage": _lineage_of(candidate),
                    "source_interaction_id": candidate["pk"],
                }
            )
    _add_drafts(dataset=dataset, drafts=drafts, result=result)
    return result


@transaction.atomic
def examples_add(*, dataset: Dataset, examples: list[dict[str, Any]], source: str = "api") -> AddResult:
    """Add examples given directly ({input, expected_output, metadata?, id?}); an existing id is updated."""
    result = AddResult()
    drafts = []
    for index, item in enumerate(examples):
        ref = {"index": index}
        missing = [name for name in ("input", "expected_output") if name not in item or item[name] is None]
        if missing:
            result.refused.append({**ref, "code": "invalid", "reason": f"Missing {' and '.join(missing)}."})
            continue
        if not isinstance(item.get("metadata", {}), dict):
            result.refused.append({**ref, "code": "invalid", "reason": "metadata must be an object."})
            continue
        stable_id = str(item.get("id") or uuid.uuid4().hex)
        if len(stable_id) > 64:
            result.refused.append({**ref, "code": "invalid", "reason": "id is longer than 64 characters."})
            continue
        drafts.append(
            {
                "ref": ref,
                "stable_id": stable_id,
                "input": item["input"],
                "expected_output": item["expected_output"],
                "metadata": item.get("metadata") or {},
                "lineage": {"source": source, **(item.get("lineage") or {})},
                "source_interaction_id": None,
            }
        )
    _add_drafts(dataset=dataset, drafts=drafts, result=result)
    return result


def _add_drafts(*, dataset: Dataset, drafts: list[dict], result: AddResult) -> None:
    # The dataset row lock serialises writers of one draft (and freezing), so the checks below hold at insert time.
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    for draft in drafts:
        draft["content_hash"] = content_hash(draft["input"], draft["expected_output"])
    existing = Example.objects.filter(dataset=dataset).filter(
        Q(content_hash__in=[d["content_hash"] for d in drafts]) | Q(stable_id__in=[d["stable_id"] for d in drafts])
    )
    by_hash = {row.content_hash: row for row in existing}
    by_stable_id = {row.stable_id: row for row in by_hash.values()}
    new, changed = [], []
    for draft in drafts:
        twin = by_hash.get(draft["content_hash"])
        if twin is not None:
            result.duplicates.append({**draft["ref"], "duplicate_of": twin.stable_id})
            continue
        example = by_stable_id.get(draft["stable_id"])
        is_new = example is None
        if is_new:
            example = Example(
                dataset=dataset, stable_id=draft["stable_id"], split=split_for(draft["stable_id"], dataset.ratios)
            )
            new.append(example)
        else:
            by_hash.pop(example.content_hash, None)
            changed.append(example)
        example.input, example.expected_output = draft["input"], draft["expected_output"]
        example.metadata, example.lineage = draft["metadata"], draft["lineage"]
        example.content_hash, example.source_interaction_id = draft["content_hash"], draft["source_interaction_id"]
        example.embedding, example.updated_at = None, timezone.now()
        by_hash[example.content_hash] = example
        by_stable_id[example.stable_id] = example
        report = result.added if is_new else result.updated
        report.append({**draft["ref"], "id": example.stable_id, "split": example.split})
    Example.objects.bulk_create(new)
    if changed:
        Example.objects.bulk_update(
            changed,
            [
                "input",
                "expected_output",
                "metadata",
                "lineage",
                "content_hash",
                "source_interaction",
                "updated_at",
                "embedding",
            ],
        )
    result.near_duplicates.extend(_near_duplicates(dataset=dataset, examples=new + changed))


def _embedder():
    path = getattr(settings, "EXAMPLES_EMBEDDER", "core.embedder.embed_texts")
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        logger.warning("Near-duplicate detection is off: cannot import the embedder %s.", path)
        return None


def _near_duplicates(*, dataset: Dataset, examples: list[Example]) -> list[dict]:
    """Embed the new examples and report each one whose nearest other example is at least as similar as the
    dataset's threshold. Skipped (empty) when no embedder is available."""
    embed = _embedder()
    if embed is None or not examples:
        return []
    texts = [f"{text_of(e.input)}\n{text_of(e.expected_output)}" for e in examples]
    try:
        vectors = embed(texts)
    except (OSError, RuntimeError, ValueError) as error:
        logger.warning("Near-duplicate detection skipped: the embedder failed (%s).", error)
        return []
    if len(vectors) != len(examples) or any(len(vector) != EMBEDDING_DIMENSIONS for vector in vectors):
        logger.warning(
            "Near-duplicate detection skipped: the embedder does not give %s dimensions.", EMBEDDING_DIMENSIONS
        )
        return []
    for example, vector in zip(examples, vectors, strict=True):
        example.embedding = [float(x) for x in vector]
    Example.objects.bulk_update(examples, ["embedding"])
    table = Example._meta.db_table
    with connection.cursor() as cursor:
        # One query: for each new example, its nearest other example of the dataset (exact scan; drafts are small).
        cursor.execute(
            f"""
            SELECT n.stable_id, o.stable_id, 1 - (n.embedding <=> o.embedding) AS similarity
            FROM {table} n
            CROSS JOIN LATERAL (
                SELECT stable_id, embedding FROM {table} o
                WHERE o.dataset_id = n.dataset_id AND o.id <> n.id AND o.embedding IS NOT NULL
                ORDER BY o.embedding <=> n.embedding LIMIT 1
            ) o
            WHERE n.id = ANY(%s) AND 1 - (n.embedding <=> o.embedding) >= %s
            ORDER BY n.id
            """,
            [[e.pk for e in examples], dataset.near_duplicate_threshold],
        )
        rows = cursor.fetchall()
    return [{"id": new_id, "similar_to": other_id, "similarity": round(sim, 4)} for new_id, other_id, sim in rows]
