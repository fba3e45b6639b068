"""Rate limits per API key: 429 with Retry-After on the lean capture path and in DRF, shared across processes."""

import os
import uuid

import pytest

from core.ratelimit import DatabaseStore, RateLimiter, RedisStore


@pytest.fixture
def limited(settings):
    # Three requests per key per hour-long window (so that no window ends during the test).
    settings.API_RATE_LIMIT = 3 / 3600
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 3600
    settings.API_RATE_LIMIT_STORE = "database"
    return settings


def test_a_key_over_its_limit_gets_429_with_retry_after_on_capture_and_drf_alike(limited, project, make_client):
    client, other = make_client(project), make_client(project)
    for n in range(3):
        response = client.post("/api/v1/feedback", {"interaction_id": f"i{n}", "name": "thumbs", "value": "up"})
        assert response.status_code != 429, response.content
    refused = client.post("/api/v1/feedback", {"interaction_id": "i9", "name": "thumbs", "value": "up"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # The same key through DRF's views is counted in the same bucket; another key is not.
    listed = client.get("/api/v1/interactions")
    assert listed.status_code == 429 and "Retry-After" in listed.headers
    assert other.get("/api/v1/interactions").status_code == 200


def test_limiting_off_by_zero(settings, project, make_client):
    settings.API_RATE_LIMIT = 0
    client = make_client(project)
    assert all(client.get("/api/v1/interactions").status_code == 200 for _ in range(5))


@pytest.mark.django_db
def test_two_processes_share_the_count_through_the_database():
    # Two limiters are two web processes: each counts locally and syncs to the shared table.
    first, second = (
        RateLimiter(per_second=10 / 3600, window=3600, sync_seconds=0.0, store=DatabaseStore(3600)) for _ in range(2)
    )
    bucket = f"key:test-{uuid.uuid4().hex}"
    allowed = [limiter.check(bucket) is None for _ in range(8) for limiter in (first, second)]
    assert allowed.count(True) == 10


def test_two_processes_share_the_count_through_redis():
    url = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
    store = RedisStore(url, 3600)
    try:
        store.client.ping()
    except Exception:  # noqa: BLE001 - no Redis here: nothing to test against
        pytest.skip("no Redis")
    first, second = (RateLimiter(per_second=10 / 3600, window=3600, sync_seconds=0.0, store=store) for _ in range(2))
    bucket = f"key:test-{uuid.uuid4().hex}"
    allowed = [limiter.check(bucket) is None for _ in range(8) for limiter in (first, second)]
    assert allowed.count(True) == 10


@pytest.mark.django_db
def test_between_syncs_a_process_counts_in_memory_and_is_refused_at_the_limit(django_assert_max_num_queries):
    limiter = RateLimiter(per_second=5 / 3600, window=3600, sync_seconds=3600.0, store=DatabaseStore(3600))
    bucket = f"key:test-{uuid.uuid4().hex}"
    with django_assert_max_num_queries(3):  # the first sync (and a prune), then the one at the limit
        results = [limiter.check(bucket) for _ in range(20)]
    assert [r is None for r in results] == [True] * 5 + [False] * 15
