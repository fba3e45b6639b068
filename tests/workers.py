"""A Celery worker process a test owns (and may kill), unlike the session's `celery_worker` fixture."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.conftest import ROOT, _wait_until, database_url


def worker_start(log_path: Path, *, queues=None, **env) -> subprocess.Popen:
    """Start `celery worker --pool=solo` on the test database; returns once it is ready to take tasks."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        **{key: str(value) for key, value in env.items()},
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "INFO"),
        *("-Q", ",".join(queues or settings.GOLDLOOP_QUEUES)),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        *("-n", f"owned-{os.getpid()}-{log_path.stem}@%h"),
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    ready = _wait_until(lambda: "ready" in log_path.read_text() or process.poll() is not None, timeout=60)
    if not ready or process.poll() is not None:
        process.kill()
        raise RuntimeError(f"The Celery worker did not start:\n{log_path.read_text()[-3000:]}")
    return process


def worker_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
