"""The SME review queue: failures first, filters, search, claims, bulk verdicts, and the review page.

Registered on the proxy model feedback.models.ReviewItem ("Review queue"). Other apps add actions with
`ReviewQueueAdmin.actions = [*ReviewQueueAdmin.actions, their_action]`.
"""

from functools import cached_property

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from core.admin import ReadOnlyAdmin
from core.chat import user_text
from feedback.admin import review_page
from feedback.admin.review_filters import (
    ClaimFilter,
    ClusterFilter,
    ErrorCategoryFilter,
    FeedbackKindFilter,
    ModelFilter,
    PromptVersionFilter,
    ReviewStatusFilter,
)
from feedback.admin.scoping import ProjectScopedAdmin
from feedback.models import ErrorCategory, ReviewItem
from feedback.selectors.overlap import open_overlap_ids
from feedback.selectors.reviews import QUEUE_ORDERING, latest_verdicts, review_queue, row_estimate, search_queue
from feedback.services.reviews import reviews_mark_invalid, reviews_set_category

COUNT_CAP = 10_000


class ReviewQueueChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        ids = [item.pk for item in self.result_list]
        verdicts = latest_verdicts(interaction_ids=ids)
        blind = open_overlap_ids(interaction_ids=ids)  # verdicts of open overlap items stay hidden
        for item in self.result_list:
            item.latest_verdict, item.latest_category = verdicts.get(item.pk, (None, None))
            if item.pk in blind and item.latest_verdict:
                item.latest_verdict, item.latest_category = "hidden (overlap)", None


class QueuePaginator(Paginator):
    """Counting 100k+ rows on every page view is the slow part of a changelist: estimate or cap it instead."""

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not qs.query.where:
            estimate = row_estimate(model=qs.model)
            if estimate > COUNT_CAP:
                return estimate
        return qs.order_by().values("pk")[:COUNT_CAP].count()


def _item_text(value, length: int = 90) -> str:
    """A one-line preview: for chat messages, the last user message."""
    return Truncator(user_text(value)).chars(length)


@admin.action(description="Mark selected as invalid (a verdict by you)", permissions=["review"])
def mark_invalid(modeladmin, request, queryset):
    ids = list(queryset.values_list("pk", flat=True))
    reviewed, skipped = reviews_mark_invalid(interaction_ids=ids, user=request.user)
    modeladmin.message_user(request, f"{reviewed} item(s) marked invalid.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, f"{skipped} item(s) skipped: another SME holds them.", messages.WARNING)


@admin.action(description="Set the error category of selected", permissions=["review"])
def set_category(modeladmin, request, queryset):
    ids = list(queryset.values_list("pk", flat=True))
    project_ids = set(queryset.values_list("project_id", flat=True))
    categories = ErrorCategory.objects.filter(project_id__in=project_ids).select_related("project")
    if request.POST.get("apply"):
        category = categories.filter(pk=request.POST.get("error_category")).first()
        if category is None:
            modeladmin.message_user(request, "Pick an error category of the items' project.", messages.ERROR)
        else:
            updated, skipped = reviews_set_category(interaction_ids=ids, category=category, user=request.user)
            modeladmin.message_user(request, f"{updated} item(s) now in '{category}'.", messages.SUCCESS)
            if skipped:
                modeladmin.message_user(
                    request, f"{skipped} item(s) skipped: no verdict yet, or another project.", messages.WARNING
                )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Set the error category",
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "ids": ids,
        "categories": categories,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/feedback/review/set_category.html", context)


@admin.register(ReviewItem)
class ReviewQueueAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "review_link",
        "project",
        "short_input",
        "short_output",
        "model_prompt",
        "negative_count",
        "status",
        "verdict",
        "cluster",
        "occurred_at",
    )
    list_display_links = None
    list_filter = (
        "project",
        ReviewStatusFilter,
        "is_failure",
        ModelFilter,
        PromptVersionFilter,
        FeedbackKindFilter,
        ErrorCategoryFilter,
        ClusterFilter,
        ClaimFilter,
    )
    search_fields = ("external_id",)  # shows the search box; the search itself is get_search_results
    search_help_text = "Searches the input, the output and feedback comments."
    ordering = QUEUE_ORDERING
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan the whole queue once per filter
    paginator = QueuePaginator
    actions = [mark_invalid, set_category]
    change_list_template = "admin/feedback/review/change_list.html"

    def get_queryset(self, request):
        return review_queue(base=super().get_queryset(request))

    def get_changelist(self, request, **kwargs):
        return ReviewQueueChangeList

    def changelist_view(self, request, extra_context=None):
        title = "Review queue: failures first (most negative feedback, then newest)"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return search_queue(queryset, search_term.strip()), False

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("feedback.add_review")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("next/", wrap(self.next_view), name=f"{prefix}_next"),
            path("<path:object_id>/review/", wrap(self.review_view), name=f"{prefix}_review"),
            path("<path:object_id>/claim/", wrap(self.claim_view), name=f"{prefix}_claim"),
            path("<path:object_id>/release/", wrap(self.release_view), name=f"{prefix}_release"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(review_page.review_url(self, object_id, request))

    next_view = review_page.next_view
    review_view = review_page.review_view
    claim_view = review_page.claim_view
    release_view = review_page.release_view

    @admin.display(description="item", ordering="external_id")
    def review_link(self, obj):
        url = reverse("admin:feedback_reviewitem_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.external_id)

    @admin.display(description="input")
    def short_input(self, obj):
        return _item_text(obj.input, 80)

    @admin.display(description="output")
    def short_output(self, obj):
        return _item_text(obj.output, 60)

    @admin.display(description="model · prompt", ordering="model")
    def model_prompt(self, obj):
        return f"{obj.model} · {obj.prompt_version}" if obj.prompt_version else obj.model

    @admin.display(description="status")
    def status(self, obj):
        if obj.claimed_by_id and obj.claim_expires_at and obj.claim_expires_at > timezone.now():
            return format_html("in review by <b>{}</b>", obj.claimed_by)
        return obj.get_review_status_display() if obj.review_status == "reviewed" else "unreviewed"

    @admin.display(description="verdict")
    def verdict(self, obj):
        if not obj.latest_verdict:
            return "–"
        return f"{obj.latest_verdict} · {obj.latest_category}" if obj.latest_category else obj.latest_verdict
