"""GET /healthz: 200 when the database and the broker answer, else 503 (with Retry-After) naming what failed.

Each check has a deadline (settings.HEALTHZ_TIMEOUT_SECONDS), so a paused or unreachable database makes /healthz
answer 503 in about that time instead of hanging with it:
- the database is probed on a fresh connection (not the request's pooled one, which a paused server would hold
  forever), connect and query under one client-side deadline, the query also under a server statement_timeout; a
  server that refuses new connections (max_connections reached) is unhealthy too, as the application would be;
- the filesystem broker must be writable (a message that cannot be written is a task lost); Redis must connect.
"""

import asyncio
import os
import uuid
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from kombu import Connection

_PARAMETERS = ("dbname", "user", "password", "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey")


def _connection_parameters(timeout: float) -> dict:
    params = {key: value for key, value in connection.get_connection_params().items() if key in _PARAMETERS}
    params = {key: value for key, value in params.items() if value not in (None, "")}
    params["connect_timeout"] = max(1, int(timeout))
    params["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    params["application_name"] = "goldloop-healthz"
    return params


async def _probe(params: dict, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        try:
            await conn.execute("SELECT 1")
        finally:
            await conn.close()


def _check_database(timeout: float) -> str | None:
    try:
        asyncio.run(_probe(_connection_parameters(timeout), timeout))
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; the message says which
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _check_filesystem_broker() -> str | None:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "control_folder"):
        probe = Path(options[key]) / f".healthz-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return f"cannot write {options[key]}: {exc.strerror or exc}"
    return None


def _check_broker(timeout: float) -> str | None:
    if settings.CELERY_BROKER_URL.startswith("atomicfs"):
        return _check_filesystem_broker()
    try:
        url, options = settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS
        with Connection(url, transport_options=options, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def healthz(request) -> JsonResponse:
    timeout = settings.HEALTHZ_TIMEOUT_SECONDS
    checks = {"database": _check_database(timeout), "broker": _check_broker(timeout)}
    body = {name: ("ok" if problem is None else problem) for name, problem in checks.items()}
    if all(problem is None for problem in checks.values()):
        return JsonResponse({"status": "ok", "checks": body})
    headers = {"Retry-After": str(settings.API_RETRY_AFTER_SECONDS)}
    return JsonResponse({"status": "unavailable", "checks": body}, status=503, headers=headers)
