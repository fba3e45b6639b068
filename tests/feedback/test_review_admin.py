"""The review queue admin: roles and permissions, the queue, the review page, bulk actions, the audit trail."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from feedback.admin.review_page import word_diff_html
from feedback.admin.review_queue import ReviewQueueAdmin
from feedback.admin.reviews import ClaimEventAdmin
from feedback.models import ClaimEvent, ErrorCategory, Feedback, Interaction, Review, ReviewItem
from feedback.services import claims
from feedback.services.reviews import review_create
from tests.factories import FeedbackFactory, InteractionFactory
from tests.feedback.review_fixtures import (  # noqa: F401 - fixtures
    engineer_fixture,
    make_failures,
    review_project_fixture,
    sme2_fixture,
    sme_fixture,
)

QUEUE = "/admin/feedback/reviewitem/"


@pytest.fixture
def sme_client(client, sme):
    client.force_login(sme)
    return client


def test_roles_are_created_by_the_migration(db):
    sme_group = Group.objects.get(name="SME")
    codenames = set(sme_group.permissions.values_list("codename", flat=True))
    assert {"view_reviewitem", "add_review", "view_feedback", "view_interaction", "view_claimevent"} <= codenames
    assert not any(c.startswith(("delete_", "change_")) for c in codenames)
    engineer_codes = set(Group.objects.get(name="ML engineer").permissions.values_list("codename", flat=True))
    assert {"view_feedback", "view_review", "view_reviewitem", "view_claimevent", "add_errorcategory"} <= engineer_codes


def test_roles_sync_covers_every_feedback_model(db):
    from django.apps import apps

    from feedback.services.roles import roles_post_migrate

    roles_post_migrate(sender=apps.get_app_config("feedback"))
    granted = set(Group.objects.get(name="ML engineer").permissions.values_list("codename", flat=True))
    expected = {f"view_{model._meta.model_name}" for model in apps.get_app_config("feedback").get_models()}
    assert expected <= granted


def test_roles_migration_is_reversible(db):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("feedback.migrations.0004_review_roles")
    migration.delete_roles(apps, None)
    assert not Group.objects.filter(name__in=["SME", "ML engineer"]).exists()
    migration.create_roles(apps, None)
    assert Group.objects.get(name="SME").permissions.filter(codename="add_review").exists()


def test_sme_cannot_delete_or_edit_feedback(review_project, sme, sme_client):
    feedback = FeedbackFactory(interaction=make_failures(review_project, 1)[0])
    assert sme_client.get(reverse("admin:feedback_feedback_change", args=[feedback.pk])).status_code == 200  # view
    assert (
        sme_client.post(reverse("admin:feedback_feedback_delete", args=[feedback.pk]), {"post": "yes"}).status_code
        == 403
    )
    edit = sme_client.post(reverse("admin:feedback_feedback_change", args=[feedback.pk]), {"comment": "edited"})
    assert edit.status_code == 403
    feedback.refresh_from_db()
    assert feedback.comment != "edited" and Feedback.objects.filter(pk=feedback.pk).exists()
    assert (
        sme_client.get(reverse("admin:feedback_interaction_delete", args=[feedback.interaction_id])).status_code == 403
    )
    assert sme_client.get(reverse("admin:feedback_review_delete", args=[1])).status_code == 403


def test_sme_permissions_in_the_admin_classes(rf, sme):
    from django.contrib import admin as django_admin

    request = rf.get("/")
    request.user = sme
    for model in (Feedback, Interaction, ReviewItem, Review, ClaimEvent):
        model_admin = django_admin.site._registry[model]
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_change_permission(request)
    assert django_admin.site._registry[ReviewItem].has_review_permission(request)


def test_the_queue_lists_failures_first(review_project, sme_client):
    ok = InteractionFactory(project=review_project, external_id="fine-1")
    low, high = make_failures(review_project, 2)
    response = sme_client.get(QUEUE)
    assert response.status_code == 200
    rows = [obj.pk for obj in response.context["cl"].result_list]
    assert rows == [high.pk, low.pk, ok.pk]
    assert b"Review next" in response.content


def test_queue_filters_and_search(review_project, sme, sme_client):
    a, b, c = make_failures(review_project, 3)
    Interaction.objects.filter(pk=a.pk).update(model="claude-x", prompt_version="p2")
    FeedbackFactory(interaction=b, name="helpfulness", data_type="NUMERIC", value_number=0.1, comment="rude tone")
    tone = ErrorCategory.objects.create(project=review_project, name="tone")
    review_create(interaction=c, verdict="invalid", error_category=tone, reviewer=sme)

    def ids(query):
        response = sme_client.get(QUEUE + query)
        assert response.status_code == 200, query
        return {obj.pk for obj in response.context["cl"].result_list}

    assert ids("?model=claude-x") == {a.pk}
    assert ids("?prompt_version=p2") == {a.pk}
    assert ids("?feedback=helpfulness:NUMERIC") == {b.pk}
    assert ids(f"?category={tone.pk}") == {c.pk}
    assert ids("?status=reviewed") == {c.pk}
    assert ids("?status=unreviewed") == {a.pk, b.pk}
    assert ids("?q=rude") == {b.pk}
    assert ids("?q=" + a.input[0]["content"].split()[-1]) == {a.pk}
    claims.claim(interaction_id=a.pk, user=sme)
    assert ids("?status=in_review") == {a.pk}
    assert ids("?claim=mine") == {a.pk}
    assert ids(f"?project__id__exact={review_project.pk}&is_failure__exact=1") == {a.pk, b.pk, c.pk}


def test_queue_query_count_is_constant(review_project, sme_client, django_assert_max_num_queries):
    make_failures(review_project, 5)
    sme_client.get(QUEUE)  # warm the cached filter choices
    # 13: the overlap policies (feedback.selectors.overlap) are read once per page to keep open verdicts blind.
    with django_assert_max_num_queries(13) as small:
        sme_client.get(QUEUE)
    make_failures(review_project, 40)
    with django_assert_max_num_queries(13) as large:
        assert len(sme_client.get(QUEUE).context["cl"].result_list) == 45
    assert len(small.captured_queries) == len(large.captured_queries)


def test_review_page_claims_shows_diff_and_saves(review_project, sme, sme2, sme_client):
    low, high = make_failures(review_project, 2)
    url = reverse("admin:feedback_reviewitem_review", args=[high.pk])
    page = sme_client.get(url)
    assert page.status_code == 200
    high.refresh_from_db()
    assert high.claimed_by == sme
    assert b"wrong answer 1" in page.content and b"Question number" in page.content

    response = sme_client.post(
        url, {"verdict": "corrected", "correction": "Please email support today.", "notes": "n", "_next": "1"}
    )
    assert response.status_code == 302
    assert response.url.endswith(reverse("admin:feedback_reviewitem_review", args=[low.pk]))
    review = Review.objects.get(interaction=high)
    assert (review.reviewer, review.verdict, review.correction) == (sme, "corrected", "Please email support today.")
    high.refresh_from_db()
    assert high.review_status == "reviewed" and high.claimed_by is None


def test_review_page_refuses_a_bad_verdict_and_another_smes_item(review_project, sme, sme2, sme_client):
    (item,) = make_failures(review_project, 1)
    url = reverse("admin:feedback_reviewitem_review", args=[item.pk])
    response = sme_client.post(url, {"verdict": "corrected", "correction": ""})
    assert response.status_code == 400 and b"needs the corrected output" in response.content
    claims.release(interaction_id=item.pk, user=sme)
    claims.claim(interaction_id=item.pk, user=sme2)
    page = sme_client.get(url)
    assert b"sme-omar is reviewing this item" in page.content
    assert sme_client.post(url, {"verdict": "correct"}).status_code == 400
    assert not Review.objects.exists()


def test_claim_and_release_endpoints(review_project, sme, sme2, client):
    (item,) = make_failures(review_project, 1)
    claims.claim(interaction_id=item.pk, user=sme)
    client.force_login(sme2)
    response = client.post(reverse("admin:feedback_reviewitem_claim", args=[item.pk]), follow=True)
    assert b"sme-jane is reviewing this item" in response.content
    client.post(reverse("admin:feedback_reviewitem_release", args=[item.pk]))  # not theirs: nothing happens
    item.refresh_from_db()
    assert item.claimed_by == sme
    client.force_login(sme)
    client.post(reverse("admin:feedback_reviewitem_release", args=[item.pk]))
    item.refresh_from_db()
    assert item.claimed_by is None and item.review_status == "unreviewed"


def test_next_and_skip(review_project, sme, sme_client):
    low, high = make_failures(review_project, 2)
    next_url = reverse("admin:feedback_reviewitem_next")
    assert sme_client.get(next_url).status_code == 405
    first = sme_client.post(next_url)
    assert first.url.endswith(f"/{high.pk}/review/")
    skipped = sme_client.post(next_url, {"skip": high.pk})
    assert skipped.url.endswith(f"/{low.pk}/review/")
    high.refresh_from_db()
    assert high.claimed_by is None
    # next follows the queue's filters
    filtered = sme_client.post(next_url, {"_changelist_filters": "q=nothing-matches", "skip": low.pk})
    assert filtered.url.endswith(QUEUE + "?q=nothing-matches")


def test_engineer_reads_but_cannot_review(review_project, engineer, client):
    (item,) = make_failures(review_project, 1)
    client.force_login(engineer)
    assert client.get(QUEUE).status_code == 200
    assert client.get(reverse("admin:feedback_reviewitem_review", args=[item.pk])).status_code == 200
    item.refresh_from_db()
    assert item.claimed_by is None  # reading does not claim
    assert client.post(reverse("admin:feedback_reviewitem_next")).status_code == 403
    assert (
        client.post(reverse("admin:feedback_reviewitem_review", args=[item.pk]), {"verdict": "correct"}).status_code
        == 403
    )


def test_bulk_mark_invalid_and_set_category(review_project, sme, sme_client):
    a, b = make_failures(review_project, 2)
    response = sme_client.post(QUEUE, {"action": "mark_invalid", "_selected_action": [a.pk, b.pk]})
    assert response.status_code == 302
    assert set(Review.objects.filter(verdict="invalid", reviewer=sme).values_list("interaction_id", flat=True)) == {
        a.pk,
        b.pk,
    }
    tone = ErrorCategory.objects.create(project=review_project, name="tone")
    form = sme_client.post(QUEUE, {"action": "set_category", "_selected_action": [a.pk, b.pk]})
    assert form.status_code == 200 and b"Set category" in form.content
    done = sme_client.post(
        QUEUE, {"action": "set_category", "_selected_action": [a.pk, b.pk], "apply": "1", "error_category": tone.pk}
    )
    assert done.status_code == 302
    assert Review.objects.filter(error_category=tone).count() == 2


def test_audit_trail_is_visible_read_only(review_project, sme, sme_client, rf):
    (item,) = make_failures(review_project, 1)
    claims.claim(interaction_id=item.pk, user=sme)
    review_create(interaction=item, verdict="corrected", correction="Better answer.", reviewer=sme)
    claims_page = sme_client.get(reverse("admin:feedback_claimevent_changelist"))
    assert claims_page.status_code == 200
    assert [e.action for e in claims_page.context["cl"].result_list] == ["completed", "claimed"]
    history = sme_client.get(reverse("admin:feedback_historicalreview_changelist"))
    assert history.status_code == 200
    assert [(h.history_user, h.verdict) for h in history.context["cl"].result_list] == [(sme, "corrected")]
    event = ClaimEvent.objects.first()
    assert (
        sme_client.post(reverse("admin:feedback_claimevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    request = rf.get("/")
    request.user = sme
    from django.contrib import admin as django_admin

    assert not ClaimEventAdmin(ClaimEvent, django_admin.site).has_change_permission(request)


def test_promote_style_actions_can_be_appended(review_project, sme_client):
    calls = []

    def promote(modeladmin, request, queryset):
        calls.append(list(queryset.values_list("pk", flat=True)))

    (item,) = make_failures(review_project, 1)
    original = ReviewQueueAdmin.actions
    ReviewQueueAdmin.actions = [*ReviewQueueAdmin.actions, promote]
    try:
        sme_client.post(QUEUE, {"action": "promote", "_selected_action": [item.pk]})
    finally:
        ReviewQueueAdmin.actions = original
    assert calls == [[item.pk]]


def test_review_page_shows_similar_failures(review_project, sme_client, monkeypatch):
    from feedback.selectors import reviews as review_selectors

    target, neighbour = make_failures(review_project, 2)
    monkeypatch.setattr(review_selectors, "similar_failures", lambda *, interaction, k=5: [(neighbour, 0.1234)])
    page = sme_client.get(reverse("admin:feedback_reviewitem_review", args=[target.pk]))
    assert neighbour.external_id.encode() in page.content and b"0.123" in page.content


def test_word_diff():
    html = word_diff_html("Refunds take 30 days.", "Refunds take 14 days. <b>")
    assert html == "Refunds take <del>30</del><ins>14</ins> days.<ins> &lt;b&gt;</ins>"
