"""OTLP spans -> capture interactions: which span attributes hold the input, output, model and prompt version.

One table (FIELDS) lists, per interaction field, the attribute names that carry it, most specific first: the
OpenTelemetry GenAI semantic conventions (current `gen_ai.input.messages` and the older indexed
`gen_ai.prompt.N.*`), OpenInference (Arize Phoenix, `input.value`, `llm.model_name`) and Langfuse's own SDK
(`langfuse.observation.*`). Supporting another instrumentation is one more name in a list. A span is an LLM call
when one of LLM_MARKERS says so or when the table finds an input or output in it; any other span is skipped.
Attributes the table does not consume are kept as the interaction's metadata.
"""

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# --- The table ------------------------------------------------------------------------------------------------------
# A plain name reads one attribute (JSON text is decoded); "name.*" gathers the indexed form `name.0.role`,
# `name.0.content`, `name.1...` into a list of objects (`message.` inside an entry is dropped, as OpenInference
# nests `llm.input_messages.0.message.role`).
FIELDS: dict[str, tuple[str, ...]] = {
    "input": (
        "langfuse.observation.input",
        "gen_ai.input.messages",
        "input.value",
        "gen_ai.prompt.*",
        "llm.input_messages.*",
        "gen_ai.prompt",
    ),
    "output": (
        "langfuse.observation.output",
        "gen_ai.output.messages",
        "output.value",
        "gen_ai.completion.*",
        "llm.output_messages.*",
        "gen_ai.completion",
    ),
    "model": (
        "langfuse.observation.model.name",
        "gen_ai.response.model",
        "gen_ai.request.model",
        "llm.model_name",
    ),
    "prompt_name": ("langfuse.observation.prompt.name", "gen_ai.prompt.name", "llm.prompt_template.name"),
    "prompt_version": (
        "langfuse.observation.prompt.version",
        "gen_ai.prompt.version",
        "llm.prompt_template.version",
    ),
}

# (attribute, values that make the span an LLM call; None: any value).
LLM_MARKERS: tuple[tuple[str, frozenset | None], ...] = (
    ("langfuse.observation.type", frozenset({"generation"})),
    ("openinference.span.kind", frozenset({"LLM", "llm"})),
    ("gen_ai.operation.name", frozenset({"chat", "text_completion", "generate_content", "completion"})),
    ("gen_ai.request.model", None),
    ("llm.model_name", None),
)
# Attributes that say a span is NOT an LLM call even when it carries input/output (a Langfuse span or tool).
NOT_LLM_MARKERS: tuple[tuple[str, frozenset], ...] = (
    ("langfuse.observation.type", frozenset({"span", "event", "tool", "agent", "chain", "retriever", "evaluator",
                                             "guardrail", "embedding"})),
    ("openinference.span.kind", frozenset({"CHAIN", "TOOL", "AGENT", "RETRIEVER", "EMBEDDING", "RERANKER",
                                           "GUARDRAIL", "EVALUATOR"})),
)  # fmt: skip


# --- Values ---------------------------------------------------------------------------------------------------------
def any_value(value) -> Any:
    """An OTLP AnyValue as plain Python."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind == "double_value" and not math.isfinite(value.double_value):
        return str(value.double_value)  # NaN and infinities are not JSON (PostgreSQL's jsonb refuses them)
    return getattr(value, kind)


def attributes_dict(key_values) -> dict[str, Any]:
    """Repeated KeyValue as a dict; strings (nearly every GenAI attribute) without a call per attribute."""
    attributes = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        attributes[kv.key] = value.string_value if kind == "string_value" else any_value(value)
    return attributes


def _decoded(value: Any) -> Any:
    """JSON text as its value (Langfuse and OpenInference serialise messages to JSON strings); other text as is."""
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _indexed(attributes: dict[str, Any], prefix: str) -> tuple[list[dict], list[str]]:
    """`prefix.N.key` attributes as [{key: value}, ...] by N, and the attribute names used."""
    entries: dict[int, dict] = {}
    used = []
    start = len(prefix) + 1
    for name, value in attributes.items():
        if not name.startswith(prefix) or name[len(prefix) : start] != ".":
            continue
        index, _, key = name[start:].partition(".")
        if not index.isdigit() or not key:
            continue
        key = key.removeprefix("message.")
        entries.setdefault(int(index), {})[key] = _decoded(value)
        used.append(name)
    return [entries[i] for i in sorted(entries)], used


def _compiled(names: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    return tuple((name[:-2], True) if name.endswith(".*") else (name, False) for name in names)


_LOOKUPS = {field: _compiled(names) for field, names in FIELDS.items()}


def _lookup(attributes: dict[str, Any], names: tuple[tuple[str, bool], ...]) -> tuple[Any, list[str]]:
    for name, indexed in names:
        if indexed:
            entries, used = _indexed(attributes, name)
            if entries:
                return entries, used
        else:
            value = attributes.get(name)
            if value is not None and value != "":
                return _decoded(value), [name]
    return None, []


def _is_llm(attributes: dict[str, Any], found_io: bool) -> bool:
    for name, values in NOT_LLM_MARKERS:
        if attributes.get(name) in values:
            return False
    for name, values in LLM_MARKERS:
        value = attributes.get(name)
        if value is not None and (values is None or value in values):
            return True
    return found_io


def _time(unix_nano: int) -> str | None:
    if not unix_nano:
        return None
    return datetime.fromtimestamp(unix_nano / 1e9, tz=UTC).isoformat()


# --- Spans ----------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class MappedSpans:
    interactions: list[dict]  # capture items, in span order
    skipped: list[tuple[str, str]]  # (trace id, span id) of the spans that are not LLM calls
    invalid: list[str]  # one message per span that cannot be read (bad ids)


def span_interaction(span, resource: dict[str, Any], scope_name: str) -> dict | None:
    """The capture item of one LLM span, or None for a span that is not an LLM call."""
    attributes = attributes_dict(span.attributes)
    consumed: set[str] = set()
    values: dict[str, Any] = {}
    for field, names in _LOOKUPS.items():
        values[field], used = _lookup(attributes, names)
        consumed.update(used)
    if not _is_llm(attributes, values["input"] is not None or values["output"] is not None):
        return None
    span_id, trace_id = span.span_id.hex(), span.trace_id.hex()
    prompt_version = values["prompt_version"]
    if values["prompt_name"] and prompt_version not in (None, ""):
        prompt_version = f"{values['prompt_name']}@{prompt_version}"
    elif prompt_version in (None, ""):
        prompt_version = values["prompt_name"] or ""
    metadata: dict[str, Any] = {
        "otel": {
            "span_id": span_id,
            "parent_span_id": span.parent_span_id.hex(),
            "name": span.name,
            "ended_at": _time(span.end_time_unix_nano),
            "scope": scope_name,
            "status": span.status.code,
        },
        "attributes": {k: v for k, v in attributes.items() if k not in consumed},
    }
    if resource:
        metadata["resource"] = resource
    return {
        "id": span_id,
        "input": values["input"] if values["input"] is not None else "",
        "output": values["output"] if values["output"] is not None else "",
        "model": str(values["model"] or "")[:200],
        "prompt_version": str(prompt_version)[:200],
        "trace_id": trace_id,
        "metadata": metadata,
        "occurred_at": _time(span.start_time_unix_nano),
    }


def request_interactions(request) -> MappedSpans:
    """All spans of an ExportTraceServiceRequest, mapped."""
    mapped = MappedSpans([], [], [])
    for resource_spans in request.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        resource = {k: v for k, v in resource.items() if k.startswith("service.")}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.span_id) != 8 or len(span.trace_id) != 16:
                    mapped.invalid.append(f"span '{span.name}': trace_id must be 16 bytes and span_id 8 bytes")
                    continue
                item = span_interaction(span, resource, scope_spans.scope.name)
                if item is None:
                    mapped.skipped.append((span.trace_id.hex(), span.span_id.hex()))
                else:
                    mapped.interactions.append(item)
    return mapped
