"""A bounded schemathesis run of the OpenAPI schema against a live server with a real key (issue 17).

Every operation of /api/schema/ is called with examples generated from the schema, valid (positive) and invalid
(negative), and every response is checked: no server error, the status documented, the body and headers as the
schema says, the content type, invalid data refused, the key's absence refused. FUZZ_EXAMPLES bounds the examples
per operation and mode (default 25: one and a half to two and a half minutes on two shared cores); raise it for a
longer local run. OTLP's protobuf bodies are not generated (schemathesis cannot serialise them; the JSON form of the
same operations is fuzzed, and tests/feedback/test_connect_otlp.py covers protobuf).
"""

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create
from feedback.services.api_keys import api_key_create
from feedback.services.projects import project_get_or_create
from tests.factories import FeedbackFactory, InteractionFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _schema() -> dict:
    """The schema /api/schema/ serves, built at collection (schemathesis parametrizes from it)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


@pytest.fixture
def key(transactional_db, settings):
    project = project_get_or_create(slug="support-bot", name="Support bot")
    dataset = dataset_create(project=project, name="golden")
    settings.EXAMPLES_EMBEDDER = ""
    examples_add(dataset=dataset, examples=[{"id": "e1", "input": "q", "expected_output": "a"}])
    version_create(dataset=dataset, created_by_name="fuzz", tag="prod")
    FeedbackFactory(interaction=InteractionFactory(project=project, external_id="chat-1"), project=project)
    _, raw_key = api_key_create(project=project, scopes=["ingest", "read", "review", "curate"])
    return raw_key


schema = schemathesis.openapi.from_dict(_schema())
# NUL characters are refused everywhere (400; PostgreSQL cannot store them): tests/core/test_hostile_input.py covers
# them case by case. Generated here, they would make every schema-valid string a possible 400.
schema.config.generation.update(allow_x00=False)

# Operations with rules between fields or values that OpenAPI cannot state, so a schema-valid request may rightly be
# a 400: the positive_data_acceptance check is skipped for them (every other check still runs).
CROSS_FIELD_RULES = {
    "agreement_retrieve": "since before until, between 1900 and 9000",
    "langfuse_scores_create": "a score needs traceId, name and a value of its dataType (Langfuse's rules)",
    "datasets_create": "split ratios name train/validation/test and add up to 1",
    "dataset_examples_add": "either from_interactions or examples",
    "feedback_create": "interaction_id or interaction; a value needs a name; something to record",
    "interactions_create": "occurred_at between 1900 and 9000 (core.validation)",
    "interactions_list": "since/until between 1900 and 9000",
    "interaction_reviews_create": "a corrected verdict needs a correction, others none",
    "api_v1_metrics_feedback_retrieve": "since before until, at most 31 or 400 days apart",
    "api_v1_metrics_compare_retrieve": "since before until, at most 400 days apart",
}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in every CI run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_as_its_schema_says(case, key, live_server):
    excluded = []
    # A cursor is valid only when this server signed it (core/pagination.py), which no schema can state.
    if case.operation.definition.raw.get("operationId") in CROSS_FIELD_RULES or "cursor" in (case.query or {}):
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, excluded_checks=excluded
    )
