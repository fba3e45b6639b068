from pathlib import Path

from celery import shared_task


@shared_task(name="core.tasks.worker_probe", ignore_result=True, expires=300)
def worker_probe(path: str, token: str) -> None:
    """Writes `token` to `path`: proves a worker consumed the broker (tests/core/test_foundation.py)."""
    Path(path).write_text(token)
