"""What the in-process benchmarks share: a database of their own on the embedded server, Django set up on it, and
versions of generated examples.

Each bench keeps its rows in a database named after it (goldloop_bench_*), created and migrated on first use, so
reruns skip the seeding; BENCH_DATABASE_URL points a bench at any other PostgreSQL with pgvector instead.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# ../shared beside the checkout (a worktree in wt/ finds it one level further up): the data sets.
SHARED = next((up / "shared" for up in (ROOT.parent, ROOT.parent.parent) if (up / "shared").exists()), ROOT.parent)


def bench_database_url(name: str) -> str:
    """BENCH_DATABASE_URL when set, else database `name` on the embedded server (started, and created, if needed)."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    from core.embedded_postgres import _server, embedded_database_url

    embedded_database_url(ROOT / ".pgdata")  # starts the server if needed
    server = _server(ROOT / ".pgdata", start=True)
    if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';"):
        server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(database=name)


def django_setup(name: str, *, test_environment: bool = False) -> None:
    """Django on the bench database `name`, migrated, DEBUG off as in production (DEBUG keeps every query)."""
    os.environ["DATABASE_URL"] = bench_database_url(name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if test_environment:
        from django.test.utils import setup_test_environment

        setup_test_environment()  # lets the test Client's "testserver" host through ALLOWED_HOSTS


def generated_version(dataset, rows: int, columns_sql: str, *, vacuum: bool = False):
    """A frozen version of `dataset` with `rows` examples made by one INSERT ... SELECT over generate_series(1, rows)
    AS i; kept between runs: a hashed version of that size already there is returned instead.

    `columns_sql` computes from i the stable_id, input, expected_output, metadata, split and lineage (with `%`
    doubled); `vacuum` runs VACUUM ANALYZE on the examples' table after, instead of ANALYZE."""
    from django.db import connection, transaction

    from examples_lib.canonical import CANONICAL_LINE_SQL
    from examples_lib.exports import stored_sha256
    from examples_lib.models import DatasetVersion, VersionExample

    existing = DatasetVersion.objects.filter(dataset=dataset, example_count=rows).exclude(sha256="").first()
    if existing:
        return existing
    with transaction.atomic():
        number = (dataset.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = DatasetVersion.objects.create(dataset=dataset, number=number, note="bench")
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {VersionExample._meta.db_table}
                    (version_id, stable_id, input, expected_output, metadata, split, lineage, ordinal, line)
                SELECT %s, stable_id, input, expected_output, metadata, split, lineage, i, {CANONICAL_LINE_SQL}
                FROM (SELECT i, {columns_sql} FROM generate_series(1, %s) AS i)
                    AS generated (i, stable_id, input, expected_output, metadata, split, lineage)
                """,
                [version.pk, rows],
            )
        DatasetVersion.objects.filter(pk=version.pk).update(
            sha256=stored_sha256(version_id=version.pk), example_count=rows, counts={"all": rows}
        )
    with connection.cursor() as cursor:
        cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {VersionExample._meta.db_table}")
    version.refresh_from_db()
    return version
