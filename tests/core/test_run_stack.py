"""`manage.py run_stack` as `make run` starts it: real gunicorn, worker and beat processes on the test database."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import psutil
import pytest

from tests.conftest import ROOT, database_url

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def _pids(log: str, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)", log)]


@pytest.fixture
def stack_env(django_db_setup, django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        url = database_url()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "PYTHONUNBUFFERED": "1",
    }


def _run_stack(env, port: int, state, out) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "run_stack", "--addr", f"127.0.0.1:{port}", "--state-dir", str(state)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_run_stack_serves_supervises_refuses_a_second_start_and_stops_on_ctrl_c(stack_env, tmp_path, wait_until):
    port, state, out_path = _free_port(), tmp_path / "state", tmp_path / "run_stack.out"
    with open(out_path, "w") as out:
        stack = _run_stack(stack_env, port, state, out)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: _get(f"{base}/healthz")[0] == 200, timeout=90), out_path.read_text()
        # Served as production serves it: gunicorn, no debug page, static files.
        web_pid = _pids(out_path.read_text(), "web")[0]
        assert "gunicorn" in " ".join(psutil.Process(web_pid).cmdline())
        status, body = _get(f"{base}/definitely-not-a-page/")
        assert status == 404 and b"DEBUG = True" not in body
        assert _get(f"{base}/static/admin/css/base.css")[0] == 200

        # A second start on the same checkout (same state dir) is refused, and leaves the first one serving.
        other_addr = f"127.0.0.1:{_free_port()}"
        second = subprocess.run(
            [sys.executable, "manage.py", "run_stack", "--addr", other_addr, "--state-dir", str(state)],
            cwd=ROOT,
            env=stack_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert f"already running from this checkout (run_stack pid {stack.pid}" in second.stderr
        assert _get(f"{base}/healthz")[0] == 200

        # A killed worker is restarted; the rest keeps running.
        worker_pid = _pids(out_path.read_text(), "worker")[0]
        os.kill(worker_pid, signal.SIGKILL)
        restarted = wait_until(lambda: len(_pids(out_path.read_text(), "worker")) >= 2, timeout=15)
        assert restarted, out_path.read_text()
        new_worker = _pids(out_path.read_text(), "worker")[-1]
        assert new_worker != worker_pid and psutil.pid_exists(new_worker)
        assert stack.poll() is None and _get(f"{base}/healthz")[0] == 200

        # Ctrl-C stops every child it started, and run_stack itself.
        children = [child.pid for child in psutil.Process(stack.pid).children(recursive=True)]
        assert len(children) >= 3
        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=40) == 0
        assert wait_until(lambda: not any(psutil.pid_exists(pid) for pid in children), timeout=10)
        assert _get(f"{base}/healthz")[0] == 0
    finally:
        if stack.poll() is None:
            for child in psutil.Process(stack.pid).children(recursive=True):
                child.kill()
            stack.kill()
