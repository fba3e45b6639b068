"""Agreement of a project's SMEs (and of its automated judges with them), as the API and the admin page show it.

The reliability data (every active verdict: item, reviewer, verdict, category, adjudication) comes from one query,
the judges' latest feedback from a second; everything else is numpy over those arrays (agreement_stats).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import connection

from feedback.models import Feedback, Interaction, Project, Review, ScoreThreshold
from feedback.selectors import agreement_stats as stats
from feedback.selectors.overlap import open_overlap_ids

VERDICTS = list(Review.Verdict.values)  # the nominal codes 0, 1, 2
PASS, FAIL = 0, 1
# SME verdict as a judge sees it: correct = the output passes, corrected = it fails; invalid items are left out.
SME_PASS_FAIL = {"correct": PASS, "corrected": FAIL}
PASS_WORDS = {"pass", "correct", "good", "yes", "true", "up", "1"}
FAIL_WORDS = {"fail", "incorrect", "wrong", "bad", "no", "false", "down", "0", "corrected"}
MIN_JUDGE_ITEMS = 5  # below this, a judge is not recommended for a category
TOP_DISAGREEMENTS = 20

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

# One row per judge (source, name): the latest value it gave each reviewed item, as arrays.
_JUDGES_SQL = """
SELECT source, name,
       array_agg(interaction_id), array_agg(CASE data_type WHEN 'BOOLEAN' THEN 0 WHEN 'NUMERIC' THEN 1 ELSE 2 END),
       array_agg(value_number), array_agg(CASE WHEN data_type = 'CATEGORICAL' THEN value_string END)
FROM (
    SELECT DISTINCT ON (f.interaction_id, f.source, f.name)
           f.interaction_id, f.source, f.name, f.data_type, f.value_number, f.value_string
    FROM feedback_feedback f
    WHERE f.project_id = %(project)s AND f.source = ANY(%(sources)s)
      AND f.interaction_id IN (SELECT r.interaction_id FROM feedback_review r
                               WHERE r.project_id = %(project)s AND r.superseded_at IS NULL)
    ORDER BY f.interaction_id, f.source, f.name, f.created_at DESC, f.id DESC
) AS latest
GROUP BY source, name
ORDER BY source, name
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


def _scalar(estimate: stats.Estimate, name: str, into: dict) -> float | None:
    into.setdefault("ci95", {})[name] = list(estimate.ci95) if estimate.ci95 else None
    into.setdefault("n", {})[name] = estimate.n
    return estimate.value


def _pair_block(pair: stats.PairStats) -> dict:
    block = {}
    block["percent_agreement"] = _scalar(pair.percent_agreement, "percent_agreement", block)
    block["cohen_kappa"] = _scalar(pair.kappa, "cohen_kappa", block)
    return block


def _item_labels(data: Verdicts, matrix: np.ndarray) -> np.ndarray:
    """The settled verdict of each item (-1 when unsettled): its adjudication, else the verdict all its SMEs gave."""
    counts, domain = stats.value_counts(matrix)
    labels = np.full(len(data.item_pks), -1, dtype=np.int64)
    if counts.shape[1]:
        unanimous = (counts > 0).sum(axis=1) == 1
        labels[unanimous] = domain[counts[unanimous].argmax(axis=1)].astype(np.int64)
    for item, code in data.adjudicated.items():
        labels[item] = code
    return labels


def _by_reviewer(data: Verdicts, matrix: np.ndarray) -> list[dict]:
    present = ~np.isnan(matrix)
    adjudicated_items = np.array(sorted(data.adjudicated), dtype=np.int64)
    adjudicated_codes = np.array([data.adjudicated[i] for i in adjudicated_items.tolist()], dtype=np.int64)
    result = []
    for index, name in enumerate(data.reviewers):
        mine, theirs = [], []
        for other in range(len(data.reviewers)):
            if other == index:
                continue
            shared = present[index] & present[other]
            mine.append(matrix[index, shared])
            theirs.append(matrix[other, shared])
        mine_all = np.concatenate(mine).astype(np.int64) if mine else np.array([], dtype=np.int64)
        theirs_all = np.concatenate(theirs).astype(np.int64) if theirs else np.array([], dtype=np.int64)
        row = {
            "reviewer": name,
            "n_verdicts": int(present[index].sum()),
            "vs_others": _pair_block(stats.compare(mine_all, theirs_all, labels=len(VERDICTS))),
        }
        judged = present[index, adjudicated_items] if len(adjudicated_items) else np.array([], dtype=bool)
        row["vs_adjudicated"] = _pair_block(
            stats.compare(
                matrix[index, adjudicated_items[judged]].astype(np.int64),
                adjudicated_codes[judged],
                labels=len(VERDICTS),
            )
        )
        result.append(row)
    return sorted(result, key=lambda row: (-row["n_verdicts"], row["reviewer"]))


def _by_category(data: Verdicts, matrix: np.ndarray) -> list[dict]:
    result = []
    for code, name in enumerate(data.categories):
        if not name:
            continue
        items = np.unique(data.item[data.category == code])
        sub = matrix[:, items]
        row = {"error_category": name, "n_items": int(((~np.isnan(sub)).sum(axis=0) >= 2).sum())}
        row["percent_agreement"] = _scalar(stats.percent_agreement(sub), "percent_agreement", row)
        row["krippendorff_alpha"] = _scalar(stats.krippendorff_alpha(sub), "krippendorff_alpha", row)
        result.append(row)
    return sorted(result, key=lambda row: (-row["n_items"], row["error_category"]))


def _trend(data: Verdicts, matrix: np.ndarray) -> list[dict]:
    """Agreement per week of the items' last verdict (per day when the data spans under 60 days)."""
    if not len(data.day):
        return []
    last = np.full(len(data.item_pks), -1, dtype=np.int64)
    np.maximum.at(last, data.item, data.day)
    weekly = last.max() - last[last >= 0].min() >= 60
    # 1970-01-01 was a Thursday: shift by 3 days so that weeks start on Mondays.
    buckets = (last + 3) // 7 * 7 - 3 if weekly else last
    epoch = date(1970, 1, 1)
    result = []
    for bucket in np.unique(buckets[buckets >= -3]).tolist():
        sub = matrix[:, buckets == bucket]
        agreement = stats.percent_agreement(sub, replicates=200)
        if agreement.n == 0:
            continue
        alpha = stats.krippendorff_alpha(sub, replicates=200)
        result.append(
            {
                "bucket": (epoch + timedelta(days=bucket)).isoformat(),
                "period": "week" if weekly else "day",
                "n_items": agreement.n,
                "percent_agreement": agreement.value,
                "percent_agreement_ci95": list(agreement.ci95) if agreement.ci95 else None,
                "krippendorff_alpha": alpha.value,
            }
        )
    return result


def _disagreements(data: Verdicts, matrix: np.ndarray, limit: int = TOP_DISAGREEMENTS) -> list[dict]:
    counts, _ = stats.value_counts(matrix)
    if counts.shape[1] == 0:
        return []
    m = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    candidates = np.flatnonzero((m >= 2) & (agreement < 1))
    ranked = candidates[np.lexsort((-m[candidates], agreement[candidates]))]
    # Items still collecting verdicts stay blind here too (an adjudicator may also be one of their SMEs).
    blind = open_overlap_ids(interaction_ids=data.item_pks[ranked[: limit * 3]].tolist())
    order = np.array([item for item in ranked[: limit * 3].tolist() if int(data.item_pks[item]) not in blind][:limit])
    if not len(order):
        return []
    external_ids = dict(
        Interaction.objects.filter(pk__in=data.item_pks[order].tolist()).values_list("pk", "external_id")
    )
    result = []
    for item in order.tolist():
        rows = np.flatnonzero(data.item == item)
        result.append(
            {
                "interaction_id": external_ids.get(int(data.item_pks[item]), ""),
                "pk": int(data.item_pks[item]),
                "disagreement": round(float(1 - agreement[item]), 4),
                "verdicts": [
                    {
                        "reviewer": data.reviewers[data.reviewer[row]],
                        "verdict": VERDICTS[data.verdict[row]],
                        "error_category": data.categories[data.category[row]] or None,
                    }
                    for row in rows.tolist()
                ],
                "adjudicated": VERDICTS[data.adjudicated[item]] if item in data.adjudicated else None,
            }
        )
    return result


def _judge_labels(kinds: np.ndarray, numbers: np.ndarray, strings: list, threshold: float) -> np.ndarray:
    """PASS / FAIL / -1 (unusable) of a judge's values (kinds 0 boolean, 1 numeric, 2 categorical): booleans as
    given, scores against the project's threshold of that name (0.5 without one), categories by pass/fail words."""
    labels = np.full(len(kinds), -1, dtype=np.int64)
    boolean = (kinds == 0) & ~np.isnan(numbers)
    labels[boolean] = np.where(numbers[boolean] >= 0.5, PASS, FAIL)
    numeric = (kinds == 1) & ~np.isnan(numbers)
    labels[numeric] = np.where(numbers[numeric] >= threshold, PASS, FAIL)
    for index in np.flatnonzero(kinds == 2).tolist():
        word = (strings[index] or "").strip().lower()
        labels[index] = PASS if word in PASS_WORDS else FAIL if word in FAIL_WORDS else -1
    return labels


def _judges(data: Verdicts, matrix: np.ndarray, *, project: Project, sources: list[str]) -> tuple[list, list]:
    settled = _item_labels(data, matrix)
    if not ((settled == 0) | (settled == 1)).any():
        return [], []
    first_category = np.zeros(len(data.item_pks), dtype=np.int64)
    with_category = data.category > 0
    first_category[data.item[with_category][::-1]] = data.category[with_category][::-1]
    thresholds = dict(ScoreThreshold.objects.filter(project=project).values_list("name", "threshold"))
    with connection.cursor() as cursor:
        cursor.execute(_JUDGES_SQL, {"project": project.pk, "sources": sources})
        rows = cursor.fetchall()
    judges, best = [], {}
    for source, name, pks, kinds, numbers, strings in rows:
        pks = np.array(pks, dtype=np.int64)
        index = np.clip(np.searchsorted(data.item_pks, pks), 0, max(0, len(data.item_pks) - 1))
        known = data.item_pks[index] == pks  # items whose verdicts are in the filtered reliability data
        sme_labels = np.where(known, settled[index], -1)
        judge_labels = _judge_labels(
            np.array(kinds, dtype=np.int64),
            np.array([np.nan if value is None else value for value in numbers], dtype=float),
            strings,
            thresholds.get(name, 0.5),
        )
        # Correct or corrected on the SME side (invalid items say nothing of the output), a label on the judge's.
        mask = ((sme_labels == PASS) | (sme_labels == FAIL)) & (judge_labels >= 0)
        if not mask.any():
            continue
        sme_labels, judge_labels, categories = sme_labels[mask], judge_labels[mask], first_category[index[mask]]
        pair = stats.compare(sme_labels, judge_labels, labels=2)
        confusion = pair.confusion.tolist()
        judge = {"source": source, "name": name, "n_items": pair.kappa.n}
        judge["agreement_with_sme"] = _scalar(pair.percent_agreement, "agreement_with_sme", judge)
        judge["kappa"] = _scalar(pair.kappa, "kappa", judge)
        judge["confusion"] = {
            "sme_pass": {"judge_pass": confusion[PASS][PASS], "judge_fail": confusion[PASS][FAIL]},
            "sme_fail": {"judge_pass": confusion[FAIL][PASS], "judge_fail": confusion[FAIL][FAIL]},
        }
        judge["by_category"] = []
        hits = sme_labels == judge_labels
        # A failed item counts in its category (-2 when it has none); every passed item in "(passed)" (-1).
        groups = np.where(sme_labels == FAIL, np.where(categories > 0, categories, -2), -1)
        for group in np.unique(groups).tolist():
            label = data.categories[group] if group > 0 else ("(passed)" if group == -1 else "(no category)")
            in_group = hits[groups == group]
            row = {"error_category": label, "n": int(in_group.size), "agreement": round(float(in_group.mean()), 4)}
            judge["by_category"].append(row)
            if row["n"] >= MIN_JUDGE_ITEMS:
                rank = (row["agreement"], row["n"])
                if label not in best or rank > best[label][0]:
                    best[label] = (rank, {"source": source, "name": name})
        judge["by_category"].sort(key=lambda row: row["error_category"])
        judges.append(judge)
    trust = [
        {"error_category": category, "judge": judge, "agreement": rank[0], "n": rank[1]}
        for category, (rank, judge) in sorted(best.items())
    ]
    return judges, trust


# SMEs' own numeric scores (feedback of source `sme`): the latest per item, score name and author.
_SCORES_SQL = """
SELECT name, array_agg(interaction_id), array_agg(author), array_agg(value_number)
FROM (
    SELECT DISTINCT ON (f.interaction_id, f.name, f.author) f.interaction_id, f.name, f.author, f.value_number
    FROM feedback_feedback f
    WHERE f.project_id = %(project)s AND f.source = 'sme' AND f.data_type = 'NUMERIC'
      AND f.value_number IS NOT NULL
      AND (%(since)s::timestamptz IS NULL OR f.created_at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR f.created_at < %(until)s)
    ORDER BY f.interaction_id, f.name, f.author, f.created_at DESC, f.id DESC
) AS latest
GROUP BY name
ORDER BY name
"""


def _scores(*, project: Project, since, until) -> list[dict]:
    """Krippendorff's alpha, interval level, of the numeric scores SMEs gave (feedback of source `sme`), per name:
    the raters are the feedback authors."""
    with connection.cursor() as cursor:
        cursor.execute(_SCORES_SQL, {"project": project.pk, "since": since, "until": until})
        rows = cursor.fetchall()
    result = []
    for name, items, authors, values in rows:
        item_codes, item_index = np.unique(np.array(items, dtype=np.int64), return_inverse=True)
        author_codes, author_index = np.unique(np.array(authors, dtype=object), return_inverse=True)
        data = np.full((len(author_codes), len(item_codes)), np.nan)
        data[author_index, item_index] = np.array(values, dtype=float)
        row = {"name": name, "n_raters": len(author_codes), "n_items": int(((~np.isnan(data)).sum(axis=0) >= 2).sum())}
        row["krippendorff_alpha"] = _scalar(stats.krippendorff_alpha(data, level="interval"), "krippendorff_alpha", row)
        result.append(row)
    return result


def agreement_report(
    *,
    project: Project,
    since=None,
    until=None,
    error_category: str | None = None,
    reviewer: str | None = None,
    sources: list[str] | None = None,
) -> dict:
    """Everything GET /api/v1/agreement answers (see docs/agreement.md for each figure's definition)."""
    data = verdicts_fetch(project=project, since=since, until=until, error_category=error_category, reviewer=reviewer)
    matrix = data.matrix()
    pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
    report = {
        "n_items": int(pairable.sum()),
        "n_reviewers": len(data.reviewers),
        "n_verdicts": len(data.verdict),
        "n_adjudicated": len(data.adjudicated),
    }
    report["percent_agreement"] = _scalar(stats.percent_agreement(matrix), "percent_agreement", report)
    report["cohen_kappa"] = _scalar(stats.mean_pairwise_kappa(matrix), "cohen_kappa", report)
    report["krippendorff_alpha"] = _scalar(stats.krippendorff_alpha(matrix), "krippendorff_alpha", report)
    category_alpha = stats.krippendorff_alpha(data.matrix(values=data.category.astype(float)))
    report["krippendorff_alpha_category"] = _scalar(category_alpha, "krippendorff_alpha_category", report)
    report["by_reviewer"] = _by_reviewer(data, matrix)
    report["by_category"] = _by_category(data, matrix)
    report["judges"], report["trust_by_category"] = _judges(
        data, matrix, project=project, sources=sources or [Feedback.Source.AUTOMATED]
    )
    report["scores"] = _scores(project=project, since=since, until=until)
    report["trend"] = _trend(data, matrix)
    report["disagreements"] = _disagreements(data, matrix)
    return report


def agreement_alpha(*, project: Project, since=None, until=None) -> tuple[float | None, int]:
    """(Krippendorff's alpha of the SME verdicts given in the range, items with two verdicts or more): the figure
    an "agreement below threshold" alert rule watches; no interval, so it costs one query and a few ms."""
    data = verdicts_fetch(project=project, since=since, until=until)
    estimate = stats.krippendorff_alpha(data.matrix(), replicates=0)
    items = int(((~np.isnan(data.matrix())).sum(axis=0) >= 2).sum())
    return estimate.value, items
