import uuid

import pytest
from django.db import connection
from django.test import Client

from core.tasks import worker_probe


@pytest.mark.django_db
def test_postgres_has_pgvector_and_orders_by_cosine_distance():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone() is not None
        cursor.execute("CREATE TEMP TABLE probe (name text, v vector(3))")
        cursor.execute(
            "INSERT INTO probe VALUES ('same', '[1,0,0]'), ('opposite', '[-1,0,0]'), ('orthogonal', '[0,1,0]'),"
            " ('close', '[0.9,0.1,0]')"
        )
        cursor.execute("SELECT name, v <=> '[1,0,0]' FROM probe ORDER BY v <=> '[1,0,0]'")
        rows = cursor.fetchall()
    assert [name for name, _ in rows] == ["same", "close", "orthogonal", "opposite"]
    assert rows[0][1] == pytest.approx(0.0)
    assert rows[-1][1] == pytest.approx(2.0)


@pytest.mark.django_db
def test_vectors_stored_through_the_orm_come_back_nearest_first(project):
    from pgvector.django import CosineDistance

    from feedback.models import Embedding, Interaction

    def vector(x: float, y: float) -> list[float]:
        return [x, y] + [0.0] * 382

    names = {"a": vector(1, 0), "b": vector(0.7, 0.7), "c": vector(0, 1)}
    for name, vec in names.items():
        interaction = Interaction.objects.create(
            project=project, external_id=name, input="q", output="a", content_hash="x"
        )
        Embedding.objects.create(interaction=interaction, project=project, embedder="test", text=name, vector=vec)
    nearest = Embedding.objects.order_by(CosineDistance("vector", vector(1, 0.1))).values_list("text", flat=True)
    assert list(nearest) == ["a", "b", "c"]


@pytest.mark.worker
def test_a_real_worker_process_runs_an_enqueued_task(celery_worker, tmp_path, wait_until):
    target = tmp_path / "probe.txt"
    token = uuid.uuid4().hex
    worker_probe.delay(str(target), token)
    assert wait_until(lambda: target.exists() and target.read_text() == token, timeout=30)


@pytest.mark.django_db
def test_healthz_reports_database_and_broker():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_is_unreachable(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_production_settings_refuse_to_start_without_a_secret_key():
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "postgresql://x@h/db",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
