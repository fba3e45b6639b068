"""The agreement page (figures, reviewer table, SVG trend, disagreements) and the adjudication queue and page."""

import pytest

from feedback.models import Review
from feedback.services.reviews import review_create
from tests.factories import FeedbackFactory, InteractionFactory
from tests.feedback.agreement_fixtures import adjudicator_fixture, overlap_policy  # noqa: F401 - fixtures
from tests.feedback.review_fixtures import (  # noqa: F401 - fixtures
    engineer_fixture,
    review_project_fixture,
    sme2_fixture,
    sme_fixture,
)

AGREEMENT = "/admin/feedback/agreementreport/"
QUEUE = "/admin/feedback/adjudicationitem/"


@pytest.fixture
def disputed(review_project, sme, sme2):
    overlap_policy(review_project)
    items = []
    for index, (first, second) in enumerate([("correct", "correct"), ("correct", "invalid"), ("invalid", "correct")]):
        item = InteractionFactory(project=review_project, external_id=f"item-{index}", output="Refunds take 30 days.")
        review_create(interaction=item, verdict=first, reviewer=sme)
        review_create(interaction=item, verdict=second, reviewer=sme2)
        FeedbackFactory(interaction=item, name="faithful", value_number=0.9, source="automated", data_type="NUMERIC")
        items.append(item)
    return items


def test_the_agreement_page_shows_figures_reviewers_trend_and_disagreements(client, engineer, disputed):
    client.force_login(engineer)
    page = client.get(AGREEMENT + "?project=support-bot")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="reviewer-table"' in html and "sme-jane" in html and "sme-omar" in html
    assert "<svg" in html and "<polyline" in html  # the trend, inline
    assert "item-1" in html and "item-2" in html and 'id="judge-table"' in html and "faithful" in html
    assert page.context["report"]["n_items"] == 3
    old = client.get(AGREEMENT + "?project=support-bot&since=2000-01-01&until=2000-02-01&error_category=x")
    assert old.status_code == 200 and old.context["report"]["n_items"] == 0


def test_the_admin_index_links_both_pages(client, adjudicator, disputed):
    client.force_login(adjudicator)
    html = client.get("/admin/").content.decode()
    assert AGREEMENT in html and QUEUE in html


def test_the_queue_lists_disagreements_in_constant_queries(
    client, review_project, sme, sme2, adjudicator, disputed, django_assert_max_num_queries
):
    client.force_login(adjudicator)
    client.get(QUEUE)
    with django_assert_max_num_queries(12) as small:
        html = client.get(QUEUE).content.decode()
    assert "item-1" in html and "item-2" in html and "item-0" not in html
    assert "sme-jane: correct" in html
    for index in range(10):
        item = InteractionFactory(project=review_project, external_id=f"more-{index}")
        review_create(interaction=item, verdict="correct", reviewer=sme)
        review_create(interaction=item, verdict="invalid", reviewer=sme2)
    with django_assert_max_num_queries(12) as large:
        assert len(client.get(QUEUE).context["cl"].result_list) == 12
    assert len(small.captured_queries) == len(large.captured_queries)


def test_an_adjudicator_settles_an_item_and_it_leaves_the_queue(client, adjudicator, disputed):
    client.force_login(adjudicator)
    item = disputed[1]
    page = client.get(f"{QUEUE}{item.pk}/adjudicate/").content.decode()
    assert "sme-jane" in page and "sme-omar" in page and 'id="adjudicate-form"' in page
    response = client.post(f"{QUEUE}{item.pk}/adjudicate/", {"verdict": "corrected", "correction": ""})
    assert response.status_code == 400  # a corrected verdict needs its correction
    response = client.post(f"{QUEUE}{item.pk}/adjudicate/", {"verdict": "corrected", "correction": "14 days."})
    assert response.status_code == 302
    adjudication = Review.objects.get(interaction=item, is_adjudication=True)
    assert adjudication.reviewer == adjudicator and adjudication.correction == "14 days."
    queue = client.get(QUEUE)
    assert [row.external_id for row in queue.context["cl"].result_list] == ["item-2"]


def test_an_sme_may_not_adjudicate(client, sme, disputed):
    client.force_login(sme)
    assert client.get(QUEUE).status_code == 403
    assert client.post(f"{QUEUE}{disputed[1].pk}/adjudicate/", {"verdict": "correct"}).status_code == 403
    assert not Review.objects.filter(is_adjudication=True).exists()


def test_an_adjudicator_of_another_project_sees_none_of_this_one(client, adjudicator, disputed):
    from feedback.models import ProjectMembership
    from tests.factories import ProjectFactory

    ProjectMembership.objects.create(user=adjudicator, project=ProjectFactory(slug="other-bot"))
    client.force_login(adjudicator)
    assert client.get(QUEUE).context["cl"].result_count == 0
    assert client.get(f"{QUEUE}{disputed[1].pk}/adjudicate/").status_code == 404
    assert client.post(f"{QUEUE}{disputed[1].pk}/adjudicate/", {"verdict": "correct"}).status_code == 404
    page = client.get(AGREEMENT)
    assert [p.slug for p in page.context["projects"]] == ["other-bot"]


def test_the_review_page_marks_the_adjudication_and_does_not_take_it_for_the_users_verdict(
    client, adjudicator, disputed
):
    from feedback.services.adjudication import adjudication_create

    adjudication_create(interaction=disputed[1], verdict="invalid", adjudicator=adjudicator)
    client.force_login(adjudicator)
    page = client.get(f"/admin/feedback/reviewitem/{disputed[1].pk}/review/")
    assert page.context["current"] is None  # the adjudication is not their SME verdict
    assert "(adjudication)" in page.content.decode()
