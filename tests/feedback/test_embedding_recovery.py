"""Embedding work lost with a worker is recovered when a worker starts, not at the next periodic sweep."""

import pytest
from celery.utils.time import get_exponential_backoff_interval

from feedback.models import Embedding
from feedback.tasks.embeddings import embed_interactions
from tests.factories import FailureFactory
from tests.workers import worker_start, worker_stop

pytestmark = pytest.mark.worker


def test_a_starting_worker_sweeps_failures_whose_embedding_task_was_lost(transactional_db, tmp_path, wait_until):
    # Failures whose on-commit embedding task never reached a worker (as when the worker holding it was killed).
    failures = FailureFactory.create_batch(3)
    ids = {failure.pk for failure in failures}
    worker = worker_start(tmp_path / "worker.log", queues=["embeddings"], EMBEDDING_SWEEP_ON_WORKER_START=1)
    try:
        embedded = Embedding.objects.filter(interaction_id__in=ids).values_list("interaction_id", flat=True)
        assert wait_until(lambda: set(embedded.all()) == ids, timeout=60), (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        worker_stop(worker)


def test_embedding_retries_back_off_over_minutes_not_seconds():
    task = embed_interactions
    assert task.max_retries >= 6 and task.retry_backoff >= 10 and task.retry_backoff_max >= 300
    # Celery's countdown before retry n, without jitter (jitter draws each wait below it); their sum is the time
    # a database outage may last before the task gives up.
    waits = [
        get_exponential_backoff_interval(task.retry_backoff, n, task.retry_backoff_max, full_jitter=False)
        for n in range(task.max_retries)
    ]
    assert waits[0] >= 10 and sum(waits) >= 15 * 60
