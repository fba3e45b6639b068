"""Everything a hostile client sent that once answered 500 (issue 17): each is now a 4xx in the error shape."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from core.errors import ApplicationError
from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create
from feedback.models import Interaction
from feedback.services.reviews import review_import
from tests.factories import FeedbackFactory, InteractionFactory

B = "/api/v1"
LISTS = [f"{B}/clusters", f"{B}/datasets/golden/examples", f"{B}/datasets/golden/versions", f"{B}/datasets"]
LISTS.append(f"{B}/interactions")


@pytest.fixture(autouse=True)
def no_embedder(settings):
    settings.EXAMPLES_EMBEDDER = ""  # near-duplicate detection needs the model; nothing here is about it


@pytest.fixture
def golden(project):
    dataset = dataset_create(project=project, name="golden")
    examples_add(dataset=dataset, examples=[{"id": "e1", "input": "q", "expected_output": "a"}])
    version_create(dataset=dataset, created_by_name="test", tag="prod")
    interaction = InteractionFactory(project=project, external_id="chat-1")
    FeedbackFactory(interaction=interaction, project=project)
    return dataset


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body


def forged(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


# --- Cursors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [forged("p=abc"), forged("p=NaN"), forged("p=1e400"), forged("p=%00"), forged("p=2026-01-01T00:00:00-18:00")]
    + ["abc", "%00"],
)
def test_a_forged_cursor_is_a_400(api, golden, url, cursor):
    assert_error(api.get(url, {"cursor": cursor}), 400, "invalid_cursor")


def test_a_cursor_of_one_kind_of_list_is_refused_by_another(api, golden, project):
    for number in range(3):
        dataset_create(project=project, name=f"set-{number}")
    next_url = api.get(f"{B}/datasets", {"limit": 1}).json()["next"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    assert api.get(f"{B}/datasets", {"cursor": cursor, "limit": 1}).status_code == 200
    assert_error(api.get(f"{B}/interactions", {"cursor": cursor}), 400, "invalid_cursor")


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "501", "1e3", "²"])
def test_a_bad_limit_is_a_400(api, golden, limit):
    assert_error(api.get(f"{B}/interactions", {"limit": limit}), 400, "invalid")


# --- Path parameters -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", f"{B}/interactions/%00"),
        ("get", f"{B}/interactions/a%00b/reviews"),
        ("post", f"{B}/interactions/a%00b/reviews"),
        ("get", f"{B}/interactions/a%00b/similar"),
        ("get", f"{B}/interactions/{'x' * 256}"),
        ("get", f"{B}/datasets/golden/versions/%00"),
        ("get", f"{B}/datasets/golden/versions/%00/export"),
        ("get", f"{B}/datasets/golden/versions/%00/diff/1"),
        ("get", f"{B}/datasets/golden/versions/1/diff/%00"),
        ("put", f"{B}/datasets/golden/tags/%00"),
        ("put", f"{B}/datasets/golden/tags/{'t' * 300}"),
        ("get", f"{B}/datasets/golden/versions/²"),
        ("get", f"{B}/datasets/golden/versions/99999999999999999999999"),
        ("get", f"{B}/datasets/{'d' * 300}"),
        ("get", f"{B}/clusters/99999999999999999999999"),
        ("get", f"{B}/clustering/runs/99999999999999999999999"),
    ],
)
def test_an_id_no_object_can_have_is_a_404(api, golden, method, path):
    data = {"version": "1"} if method != "get" else None
    assert_error(getattr(api, method)(path, data, format="json"), 404, "not_found")


@pytest.mark.parametrize("version", ["²", "99999999999999999999999", "x" * 300])
def test_a_tag_pointing_at_an_impossible_version_is_a_404(api, golden, version):
    assert_error(api.put(f"{B}/datasets/golden/tags/stable", {"version": version}, format="json"), 404)


# --- Times ---------------------------------------------------------------------------------------------------------
TIME_READERS = [
    (f"{B}/metrics/feedback", {}),
    (f"{B}/metrics/compare", {"dimension": "model", "before": "a", "after": "b"}),
    (f"{B}/interactions", {}),
]


@pytest.mark.parametrize("until", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z"])
@pytest.mark.parametrize("url, params", TIME_READERS)
def test_times_outside_the_shared_range_are_a_400(api, golden, url, params, until):
    body = assert_error(api.get(url, {**params, "until": until}), 400, "invalid")
    assert "until" in body["error"]["fields"]


@pytest.mark.parametrize("url, params", TIME_READERS)
def test_times_with_any_offset_python_reads_are_taken_in_utc(api, golden, url, params):
    # PostgreSQL refuses an offset of -18:00 that Python accepts: the API converts to UTC first.
    assert api.get(url, {**params, "until": "2026-01-01T00:00:00-18:00"}).status_code == 200
    response = api.get(f"{B}/metrics/feedback", {"until": "2026-01-01T10:00:00+14:00"})
    assert response.json()["until"] == "2025-12-31T20:00:00Z"


def test_capture_takes_any_offset_python_reads_in_utc(api, golden):
    body = {"id": "far-west", "input": "q", "output": "a", "occurred_at": "2026-01-01T00:00:00-18:00"}
    assert api.post(f"{B}/interactions", body, format="json").status_code == 201
    occurred = Interaction.objects.get(external_id="far-west").occurred_at
    assert occurred.isoformat() == "2026-01-01T18:00:00+00:00"


# --- JSON bodies ---------------------------------------------------------------------------------------------------
DEEP = "[" * 10_000 + "]" * 10_000
DRF_WRITES = [
    ("post", f"{B}/datasets"),
    ("post", f"{B}/datasets/golden/examples"),
    ("post", f"{B}/datasets/golden/versions"),
    ("post", f"{B}/interactions/chat-1/reviews"),
    ("put", f"{B}/datasets/golden/tags/prod"),
]
CAPTURE_WRITES = [("post", f"{B}/interactions"), ("post", f"{B}/feedback"), ("post", f"{B}/ingest")]


@pytest.mark.parametrize("method, url", DRF_WRITES + CAPTURE_WRITES)
@pytest.mark.parametrize(
    "body",
    [
        '{"a": ' + DEEP + "}",
        '{"a": ' + "[" * 65 + "]" * 65 + "}",  # deeper than core.validation.MAX_JSON_DEPTH
        '{"a": 1e400}',
        '{"a": NaN}',
        '{"a": -Infinity}',
        '{"a": "\\u00"}',
        b'{"a": "\xff"}',
    ],
)
def test_json_the_api_cannot_store_is_a_400(api, golden, method, url, body):
    response = getattr(api, method)(url, body, content_type="application/json")
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize("method, url", DRF_WRITES)
@pytest.mark.parametrize("text", ["a\\u0000b", "\\ud800 lone", "x\\udfff"])
def test_text_postgresql_refuses_is_a_400_anywhere_in_a_body(api, golden, method, url, text):
    for body in (f'{{"name": "{text}", "note": "{text}"}}', f'{{"{text}": 1}}', f'{{"x": [{{"y": "{text}"}}]}}'):
        assert_error(getattr(api, method)(url, body, content_type="application/json"), 400, "invalid")


@pytest.mark.parametrize(
    "item, reason",
    [
        ({"input": "q", "expected_output": "a", "lineage": "x"}, "lineage must be an object"),
        ({"input": "q", "expected_output": "a", "metadata": [1]}, "metadata must be an object"),
        ({"input": "q", "expected_output": "a", "id": "i\x00d"}, "id: NUL"),
        ({"input": "q", "expected_output": "a", "id": "x" * 65}, "id: At most 64"),
        ({"input": "q", "expected_output": "a", "id": ["x"]}, "id must be a string"),
        ({"input": "q\x00", "expected_output": "a"}, "input: NUL"),
        ({"input": "q", "expected_output": {"k\x00": 1}}, "expected_output: NUL"),
        ({"input": "\ud800", "expected_output": "a"}, "input: Contains an unpaired"),
        ({"input": float("inf"), "expected_output": "a"}, "input: Numbers must be finite"),
        ({"input": [[[[1]]]] * 1, "expected_output": json.loads("[" * 70 + "]" * 70)}, "expected_output: Nested"),
    ],
)
def test_examples_added_by_any_way_refuse_what_cannot_be_stored(golden, item, reason):
    result = examples_add(dataset=golden, examples=[item, {"input": "fine", "expected_output": "ok"}])
    assert [r["reason"][: len(reason)] for r in result.refused] == [reason]
    assert len(result.added) == 1


def test_an_example_with_a_lineage_that_is_not_an_object_is_refused_by_the_api(api, golden):
    body = {"examples": [{"input": "q2", "expected_output": "a2", "lineage": "x"}]}
    response = api.post(f"{B}/datasets/golden/examples", body, format="json")
    assert response.status_code == 200
    assert response.json()["refused"][0]["reason"] == "lineage must be an object."


@pytest.mark.parametrize("correction", ["fixed\x00", "\ud800", {"a\x00": 1}])
def test_a_review_correction_postgresql_refuses_is_a_400(project, correction):
    interaction = InteractionFactory(project=project)
    with pytest.raises(ApplicationError) as caught:
        review_import(interaction=interaction, verdict="corrected", correction=correction)
    assert "correction" in caught.value.fields
    assert not interaction.reviews.exists()


# --- Limits --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, url", DRF_WRITES + CAPTURE_WRITES)
def test_a_body_over_the_limit_is_a_413_everywhere(api, golden, settings, method, url):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x", "note": "y" * 2000})
    assert_error(getattr(api, method)(url, body, content_type="application/json"), 413, "payload_too_large")


@pytest.mark.parametrize("method, url", DRF_WRITES + CAPTURE_WRITES)
def test_a_body_longer_than_its_declared_length_is_cut_at_the_limit(api, golden, settings, method, url):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x", "note": "y" * 2000}).encode()
    response = getattr(api, method)(url, body, content_type="application/json", CONTENT_LENGTH="900")
    assert response.status_code == 400  # the first 900 bytes are not JSON; nothing past them was read


@pytest.mark.parametrize("method, url", [*DRF_WRITES, *CAPTURE_WRITES, ("get", f"{B}/interactions")])
@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "²"])
def test_a_content_length_that_is_not_a_number_is_a_400(api, golden, method, url, length):
    response = api.generic(method.upper(), url, b"{}", content_type="application/json", CONTENT_LENGTH=length)
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize("header", ["Bearer gl_\x00abc", "Bearer \x00", "Bearer " + "k" * 5000, "Basic \x00"])
@pytest.mark.parametrize("method, url", [("get", f"{B}/interactions"), ("post", f"{B}/feedback")])
def test_a_hostile_authorization_header_is_a_401(db, method, url, header):
    response = Client().generic(method.upper(), url, b"{}", content_type="application/json", HTTP_AUTHORIZATION=header)
    assert_error(response, 401)


# --- The admin -----------------------------------------------------------------------------------------------------
@pytest.fixture
def staff(db, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/feedback/reviewitem/?model=%00",
        "/admin/feedback/interaction/?model=%00",
        "/admin/feedback/interaction/?q=%00",
    ],
)
def test_a_nul_in_an_admin_query_is_a_400(staff, project, url):
    InteractionFactory(project=project)
    response = staff.get(url)
    assert response.status_code == 400


@pytest.mark.parametrize("since", ["2026-13-45T00:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "x"])
def test_the_dashboard_ignores_an_impossible_comparison_start(staff, project, since):
    InteractionFactory(project=project, model="a")
    url = f"/admin/dashboard/?project={project.slug}&dimension=model&before=a&after=b&compare_since={since}"
    assert staff.get(url).status_code == 200


@pytest.mark.parametrize("url, params", TIME_READERS)
def test_an_empty_time_is_refused_not_ignored(api, golden, url, params):
    assert_error(api.get(url, {**params, "since": ""}), 400, "invalid")
    assert_error(api.get(url, {**params, "score" if "metrics" in url else "model": ""}), 400, "invalid")


# --- Types the schema states ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "typed", "description": 0}, "description"),
        ({"name": 5}, "name"),
        ({"name": "typed", "near_duplicate_threshold": "0.5"}, "near_duplicate_threshold"),
        ({"name": "typed", "near_duplicate_threshold": True}, "near_duplicate_threshold"),
        ({"name": "typed", "split": {"train": "1"}}, "split.train"),
    ],
)
def test_a_value_of_another_type_than_documented_is_a_400(api, golden, body, field):
    response = api.post(f"{B}/datasets", body, format="json")
    assert field in assert_error(response, 400, "invalid")["error"]["fields"]


@pytest.mark.parametrize("items", [[1], ["x"], [None], [[]]])
@pytest.mark.parametrize("name", ["interactions", "feedback"])
def test_a_batch_item_that_is_not_an_object_gets_its_own_400(api, golden, name, items):
    good = (
        {"id": "ok", "input": "q", "output": "a"}
        if name == "interactions"
        else {"id": "fb", "interaction_id": "chat-1", "comment": "x"}
    )
    response = api.post(f"{B}/ingest", {name: [*items, good]}, format="json")
    assert response.status_code == 207
    assert [result["status"] for result in response.json()[name]] == [400, 201]


def test_capture_takes_null_as_absent_as_the_schema_says(api, golden):
    body = {"id": "nulls", "input": "q", "output": "a", "trace_id": None, "model": None, "metadata": None}
    assert api.post(f"{B}/interactions", body, format="json").status_code == 201


@pytest.mark.parametrize(
    "url, query",
    [
        (f"{B}/interactions", "modle=gpt"),
        (f"{B}/interactions", "=null"),
        (f"{B}/metrics/feedback", "=0"),
        (f"{B}/datasets", "page=2"),
        (f"{B}/interactions/chat-1", "expand=all"),
        (f"{B}/datasets/golden/versions/1/export", "format=csv&splt=test"),
    ],
)
def test_a_query_parameter_the_endpoint_does_not_take_is_a_400(api, golden, url, query):
    body = assert_error(api.get(f"{url}?{query}"), 400, "invalid")
    assert query.split("&")[-1].split("=")[0] in body["error"]["fields"]


def test_known_query_parameters_pass(api, golden):
    assert api.get(f"{B}/interactions?model=x&limit=5&feedback=negative").status_code == 200
    assert api.get(f"{B}/datasets/golden/versions/1/export?format=csv&split=test").status_code == 200
