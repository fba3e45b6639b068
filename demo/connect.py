"""Demo part: a few interactions arriving as OpenTelemetry spans and Langfuse scores, and a thumbs token.

Through the same services the endpoints call (feedback/services/connect_*.py): a trace with an agent span (not an
LLM call, skipped) and three GenAI chat spans, Langfuse scores on them (one sent before its trace, so it waits
and is attached when the spans arrive), and a presigned feedback token whose snippet is printed. Span and score ids
are fixed, so a second run is a retry; each run replaces the demo's token (a raw token cannot be shown twice).
"""

import json

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from feedback.models import FeedbackToken, Project
from feedback.services.connect_scores import scores_ingest
from feedback.services.connect_traces import otlp_traces_ingest
from feedback.services.feedback_tokens import feedback_token_create

TRACE_ID = "5c1e0a7d9b2f4e6a8c0d1f3a5b7c9e01"
ROOT_SPAN = "a1b2c3d4e5f60001"
CHATS = [
    ("a1b2c3d4e5f60002", "How long does a card top-up take?", "Top-ups by card are instant.", "gpt-4o-mini"),
    ("a1b2c3d4e5f60003", "Can I get a refund for a card payment?", "Refunds take 30 days.", "gpt-4o-mini"),
    ("a1b2c3d4e5f60004", "Why was my transfer declined?", "Transfers can be declined for security checks.",
     "claude-haiku"),
]  # fmt: skip
SCORES_BEFORE_TRACE = [
    {"id": "demo-connect-score-1", "traceId": TRACE_ID, "observationId": "a1b2c3d4e5f60003", "name": "user-feedback",
     "value": 0, "dataType": "BOOLEAN", "comment": "Refunds take 14 days, not 30."},
]  # fmt: skip
SCORES_AFTER_TRACE = [
    {"id": "demo-connect-score-2", "traceId": TRACE_ID, "observationId": "a1b2c3d4e5f60002", "name": "user-feedback",
     "value": 1, "dataType": "BOOLEAN"},
    {"id": "demo-connect-score-3", "traceId": TRACE_ID, "observationId": "a1b2c3d4e5f60003", "name": "correction",
     "value": "Refunds take 14 days.", "dataType": "CORRECTION"},
    {"id": "demo-connect-score-4", "traceId": TRACE_ID, "observationId": "a1b2c3d4e5f60004", "name": "helpfulness",
     "value": 0.4, "dataType": "NUMERIC"},
    {"id": "demo-connect-score-5", "traceId": TRACE_ID, "observationId": "a1b2c3d4e5f60004", "name": "topic",
     "value": "transfers", "dataType": "CATEGORICAL"},
]  # fmt: skip
# Fixed times (the spans' content, and so their idempotency, must not change from one run to the next).
STARTED_NS = 1_795_000_000_000_000_000


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def export_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", "support-bot"))
    scope = resource_spans.scope_spans.add()
    scope.scope.name = "opentelemetry.instrumentation.openai"
    root = scope.spans.add(trace_id=bytes.fromhex(TRACE_ID), span_id=bytes.fromhex(ROOT_SPAN), name="support turn")
    root.start_time_unix_nano, root.end_time_unix_nano = STARTED_NS, STARTED_NS + 9_000_000_000
    for n, (span_id, question, answer, model) in enumerate(CHATS):
        span = scope.spans.add(
            trace_id=bytes.fromhex(TRACE_ID),
            span_id=bytes.fromhex(span_id),
            parent_span_id=bytes.fromhex(ROOT_SPAN),
            name=f"chat {model}",
        )
        span.start_time_unix_nano = STARTED_NS + n * 3_000_000_000
        span.end_time_unix_nano = span.start_time_unix_nano + 1_200_000_000
        messages_in = [{"role": "user", "parts": [{"type": "text", "content": question}]}]
        messages_out = [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
        span.attributes.extend(
            [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.request.model", model),
                _kv("gen_ai.input.messages", json.dumps(messages_in)),
                _kv("gen_ai.output.messages", json.dumps(messages_out)),
                _kv("langfuse.observation.prompt.name", "support-answer"),
                _kv("langfuse.observation.prompt.version", "3"),
            ]
        )
    return request


def load(*, project: Project, stdout) -> None:
    early = scores_ingest(project_id=project.id, scores=SCORES_BEFORE_TRACE)
    traces = otlp_traces_ingest(project_id=project.id, request=export_request())
    later = scores_ingest(project_id=project.id, scores=SCORES_AFTER_TRACE)
    FeedbackToken.objects.filter(project=project, interaction__external_id=CHATS[0][0]).delete()
    token, raw_token = feedback_token_create(
        project_id=project.id, interaction_external_id=CHATS[0][0], expires_in=7 * 24 * 3600, max_uses=5
    )
    waited = sum(r.status == 202 for r in early)
    stdout.write(
        f"demo connect: {traces.accepted} LLM spans as interactions (trace {TRACE_ID}), {traces.skipped} span "
        f"skipped; {len(early) + len(later)} Langfuse scores ({waited} waited for its trace, "
        f"{traces.scores_attached} attached on arrival)."
    )
    stdout.write(
        f"demo connect: thumbs for interaction {CHATS[0][0]} (token valid until {token.expires_at:%Y-%m-%d}, "
        f"{token.max_uses} uses), on a page of an origin listed in FEEDBACK_TOKEN_CORS_ORIGINS:\n"
        f'  <div data-goldloop-url="http://localhost:8000/api/v1/feedback/tokens/{raw_token}"></div>\n'
        '  <script src="http://localhost:8000/api/v1/feedback/thumbs.js" async></script>'
    )
