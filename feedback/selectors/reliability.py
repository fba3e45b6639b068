"""The reliability data of a project: every active SME verdict as parallel arrays (item, reviewer, verdict,
category, day), adjudications apart, fetched in one query; and which verdict of an item is settled."""

from dataclasses import dataclass

import numpy as np
from django.db import connection

from feedback.models import Project, Review
from feedback.selectors import agreement_stats as stats

VERDICTS = list(Review.Verdict.values)  # the nominal codes 0, 1, 2

# One row: the project's active verdicts as parallel integer arrays (no sort, no string per verdict); reviewers are
# keyed by hashtext(name) and named by the small map beside the arrays.
_VERDICTS_SQL = """
WITH r AS (
    SELECT r.interaction_id, COALESCE(NULLIF(r.reviewer_name, ''), '(anonymous)') AS who,
           CASE r.verdict WHEN 'correct' THEN 0 WHEN 'corrected' THEN 1 ELSE 2 END AS verdict,
           COALESCE(r.error_category_id, 0) AS category_id, r.is_adjudication,
           (r.created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day, r.created_at
    FROM feedback_review r
    WHERE r.project_id = %(project)s AND r.superseded_at IS NULL
      AND (%(since)s::timestamptz IS NULL OR r.created_at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR r.created_at < %(until)s)
      AND (%(category)s::text IS NULL OR r.interaction_id IN (
            SELECT r2.interaction_id FROM feedback_review r2
            JOIN feedback_errorcategory c2 ON c2.id = r2.error_category_id
            WHERE r2.project_id = %(project)s AND r2.superseded_at IS NULL AND c2.name = %(category)s))
      AND (%(reviewer)s::text IS NULL OR r.interaction_id IN (
            SELECT r3.interaction_id FROM feedback_review r3
            WHERE r3.project_id = %(project)s AND r3.superseded_at IS NULL AND r3.reviewer_name = %(reviewer)s))
)
SELECT COALESCE(array_agg(interaction_id) FILTER (WHERE NOT is_adjudication), '{}'),
       COALESCE(array_agg(hashtext(who)) FILTER (WHERE NOT is_adjudication), '{}'),
       COALESCE(array_agg(verdict) FILTER (WHERE NOT is_adjudication), '{}'),
       COALESCE(array_agg(category_id) FILTER (WHERE NOT is_adjudication), '{}'),
       COALESCE(array_agg(day) FILTER (WHERE NOT is_adjudication), '{}'),
       COALESCE(array_agg(interaction_id ORDER BY created_at) FILTER (WHERE is_adjudication), '{}'),
       COALESCE(array_agg(verdict ORDER BY created_at) FILTER (WHERE is_adjudication), '{}'),
       (SELECT COALESCE(json_object_agg(k, who), '{}') FROM (
            SELECT DISTINCT hashtext(who) AS k, who FROM r WHERE NOT is_adjudication) AS names),
       (SELECT COALESCE(json_object_agg(id, name), '{}') FROM feedback_errorcategory
        WHERE project_id = %(project)s)
FROM r
"""


@dataclass
class Verdicts:
    """The reliability data of a project as arrays (one entry per active SME verdict; adjudications apart)."""

    item: np.ndarray  # item index per verdict
    reviewer: np.ndarray  # reviewer index per verdict
    verdict: np.ndarray  # verdict code per verdict
    category: np.ndarray  # category code per verdict (0 = none)
    day: np.ndarray  # the verdict's day (days since 1970-01-01, UTC)
    item_pks: np.ndarray
    reviewers: list[str]
    categories: list[str]  # index 0 is "" (no category)
    adjudicated: dict[int, int]  # item index -> verdict code of the latest adjudication

    def matrix(self, values: np.ndarray | None = None, items: np.ndarray | None = None) -> np.ndarray:
        """reviewers x items (np.nan where a reviewer gave no verdict); `items` selects columns."""
        values = self.verdict if values is None else values
        data = np.full((len(self.reviewers), len(self.item_pks)), np.nan)
        data[self.reviewer, self.item] = values
        return data if items is None else data[:, items]


def verdicts_fetch(
    *, project: Project, since=None, until=None, error_category: str | None = None, reviewer: str | None = None
) -> Verdicts:
    """The reliability data in one query (arrays, not 100,000 rows of Python objects)."""
    params = {"project": project.pk, "since": since, "until": until, "category": error_category, "reviewer": reviewer}
    with connection.cursor() as cursor:
        cursor.execute(_VERDICTS_SQL, params)
        items, who, verdict, category, day, adjudicated_items, adjudicated_verdicts, names, categories = (
            cursor.fetchone()
        )
    adjudicated_items = np.array(adjudicated_items, dtype=np.int64)
    item_pks, inverse = np.unique(
        np.concatenate([np.array(items, dtype=np.int64), adjudicated_items]), return_inverse=True
    )
    sme_items, adjudicated_index = inverse[: len(items)], inverse[len(items) :]
    keys, reviewer = np.unique(np.array(who, dtype=np.int64), return_inverse=True)
    # Reviewers in name order: reorder the codes of np.unique (by hash) accordingly.
    key_names = [names[str(key)] for key in keys.tolist()]
    order = sorted(range(len(key_names)), key=key_names.__getitem__)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    category_ids = np.array(category, dtype=np.int64)
    category_names = ["", *sorted({categories[str(pk)] for pk in np.unique(category_ids).tolist() if pk})]
    code_of = {0: 0, **{int(pk): category_names.index(name) for pk, name in categories.items()
                        if name in category_names}}  # fmt: skip
    lookup = np.zeros(max(code_of) + 1, dtype=np.int64)
    for pk, code in code_of.items():
        lookup[pk] = code
    return Verdicts(
        item=sme_items,
        reviewer=rank[reviewer] if len(reviewer) else reviewer,
        verdict=np.array(verdict, dtype=np.int64),
        category=lookup[category_ids] if len(category_ids) else category_ids,
        day=np.array(day, dtype=np.int64),
        item_pks=item_pks,
        reviewers=[key_names[index] for index in order],
        categories=category_names,
        # In time order, so the latest adjudication of an item wins.
        adjudicated=dict(zip(adjudicated_index.tolist(), adjudicated_verdicts, strict=True)),
    )


def estimate_into(estimate: stats.Estimate, name: str, into: dict) -> float | None:
    into.setdefault("ci95", {})[name] = list(estimate.ci95) if estimate.ci95 else None
    into.setdefault("n", {})[name] = estimate.n
    return estimate.value


def settled_labels(data: Verdicts, matrix: np.ndarray) -> np.ndarray:
    """The settled verdict of each item (-1 when unsettled): its adjudication, else the verdict all its SMEs gave."""
    counts, domain = stats.value_counts(matrix)
    labels = np.full(len(data.item_pks), -1, dtype=np.int64)
    if counts.shape[1]:
        unanimous = (counts > 0).sum(axis=1) == 1
        labels[unanimous] = domain[counts[unanimous].argmax(axis=1)].astype(np.int64)
    for item, code in data.adjudicated.items():
        labels[item] = code
    return labels
