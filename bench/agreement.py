"""Agreement benchmark: the whole agreement report over 100,000 verdicts from 20 reviewers, with intervals.

    .venv/bin/python bench/agreement.py [--items 40000] [--runs 5]

Runs on its own database (goldloop_bench_agreement on the embedded server, or BENCH_DATABASE_URL), seeded on first
use with INSERT ... SELECT generate_series: --items interactions, half judged by two SMEs and half by three (2.5
verdicts an item: 100,000 verdicts for 40,000 items), each SME right 85% of the time, 20 SMEs, five error
categories, 2% adjudicated, and two automated judges scoring every item. Prints the time of
feedback.selectors.agreement.agreement_report (the API's and the admin page's figures: percent agreement, pairwise
Cohen's kappa, Krippendorff's alpha on verdicts and categories, each with a 1,000-replicate bootstrap interval;
per reviewer, per category, the trend, the top disagreements and the judges), median of --runs, and its parts.
Target: under 2 s.
"""

import argparse
import statistics
import time

from _common import django_setup

BENCH_DB = "goldloop_bench_agreement"

ITEMS_SQL = """
INSERT INTO feedback_interaction (project_id, external_id, input, output, model, prompt_version, trace_id, metadata,
    occurred_at, created_at, content_hash, feedback_count, negative_count, is_failure, review_status)
SELECT %(project)s, 'agr-' || g, to_jsonb('Question ' || g), to_jsonb('Answer ' || g), 'gpt-4o-mini', 'v1', '',
       '{}'::jsonb, now() - make_interval(mins => g), now() - make_interval(mins => g), md5('agr-' || g), 2, 1, true,
       'reviewed'
FROM generate_series(1, %(items)s) AS g
ON CONFLICT DO NOTHING
"""
# Truth per item from a hash; each verdict is the truth 85% of the time, else another verdict. Reviewers rotate.
VERDICTS_SQL = """
WITH items AS (
    SELECT id, row_number() OVER (ORDER BY id) AS g FROM feedback_interaction WHERE project_id = %(project)s
), slots AS (
    SELECT i.id, i.g, s AS slot, (abs(hashint8(i.id)) %% 3) AS truth
    FROM items i, generate_series(0, 2) AS s
    WHERE s < 2 + (i.g %% 2)
), judged AS (
    SELECT id, g, slot,
           CASE WHEN abs(hashint8(id * 7 + slot)) %% 100 < 85 THEN truth
                ELSE (truth + 1 + abs(hashint8(id * 13 + slot)) %% 2) %% 3 END AS verdict
    FROM slots
)
INSERT INTO feedback_review (project_id, interaction_id, reviewer_id, reviewer_name, verdict, correction,
    error_category_id, notes, created_at, superseded_at, is_adjudication)
SELECT %(project)s, j.id, NULL::integer, 'sme-' || ((j.g + j.slot * 7) %% 20),
       (ARRAY['correct', 'corrected', 'invalid'])[1 + j.verdict],
       CASE WHEN j.verdict = 1 THEN to_jsonb('Fixed ' || j.g) END,
       CASE WHEN j.verdict = 0 THEN NULL ELSE (%(categories)s::bigint[])[1 + j.g %% 5] END,
       '', now() - make_interval(mins => j.g::int), NULL::timestamptz, false
FROM judged j
UNION ALL
SELECT %(project)s, i.id, NULL::integer, 'adj-ana', 'corrected', to_jsonb('Settled ' || i.g), NULL::bigint, '',
       now() - make_interval(mins => i.g::int), NULL::timestamptz, true
FROM items i WHERE i.g %% 50 = 0
"""
JUDGES_SQL = """
INSERT INTO feedback_feedback (project_id, interaction_id, external_id, name, data_type, value_number, value_string,
    comment, correction, source, author, metadata, is_negative, content_hash, created_at)
SELECT i.project_id, i.id, 'judge-' || j.name || '-' || i.id, j.name, 'NUMERIC',
       (abs(hashint8(i.id * j.salt)) %% 100) / 100.0, '', '', NULL, 'automated', 'llm-judge', '{}'::jsonb, false,
       md5(j.name || i.id), now()
FROM feedback_interaction i, (VALUES ('faithful', 3), ('helpful', 5)) AS j(name, salt)
WHERE i.project_id = %(project)s
"""


def seed(items: int) -> None:
    from django.db import connection

    from feedback.models import ErrorCategory, Project, Review

    project, _ = Project.objects.get_or_create(slug="agreement-bench", defaults={"name": "Agreement bench"})
    if Review.objects.filter(project=project).exists():
        return
    started = time.perf_counter()
    categories = [
        ErrorCategory.objects.get_or_create(project=project, name=name)[0].pk
        for name in ("wrong_policy", "hallucination", "tone", "incomplete", "outdated")
    ]
    params = {"project": project.pk, "items": items, "categories": categories}
    with connection.cursor() as cursor:
        cursor.execute(ITEMS_SQL, params)
        cursor.execute(VERDICTS_SQL, params)
        cursor.execute(JUDGES_SQL, params)
        cursor.execute("ANALYZE feedback_review; ANALYZE feedback_interaction; ANALYZE feedback_feedback;")
    print(f"seed: {items:,} items, their verdicts and judges' scores in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    django_setup(BENCH_DB)
    seed(args.items)

    from feedback.models import Project, Review
    from feedback.selectors import agreement, reliability

    project = Project.objects.get(slug="agreement-bench")
    verdicts = Review.objects.filter(project=project, is_adjudication=False).count()
    reviewers = Review.objects.filter(project=project, is_adjudication=False).values("reviewer_name").distinct()
    print(f"{verdicts:,} verdicts from {reviewers.count()} reviewers on {args.items:,} items")

    started = time.perf_counter()
    reliability.verdicts_fetch(project=project)
    print(f"fetch (one query, to arrays): {(time.perf_counter() - started) * 1000:.0f} ms")

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        report = agreement.agreement_report(project=project)
        times.append(time.perf_counter() - started)
    print(
        f"agreement_report: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs "
        f"(target < 2 s: {'met' if statistics.median(times) < 2 else 'MISSED'})"
    )
    print(
        f"n_items={report['n_items']:,} percent_agreement={report['percent_agreement']} "
        f"{report['ci95']['percent_agreement']} "
        f"kappa={report['cohen_kappa']} {report['ci95']['cohen_kappa']} alpha={report['krippendorff_alpha']} "
        f"{report['ci95']['krippendorff_alpha']} judges={[(j['name'], j['kappa']) for j in report['judges']]}"
    )  # fmt: skip


if __name__ == "__main__":
    main()
