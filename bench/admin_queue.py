"""Review queue benchmark: the queue changelist over 100,000 interactions, as a logged-in SME.

    .venv/bin/python bench/admin_queue.py [--rows 100000] [--runs 15]

Runs on its own database (goldloop_bench_admin on the embedded server, or BENCH_DATABASE_URL), migrated on first
use; rows are made with INSERT ... SELECT generate_series and kept between runs. Prints the server time of each
page (Django test Client, median and p95 of --runs) and its query count at list_per_page 20 and 100.
Target: <= 300 ms per page; the query count does not grow with the rows shown.
"""

import argparse
import statistics
import time

from _common import django_setup

BENCH_DB = "goldloop_bench_admin"

SEED_SQL = """
INSERT INTO feedback_interaction (project_id, external_id, input, output, model, prompt_version, trace_id, metadata,
    occurred_at, created_at, content_hash, feedback_count, negative_count, is_failure, review_status)
SELECT p.ids[1 + g %% array_length(p.ids, 1)],
       'bench-' || g,
       jsonb_build_array(jsonb_build_object('role', 'user', 'content',
           (ARRAY['Can I get a refund for order ', 'My card has not arrived, order ', 'How do I reset my PIN? Ref ',
                  'Why was I charged twice for ', 'Where is my transfer '])[1 + g %% 5] || g)),
       to_jsonb((ARRAY['Refunds take 30 days.', 'Please contact support.', 'Cards arrive in 5 days.'])[1 + g %% 3]),
       (ARRAY['gpt-4o-mini', 'claude-haiku', 'llama-3-8b'])[1 + g %% 3],
       (ARRAY['v1', 'v2', 'v3', 'v4'])[1 + g %% 4],
       md5(g::text), '{}'::jsonb,
       now() - make_interval(secs => g * 13), now() - make_interval(secs => g * 13), md5('bench-' || g),
       CASE WHEN g %% 5 = 0 THEN 1 + g %% 4 ELSE 0 END + CASE WHEN g %% 3 = 0 THEN 1 ELSE 0 END,
       CASE WHEN g %% 5 = 0 THEN 1 + g %% 4 ELSE 0 END,
       g %% 5 = 0,
       'unreviewed'
FROM generate_series(%s, %s) AS g, (SELECT array_agg(id ORDER BY id) AS ids FROM feedback_project) AS p
"""
FEEDBACK_SQL = """
INSERT INTO feedback_feedback (project_id, interaction_id, external_id, name, data_type, value_number, value_string,
    comment, correction, source, author, metadata, is_negative, content_hash, created_at)
SELECT i.project_id, i.id, 'fb-' || i.external_id, 'thumbs', 'BOOLEAN', 0, '',
       (ARRAY['Wrong policy', 'Did not answer', 'Too generic', ''])[1 + i.id % 4], NULL, 'end_user', 'user', '{}',
       true, md5('fb-' || i.external_id), i.occurred_at + interval '2 minutes'
FROM feedback_interaction i
WHERE i.is_failure AND NOT EXISTS (SELECT 1 FROM feedback_feedback f WHERE f.interaction_id = i.id)
"""


def seed(rows: int) -> None:
    from django.db import connection

    from feedback.models import Interaction, Project

    for slug in ("support-bot", "sales-bot", "docs-bot"):
        Project.objects.get_or_create(slug=slug, defaults={"name": slug})
    have = Interaction.objects.count()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(have + 1, rows + 1, 50_000):
            cursor.execute(SEED_SQL, [start, min(rows, start + 49_999)])
        cursor.execute(FEEDBACK_SQL)  # idempotent: only failures without feedback
        cursor.execute("ANALYZE feedback_interaction; ANALYZE feedback_feedback;")
    added = max(0, rows - have)
    print(f"seed: {added:,} interactions added (+ feedback on failures) in {time.perf_counter() - started:.1f} s")


def measure(client, url: str, runs: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: caches, connection, templates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return times, len(queries.captured_queries), len(response.context["cl"].result_list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    django_setup(BENCH_DB, test_environment=True)
    seed(args.rows)

    from django.contrib.auth import get_user_model
    from django.test import Client

    from feedback.admin.review_queue import ReviewQueueAdmin
    from feedback.models import Interaction, Project
    from feedback.services.roles import SME, roles_ensure

    user, _ = get_user_model().objects.get_or_create(username="bench-sme", defaults={"is_staff": True})
    user.groups.add(roles_ensure()[SME])
    client = Client()
    client.force_login(user)
    project = Project.objects.get(slug="support-bot")
    total = Interaction.objects.count()
    print(f"queue of {total:,} interactions; {runs_note(args.runs)}")
    pages = [
        ("queue (failures first)", "/admin/feedback/reviewitem/"),
        ("unreviewed failures of a project", f"/admin/feedback/reviewitem/?is_failure__exact=1&status=unreviewed"
         f"&project__id__exact={project.pk}"),
        ("model + prompt filter", "/admin/feedback/reviewitem/?model=claude-haiku&prompt_version=v2"),
        ("page 200", "/admin/feedback/reviewitem/?p=200"),
        ("search 'charged twice for 9'", "/admin/feedback/reviewitem/?q=charged+twice+for+9"),
    ]  # fmt: skip
    failures = []
    for per_page in (20, 100):
        ReviewQueueAdmin.list_per_page = per_page
        for name, url in pages:
            times, queries, shown = measure(client, url, args.runs)
            median, p95 = statistics.median(times), sorted(times)[max(0, int(len(times) * 0.95) - 1)]
            print(f"per_page={per_page:<3} {name:<34} rows={shown:<3} queries={queries:<3} "
                  f"median={median:6.1f} ms  p95={p95:6.1f} ms")  # fmt: skip
            if name.startswith("queue") and median > 300:
                failures.append(f"{name} at {per_page}: {median:.0f} ms")
    print("target <= 300 ms (queue page):", "MISSED " + "; ".join(failures) if failures else "met")
    measure_next(client, args.runs)


def measure_next(client, runs: int) -> None:
    """'Review next' as the SME presses it: release the current item, claim the next one with the queue filters."""
    skip, times = "", []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post(
            "/admin/feedback/reviewitem/next/", {"skip": skip, "_changelist_filters": "status=unreviewed"}
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302 and "/review/" in response.url, response
        skip = response.url.split("/review/")[0].rsplit("/", 1)[-1]
    median, p95 = statistics.median(times), sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(f"review next (release + claim, filtered)  median={median:6.1f} ms  p95={p95:6.1f} ms")
    client.post("/admin/feedback/reviewitem/" + skip + "/release/")


def runs_note(runs: int) -> str:
    return f"{runs} runs per page after one warm-up; server time through the Django test Client"


if __name__ == "__main__":
    main()
