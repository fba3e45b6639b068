"""Judges against experts: each automated judge's pass/fail against the SMEs' settled verdicts on the same items
(agreement, Cohen's kappa, confusion matrix, agreement per error category, and which judge to trust where)."""

import numpy as np
from django.db import connection

from feedback.models import Project, ScoreThreshold
from feedback.selectors import agreement_stats as stats
from feedback.selectors.reliability import Verdicts, estimate_into, settled_labels

PASS, FAIL = 0, 1  # the verdict codes of "correct" and "corrected" (reliability.VERDICTS)
PASS_WORDS = {"pass", "correct", "good", "yes", "true", "up", "1"}
FAIL_WORDS = {"fail", "incorrect", "wrong", "bad", "no", "false", "down", "0", "corrected"}
MIN_JUDGE_ITEMS = 5  # below this, a judge is not recommended for a category

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


def judges_against_smes(
    data: Verdicts, matrix: np.ndarray, *, project: Project, sources: list[str]
) -> tuple[list, list]:
    settled = settled_labels(data, matrix)
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
        judge["agreement_with_sme"] = estimate_into(pair.percent_agreement, "agreement_with_sme", judge)
        judge["kappa"] = estimate_into(pair.kappa, "kappa", judge)
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
