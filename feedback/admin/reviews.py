"""Admin of error categories, verdicts and the audit trail (verdict history and claim events), read-only where
an audit trail must stay true."""

from django.contrib import admin, messages
from django.db.models import Q
from simple_history.admin import SimpleHistoryAdmin

from core.admin import ReadOnlyAdmin
from feedback.admin.scoping import ProjectScopedAdmin
from feedback.models import ClaimEvent, ErrorCategory, Interaction, Review
from feedback.selectors.overlap import open_overlap_condition
from feedback.services.reviews import review_supersede

HistoricalReview = Review.history.model


def _blind_for_reviewers(request, queryset, *, user_field: str = "reviewer"):
    """An SME (who may review but not change verdicts) does not see other SMEs' verdicts on open overlap items here
    either, as on the review page (feedback.selectors.overlap)."""
    user = request.user
    if user.is_superuser or user.has_perm("feedback.change_review") or not user.has_perm("feedback.add_review"):
        return queryset
    still_open = open_overlap_condition()
    if still_open is None:
        return queryset
    blind_items = Interaction.objects.filter(still_open).values("pk")
    return queryset.exclude(Q(interaction_id__in=blind_items) & ~Q(**{user_field: user}))


@admin.register(ErrorCategory)
class ErrorCategoryAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "project", "description")
    list_filter = ("project",)
    search_fields = ("name", "description")
    list_select_related = ("project",)


@admin.action(description="Withdraw selected verdicts (supersede)", permissions=["withdraw"])
def withdraw(modeladmin, request, queryset):
    for review in queryset.filter(superseded_at__isnull=True):
        review_supersede(review=review, user=request.user)
    modeladmin.message_user(
        request, "Verdicts withdrawn; items without a verdict are back in the queue.", messages.INFO
    )


@admin.register(Review)
class ReviewAdmin(ProjectScopedAdmin, SimpleHistoryAdmin, ReadOnlyAdmin):
    """Verdicts are made on the review page; here they are read, and withdrawn by who may change them."""

    list_display = (
        "interaction",
        "project",
        "verdict",
        "error_category",
        "reviewer_label",
        "created_at",
        "superseded_at",
    )
    list_filter = ("verdict", "project", "error_category", ("superseded_at", admin.EmptyFieldListFilter))
    search_fields = ("interaction__external_id", "reviewer_name", "notes")
    list_select_related = ("interaction", "project", "error_category", "reviewer")
    raw_id_fields = ("interaction", "reviewer")
    date_hierarchy = "created_at"
    actions = [withdraw]
    history_list_display = ["verdict", "error_category", "superseded_at"]

    def get_queryset(self, request):
        return _blind_for_reviewers(request, super().get_queryset(request))

    def has_withdraw_permission(self, request) -> bool:
        return request.user.has_perm("feedback.change_review")

    @admin.display(description="reviewer")
    def reviewer_label(self, obj):
        return obj.reviewer or obj.reviewer_name


@admin.register(HistoricalReview)
class ReviewHistoryAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    """The audit log of verdicts: every creation and change, with who and when."""

    def get_queryset(self, request):
        return _blind_for_reviewers(request, super().get_queryset(request), user_field="history_user")

    list_display = (
        "history_date",
        "history_user",
        "history_type",
        "interaction",
        "verdict",
        "error_category",
        "superseded_at",
    )
    list_filter = ("history_type", "verdict", "project")
    search_fields = ("interaction__external_id", "history_user__username")
    list_select_related = ("history_user", "interaction", "error_category")
    date_hierarchy = "history_date"


@admin.register(ClaimEvent)
class ClaimEventAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    project_lookup = "interaction__project"
    """The audit log of claims."""

    list_display = ("created_at", "user", "action", "interaction", "expires_at")
    list_filter = ("action",)
    search_fields = ("interaction__external_id", "user__username")
    list_select_related = ("user", "interaction")
    date_hierarchy = "created_at"
