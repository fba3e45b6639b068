"""Agreement of a project's SMEs (and of its automated judges with them), as the API and the admin page show it.

The reliability data (feedback.selectors.reliability: every active verdict as arrays) comes from one query, the
judges' latest values (feedback.selectors.judges) from a second, SMEs' numeric scores from a third; everything else
is numpy over those arrays (agreement_stats).
"""

from datetime import date, timedelta

import numpy as np
from django.db import connection

from feedback.models import Feedback, Interaction, Project
from feedback.selectors import agreement_stats as stats
from feedback.selectors.judges import judges_against_smes
from feedback.selectors.overlap import open_overlap_ids
from feedback.selectors.reliability import VERDICTS, Verdicts, estimate_into, verdicts_fetch

TOP_DISAGREEMENTS = 20


def _pair_block(pair: stats.PairStats) -> dict:
    block = {}
    block["percent_agreement"] = estimate_into(pair.percent_agreement, "percent_agreement", block)
    block["cohen_kappa"] = estimate_into(pair.kappa, "cohen_kappa", block)
    return block


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
        row["percent_agreement"] = estimate_into(stats.percent_agreement(sub), "percent_agreement", row)
        row["krippendorff_alpha"] = estimate_into(stats.krippendorff_alpha(sub), "krippendorff_alpha", row)
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
        row["krippendorff_alpha"] = estimate_into(
            stats.krippendorff_alpha(data, level="interval"), "krippendorff_alpha", row
        )
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
    report["percent_agreement"] = estimate_into(stats.percent_agreement(matrix), "percent_agreement", report)
    report["cohen_kappa"] = estimate_into(stats.mean_pairwise_kappa(matrix), "cohen_kappa", report)
    report["krippendorff_alpha"] = estimate_into(stats.krippendorff_alpha(matrix), "krippendorff_alpha", report)
    category_alpha = stats.krippendorff_alpha(data.matrix(values=data.category.astype(float)))
    report["krippendorff_alpha_category"] = estimate_into(category_alpha, "krippendorff_alpha_category", report)
    report["by_reviewer"] = _by_reviewer(data, matrix)
    report["by_category"] = _by_category(data, matrix)
    report["judges"], report["trust_by_category"] = judges_against_smes(
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
