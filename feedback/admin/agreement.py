"""Admin of agreement: the review policies, the agreement page of a project, and the adjudication queue.

The agreement page is the changelist of the proxy AgreementReport; the adjudication queue is the changelist of the
proxy AdjudicationItem, whose rows open the adjudication page of one item. Both appear in the admin index.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from core.errors import ApplicationError
from feedback.admin.review_page import as_text
from feedback.admin.scoping import ProjectScopedAdmin, admin_scope
from feedback.models import AdjudicationItem, AgreementReport, ErrorCategory, Interaction, Project, Review, ReviewPolicy
from feedback.selectors.adjudication import active_verdicts_of, disputed_items
from feedback.selectors.agreement import agreement_report
from feedback.services.adjudication import ADJUDICATE_PERMISSION, adjudication_create
from feedback.services.reviews import correction_parse

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 200, 32


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ("project", "reviewers_per_item", "overlap_share")
    list_select_related = ("project",)
    filter_horizontal = ("overlap_categories",)
    raw_id_fields = ("overlap_clusters",)


def trend_chart(trend: list[dict]) -> dict | None:
    """An inline SVG line of percent agreement per bucket, with its 95% band (no JavaScript, no library)."""
    points = [row for row in trend if row["percent_agreement"] is not None]
    if not points:
        return None
    width, height = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = width / max(1, len(points) - 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return round(CHART_PAD + index * step, 1), round(CHART_PAD + (1 - value) * height, 1)

    line = [xy(i, row["percent_agreement"]) for i, row in enumerate(points)]
    upper = [xy(i, (row["percent_agreement_ci95"] or [0, row["percent_agreement"]])[1]) for i, row in enumerate(points)]
    lower = [xy(i, (row["percent_agreement_ci95"] or [row["percent_agreement"], 0])[0]) for i, row in enumerate(points)]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "line": " ".join(f"{x},{y}" for x, y in line),
        "band": " ".join(f"{x},{y}" for x, y in upper + lower[::-1]),
        "dots": [{"x": x, "y": y, "row": row} for (x, y), row in zip(line, points, strict=True)],
        "grid": [{"y": xy(0, v)[1], "label": f"{v:.0%}"} for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "first": points[0]["bucket"],
        "last": points[-1]["bucket"],
        "left": CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD,
    }


@admin.register(AgreementReport)
class AgreementReportAdmin(ReadOnlyAdmin):
    """/admin/feedback/agreementreport/: the agreement page of one project (?project=<slug>)."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        projects = list(admin_scope(Project.objects.order_by("slug"), request, "pk"))
        project = next((p for p in projects if p.slug == request.GET.get("project")), projects[0] if projects else None)
        filters = {
            "since": parse_date(request.GET.get("since") or ""),
            "until": parse_date(request.GET.get("until") or ""),
            "error_category": (request.GET.get("error_category") or "").strip() or None,
            "reviewer": (request.GET.get("reviewer") or "").strip() or None,
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Agreement of SMEs and judges",
            "projects": projects,
            "project": project,
            "filters": filters,
            "adjudication_url": reverse("admin:feedback_adjudicationitem_changelist"),
        }
        if project is not None:
            report = agreement_report(project=project, **filters)
            context["report"] = report
            context["chart"] = trend_chart(report["trend"])
            context["categories"] = ErrorCategory.objects.filter(project=project).order_by("name")
        return TemplateResponse(request, "admin/feedback/agreement/report.html", context)


@admin.register(AdjudicationItem)
class AdjudicationQueueAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    """Items whose SMEs disagree; an adjudicator opens one and gives the verdict that counts."""

    list_display = ("adjudicate_link", "project", "verdicts", "negative_count", "occurred_at")
    list_display_links = None
    list_filter = ("project",)
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return disputed_items(base=super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        title = "Adjudication queue: items whose SMEs disagree"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_changelist(self, request, **kwargs):
        from django.contrib.admin.views.main import ChangeList

        class WithVerdicts(ChangeList):
            def get_results(self, request):
                super().get_results(request)
                self.result_list = list(self.result_list)
                found = active_verdicts_of(interaction_ids=[item.pk for item in self.result_list])
                for item in self.result_list:
                    item.sme_verdicts = found.get(item.pk, [])

        return WithVerdicts

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/adjudicate/", wrap(self.adjudicate_view), name="feedback_adjudicationitem_adjudicate"
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:feedback_adjudicationitem_adjudicate", args=[object_id]))

    @admin.display(description="item")
    def adjudicate_link(self, obj):
        url = reverse("admin:feedback_adjudicationitem_adjudicate", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.external_id)

    @admin.display(description="SME verdicts")
    def verdicts(self, obj):
        return " · ".join(f"{r.reviewer_name}: {r.verdict}" for r in getattr(obj, "sme_verdicts", []))

    def adjudicate_view(self, request, object_id):
        if not object_id.isdigit():
            raise Http404("No such item.")
        scoped = admin_scope(Interaction.objects.select_related("project"), request)  # the user's projects only
        interaction = scoped.filter(pk=object_id).first()
        if interaction is None:
            raise Http404("No such item.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_adjudicate = request.user.has_perm(ADJUDICATE_PERMISSION)
        error = None
        if request.method == "POST":
            if not may_adjudicate:
                raise PermissionDenied
            try:
                _adjudicate(request, interaction)
            except ApplicationError as exc:
                error = exc.message
            else:
                self.message_user(request, f"Adjudicated {interaction.external_id}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:feedback_adjudicationitem_changelist"))
        sme = active_verdicts_of(interaction_ids=[interaction.pk])[interaction.pk]
        adjudications = Review.objects.filter(
            interaction=interaction, is_adjudication=True, superseded_at__isnull=True
        ).select_related("error_category")
        corrected = next((r for r in reversed(sme) if r.correction is not None), None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Adjudicate {interaction.external_id}",
            "interaction": interaction,
            "input_text": as_text(interaction.input),
            "original": as_text(interaction.output),
            "sme_verdicts": [{"review": r, "correction": as_text(r.correction)} for r in sme],
            "current": adjudications.first(),
            "correction_text": request.POST.get("correction")
            if error
            else as_text(corrected.correction if corrected else interaction.output),
            "verdicts": Review.Verdict.choices,
            "categories": ErrorCategory.objects.filter(project=interaction.project_id).order_by("name"),
            "may_adjudicate": may_adjudicate,
            "error": error,
            "queue_url": reverse("admin:feedback_adjudicationitem_changelist"),
        }
        return TemplateResponse(
            request, "admin/feedback/agreement/adjudicate.html", context, status=400 if error else 200
        )


def _adjudicate(request, interaction: Interaction) -> Review:
    verdict = request.POST.get("verdict", "")
    category = None
    if request.POST.get("error_category"):
        category = ErrorCategory.objects.filter(
            pk=request.POST["error_category"], project_id=interaction.project_id
        ).first()
        if category is None:
            raise ApplicationError("Pick an error category of this project.", fields={"error_category": ["unknown"]})
    correction = None
    if verdict == Review.Verdict.CORRECTED:
        correction = correction_parse(interaction=interaction, text=request.POST.get("correction", ""))
    return adjudication_create(
        interaction=interaction,
        verdict=verdict,
        correction=correction,
        error_category=category,
        notes=request.POST.get("notes", ""),
        adjudicator=request.user,
    )
