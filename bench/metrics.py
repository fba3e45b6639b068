"""Metrics API benchmark: GET /api/v1/metrics/feedback over 1,000,000 feedback rows.

    .venv/bin/python bench/metrics.py [--rows 1000000] [--days 30] [--calls 20] [--reset]

Runs on its own database (goldloop_bench_metrics on the embedded server, or BENCH_DATABASE_URL), migrated on first
use. One project gets `--rows` interactions and one feedback item each, spread over `--days` days, made with
INSERT ... SELECT generate_series (rows are copied from a template row, so columns added later need no change
here) and kept between runs. Prints: the full rollup build, the incremental refresh beat runs every minute, and
median/p95 of the endpoint (Django stack in-process, real API key) for hour and day buckets, with and without
rollups. Target: <= 200 ms per call at 1,000,000 feedback rows.
"""

import argparse
import statistics
import time

from _common import django_setup

BENCH_DB = "goldloop_bench_metrics"
SLUG = "bench-metrics"


def copy_columns(model, overrides: dict[str, str]) -> tuple[str, str]:
    """(column list, select list): every column of the template row `t`, except the overridden ones."""
    columns = [field.column for field in model._meta.concrete_fields if field.column != "id"]
    return ", ".join(columns), ", ".join(overrides.get(column, f"t.{column}") for column in columns)


def fill(project, rows: int, days: int) -> None:
    from django.db import connection, transaction

    from feedback.models import Feedback, Interaction

    with transaction.atomic():
        Feedback.objects.filter(project=project).delete()
        Interaction.objects.filter(project=project).delete()
        template = Interaction.objects.create(project=project, external_id="template", input="q", output="a")
        template_fb = Feedback.objects.create(
            project=project, interaction=template, external_id="template", name="thumbs", data_type="BOOLEAN"
        )
        columns, select = copy_columns(
            Interaction,
            {
                "external_id": "'bench-' || g",
                "model": "(ARRAY['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-3-70b'])[1 + g %% 4]",
                "prompt_version": "'refunds-v' || (1 + (g / 7) %% 6)",
                "occurred_at": "now() - (%(days)s * interval '1 day') * (g::float8 / %(rows)s)",
                "created_at": "now()",
                "content_hash": "md5(g::text)",
                "input": "jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'Question ' || g))",
                "output": "to_jsonb('Answer ' || g)",
            },
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Interaction._meta.db_table} ({columns}) SELECT {select} "
                f"FROM {Interaction._meta.db_table} t, generate_series(1, %(rows)s) g WHERE t.id = %(template)s",
                {"rows": rows, "days": days, "template": template.pk},
            )
            numeric = "(i.id %% 10 < 3)"  # 30% helpfulness scores 1-5, 70% thumbs
            value = f"CASE WHEN {numeric} THEN 1 + (i.id * 7919) %% 5 ELSE ((i.id * 104729) %% 100 >= 15)::int END"
            columns, select = copy_columns(
                Feedback,
                {
                    "interaction_id": "i.id",
                    "external_id": "'bench-' || i.id",
                    "name": f"CASE WHEN {numeric} THEN 'helpfulness' ELSE 'thumbs' END",
                    "data_type": f"CASE WHEN {numeric} THEN 'NUMERIC' ELSE 'BOOLEAN' END",
                    "value_number": value,
                    "is_negative": f"CASE WHEN {numeric} THEN {value} < 3 ELSE {value} = 0 END",
                    "created_at": "least(i.occurred_at + (i.id %% 90) * interval '1 minute', now())",
                    "content_hash": "md5(i.id::text)",
                },
            )
            cursor.execute(
                f"INSERT INTO {Feedback._meta.db_table} ({columns}) SELECT {select} "
                f"FROM {Interaction._meta.db_table} i, {Feedback._meta.db_table} t "
                f"WHERE t.id = %(template)s AND i.project_id = %(project)s AND i.id <> %(template_interaction)s",
                {"template": template_fb.pk, "project": project.pk, "template_interaction": template.pk},
            )
        template_fb.delete()
        template.delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Interaction._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Feedback._meta.db_table}")
    print(f"filled {rows:,} interactions + {rows:,} feedback in {time.perf_counter() - started:.1f} s")


def timed(call, calls: int) -> tuple[float, float]:
    call()  # warm up
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--reset", action="store_true", help="refill even if the rows are there")
    args = parser.parse_args()
    django_setup(BENCH_DB)

    import factory
    from django.db import transaction
    from rest_framework.test import APIClient

    from feedback.models import Feedback
    from feedback.services.api_keys import api_key_create
    from feedback.services.projects import project_get_or_create
    from monitoring.models import FeedbackRollup, RollupCursor
    from monitoring.services.rollups import rollups_refresh
    from tests.factories import FeedbackFactory

    project = project_get_or_create(slug=SLUG)
    Feedback.objects.filter(project=project).exclude(external_id__startswith="bench-").delete()  # earlier extras
    if args.reset or Feedback.objects.filter(project=project).count() != args.rows:
        fill(project, args.rows, args.days)
    print(f"feedback rows in the project: {Feedback.objects.filter(project=project).count():,}")

    started = time.perf_counter()
    rollups_refresh(project=project, rebuild=True)
    print(
        f"full rollup build: {time.perf_counter() - started:.2f} s, "
        f"{FeedbackRollup.objects.filter(project=project).count():,} rollup rows"
    )
    interaction = project.interactions.order_by("-occurred_at").first()
    FeedbackFactory.create_batch(200, interaction=interaction, external_id=factory.Sequence(lambda n: f"extra-{n}"))
    started = time.perf_counter()
    rollups_refresh(project=project)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"incremental refresh (beat, every minute; 200 new feedback): {elapsed:.0f} ms")

    _, raw_key = api_key_create(project=project, scopes=["read"])
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    cases = {
        "hour buckets, 7 days, by model": {"bucket": "hour", "group_by": "model", "since": "-7"},
        "hour buckets, 30 days, by prompt_version": {"bucket": "hour", "group_by": "prompt_version", "since": "-30"},
        "day buckets, 30 days, by model": {"bucket": "day", "group_by": "model", "since": "-30"},
        "day buckets, 30 days, by prompt_version, score=helpfulness": {
            "bucket": "day",
            "group_by": "prompt_version",
            "since": "-30",
            "score": "helpfulness",
        },
    }
    from datetime import timedelta

    from django.utils import timezone

    def request(params: dict):
        params = {**params, "since": (timezone.now() + timedelta(days=int(params["since"]))).isoformat()}

        def call():
            response = client.get("/api/v1/metrics/feedback", params)
            assert response.status_code == 200, response.content
            return response

        return call

    print(f"\nGET /api/v1/metrics/feedback, {args.calls} calls each (median / p95):")
    for label, params in cases.items():
        median, p95 = timed(request(params), args.calls)
        rows = len(request(params)().json()["results"])
        verdict = "OK" if p95 <= 200 else "over 200 ms"
        print(f"  rollups  {label:<60} {median:7.1f} / {p95:7.1f} ms  ({rows} rows) {verdict}")
    compare = {"dimension": "prompt_version", "before": "refunds-v1", "after": "refunds-v2"}
    median, p95 = timed(lambda: client.get("/api/v1/metrics/compare", compare), args.calls)
    print(f"  rollups  {'GET /api/v1/metrics/compare, 30 days':<60} {median:7.1f} / {p95:7.1f} ms")

    # The same calls computed live from the base tables only: what the rollups save.
    with transaction.atomic():
        RollupCursor.objects.filter(project=project).delete()
        for label, params in list(cases.items())[::2]:
            median, p95 = timed(request(params), max(3, args.calls // 5))
            print(f"  live     {label:<60} {median:7.1f} / {p95:7.1f} ms")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
