"""Capture is idempotent: retries answer 200 and write nothing, replays with other content answer 409."""

import threading

import pytest
from django.db import connection
from django.test import Client

from feedback.models import Feedback, Interaction
from feedback.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


def interaction(external_id="chat-8812", **overrides):
    body = {
        "id": external_id,
        "input": [{"role": "user", "content": "Can I get a refund?"}],
        "output": "Refunds take 30 days.",
        "model": "gpt-4o-mini",
        "prompt_version": "refunds-v3",
        "trace_id": "4bf92f35",
        "metadata": {"locale": "en"},
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    return {**body, **overrides}


def feedback(external_id="fb-1", interaction_id="chat-8812", **overrides):
    body = {"id": external_id, "interaction_id": interaction_id, "name": "thumbs", "value": "down"}
    return {**body, **overrides}


def test_a_new_interaction_is_201_and_a_retry_is_200_with_one_row(api, project):
    first = api.post("/api/v1/interactions", interaction(), format="json")
    assert first.status_code == 201, first.json()
    assert first.json() == {"id": "chat-8812"}
    # The same content in another spelling (key order, time zone notation) is still a retry.
    retry = api.post(
        "/api/v1/interactions", interaction(occurred_at="2026-11-20T11:00:00+01:00", metadata={"locale": "en"}),
        format="json",
    )  # fmt: skip
    assert retry.status_code == 200
    assert Interaction.objects.filter(project=project, external_id="chat-8812").count() == 1
    stored = Interaction.objects.get(external_id="chat-8812")
    assert stored.input == [{"role": "user", "content": "Can I get a refund?"}]
    assert stored.output == "Refunds take 30 days."
    assert stored.occurred_at.isoformat() == "2026-11-20T10:00:00+00:00"


def test_an_interaction_replayed_with_other_content_is_409_and_changes_nothing(api):
    api.post("/api/v1/interactions", interaction(), format="json")
    replay = api.post("/api/v1/interactions", interaction(output="Refunds take 14 days."), format="json")
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "conflict"
    assert Interaction.objects.get(external_id="chat-8812").output == "Refunds take 30 days."


def test_feedback_retry_is_200_and_replay_is_409(api):
    api.post("/api/v1/interactions", interaction(), format="json")
    assert api.post("/api/v1/feedback", feedback(), format="json").status_code == 201
    retry = api.post("/api/v1/feedback", feedback(), format="json")
    assert retry.status_code == 200
    assert retry.json() == {"id": "fb-1", "interaction_id": "chat-8812", "is_negative": True}
    assert api.post("/api/v1/feedback", feedback(value="up"), format="json").status_code == 409
    assert Feedback.objects.count() == 1
    assert Interaction.objects.get().feedback_count == 1


def test_feedback_with_an_inline_interaction_creates_both_once(api):
    body = feedback(interaction_id=None, interaction=interaction("chat-9"))
    del body["interaction_id"]
    first = api.post("/api/v1/feedback", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["interaction"] == {"status": 201, "id": "chat-9"}
    again = api.post("/api/v1/feedback", body, format="json")
    assert again.status_code == 200
    assert again.json()["interaction"]["status"] == 200
    assert Interaction.objects.filter(external_id="chat-9").count() == 1
    assert Feedback.objects.get().interaction.external_id == "chat-9"


def test_inline_interaction_conflict_refuses_the_feedback_too(api):
    api.post("/api/v1/interactions", interaction("chat-9"), format="json")
    body = {"id": "fb-x", "name": "thumbs", "value": "up", "interaction": interaction("chat-9", output="other")}
    response = api.post("/api/v1/feedback", body, format="json")
    assert response.status_code == 409
    assert "interaction.id" in response.json()["error"]["fields"]
    assert not Feedback.objects.exists()


def test_a_batch_stores_exactly_the_good_items_and_answers_each_in_order(api, project):
    api.post("/api/v1/interactions", interaction("chat-old"), format="json")
    body = {
        "interactions": [
            interaction("chat-1"),
            {"id": "chat-bad", "output": "no input"},
            interaction("chat-old"),  # a retry
            interaction("chat-old", output="changed"),  # a conflict
            "not an object",
            interaction("chat-1"),  # repeated in the same batch: a retry of the first
        ],
        "feedback": [
            feedback("fb-1", "chat-1"),
            feedback("fb-2", "chat-unknown"),
            feedback("fb-3", "chat-old", value="sideways"),
            feedback("fb-4", "chat-bad"),  # its interaction was refused
            feedback("fb-5", "chat-old", name="helpfulness", value=4),
            feedback("fb-1", "chat-1", value="up"),  # same id, other content, in the same batch
        ],
    }
    response = api.post("/api/v1/ingest", body, format="json")
    assert response.status_code == 207
    data = response.json()
    assert [r["status"] for r in data["interactions"]] == [201, 400, 200, 409, 400, 200]
    assert [r["status"] for r in data["feedback"]] == [201, 404, 400, 404, 201, 409]
    assert data["interactions"][1]["error"]["fields"] == {"input": ["This field is required (a string or JSON)."]}
    assert data["feedback"][2]["error"]["fields"]["value"]
    assert set(Interaction.objects.filter(project=project).values_list("external_id", flat=True)) == {
        "chat-old",
        "chat-1",
    }
    assert set(Feedback.objects.values_list("external_id", flat=True)) == {"fb-1", "fb-5"}
    assert Interaction.objects.get(external_id="chat-old").output == "Refunds take 30 days."


def _post_in_threads(raw_key: str, path: str, body: dict, count: int = 8) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(count)

    def post():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        barrier.wait()
        try:
            statuses.append(client.post(path, body, content_type="application/json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_threads_posting_the_same_ids_at_once_leave_exactly_one_row_each(project):
    _, raw_key = api_key_create(project=project, scopes=["ingest"])
    statuses = _post_in_threads(raw_key, "/api/v1/interactions", interaction("chat-race"))
    assert sorted(statuses) == [200] * 7 + [201]
    assert Interaction.objects.filter(external_id="chat-race").count() == 1

    statuses = _post_in_threads(raw_key, "/api/v1/feedback", feedback("fb-race", "chat-race"))
    assert sorted(statuses) == [200] * 7 + [201]
    assert Feedback.objects.filter(external_id="fb-race").count() == 1
    assert Interaction.objects.get(external_id="chat-race").feedback_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_feedback_on_one_interaction_keeps_every_count(project):
    _, raw_key = api_key_create(project=project, scopes=["ingest"])
    Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}").post(
        "/api/v1/interactions", interaction("chat-busy"), content_type="application/json"
    )
    statuses: list[int] = []

    def post(n: int):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        try:
            for i in range(5):
                body = feedback(f"fb-{n}-{i}", "chat-busy", value="down" if i % 2 else "up")
                statuses.append(client.post("/api/v1/feedback", body, content_type="application/json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 30
    busy = Interaction.objects.get(external_id="chat-busy")
    assert (busy.feedback_count, busy.negative_count, busy.is_failure) == (30, 12, True)


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_midway_writes_nothing(project, monkeypatch):
    from feedback.services import capture

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(capture, "feedback_insert", broken)
    with pytest.raises(RuntimeError):
        capture.capture_ingest(
            project_id=project.pk,
            interactions=[interaction("chat-half")],
            feedback=[feedback("fb-half", "chat-half")],
        )
    assert not Interaction.objects.filter(external_id="chat-half").exists()
