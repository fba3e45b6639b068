"""GET /healthz: 200 when the database and the broker answer, else 503 naming the part that failed."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from kombu import Connection


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; the message says which
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        url, options = settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS
        with Connection(url, transport_options=options, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def healthz(request) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    body = {name: ("ok" if problem is None else problem) for name, problem in checks.items()}
    healthy = all(problem is None for problem in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": body}, status=200 if healthy else 503)
