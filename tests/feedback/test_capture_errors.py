"""Bad input of every kind gets the error shape of API.md with the right status, never a 500."""

import json

import pytest

from feedback.models import Feedback, Interaction
from tests.factories import InteractionFactory, ProjectFactory

pytestmark = pytest.mark.django_db

GOOD = {"id": "chat-1", "input": "Hello?", "output": "Hi."}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("path", ["/api/v1/interactions", "/api/v1/feedback", "/api/v1/ingest"])
def test_malformed_json_is_400(api, path):
    response = api.post(path, data='{"id": "chat-1", "input": ', content_type="application/json")
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    "raw", ['{"id": "x", "input": NaN, "output": 1}', '{"id": "x", "input": 1e999, "output": 1}', "\xff\xfe{"]
)
def test_json_that_postgres_would_refuse_is_400(api, raw):
    response = api.post("/api/v1/interactions", data=raw.encode("latin-1"), content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_a_body_that_is_not_an_object_is_400(api):
    assert_error(api.post("/api/v1/interactions", data="[1, 2]", content_type="application/json"), 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "id": 12}, "id"),
        ({**GOOD, "id": ""}, "id"),
        ({**GOOD, "id": "x" * 256}, "id"),
        ({**GOOD, "input": None}, "input"),
        ({**GOOD, "model": ["gpt"]}, "model"),
        ({**GOOD, "metadata": [1]}, "metadata"),
        ({**GOOD, "occurred_at": "yesterday"}, "occurred_at"),
        ({**GOOD, "output": "nul \u0000 byte"}, "output"),
        ({**GOOD, "trace_id": "nul \u0000"}, "trace_id"),
        ({**GOOD, "input": "\ud800 lone surrogate"}, "input"),
        ({**GOOD, "id": "chat-\udc00"}, "id"),
        ({**GOOD, "model": "gpt-\ud83d"}, "model"),
    ],
)
def test_wrong_types_in_an_interaction_are_400_with_the_field(api, body, field):
    raw = json.dumps(body)  # ensure_ascii: a lone surrogate travels as an escape, as it would from a client
    error = assert_error(api.post("/api/v1/interactions", raw, content_type="application/json"), 400, "invalid")
    assert field in error["fields"]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "fb", "interaction_id": "chat-1", "name": "thumbs", "value": "maybe"}, "value"),
        ({"id": "fb", "interaction_id": "chat-1", "name": "helpfulness", "value": {"a": 1}}, "value"),
        ({"id": "fb", "interaction_id": "chat-1", "value": 3}, "name"),
        ({"id": "fb", "interaction_id": "chat-1", "name": "x", "value": 1, "source": "robot"}, "source"),
        ({"id": "fb", "name": "thumbs", "value": "up"}, "interaction_id"),
        ({"id": "fb", "interaction_id": "chat-1"}, "non_field_errors"),
        ({"id": "fb", "interaction_id": "chat-1", "name": "s", "value": 10**400}, "value"),
        ({"id": "fb", "interaction_id": "chat-1", "name": "tone", "value": "rude \ud800"}, "value"),
        ({"id": "fb", "interaction_id": "chat-1", "comment": "bad \udfff"}, "comment"),
    ],
)
def test_wrong_feedback_is_400_with_the_field(api, body, field):
    api.post("/api/v1/interactions", GOOD, format="json")
    raw = json.dumps(body)
    error = assert_error(api.post("/api/v1/feedback", raw, content_type="application/json"), 400, "invalid")
    assert field in error["fields"]
    assert not Feedback.objects.exists()


def test_feedback_on_an_unknown_interaction_is_404(api):
    body = {"id": "fb", "interaction_id": "chat-nope", "name": "thumbs", "value": "down"}
    error = assert_error(api.post("/api/v1/feedback", body, format="json"), 404, "interaction_not_found")
    assert "interaction_id" in error["fields"]


def test_a_body_that_is_not_json_is_415(api):
    response = api.post("/api/v1/interactions", data="id=chat-1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    response = api.post("/api/v1/ingest", data="id,input\n1,2", content_type="text/csv")
    assert_error(response, 415)


def test_too_many_items_is_413(api, settings):
    settings.API_MAX_BATCH_ITEMS = 3
    body = {"interactions": [{**GOOD, "id": f"c{i}"} for i in range(2)], "feedback": [{"id": "f"}, {"id": "g"}]}
    assert_error(api.post("/api/v1/ingest", body, format="json"), 413, "payload_too_large")
    assert not Interaction.objects.exists()


def test_too_many_bytes_is_413_by_header_and_by_actual_size(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    big = json.dumps({**GOOD, "output": "x" * 2000})
    assert_error(api.post("/api/v1/interactions", data=big, content_type="application/json"), 413)
    # A client that understates Content-Length is still measured by what it sent.
    response = api.generic("POST", "/api/v1/ingest", big, content_type="application/json", CONTENT_LENGTH="10")
    assert response.status_code in (400, 413)
    assert not Interaction.objects.exists()


def test_a_batch_that_is_not_lists_is_400(api):
    error = assert_error(api.post("/api/v1/ingest", {"interactions": {"id": 1}}, format="json"), 400)
    assert "interactions" in error["fields"]


def test_missing_or_bad_key_is_401(client):
    assert_error(client.post("/api/v1/interactions", GOOD, content_type="application/json"), 401)
    response = client.get("/api/v1/interactions", HTTP_AUTHORIZATION="Bearer gl_not-a-key")
    assert_error(response, 401)
    assert_error(client.get("/api/v1/interactions/chat-1", HTTP_AUTHORIZATION="Basic abc"), 401)
    for path in ("/api/v1/interactions", "/api/v1/feedback", "/api/v1/ingest"):  # the lean path answers alike
        response = client.post(path, GOOD, content_type="application/json", HTTP_AUTHORIZATION="Bearer gl_not-a-key")
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_is_401(project, make_client):
    from django.utils import timezone

    from feedback.models import ApiKey

    client = make_client(project, ["ingest"])
    ApiKey.objects.update(revoked_at=timezone.now())
    assert_error(client.post("/api/v1/interactions", GOOD, format="json"), 401)


def test_a_missing_scope_is_403(project, make_client):
    reader = make_client(project, ["read"])
    writer = make_client(project, ["ingest"])
    assert_error(reader.post("/api/v1/interactions", GOOD, format="json"), 403, "permission_denied")
    assert_error(reader.post("/api/v1/ingest", {"interactions": [GOOD]}, format="json"), 403)
    assert_error(reader.post("/api/v1/feedback", {"id": "f"}, format="json"), 403)
    assert_error(writer.get("/api/v1/interactions"), 403)
    assert_error(writer.get("/api/v1/interactions/chat-1"), 403)


def test_wrong_methods_are_405(api):
    assert_error(api.get("/api/v1/ingest"), 405, "method_not_allowed")
    assert_error(api.get("/api/v1/feedback"), 405)
    assert_error(api.delete("/api/v1/interactions"), 405)
    assert_error(api.put("/api/v1/interactions/chat-1", GOOD, format="json"), 405)


def test_every_endpoint_answers_404_for_another_projects_objects(api, project, make_client):
    other_project = ProjectFactory(slug="other-app")
    theirs = InteractionFactory(project=other_project, external_id="chat-theirs", output="theirs")
    mine = make_client(project)
    assert_error(mine.get("/api/v1/interactions/chat-theirs"), 404, "not_found")
    assert mine.get("/api/v1/interactions").json()["results"] == []
    body = {"id": "fb", "interaction_id": "chat-theirs", "name": "thumbs", "value": "down"}
    assert_error(mine.post("/api/v1/feedback", body, format="json"), 404)
    batch = mine.post("/api/v1/ingest", {"feedback": [body]}, format="json").json()
    assert batch["feedback"][0]["status"] == 404
    # The same client id in my project is my own interaction; theirs is untouched.
    assert mine.post("/api/v1/interactions", {**GOOD, "id": "chat-theirs"}, format="json").status_code == 201
    theirs.refresh_from_db()
    assert (theirs.output, theirs.feedback_count) == ("theirs", 0)
    assert Interaction.objects.filter(external_id="chat-theirs").count() == 2


def test_unknown_api_paths_are_json_404(api):
    assert_error(api.get("/api/v1/nope"), 404)


def test_an_unencodable_id_in_a_batch_is_refused_without_echoing_it(api):
    raw = json.dumps({"interactions": [{"id": "chat-\ud800", "input": "q", "output": "a"}, GOOD]})
    response = api.post("/api/v1/ingest", raw, content_type="application/json")
    assert response.status_code == 207
    first, second = response.json()["interactions"]
    assert first["status"] == 400 and "id" not in first and "id" in first["error"]["fields"]
    assert second == {"status": 201, "id": "chat-1"}
