"""Overlap: chosen items go to distinct SMEs until enough verdicts exist, and no SME sees another's verdict first."""

import pytest

from feedback.models import Interaction
from feedback.selectors.overlap import (
    is_overlap_item,
    open_overlap_ids,
    overlap_bucket,
    overlap_condition,
    overlap_state,
    policy_of,
)
from feedback.services import claims
from feedback.services.reviews import review_create, review_import
from tests.factories import FailureFactory
from tests.feedback.agreement_fixtures import overlap_policy
from tests.feedback.review_fixtures import (  # noqa: F401 - fixtures
    make_failures,
    make_user,
    review_project_fixture,
    sme2_fixture,
    sme_fixture,
)


def test_the_share_is_chosen_the_same_way_in_sql_and_python(review_project):
    overlap_policy(review_project, share=0.3)
    items = [FailureFactory(project=review_project) for _ in range(200)]
    in_sql = set(Interaction.objects.filter(overlap_condition()).values_list("pk", flat=True))
    policy = policy_of(project_id=review_project.pk)
    in_python = {i.pk for i in items if is_overlap_item(interaction=i, policy=policy)}
    assert in_sql == in_python
    assert 0.15 < len(in_sql) / 200 < 0.45  # about the share, and the same on every run (a hash of the id)
    assert all((overlap_bucket(i.pk) < 0.3) == (i.pk in in_sql) for i in items)


def test_an_overlap_item_goes_to_two_distinct_smes_then_leaves_the_queue(review_project, sme, sme2):
    overlap_policy(review_project)
    third = make_user("sme-third", "SME")
    (item,) = make_failures(review_project, 1)

    assert claims.claim_next(user=sme).pk == item.pk
    review_create(interaction=item, verdict="correct", reviewer=sme)
    assert claims.claim_next(user=sme) is None  # never the same SME twice
    assert claims.claim_next(user=sme2).pk == item.pk  # still open: a second SME gets it
    assert item.pk in open_overlap_ids(interaction_ids=[item.pk])
    review_create(interaction=item, verdict="correct", reviewer=sme2)
    assert claims.claim_next(user=third) is None  # two verdicts: done
    assert open_overlap_ids(interaction_ids=[item.pk]) == set()


def test_items_outside_the_overlap_go_to_one_sme(review_project, sme, sme2):
    overlap_policy(review_project, share=0.0)
    (item,) = make_failures(review_project, 1)
    review_create(interaction=item, verdict="correct", reviewer=sme)
    assert claims.claim_next(user=sme2) is None
    assert not overlap_state(interaction=item).is_overlap


def test_a_category_makes_every_item_of_it_overlap(review_project, sme, sme2):
    from feedback.models import ErrorCategory

    policy = overlap_policy(review_project, share=0.0)
    risky = ErrorCategory.objects.create(project=review_project, name="legal_risk")
    policy.overlap_categories.add(risky)
    plain, flagged = make_failures(review_project, 2)
    review_create(interaction=plain, verdict="correct", reviewer=sme)
    review_create(interaction=flagged, verdict="corrected", correction="Better.", error_category=risky, reviewer=sme)
    assert claims.claim_next(user=sme2).pk == flagged.pk
    assert overlap_state(interaction=flagged).is_open and not overlap_state(interaction=plain).is_overlap


def test_the_review_page_hides_other_verdicts_until_yours(client, review_project, sme, sme2):
    overlap_policy(review_project)
    (item,) = make_failures(review_project, 1)
    review_create(interaction=item, verdict="invalid", notes="secret-note-of-jane", reviewer=sme)
    client.force_login(sme2)
    page = client.get(f"/admin/feedback/reviewitem/{item.pk}/review/").content.decode()
    assert "secret-note-of-jane" not in page and "1 verdict of other SMEs hidden" in page
    queue = client.get("/admin/feedback/reviewitem/").content.decode()
    assert "hidden (overlap)" in queue and "invalid" not in queue.split("result_list")[1]

    client.post(f"/admin/feedback/reviewitem/{item.pk}/review/", {"verdict": "correct", "_save": "1"})
    page = client.get(f"/admin/feedback/reviewitem/{item.pk}/review/").content.decode()
    assert "secret-note-of-jane" in page  # enough verdicts: now both are shown


def test_the_api_hides_verdicts_of_an_open_overlap_item(review_project, make_client):
    overlap_policy(review_project)
    api = make_client(review_project)
    (item,) = make_failures(review_project, 1)
    review_import(interaction=item, verdict="correct", reviewer_name="tool-a")
    listed = api.get(f"/api/v1/interactions/{item.external_id}/reviews").json()
    assert listed["results"] == [] and listed["hidden"] == 1
    own = api.get(f"/api/v1/interactions/{item.external_id}/reviews?reviewer=tool-a").json()
    assert [r["reviewer"] for r in own["results"]] == ["tool-a"]
    assert api.get(f"/api/v1/interactions/{item.external_id}").json()["reviews"] == []
    review_import(interaction=item, verdict="invalid", reviewer_name="tool-b")
    assert len(api.get(f"/api/v1/interactions/{item.external_id}/reviews").json()["results"]) == 2


def test_the_verdict_admin_and_its_history_stay_blind_for_other_smes(client, review_project, sme, sme2):
    overlap_policy(review_project)
    (item,) = make_failures(review_project, 1)
    review_create(interaction=item, verdict="invalid", notes="secret-note-of-jane", reviewer=sme)
    client.force_login(sme2)
    assert client.get("/admin/feedback/review/").context["cl"].result_count == 0
    assert client.get("/admin/feedback/historicalreview/").context["cl"].result_count == 0
    client.force_login(sme)
    assert client.get("/admin/feedback/review/").context["cl"].result_count == 1  # her own


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_hands_an_open_overlap_item_to_one_sme_at_a_time(review_project):
    from tests.feedback.test_review_claims import _run_concurrently

    overlap_policy(review_project, reviewers=3)
    first = make_user("sme-first", "SME")
    items = make_failures(review_project, 3)
    for item in items:
        review_create(interaction=item, verdict="correct", reviewer=first)  # each needs two more SMEs
    users = [make_user(f"sme-{i}", "SME") for i in range(6)]
    results = _run_concurrently([lambda u=u: claims.claim_next(user=u) for u in [first, *users]])
    assert results[0] is None  # the SME who judged them all gets none of them
    claimed = [r.pk for r in results[1:] if r is not None]
    assert sorted(claimed) == sorted(i.pk for i in items)  # each open item to exactly one SME at a time
    holders = dict(Interaction.objects.filter(claimed_by__isnull=False).values_list("pk", "claimed_by_id"))
    assert len(holders) == 3 and first.pk not in holders.values()
