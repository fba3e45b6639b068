"""Langfuse scores in: /api/public/scores and /api/public/ingestion through the capture service, scores kept until
their trace arrives, and the real Langfuse SDK (traced generation + create_score) against a live server."""

import base64
import json

import pytest
from django.test import Client

from feedback.models import Feedback, Interaction, PendingScore
from feedback.services.api_keys import api_key_create
from feedback.services.capture import capture_ingest
from feedback.services.connect_scores import scores_ingest
from tests.feedback.test_connect_otlp import export_request, genai_span

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "b7ad6b7169203331"


@pytest.fixture
def key(project):
    return api_key_create(project=project, scopes=["ingest"])[1]


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"pk-lf-1234:{key}".encode()).decode()


def post_json(key, path, body):
    return Client().post(path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=basic(key))


def span_interaction(project, external_id=SPAN, trace_id=TRACE, output="Refunds take 30 days."):
    item = {"id": external_id, "input": "Can I get a refund?", "output": output, "trace_id": trace_id}
    capture_ingest(project_id=project.id, interactions=[item], feedback=[])


@pytest.mark.django_db
def test_each_score_type_becomes_feedback_on_the_trace_or_observation(project, key):
    span_interaction(project)
    span_interaction(project, external_id="0000000000000001", trace_id="other")
    scores = [
        {"id": "s-thumb", "traceId": TRACE, "observationId": SPAN, "name": "user-feedback", "value": 0,
         "dataType": "BOOLEAN", "comment": "wrong policy"},
        {"id": "s-num", "traceId": TRACE, "name": "helpfulness", "value": 0.25, "dataType": "NUMERIC"},
        {"id": "s-cat", "traceId": TRACE, "name": "topic", "value": "refunds", "dataType": "CATEGORICAL"},
        {"id": "s-fix", "traceId": TRACE, "observationId": SPAN, "name": "expected", "value": "14 days.",
         "dataType": "CORRECTION"},
        {"id": "s-fix2", "traceId": TRACE, "name": "correction", "value": "Refunds take 14 days."},
        {"id": "s-bool", "traceId": TRACE, "name": "hallucination", "value": 1, "dataType": "BOOLEAN"},
    ]  # fmt: skip

    response = post_json(key, "/api/public/scores", scores)

    assert response.status_code == 202, response.content
    assert response.json() == {"message": "Accepted"}
    rows = {f.external_id: f for f in Feedback.objects.filter(interaction__external_id=SPAN)}
    assert set(rows) == {"s-thumb", "s-num", "s-cat", "s-fix", "s-fix2", "s-bool"}
    thumb = rows["s-thumb"]
    assert (thumb.name, thumb.data_type, thumb.value_number, thumb.is_negative) == ("thumbs", "BOOLEAN", 0.0, True)
    assert thumb.comment == "wrong policy" and thumb.metadata["score_name"] == "user-feedback"
    assert (rows["s-num"].data_type, rows["s-num"].value_number) == ("NUMERIC", 0.25)
    assert (rows["s-cat"].data_type, rows["s-cat"].value_string) == ("CATEGORICAL", "refunds")
    assert rows["s-fix"].correction == "14 days." and rows["s-fix"].is_negative
    assert rows["s-fix2"].correction == "Refunds take 14 days."
    assert (rows["s-bool"].name, rows["s-bool"].value_number) == ("hallucination", 1.0)
    assert Interaction.objects.get(external_id=SPAN).is_failure
    # A retry of the same scores (the score id is the idempotency key) changes nothing.
    assert post_json(key, "/api/public/scores", scores).status_code == 202
    assert Feedback.objects.count() == 6


@pytest.mark.django_db
def test_one_score_object_and_its_errors(project, key):
    span_interaction(project)
    ok = post_json(key, "/api/public/scores", {"id": "one", "traceId": TRACE, "name": "thumbs", "value": 1})
    assert (ok.status_code, ok.json()) == (200, {"id": "one"})
    bad = post_json(key, "/api/public/scores", {"id": "two", "name": "thumbs", "value": 1})
    assert bad.status_code == 400 and "traceId" in bad.json()["error"]["fields"]
    batch = post_json(
        key,
        "/api/public/scores",
        [{"id": "three", "traceId": TRACE, "name": "q", "value": "x", "dataType": "NUMERIC"}, {"traceId": TRACE}],
    )
    assert batch.status_code == 207
    assert batch.json()["accepted"] == 0 and batch.json()["rejected"] == 2
    assert "three" in batch.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_ingestion_batch_answers_207_per_event(project, key):
    span_interaction(project)
    batch = [
        {"id": "e1", "timestamp": "2026-11-20T10:00:00Z", "type": "score-create",
         "body": {"id": "s1", "traceId": TRACE, "name": "thumbs", "value": 1, "dataType": "BOOLEAN"}},
        {"id": "e2", "type": "trace-create", "body": {"id": TRACE}},
        {"id": "e3", "type": "score-create", "body": {"id": "s3", "traceId": TRACE, "name": "n", "value": []}},
    ]  # fmt: skip
    response = post_json(key, "/api/public/ingestion", {"batch": batch})
    assert response.status_code == 207
    body = response.json()
    assert body["successes"] == [{"id": "e1", "status": 201}]
    assert [(e["id"], e["status"]) for e in body["errors"]] == [("e2", 400), ("e3", 400)]
    assert all(e["message"] for e in body["errors"])
    assert Feedback.objects.get().external_id == "s1"


@pytest.mark.django_db
def test_scores_need_an_ingest_key_by_basic_or_bearer(project):
    score = {"traceId": TRACE, "name": "thumbs", "value": 1}
    assert Client().post("/api/public/scores", score, content_type="application/json").status_code == 401
    assert post_json("gl_nope", "/api/public/scores", score).status_code == 401
    read_key = api_key_create(project=project, scopes=["read"])[1]
    assert post_json(read_key, "/api/public/scores", score).status_code == 403


@pytest.mark.django_db
def test_a_score_before_its_trace_is_kept_and_attached_when_the_spans_arrive(project, key):
    client_key = key
    early = [
        {"id": "on-span", "traceId": TRACE, "observationId": SPAN, "name": "thumbs", "value": 0},
        {"id": "on-trace", "traceId": TRACE, "name": "helpfulness", "value": 0.9},
        {"id": "on-tool", "traceId": TRACE, "observationId": "00f067aa0ba902b7", "name": "topic", "value": "x"},
    ]
    assert post_json(client_key, "/api/public/scores", early).status_code == 202
    assert PendingScore.objects.count() == 3 and not Feedback.objects.exists()

    tool = {"span_id": bytes.fromhex("00f067aa0ba902b7"), "name": "search", "attributes": {"db.system": "pg"}}
    body = export_request([genai_span(bytes.fromhex(SPAN)), tool]).SerializeToString()
    response = Client().post(
        "/v1/traces", body, content_type="application/x-protobuf", HTTP_AUTHORIZATION=f"Bearer {key}"
    )

    assert response.status_code == 200
    assert not PendingScore.objects.exists()
    feedback = {f.external_id: f for f in Feedback.objects.select_related("interaction")}
    assert set(feedback) == {"on-span", "on-trace", "on-tool"}
    assert {f.interaction.external_id for f in feedback.values()} == {SPAN}
    interaction = Interaction.objects.get(external_id=SPAN)
    assert (interaction.feedback_count, interaction.negative_count, interaction.is_failure) == (3, 1, True)


@pytest.mark.django_db
def test_a_kept_score_is_validated_before_it_is_kept(project):
    results = scores_ingest(
        project_id=project.id,
        scores=[{"id": "x" * 300, "traceId": TRACE, "name": "thumbs", "value": 1}],
    )
    assert results[0].status == 400
    assert not PendingScore.objects.exists()


# --- The real Langfuse SDK ------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_langfuse_sdk_generation_and_scores_end_as_an_interaction_with_its_feedback(live_server, project, key):
    import httpx
    from langfuse import Langfuse

    # No keep-alive: a connection left open would hold one of the live server's database sessions past the test.
    http = httpx.Client(headers={"Connection": "close"})
    langfuse = Langfuse(
        public_key="pk-lf-goldloop-test",
        secret_key=key,
        base_url=live_server.url,
        flush_interval=0.2,
        httpx_client=http,
        additional_headers={"Connection": "close"},
    )
    question = [{"role": "user", "content": "Can I get a refund after 20 days?"}]
    with langfuse.start_as_current_observation(
        as_type="generation", name="answer", model="gpt-4o-mini", input=question
    ) as generation:
        generation.update(output="Refunds take 30 days.")
        trace_id, observation_id = langfuse.get_current_trace_id(), generation.id
    langfuse.create_score(
        name="thumbs", value=0, data_type="BOOLEAN", trace_id=trace_id, observation_id=observation_id, score_id="t1"
    )
    langfuse.create_score(name="helpfulness", value=0.3, trace_id=trace_id, score_id="n1")
    langfuse.create_score(name="topic", value="refunds", data_type="CATEGORICAL", trace_id=trace_id, score_id="c1")
    langfuse.create_score(
        name="correction",
        value="Refunds are possible within 14 days.",
        data_type="CORRECTION",
        trace_id=trace_id,
        observation_id=observation_id,
        score_id="x1",
    )
    assert langfuse.auth_check()  # GET /api/public/projects
    langfuse.flush()
    langfuse.shutdown()
    http.close()

    interaction = Interaction.objects.get(project=project)
    assert (interaction.external_id, interaction.trace_id) == (observation_id, trace_id)
    assert (interaction.input, interaction.output, interaction.model) == (
        question,
        "Refunds take 30 days.",
        "gpt-4o-mini",
    )
    feedback = {f.external_id: f for f in Feedback.objects.filter(interaction=interaction)}
    assert set(feedback) == {"t1", "n1", "c1", "x1"}, list(PendingScore.objects.values_list("external_id", flat=True))
    assert (feedback["t1"].name, feedback["t1"].value_number) == ("thumbs", 0.0)
    assert feedback["n1"].value_number == 0.3
    assert feedback["c1"].value_string == "refunds"
    assert feedback["x1"].correction == "Refunds are possible within 14 days."
    interaction.refresh_from_db()
    assert interaction.is_failure and interaction.feedback_count == 4


@pytest.mark.django_db
def test_scores_of_unexpected_types_are_400_not_500(project, key):
    span_interaction(project)
    odd = [
        {"id": "a", "traceId": TRACE, "name": "n", "value": 1, "dataType": 7},
        {"id": "b", "traceId": TRACE, "name": "note", "value": "ok", "dataType": "TEXT", "comment": ["x"]},
        {"id": "c", "traceId": TRACE, "name": "note", "value": 3, "dataType": "TEXT"},
        {"id": 5, "traceId": TRACE, "name": "n", "value": 1},
        {"id": "d", "traceId": ["x"], "name": "n", "value": 1},
    ]
    response = post_json(key, "/api/public/scores", odd)
    assert response.status_code == 207
    assert response.json()["rejected"] == 5
