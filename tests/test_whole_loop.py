"""The whole loop through the public API, on a real Celery worker: capture, cluster, review, promote, export, monitor.

Each capability has its own tests; this one checks that they fit together the way an application, an SME and an
ML engineer use them in one day.
"""

import hashlib
import json

import pytest

from feedback.models import Embedding
from tests.feedback.cluster_fixtures import TOPICS
from tests.feedback.test_cluster_worker import SLOW, ingest, run_to_the_end

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_failures_captured_over_the_api_end_as_an_exported_golden_version(celery_worker, api, project, wait_until):
    # Capture: 48 answers the users disliked, in one batch.
    texts = {f"{topic}-{n}": text for topic, group in TOPICS.items() for n, text in enumerate(group)}
    ingest(api, texts)
    assert wait_until(lambda: Embedding.objects.filter(project=project).count() == 48, timeout=SLOW, interval=0.5)

    # Cluster: the worker groups them into patterns an SME can read.
    run_to_the_end(api, wait_until)
    clusters = api.get("/api/v1/clusters").json()["results"]
    assert clusters and all(c["label"] for c in clusters)
    cluster = api.get(f"/api/v1/clusters/{clusters[0]['id']}").json()
    member = cluster["members"]["results"][0]["id"]
    similar = api.get(f"/api/v1/interactions/{member}/similar?k=3").json()["results"]
    assert len(similar) == 3 and member not in [s["id"] for s in similar]

    # Review: an SME corrects one answer and vouches for another.
    correction = "Your card was declined because the payment looked unusual; approve it in the app and retry."
    corrected = api.post(
        f"/api/v1/interactions/{member}/reviews",
        {"verdict": "corrected", "correction": correction, "error_category": "unhelpful", "reviewer": "sme-jane"},
        format="json",
    )
    assert corrected.status_code == 201, corrected.content
    other = similar[0]["id"]
    assert api.post(f"/api/v1/interactions/{other}/reviews", {"verdict": "correct"}, format="json").status_code == 201
    assert api.get(f"/api/v1/interactions/{member}").json()["review_status"] == "reviewed"

    # Promote and freeze: the reviewed cases become version 1 of a golden dataset; unreviewed ones are refused.
    assert api.post("/api/v1/datasets", {"name": "declines"}, format="json").status_code == 201
    unreviewed = next(k for k in texts if k not in (member, other))
    added = api.post(
        "/api/v1/datasets/declines/examples", {"from_interactions": [member, other, unreviewed]}, format="json"
    ).json()
    assert sorted(a["interaction_id"] for a in added["added"]) == sorted([member, other])
    assert [r["interaction_id"] for r in added["refused"]] == [unreviewed]
    version = api.post("/api/v1/datasets/declines/versions", {"tag": "prod"}, format="json")
    assert version.status_code == 201 and version.json()["number"] == 1

    # Export: the bytes are the ones the manifest's hash names, with lineage back to the reviewer.
    export = api.get("/api/v1/datasets/declines/versions/prod/export?format=jsonl")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert hashlib.sha256(body).hexdigest() == export["X-Content-SHA256"] == version.json()["sha256"]
    rows = {row["lineage"]["interaction_id"]: row for row in map(json.loads, body.decode().splitlines())}
    assert rows[member]["expected_output"] == correction and rows[member]["lineage"]["reviewer"] == "sme-jane"
    dpo = api.get("/api/v1/datasets/declines/versions/1/export?format=openai-dpo")
    dpo_lines = (b"".join(dpo.streaming_content) if dpo.streaming else dpo.content).decode().splitlines()
    assert len(dpo_lines) == 1 and json.loads(dpo_lines[0])["preferred_output"][0]["content"] == correction

    # Monitor: every one of those judgements counts as negative in today's series.
    series = api.get("/api/v1/metrics/feedback?group_by=model&bucket=day").json()["results"]
    assert sum(row["negative"] for row in series) == 48 and sum(row["feedback"] for row in series) == 48
