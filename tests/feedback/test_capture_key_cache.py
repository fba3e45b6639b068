"""The API key lookup remembers an active key for API_KEY_CACHE_SECONDS (selectors/api_key_lookup.py)."""

from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import ApiKey
from feedback.selectors import api_key_lookup
from feedback.services.api_keys import api_key_authenticate, api_key_create, api_keys_revoke

GOOD = {"id": "chat-1", "input": "q", "output": "a"}


@pytest.fixture
def clock(monkeypatch, settings):
    """Turns the cache on (tests run with it off) on a clock the test moves."""
    settings.API_KEY_CACHE_SECONDS = 5
    api_key_lookup.remembered.clear()
    now = [1000.0]
    clock = SimpleNamespace(time=lambda: now[0])
    # The clock of the lookup and of Django's local-memory cache (which sets and checks the expiry).
    for module in ("feedback.selectors.api_key_lookup", "django.core.cache.backends.base",
                   "django.core.cache.backends.locmem"):  # fmt: skip
        monkeypatch.setattr(f"{module}.time", clock)
    yield now
    api_key_lookup.remembered.clear()


def test_a_revoked_key_is_refused_once_its_cached_answer_expires(project, clock):
    api_key, raw_key = api_key_create(project=project, scopes=["ingest", "read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.post("/api/v1/interactions", GOOD, format="json").status_code == 201

    api_keys_revoke(api_key_ids=[api_key.pk])
    clock[0] += 4  # within API_KEY_CACHE_SECONDS: this process still answers from memory
    assert client.post("/api/v1/interactions", {**GOOD, "id": "chat-2"}, format="json").status_code == 201
    clock[0] += 2  # past it: the key is looked up again, and refused from then on
    assert client.post("/api/v1/interactions", {**GOOD, "id": "chat-3"}, format="json").status_code == 401
    assert client.get("/api/v1/interactions").status_code == 401


def test_a_remembered_key_costs_no_query_and_each_request_gets_its_own_objects(
    project, clock, django_assert_num_queries
):
    _, raw_key = api_key_create(project=project, scopes=["ingest"])
    first = api_key_authenticate(raw_key)  # a query, and last_used_at written
    with django_assert_num_queries(0):
        second = api_key_authenticate(raw_key)
    assert second.pk == first.pk and second.project.slug == project.slug and second.scopes == ["ingest"]
    assert second is not first and second.project is not first.project and second.scopes is not first.scopes
    assert second.last_used_at == first.last_used_at == ApiKey.objects.get(pk=first.pk).last_used_at


def test_last_used_at_is_still_written_once_a_minute(project, clock):
    api_key, raw_key = api_key_create(project=project, scopes=["ingest"])
    api_key_authenticate(raw_key)
    stale = timezone.now() - timezone.timedelta(minutes=2)
    key = api_key_lookup.api_key_hash(raw_key)
    expires, row = api_key_lookup.remembered.get(key)
    position = [f.attname for f in ApiKey._meta.concrete_fields].index("last_used_at")
    api_key_lookup.remembered.set(key, (expires, (*row[:position], stale, *row[position + 1 :])), timeout=5)
    resolved = api_key_authenticate(raw_key)
    assert resolved.last_used_at > stale
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == resolved.last_used_at


def test_unknown_and_revoked_keys_are_not_remembered(project, clock):
    api_key, raw_key = api_key_create(project=project, scopes=["ingest"])
    assert api_key_authenticate(raw_key + "x") is None
    api_keys_revoke(api_key_ids=[api_key.pk])
    assert api_key_authenticate(raw_key) is None
    assert api_key_lookup.remembered.get(api_key_lookup.api_key_hash(raw_key)) is None
    assert api_key_lookup.remembered.get(api_key_lookup.api_key_hash(raw_key + "x")) is None
