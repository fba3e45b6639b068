"""/healthz under faults (a paused database, an unwritable broker) and the API's 503 when the database is gone."""

import os
import signal
import time

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from tests.conftest import ROOT


@pytest.mark.django_db
def test_healthz_answers_503_within_its_timeout_while_the_database_is_paused(settings):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("pauses the embedded server of this checkout")
    settings.HEALTHZ_TIMEOUT_SECONDS = 1
    postmaster = int((ROOT / ".pgdata" / "postmaster.pid").read_text().split()[0])
    # A stopped postmaster accepts no connection (the test's own, already open, keeps working): the server is as
    # good as paused for anyone who connects now.
    os.kill(postmaster, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = Client().get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        os.kill(postmaster, signal.SIGCONT)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(settings.API_RETRY_AFTER_SECONDS)
    assert response.json()["checks"]["database"] != "ok"
    assert elapsed < 2.5
    assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_503_when_the_filesystem_broker_cannot_be_written(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # a file where the queue folder should be: nothing can be written under it (even as root)
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    options["data_folder_in"] = str(blocker / "queue")
    options["control_folder"] = str(blocker / "control")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    settings.CELERY_BROKER_URL = "atomicfs://"  # CI runs on Redis; this checks the filesystem broker's own check
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert "cannot write" in response.json()["checks"]["broker"]


@pytest.mark.parametrize("error", [OperationalError("the database system is shutting down"), InterfaceError("gone")])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/v1/feedback", {"interaction_id": "a", "score": 1}),  # the lean capture path
        ("get", "/api/v1/interactions", None),  # DRF
    ],
)
def test_the_database_going_away_is_a_503_with_retry_after_not_a_500(
    api, monkeypatch, settings, error, method, path, body
):
    def unavailable(raw_key):
        raise error

    # The key lookup is the first query of every API request; the database fails there as it would anywhere.
    monkeypatch.setattr("core.auth._resolver", lambda: unavailable)
    response = getattr(api, method)(path, body, format="json") if body else getattr(api, method)(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(settings.API_RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "unavailable"
