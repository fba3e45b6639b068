"""What the HTTP benchmarks share: the bench database under production settings, a fresh project and key, and a real
gunicorn (config/gunicorn.py, as production) on a free 127.0.0.1 port, stopped by pid.

The database is `goldloop_bench` on the dev database's server (DATABASE_URL, else the dev settings' own), created
once; bench/ingest.py, bench/connect.py and bench/evaluation.py all measure on it.
"""

import argparse
import http.client
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import ROOT

BENCH_DB = "goldloop_bench"


# --- The database, the project and its key ---------------------------------------------------------------------------
def dev_database_url() -> str:
    """The dev database's URL (starting the embedded server if needed), from the project's own settings."""
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASE_URL)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def stack_database_url() -> str:
    """`goldloop_bench` beside the dev database (DATABASE_URL, else the dev settings'), created if missing."""
    import psycopg

    dev_url = os.environ.get("DATABASE_URL") or dev_database_url()
    with psycopg.connect(dev_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(urlsplit(dev_url)._replace(path=f"/{BENCH_DB}"))


def production_env(**overrides: str) -> dict[str, str]:
    """This process's environment under config.settings.production, with a fresh secret and local hosts only."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def bench_project(prefix: str) -> tuple[dict[str, str], str, str, str]:
    """The bench database migrated, a fresh project `prefix-xxxxxxxx` with an ingest,read key: (env, broker, run, key).

    The env's filesystem broker is a new directory (the caller removes it): tasks the server enqueues land there,
    not in the dev queue."""
    broker = tempfile.mkdtemp(prefix="goldloop-bench-broker-")
    env = production_env(DATABASE_URL=stack_database_url(), CELERY_FILESYSTEM_BROKER_DIR=broker)
    print(f"bench database: {BENCH_DB}; migrating ...", flush=True)
    manage(env, "migrate", "--no-input")
    run = f"{prefix}-{uuid.uuid4().hex[:8]}"
    key = manage(env, "create_api_key", run, "--scopes", "ingest,read").strip().splitlines()[-1]
    return env, broker, run, key


# --- gunicorn --------------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_process(env: dict, port: int, options: argparse.Namespace | None, log) -> subprocess.Popen:
    """gunicorn as production runs it (config/gunicorn.py, access log included, to `log`), on a local port; the
    workers, threads and worker class of `options` where given."""
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]  # fmt: skip
    if options is not None:
        for flag, value in (("--workers", options.workers), ("--threads", options.threads)):
            if value is not None:
                command += [flag, str(value)]
        if options.worker_class is not None:
            command += ["--worker-class", options.worker_class]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_http(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until /healthz answers on `port` (ready or not: 200 or 503); exits when gunicorn dies or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn exited at startup; see its log.")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    sys.exit(f"gunicorn did not answer within {timeout:.0f} s.")


def gunicorn_shape(options: argparse.Namespace) -> str:
    """'2 gthread workers x 4 threads', as configured (config/gunicorn.py unless overridden)."""
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    workers, threads = options.workers or config["workers"], options.threads or config["threads"]
    return f"{workers} {options.worker_class or config['worker_class']} workers x {threads} threads"


def serve(env: dict, options: argparse.Namespace, log_path: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn started on a free port and answering, its output in `log_path`: (the process, the port)."""
    port = free_port()
    with open(log_path, "w") as log:
        server = gunicorn_process(env, port, options, log)
    wait_http(port, server)
    print(f"gunicorn pid {server.pid} on 127.0.0.1:{port}: {gunicorn_shape(options)}", flush=True)
    return server, port


def log_path_for(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{run}-gunicorn.log"


def stop(*processes: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to each (by pid), then a kill for any still running after `timeout` s."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
