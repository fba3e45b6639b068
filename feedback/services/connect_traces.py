"""OTLP traces -> interactions (API.md, Connect): each LLM span through the capture service, then the kept scores
those spans answer (services/connect_scores.py)."""

from dataclasses import dataclass

from feedback.services.capture import capture_ingest
from feedback.services.connect_scores import pending_scores_attach
from feedback.services.otlp_mapping import request_interactions


@dataclass(slots=True)
class TracesResult:
    accepted: int  # LLM spans stored (new or retried)
    skipped: int  # spans that are not LLM calls
    rejected: int
    errors: list[str]  # one line per rejected span, the first few
    scores_attached: int


def otlp_traces_ingest(*, project_id: int, request) -> TracesResult:
    """Record the LLM spans of an ExportTraceServiceRequest as interactions (external id: the span id in hex)."""
    mapped = request_interactions(request)
    captured = capture_ingest(project_id=project_id, interactions=mapped.interactions, feedback=[])
    errors = list(mapped.invalid)
    stored_ids, trace_ids = [], set()
    for item, result in zip(mapped.interactions, captured.interactions, strict=True):
        if result.status < 400:
            stored_ids.append(item["id"])
            trace_ids.add(item["trace_id"])
        else:
            error = result.error or {}
            errors.append(f"span {item['id']}: {error.get('message', 'rejected')} {error.get('fields') or ''}".strip())
    attached = pending_scores_attach(
        project_id=project_id,
        observation_ids=stored_ids,
        trace_ids=sorted(trace_ids),
        skipped_span_ids=[span for _, span in mapped.skipped],
    )
    return TracesResult(len(stored_ids), len(mapped.skipped), len(errors), errors[:20], attached)
