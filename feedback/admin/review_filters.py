"""Sidebar filters of the review queue. Their choices come from cached or small queries (none scans the queue)."""

from django.contrib import admin
from django.utils import timezone

from feedback.models import Cluster, ErrorCategory, Interaction
from feedback.selectors.reviews import (
    feedback_kind_choices,
    field_choices,
    filter_error_category,
    filter_feedback_kind,
    filter_review_status,
)


class ReviewStatusFilter(admin.SimpleListFilter):
    title = "review status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Interaction.ReviewStatus.choices

    def queryset(self, request, queryset):
        if self.value() in Interaction.ReviewStatus.values:
            return filter_review_status(queryset, self.value())
        return queryset


class _FieldValueFilter(admin.SimpleListFilter):
    field = ""

    def lookups(self, request, model_admin):
        return [(value, value) for value in field_choices(self.field)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class ModelFilter(_FieldValueFilter):
    title = "model"
    parameter_name = "model"
    field = "model"


class PromptVersionFilter(_FieldValueFilter):
    title = "prompt version"
    parameter_name = "prompt_version"
    field = "prompt_version"


class FeedbackKindFilter(admin.SimpleListFilter):
    title = "feedback kind"
    parameter_name = "feedback"

    def lookups(self, request, model_admin):
        return feedback_kind_choices()

    def queryset(self, request, queryset):
        if self.value():
            return filter_feedback_kind(queryset, self.value())
        return queryset


class ErrorCategoryFilter(admin.SimpleListFilter):
    title = "error category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = ErrorCategory.objects.select_related("project").order_by("project__slug", "name")
        return [(str(c.pk), f"{c.name} ({c.project.slug})") for c in categories]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return filter_error_category(queryset, self.value())
        return queryset


class ClusterFilter(admin.SimpleListFilter):
    title = "cluster"
    parameter_name = "cluster"

    def lookups(self, request, model_admin):
        clusters = Cluster.objects.filter(is_active=True).only("pk", "label", "size").order_by("-size")[:100]
        return [(str(c.pk), f"{c.label} ({c.size})") for c in clusters]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(cluster_id=self.value())
        return queryset


class ClaimFilter(admin.SimpleListFilter):
    title = "claim"
    parameter_name = "claim"

    def lookups(self, request, model_admin):
        return [("mine", "held by me"), ("free", "free")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "mine":
            return queryset.filter(claimed_by=request.user, claim_expires_at__gt=now)
        if self.value() == "free":
            return queryset.exclude(claimed_by__isnull=False, claim_expires_at__gt=now)
        return queryset
