"""GET /api/v1/agreement: the contract's shape, its filters, its scope, errors in the contract's shape."""

import pytest

from feedback.services.reviews import review_create
from tests.factories import FeedbackFactory, InteractionFactory
from tests.feedback.agreement_fixtures import overlap_policy
from tests.feedback.review_fixtures import make_user, review_project_fixture  # noqa: F401 - fixtures


@pytest.fixture
def two_smes(review_project):
    overlap_policy(review_project)
    a, b = make_user("sme-a", "SME"), make_user("sme-b", "SME")
    for index, (first, second) in enumerate([("correct", "correct"), ("correct", "invalid"), ("invalid", "invalid")]):
        item = InteractionFactory(project=review_project, external_id=f"item-{index}")
        review_create(interaction=item, verdict=first, reviewer=a)
        review_create(interaction=item, verdict=second, reviewer=b)
        FeedbackFactory(interaction=item, name="judge", value_number=1.0, source="automated", data_type="BOOLEAN")
    return a, b


def test_the_answer_has_the_contract_shape(review_project, make_client, two_smes):
    body = make_client(review_project, scopes=["read"]).get("/api/v1/agreement").json()
    for key in ("n_items", "n_reviewers", "percent_agreement", "cohen_kappa", "krippendorff_alpha", "ci95",
                "by_reviewer", "by_category", "judges"):  # fmt: skip
        assert key in body
    assert body["n_items"] == 3 and body["n_reviewers"] == 2
    assert body["percent_agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert set(body["ci95"]) >= {"percent_agreement", "cohen_kappa", "krippendorff_alpha"}
    (judge,) = body["judges"]
    assert {"source", "name", "agreement_with_sme", "kappa", "confusion"} <= set(judge)
    assert judge["source"] == "automated" and judge["name"] == "judge"
    assert [row["interaction_id"] for row in body["disagreements"]] == ["item-1"]


def test_filters(review_project, api, two_smes):
    assert api.get("/api/v1/agreement?reviewer=sme-a").json()["n_items"] == 3
    assert api.get("/api/v1/agreement?reviewer=someone-else").json()["n_items"] == 0
    assert api.get("/api/v1/agreement?until=2000-01-01T00:00:00Z").json()["n_items"] == 0
    assert api.get("/api/v1/agreement?source=end_user").json()["judges"] == []
    assert api.get("/api/v1/agreement?source=automated,end_user").json()["judges"][0]["name"] == "judge"


def test_bad_filters_are_400_in_the_contract_shape(api, two_smes):
    response = api.get("/api/v1/agreement?source=robots&since=yesterday")
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"source", "since"} and error["code"]
    ordered = api.get("/api/v1/agreement?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert ordered.status_code == 400


def test_scope_and_tenancy(review_project, make_client, two_smes):
    assert make_client(review_project, scopes=["ingest"]).get("/api/v1/agreement").status_code == 403
    from tests.factories import ProjectFactory

    other = make_client(ProjectFactory(slug="other-bot"), scopes=["read"]).get("/api/v1/agreement").json()
    assert other["n_items"] == 0 and other["n_verdicts"] == 0 and other["percent_agreement"] is None


def test_the_endpoint_is_in_the_openapi_document(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    text = schema.content.decode()
    assert "/api/v1/agreement" in text and "krippendorff_alpha" in text
