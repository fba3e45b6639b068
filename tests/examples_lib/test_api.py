import hashlib

import pytest

from examples_lib.services.versions import version_create
from tests.examples_lib.helpers import dataset_with
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_create_and_list_datasets(api):
    created = api.post("/api/v1/datasets", {"name": "refund-answers", "description": "Refund policy"}, format="json")
    assert created.status_code == 201
    assert created.json() | {"created_at": None} == {
        "name": "refund-answers",
        "description": "Refund policy",
        "split": {"train": 0.8, "validation": 0.1, "test": 0.1},
        "near_duplicate_threshold": 0.95,
        "draft_examples": 0,
        "latest_version": None,
        "created_at": None,
    }
    again = api.post("/api/v1/datasets", {"name": "refund-answers"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    listed = api.get("/api/v1/datasets").json()
    assert [d["name"] for d in listed["results"]] == ["refund-answers"] and listed["next"] is None


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "has spaces"}, "name"),
        ({"name": "x", "split": {"train": 0.5, "validation": 0.1, "test": 0.1}}, "split"),
        ({"name": "x", "split": {"dev": 1.0}}, "split"),
    ],
)
def test_invalid_datasets_are_400_with_fields(api, payload, field):
    response = api.post("/api/v1/datasets", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_scopes_and_keys(project, make_client, client):
    reader = make_client(project, ["read"])
    assert reader.get("/api/v1/datasets").status_code == 200
    denied = reader.post("/api/v1/datasets", {"name": "x"}, format="json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert make_client(project, ["curate"]).get("/api/v1/datasets").status_code == 403
    assert client.get("/api/v1/datasets").status_code == 401


def test_add_examples_reports_added_duplicates_and_refused(api, reviewed):
    api.post("/api/v1/datasets", {"name": "refunds"}, format="json")
    ok = reviewed("corrected", correction="Refunds take 14 days.")
    unreviewed = reviewed(None)
    response = api.post(
        "/api/v1/datasets/refunds/examples",
        {"from_interactions": [ok.external_id, unreviewed.external_id, "missing"]},
        format="json",
    )
    assert response.status_code == 201
    answer = response.json()
    assert [a["interaction_id"] for a in answer["added"]] == [ok.external_id]
    assert {r["interaction_id"]: r["code"] for r in answer["refused"]} == {
        unreviewed.external_id: "unreviewed",
        "missing": "not_found",
    }
    direct = api.post(
        "/api/v1/datasets/refunds/examples",
        {"examples": [{"input": ok.input, "expected_output": "refunds take 14 days."}, {"input": "no output"}]},
        format="json",
    ).json()
    assert direct["duplicates"] == [{"index": 0, "duplicate_of": answer["added"][0]["id"]}]
    assert direct["refused"] == [{"index": 1, "code": "invalid", "reason": "Missing expected_output."}]
    assert direct["added"] == [] and direct["near_duplicates"] == []


def test_add_examples_needs_exactly_one_source(api):
    api.post("/api/v1/datasets", {"name": "refunds"}, format="json")
    for payload in ({}, {"examples": [], "from_interactions": []}, {"examples": "nope"}):
        response = api.post("/api/v1/datasets/refunds/examples", payload, format="json")
        assert response.status_code == 400, payload


def test_draft_list_is_paginated(api, project, django_assert_max_num_queries):
    dataset_with(project, 7)
    with django_assert_max_num_queries(6):
        page = api.get("/api/v1/datasets/refund-answers/examples?limit=5").json()
    assert [e["id"] for e in page["results"]] == [f"ex-{i}" for i in range(5)]
    rest = api.get(page["next"]).json()
    assert [e["id"] for e in rest["results"]] == ["ex-5", "ex-6"] and rest["next"] is None
    assert set(rest["results"][0]) == {
        "id",
        "input",
        "expected_output",
        "metadata",
        "split",
        "lineage",
        "created_at",
        "updated_at",
    }


def test_freeze_then_read_the_manifest_by_number_tag_and_latest(api, project):
    dataset_with(project, 10)
    created = api.post("/api/v1/datasets/refund-answers/versions", {"note": "first", "tag": "prod"}, format="json")
    assert created.status_code == 201
    manifest = created.json()
    assert manifest["number"] == 1 and len(manifest["sha256"]) == 64 and sum(manifest["counts"].values()) == 10
    assert manifest["tags"] == ["prod"] and manifest["note"] == "first"
    assert manifest["exports"]["parquet"].endswith("/api/v1/datasets/refund-answers/versions/1/export?format=parquet")
    for ref in ("1", "prod", "latest"):
        assert api.get(f"/api/v1/datasets/refund-answers/versions/{ref}").json() == manifest
    missing = api.get("/api/v1/datasets/refund-answers/versions/7")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.post("/api/v1/datasets/refund-answers/versions", {}, format="json").status_code == 409
    listed = api.get("/api/v1/datasets/refund-answers/versions").json()
    assert [v["number"] for v in listed["results"]] == [1]
    assert api.get("/api/v1/datasets/refund-answers").json()["latest_version"] == 1


def test_tags_move_through_the_api(api, project):
    dataset = dataset_with(project, 3)
    version_create(dataset=dataset)
    api.post(
        "/api/v1/datasets/refund-answers/examples",
        {"examples": [{"input": "q", "expected_output": "a"}]},
        format="json",
    )
    version_create(dataset=dataset)
    assert api.put("/api/v1/datasets/refund-answers/tags/prod", {"version": "1"}, format="json").json() == {
        "tag": "prod",
        "version": 1,
    }
    assert api.put("/api/v1/datasets/refund-answers/tags/prod", {"version": "latest"}, format="json").status_code == 200
    assert api.get("/api/v1/datasets/refund-answers/versions/prod").json()["number"] == 2
    assert api.put("/api/v1/datasets/refund-answers/tags/latest", {"version": "1"}, format="json").status_code == 400


def test_export_streams_with_the_version_hash(api, project):
    version = version_create(dataset=dataset_with(project, 30))
    response = api.get("/api/v1/datasets/refund-answers/versions/latest/export?format=jsonl")
    assert response.status_code == 200 and response.streaming
    content = body(response)
    assert hashlib.sha256(content).hexdigest() == version.sha256 == response["X-Content-SHA256"]
    assert response["ETag"] == f'"{version.sha256}"'
    assert response["Content-Type"] == "application/x-ndjson"
    assert 'filename="refund-answers-v1.jsonl"' in response["Content-Disposition"]
    assert (
        api.get("/api/v1/datasets/refund-answers/versions/1/export", HTTP_IF_NONE_MATCH=response["ETag"]).status_code
        == 304
    )

    test_only = api.get("/api/v1/datasets/refund-answers/versions/1/export?format=jsonl&split=test")
    assert len(body(test_only).splitlines()) == version.counts["test"]
    assert test_only["X-Content-SHA256"] == version.sha256 and test_only["ETag"] != response["ETag"]
    parquet = api.get("/api/v1/datasets/refund-answers/versions/1/export?format=parquet")
    assert body(parquet)[:4] == b"PAR1"


def test_export_refuses_unknown_formats_and_splits(api, project):
    version_create(dataset=dataset_with(project, 3))
    for query in ("format=xml", "split=dev"):
        response = api.get(f"/api/v1/datasets/refund-answers/versions/1/export?{query}")
        assert response.status_code == 400 and response.json()["error"]["fields"]


def test_diff_endpoint(api, project):
    dataset = dataset_with(project, 3)
    version_create(dataset=dataset)
    api.post(
        "/api/v1/datasets/refund-answers/examples",
        {
            "examples": [
                {"id": "ex-0", "input": "question 0", "expected_output": "better"},
                {"id": "ex-7", "input": "q7", "expected_output": "a7"},
            ]
        },
        format="json",
    )
    version_create(dataset=dataset)
    diff = api.get("/api/v1/datasets/refund-answers/versions/1/diff/latest").json()
    assert diff == {
        "from": 1,
        "to": 2,
        "added": ["ex-7"],
        "removed": [],
        "changed": [{"id": "ex-0", "fields": ["expected_output"]}],
        "counts": {"added": 1, "removed": 0, "changed": 1},
    }


def test_another_projects_dataset_is_404_everywhere(project, make_client):
    version_create(dataset=dataset_with(project, 3))
    stranger = make_client(ProjectFactory(slug="other-app"))
    for url in (
        "/api/v1/datasets/refund-answers",
        "/api/v1/datasets/refund-answers/examples",
        "/api/v1/datasets/refund-answers/versions",
        "/api/v1/datasets/refund-answers/versions/1",
        "/api/v1/datasets/refund-answers/versions/1/export",
        "/api/v1/datasets/refund-answers/versions/1/diff/1",
    ):
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.post("/api/v1/datasets/refund-answers/versions", {}, format="json").status_code == 404
    assert stranger.get("/api/v1/datasets").json()["results"] == []


def test_list_endpoints_do_not_grow_queries_with_rows(api, project, django_assert_max_num_queries):
    from examples_lib.services.examples import examples_add

    for name in ("a", "b", "c"):
        dataset = dataset_with(project, 3, name=name)
        version_create(dataset=dataset, tag="prod")
        examples_add(dataset=dataset, examples=[{"input": "q", "expected_output": "a"}])
        version_create(dataset=dataset, tag="staging")
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/datasets").json()["results"]) == 3
    with django_assert_max_num_queries(6):
        versions = api.get("/api/v1/datasets/a/versions").json()["results"]
    assert [(v["number"], v["parent"], v["tags"]) for v in versions] == [(2, 1, ["staging"]), (1, None, ["prod"])]
