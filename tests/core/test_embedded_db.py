"""`manage.py embedded_db`: looking at a stopped server, or stopping it, never starts it."""

import os
import subprocess
import sys

from core import embedded_postgres
from tests.conftest import ROOT


def _embedded_db(action: str, pgdata) -> str:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["EMBEDDED_PGDATA"] = str(pgdata)
    done = subprocess.run(
        [sys.executable, "manage.py", "embedded_db", action], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_and_stop_of_a_stopped_server_do_not_start_it(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    assert "stopped" in _embedded_db("status", pgdata)
    assert "was not running" in _embedded_db("stop", pgdata)
    assert not embedded_postgres.is_running(pgdata)
    assert not (pgdata / "postmaster.pid").exists() and not (pgdata / "PG_VERSION").exists()


def test_status_of_the_running_server():
    # The test database lives on this checkout's embedded server (unless DATABASE_URL names another).
    if os.environ.get("DATABASE_URL"):
        return
    assert "running" in _embedded_db("status", ROOT / ".pgdata")
    assert embedded_postgres.is_running(ROOT / ".pgdata")


def test_started_by_this_process_only_for_the_process_that_started_it(monkeypatch):
    monkeypatch.setenv(embedded_postgres.STARTED_BY, str(os.getpid()))
    assert embedded_postgres.started_by_this_process()
    monkeypatch.setenv(embedded_postgres.STARTED_BY, str(os.getppid()))  # e.g. a child of the process that did
    assert not embedded_postgres.started_by_this_process()
