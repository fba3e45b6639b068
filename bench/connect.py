"""Connect throughput through the real HTTP stack (gunicorn with config/gunicorn.py + Django + PostgreSQL), beside
/api/v1/ingest measured in the same run.

    .venv/bin/python bench/connect.py [--spans 30720] [--scores 30000] [--clients 3]

Uses bench/_stack.py's database (goldloop_bench) and gunicorn, bench/ingest.py's CPU accounting, a new project+key:
  1. /api/v1/ingest, interactions batched 1,000 per request (the reference figure);
  2. OTLP/HTTP protobuf, gzip (as the Langfuse SDK exports), 512 spans per request (the OpenTelemetry SDK's
     BatchSpanProcessor default max_export_batch_size), every span a GenAI chat span: LLM spans/s;
  3. the same as OTLP JSON (hex ids), no compression, 512 spans per request;
  4. /api/v1/ingest, feedback batched 1,000 per request on the spans of phase 2 (the reference for scores);
  5. Langfuse scores posted to /api/public/scores as arrays of 500 (the SDK sends arrays; LANGFUSE_FLUSH_AT sets the
     size) and as /api/public/ingestion batches of 500 score-create events, on the spans of phase 2.
Figures are indicative: the load generator shares the machine's two cores with the server and PostgreSQL.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import sys
import time
import uuid

from _stack import bench_project, log_path_for, manage, serve, stop
from ingest import batches, cpu_line, interaction_items, loop_seconds, pct, post_phase

SPANS_PER_REQUEST = 512


def _post_all(port: int, key: str, path: str, bodies: list[tuple[bytes, dict]], expect: int, queue) -> None:
    """bench/ingest.py's client, with per-body headers (content type, encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, errors = [], 0
    for body, headers in bodies:
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {key}", **headers})
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != expect or _item_failed(payload):
            errors += 1
            if errors == 1:
                print(f"  unexpected {response.status}: {payload[:300]!r}", file=sys.stderr)
    conn.close()
    queue.put((latencies, errors))


def _item_failed(payload: bytes) -> bool:
    """An item refused inside a 200/207: an item error (ingest), an ingestion error, a partial success."""
    compact = payload.replace(b" ", b"")
    return b'"error":' in compact or b'"errors":[{' in compact or b"partialSuccess" in compact


def genai_spans(run: str, count: int, rng: random.Random) -> list[tuple[bytes, bytes, int]]:
    """(trace id, span id, n): three chat spans per trace."""
    spans = []
    for n in range(count):
        if n % 3 == 0:
            trace_id = rng.randbytes(16)
        spans.append((trace_id, rng.randbytes(8), n))
    return spans


def _attributes(n: int) -> dict:
    question = [{"role": "user", "parts": [{"type": "text", "content": f"How do I top up my card, case {n}?"}]}]
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "Top-ups by card are instant."}]}]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": json.dumps(question),
        "gen_ai.output.messages": json.dumps(answer),
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 9,
    }


def otlp_protobuf_bodies(spans: list) -> list[tuple[bytes, dict]]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    bodies = []
    for start in range(0, len(spans), SPANS_PER_REQUEST):
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value="support-bot"))
        )
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "openai.instrumentation"
        for trace_id, span_id, n in spans[start : start + SPANS_PER_REQUEST]:
            span = scope.spans.add(trace_id=trace_id, span_id=span_id, name="chat gpt-4o-mini", kind=3)
            span.start_time_unix_nano = time.time_ns()
            span.end_time_unix_nano = span.start_time_unix_nano + 900_000_000
            for name, value in _attributes(n).items():
                any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
                span.attributes.append(KeyValue(key=name, value=any_value))
        headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
        bodies.append((gzip.compress(request.SerializeToString()), headers))
    return bodies


def otlp_json_bodies(spans: list) -> list[tuple[bytes, dict]]:
    bodies = []
    for start in range(0, len(spans), SPANS_PER_REQUEST):
        json_spans = []
        for trace_id, span_id, n in spans[start : start + SPANS_PER_REQUEST]:
            now = time.time_ns()
            attributes = [
                {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
                for k, v in _attributes(n).items()
            ]
            json_spans.append({"traceId": trace_id.hex(), "spanId": span_id.hex(), "name": "chat gpt-4o-mini",
                               "kind": 3, "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 900_000_000),
                               "attributes": attributes})  # fmt: skip
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "support-bot"}}]}
        scope = {"scope": {"name": "openai.instrumentation"}, "spans": json_spans}
        document = {"resourceSpans": [{"resource": resource, "scopeSpans": [scope]}]}
        bodies.append((json.dumps(document).encode(), {"Content-Type": "application/json"}))
    return bodies


def scores(run: str, spans: list, count: int, rng: random.Random) -> list[dict]:
    items = []
    for n in range(count):
        trace_id, span_id, _ = spans[n % len(spans)]
        score = {"id": f"{run}-score-{n}", "traceId": trace_id.hex(), "observationId": span_id.hex(),
                 "timestamp": "2026-11-20T10:00:00Z", "environment": "production"}  # fmt: skip
        if n % 3 == 0:
            score.update(name="user-feedback", value=0 if rng.random() < 0.15 else 1, dataType="BOOLEAN")
        elif n % 3 == 1:
            score.update(name="helpfulness", value=round(rng.random(), 2), dataType="NUMERIC")
        else:
            del score["observationId"]  # a score on the trace
            score.update(name="topic", value=rng.choice(["refunds", "cards", "fees"]), dataType="CATEGORICAL")
        items.append(score)
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=60 * SPANS_PER_REQUEST)
    parser.add_argument("--json-spans", type=int, default=20 * SPANS_PER_REQUEST)
    parser.add_argument("--scores", type=int, default=30_000)
    parser.add_argument("--interactions", type=int, default=20_000, help="For the /api/v1/ingest figure.")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--worker-class")
    options = parser.parse_args()

    env, _, run, key = bench_project("connect")
    server, port = serve(env, options, log_path_for(run))
    rng = random.Random(11)
    spans = genai_spans(run, options.spans, rng)
    json_spans = genai_spans(run, options.json_spans, rng)
    score_items = scores(run, spans, options.scores, rng)
    as_json = {"Content-Type": "application/json"}
    ingest_bodies = [(b, as_json) for b in batches("interactions", interaction_items(run, options.interactions))]
    ingest_feedback = [
        {"id": f"{run}-fb-{n}", "interaction_id": spans[n % len(spans)][1].hex(), "name": "thumbs",
         "value": "down" if rng.random() < 0.15 else "up"}
        for n in range(options.scores // 2)
    ]  # fmt: skip
    feedback_bodies = [(b, as_json) for b in batches("feedback", ingest_feedback)]
    half = len(score_items) // 2
    score_bodies = [(json.dumps(score_items[i : i + 500]).encode(), {"Content-Type": "application/json"})
                    for i in range(0, half, 500)]  # fmt: skip
    events = [{"id": uuid.uuid4().hex, "timestamp": s["timestamp"], "type": "score-create", "body": s}
              for s in score_items[half:]]  # fmt: skip
    event_bodies = [(json.dumps({"batch": events[i : i + 500]}).encode(), {"Content-Type": "application/json"})
                    for i in range(0, len(events), 500)]  # fmt: skip
    # (label, path, bodies, expected status, items, unit)
    phases = [
        ("/api/v1/ingest interactions (1,000 per request)", "/api/v1/ingest", ingest_bodies, 207,
         options.interactions, "item"),
        ("OTLP protobuf+gzip LLM spans (512 per request)", "/api/public/otel/v1/traces",
         otlp_protobuf_bodies(spans), 200, len(spans), "span"),
        ("OTLP JSON LLM spans (512 per request)", "/v1/traces", otlp_json_bodies(json_spans), 200,
         len(json_spans), "span"),
        ("/api/v1/ingest feedback on those spans (1,000 per request)", "/api/v1/ingest", feedback_bodies, 207,
         len(ingest_feedback), "item"),
        ("Langfuse scores, /api/public/scores (500 per array)", "/api/public/scores", score_bodies, 202, half,
         "score"),
        ("Langfuse scores, /api/public/ingestion (500 per batch)", "/api/public/ingestion", event_bodies, 207,
         len(events), "score"),
    ]  # fmt: skip
    figures = []
    try:
        for label, path, bodies, expect, count, unit in phases:
            elapsed, latencies, errors, cpu = post_phase(
                server, port, key, path, bodies, expect, options.clients, post=_post_all
            )
            rate = count / elapsed
            figures.append((label, f"{rate:,.0f} /s"))
            print(
                f"{label}: {count:,} in {elapsed:.1f} s = {rate:,.0f} {unit}s/s; request p50 {pct(latencies, 0.5):.0f}"
                f" ms, p99 {pct(latencies, 0.99):.0f} ms; errors {errors}; {cpu_line(cpu, count, unit)}",
                flush=True,
            )
        code = (
            "from feedback.models import Feedback, Interaction, PendingScore;"
            f"p = dict(project__slug='{run}');"
            "print(Interaction.objects.filter(**p).count(), Feedback.objects.filter(**p).count(),"
            " PendingScore.objects.filter(**p).count())"
        )
        stored = manage(env, "shell", "-c", code).strip().splitlines()[-1].split()
        print(f"stored: {stored[0]} interactions, {stored[1]} feedback, {stored[2]} scores pending")
        print(f"\n{'figure':<62} rate")
        for name, value in figures:
            print(f"{name:<62} {value}")
        print(f"\n{os.cpu_count()} CPUs shared by server, PostgreSQL and {options.clients} load-generator processes; "
              f"load average {os.getloadavg()[0]:.2f}; a 10M-iteration Python loop takes {loop_seconds():.2f} s "
              "(0.34 s at best here).")  # fmt: skip
    finally:
        stop(server)


if __name__ == "__main__":
    main()
