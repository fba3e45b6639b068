"""A database restart under load: acknowledged captures are neither lost nor doubled, /healthz says 503 then 200.

Real processes: gunicorn (config/gunicorn.py) on the test database, client threads posting captures with their
own ids and retrying what was not acknowledged (as the client library does), and the embedded PostgreSQL stopped
and started again (pg_ctl, fast shutdown: in-flight transactions are rolled back) while they post.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from core import embedded_postgres
from feedback.models import Interaction
from feedback.services.api_keys import api_key_create
from tests.conftest import ROOT, database_url
from tests.core.test_run_stack import _free_port

pytestmark = pytest.mark.worker
HEALTHZ_TIMEOUT = 1


def _request(url: str, *, key: str = "", body: dict | None = None, timeout: float = 10) -> tuple[int, dict, float]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}"), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), time.monotonic() - started
    except OSError:
        return 0, {}, time.monotonic() - started


def test_a_database_restart_under_load_loses_and_doubles_nothing(transactional_db, project, tmp_path, wait_until):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("restarts the embedded server of this checkout")
    _, key = api_key_create(project=project, scopes=["ingest"])
    port, log_path = _free_port(), tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "HEALTHZ_TIMEOUT_SECONDS": str(HEALTHZ_TIMEOUT),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"]
    with open(log_path, "w") as log:
        server = subprocess.Popen([*command, "config.wsgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    statuses: list[int] = []
    stop = threading.Event()

    def client(name: str) -> None:
        n = 0
        while not stop.is_set():
            item_id = f"{name}-{n}"
            body = {"interactions": [{"id": item_id, "input": "Where is my card?", "output": "On its way."}]}
            while not stop.is_set():  # retry this id until it is acknowledged, as a client would
                status, answer, _ = _request(f"{base}/api/v1/ingest", key=key, body=body)
                statuses.append(status)
                if status == 207 and answer["interactions"][0]["status"] in (200, 201):
                    acknowledged.append(item_id)
                    break
                time.sleep(0.05)
            n += 1

    try:
        assert wait_until(lambda: _request(f"{base}/healthz")[0] == 200, timeout=30), log_path.read_text()
        clients = [threading.Thread(target=client, args=(f"c{i}",)) for i in range(3)]
        for thread in clients:
            thread.start()
        assert wait_until(lambda: len(acknowledged) >= 20, timeout=20)

        embedded_postgres.stop(ROOT / ".pgdata")
        outage = [_request(f"{base}/healthz", timeout=HEALTHZ_TIMEOUT + 5) for _ in range(3)]
        during = len(acknowledged)
        time.sleep(1)
        assert len(acknowledged) == during  # nothing is acknowledged while the database is down
        embedded_postgres.embedded_database_url(ROOT / ".pgdata")
        started = time.monotonic()
        assert wait_until(lambda: _request(f"{base}/healthz")[0] == 200, timeout=30)
        healthy_after = time.monotonic() - started
        recovered = wait_until(lambda: len(acknowledged) >= during + 20, timeout=20)
        assert recovered, (sorted(set(statuses[-50:])), log_path.read_text()[-3000:])
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        connection.close()  # its server was restarted

    assert [status for status, _, _ in outage] == [503] * 3
    assert all(elapsed < HEALTHZ_TIMEOUT + 1 for _, _, elapsed in outage), outage
    assert healthy_after < 10
    # The clients met the outage (503 with Retry-After, or a refused connection), never a 500.
    assert 503 in statuses and not [s for s in statuses if s >= 500 and s != 503], sorted(set(statuses))
    stored = list(Interaction.objects.filter(project=project).values_list("external_id", flat=True))
    assert len(stored) == len(set(stored))  # nothing doubled
    assert set(acknowledged) <= set(stored)  # nothing acknowledged was lost
    assert len(set(stored) - set(acknowledged)) <= 3  # at most the one in flight per client when it stopped
