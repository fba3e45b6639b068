"""OTLP/HTTP traces in: the real OpenTelemetry SDK and exporters (protobuf and JSON) against a live server, and the
protocol's answers (partial success, 400 with google.rpc.Status, 415, gzip, auth) through Django's test client."""

import base64
import gzip
import json

import pytest
from django.test import Client
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from feedback.models import Interaction
from feedback.services.api_keys import api_key_create

TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
MESSAGES_IN = [{"role": "user", "parts": [{"type": "text", "content": "Can I get a refund?"}]}]
MESSAGES_OUT = [{"role": "assistant", "parts": [{"type": "text", "content": "Refunds take 14 days."}]}]


def _kv(key, value):
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    return KeyValue(key=key, value=AnyValue(int_value=value))


def export_request(spans: list[dict]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", "support-bot"))
    scope = resource_spans.scope_spans.add()
    for spec in spans:
        span = scope.spans.add()
        span.trace_id = spec.get("trace_id", TRACE)
        span.span_id = spec["span_id"]
        span.name = spec.get("name", "chat")
        span.start_time_unix_nano = 1_780_000_000_000_000_000
        span.end_time_unix_nano = 1_780_000_001_500_000_000
        span.attributes.extend(_kv(k, v) for k, v in spec["attributes"].items())
    return request


def genai_span(span_id: bytes, output="Refunds take 14 days.") -> dict:
    out = [{"role": "assistant", "parts": [{"type": "text", "content": output}]}]
    return {
        "span_id": span_id,
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.input.messages": json.dumps(MESSAGES_IN),
            "gen_ai.output.messages": json.dumps(out),
            "gen_ai.usage.input_tokens": 12,
        },
    }


@pytest.fixture
def key(project):
    return api_key_create(project=project, scopes=["ingest"])[1]


def post(key, body: bytes, content_type="application/x-protobuf", path="/v1/traces", **headers):
    return Client().post(path, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}", **headers)


@pytest.mark.django_db
def test_protobuf_genai_span_becomes_an_interaction_and_other_spans_are_skipped(project, key):
    tool = {"span_id": bytes.fromhex("00f067aa0ba902b7"), "name": "db.query", "attributes": {"db.system": "pg"}}
    body = export_request([genai_span(bytes.fromhex("b7ad6b7169203331")), tool]).SerializeToString()

    response = post(key, body)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert not answer.HasField("partial_success")
    assert response["X-Goldloop-Spans-Skipped"] == "1"
    interaction = Interaction.objects.get(project=project)
    assert interaction.external_id == "b7ad6b7169203331"
    assert interaction.trace_id == TRACE.hex()
    assert interaction.input == MESSAGES_IN and interaction.output == MESSAGES_OUT
    assert interaction.model == "gpt-4o-mini-2024-07-18"
    assert interaction.occurred_at.isoformat().startswith("2026-05-28")
    assert interaction.metadata["attributes"]["gen_ai.usage.input_tokens"] == 12
    assert interaction.metadata["otel"]["ended_at"].startswith("2026-05-28")
    assert interaction.metadata["resource"] == {"service.name": "support-bot"}
    # The same export again (an exporter's retry) is accepted and changes nothing.
    assert post(key, body, path="/api/public/otel/v1/traces").status_code == 200
    assert Interaction.objects.count() == 1


@pytest.mark.django_db
def test_json_with_hex_ids_gzip_and_basic_auth_older_and_openinference_attributes(project, key):
    request = export_request(
        [
            {
                "span_id": bytes.fromhex("1111111111111111"),
                "attributes": {
                    "gen_ai.system": "openai",
                    "gen_ai.request.model": "gpt-3.5-turbo",
                    "gen_ai.prompt.0.role": "user",
                    "gen_ai.prompt.0.content": "Hi",
                    "gen_ai.completion.0.role": "assistant",
                    "gen_ai.completion.0.content": "Hello!",
                },
            },
            {
                "span_id": bytes.fromhex("2222222222222222"),
                "attributes": {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "claude-3-5-haiku",
                    "input.value": "What is 2+2?",
                    "output.value": "4",
                },
            },
            {
                "span_id": bytes.fromhex("3333333333333333"),
                "attributes": {"openinference.span.kind": "CHAIN", "input.value": "q", "output.value": "a"},
            },
        ]
    )
    document = json_format.MessageToDict(request)
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # OTLP JSON: ids in hex, not base64
        span["traceId"] = base64.b64decode(span["traceId"]).hex()
        span["spanId"] = base64.b64decode(span["spanId"]).hex().upper()
    basic = base64.b64encode(f"pk-lf-public:{key}".encode()).decode()

    response = Client().post(
        "/api/public/otel/v1/traces",
        gzip.compress(json.dumps(document).encode()),
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {}
    rows = {i.external_id: i for i in Interaction.objects.filter(project=project)}
    assert set(rows) == {"1111111111111111", "2222222222222222"}
    assert rows["1111111111111111"].input == [{"role": "user", "content": "Hi"}]
    assert rows["1111111111111111"].output == [{"role": "assistant", "content": "Hello!"}]
    assert rows["2222222222222222"].model == "claude-3-5-haiku"
    assert (rows["2222222222222222"].input, rows["2222222222222222"].output) == ("What is 2+2?", "4")


@pytest.mark.django_db
def test_partial_success_names_the_rejected_spans(project, key):
    assert post(key, export_request([genai_span(bytes.fromhex("aaaaaaaaaaaaaaaa"))]).SerializeToString()).status_code
    body = export_request(
        [
            genai_span(bytes.fromhex("aaaaaaaaaaaaaaaa"), output="something else"),  # the id again, other content
            {"span_id": b"\x01\x02", "attributes": {"gen_ai.request.model": "m"}},  # not 8 bytes
            genai_span(bytes.fromhex("bbbbbbbbbbbbbbbb")),
        ]
    ).SerializeToString()

    response = post(key, body)

    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 2
    assert "aaaaaaaaaaaaaaaa" in answer.partial_success.error_message
    assert "8 bytes" in answer.partial_success.error_message
    assert Interaction.objects.filter(external_id="bbbbbbbbbbbbbbbb").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "headers", "status"),
    [
        (b"\xff\xff\xff", "application/x-protobuf", {}, 400),
        (b"{not json", "application/json", {}, 400),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "application/json", {}, 400),
        (b'{"resourceSpans": "nope"}', "application/json", {}, 400),
        (b"not gzip", "application/x-protobuf", {"HTTP_CONTENT_ENCODING": "gzip"}, 400),
        (b"x", "text/plain", {}, 415),
        (b"x", "application/x-protobuf", {"HTTP_CONTENT_ENCODING": "br"}, 415),
    ],
)
def test_malformed_requests_get_a_google_rpc_status(key, body, content_type, headers, status):
    response = post(key, body, content_type=content_type, **headers)
    assert response.status_code == status
    if response["Content-Type"] == "application/json":
        assert response.json()["message"]
    else:
        assert status_pb2.Status.FromString(response.content).message


@pytest.mark.django_db
def test_auth_is_required_and_needs_the_ingest_scope(project):
    body = export_request([genai_span(bytes.fromhex("cccccccccccccccc"))]).SerializeToString()
    assert Client().post("/v1/traces", body, content_type="application/x-protobuf").status_code == 401
    assert post("gl_wrong", body).status_code == 401
    read_key = api_key_create(project=project, scopes=["read"])[1]
    assert post(read_key, body).status_code == 403
    assert not Interaction.objects.exists()


# --- The real OpenTelemetry SDK and its OTLP/HTTP exporters --------------------------------------------------------
def _tracer(exporter):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _send_genai_trace(provider, model: str):
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("agent run") as root:  # not an LLM call
        with tracer.start_as_current_span(f"chat {model}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", model)
            span.set_attribute("gen_ai.input.messages", json.dumps(MESSAGES_IN))
            span.set_attribute("gen_ai.output.messages", json.dumps(MESSAGES_OUT))
            span_id = format(span.get_span_context().span_id, "016x")
        trace_id = format(root.get_span_context().trace_id, "032x")
    assert provider.force_flush(10_000)
    provider.shutdown()
    return trace_id, span_id


@pytest.mark.django_db(transaction=True)
def test_the_opentelemetry_sdk_protobuf_exporter(live_server, project, key):
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    auth = {"Authorization": f"Bearer {key}"}
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers=auth, compression=Compression.Gzip)
    trace_id, span_id = _send_genai_trace(_tracer(exporter), "gpt-4o-mini")

    interaction = Interaction.objects.get(project=project)
    assert (interaction.external_id, interaction.trace_id) == (span_id, trace_id)
    assert (interaction.input, interaction.output, interaction.model) == (MESSAGES_IN, MESSAGES_OUT, "gpt-4o-mini")


@pytest.mark.django_db(transaction=True)
def test_the_opentelemetry_sdk_json_exporter(live_server, project, key):
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"Authorization": f"Bearer {key}"})
    trace_id, span_id = _send_genai_trace(_tracer(exporter), "gpt-4.1")

    interaction = Interaction.objects.get(project=project)
    assert (interaction.external_id, interaction.trace_id) == (span_id, trace_id)
    assert (interaction.input, interaction.output, interaction.model) == (MESSAGES_IN, MESSAGES_OUT, "gpt-4.1")


@pytest.mark.django_db
def test_langfuse_attributes_prompt_version_and_langfuse_spans_skipped(project, key):
    generation = {
        "span_id": bytes.fromhex("4444444444444444"),
        "attributes": {
            "langfuse.observation.type": "generation",
            "langfuse.observation.input": json.dumps([{"role": "user", "content": "Refund?"}]),
            "langfuse.observation.output": json.dumps("30 days."),
            "langfuse.observation.model.name": "gpt-4o-mini",
            "langfuse.observation.prompt.name": "refunds",
            "langfuse.observation.prompt.version": 3,
            "langfuse.trace.name": "support turn",
        },
    }
    wrapper = {
        "span_id": bytes.fromhex("5555555555555555"),
        "attributes": {"langfuse.observation.type": "span", "langfuse.observation.input": json.dumps("Refund?")},
    }
    response = post(key, export_request([generation, wrapper]).SerializeToString())
    assert response.status_code == 200 and response["X-Goldloop-Spans-Skipped"] == "1"
    interaction = Interaction.objects.get(project=project)
    assert interaction.input == [{"role": "user", "content": "Refund?"}] and interaction.output == "30 days."
    assert (interaction.model, interaction.prompt_version) == ("gpt-4o-mini", "refunds@3")
    assert interaction.metadata["attributes"] == {"langfuse.observation.type": "generation",
                                                  "langfuse.trace.name": "support turn"}  # fmt: skip


@pytest.mark.django_db
def test_body_limits_as_sent_and_decompressed(settings, project, key):
    big_output = "x" * (6 * 1024 * 1024)  # above the JSON API's 5 MB: an OTLP batch of long conversations
    body = export_request([genai_span(bytes.fromhex("6666666666666666"), output=big_output)]).SerializeToString()
    assert post(key, body).status_code == 200
    settings.OTLP_MAX_BODY_BYTES = 1024 * 1024
    too_large = post(key, body)
    assert too_large.status_code == 413 and status_pb2.Status.FromString(too_large.content).message
    bomb = gzip.compress(b"\0" * (4 * 1024 * 1024))  # 4 KB that inflate to 4 MB
    assert post(key, bomb, HTTP_CONTENT_ENCODING="gzip").status_code == 413


@pytest.mark.django_db
def test_values_json_cannot_hold_are_kept_as_text_and_deep_json_is_a_400(project, key):
    span = genai_span(bytes.fromhex("7777777777777777"))
    request = export_request([span])
    request.resource_spans[0].scope_spans[0].spans[0].attributes.append(
        KeyValue(key="gen_ai.request.temperature", value=AnyValue(double_value=float("nan")))
    )
    assert post(key, request.SerializeToString()).status_code == 200
    assert Interaction.objects.get().metadata["attributes"]["gen_ai.request.temperature"] == "nan"
    deep = b'{"resourceSpans": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert post(key, deep, content_type="application/json").status_code == 400
