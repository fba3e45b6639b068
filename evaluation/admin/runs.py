"""Runs in the admin: per dataset version with verdict and summary, a pass-rate chart across runs, a run beside
its baseline per example (regressions first, filterable), and the "tag as baseline" action."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from core.errors import ApplicationError
from evaluation.admin.charts import pass_rate_chart
from evaluation.models import BaselineTag, Run
from evaluation.selectors.results import FILTERS, run_results
from evaluation.selectors.runs import baseline_tags_of, pass_rate_series
from evaluation.services.runs import baseline_tag_set
from feedback.admin.scoping import ProjectScopedAdmin, admin_scope

PAGE = 50


class BaselineActionForm(admin.helpers.ActionForm):
    tag = forms.SlugField(required=False, initial="prod", help_text="Baseline tag for 'tag as baseline'.")


@admin.register(Run)
class RunAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ("__str__", "dataset", "version_number", "split", "model", "prompt_version", "status",
                    "verdict_badge", "pass_rates", "baseline", "tags", "created_at")  # fmt: skip
    list_filter = ("project", ("dataset", admin.RelatedOnlyFieldListFilter), "version_number", "status")
    list_select_related = ("dataset", "baseline")
    search_fields = ("name", "model", "prompt_version")
    actions = ["tag_as_baseline"]
    action_form = BaselineActionForm
    readonly_fields = [f.name for f in Run._meta.fields if f.name != "judge_secret"]
    exclude = ("judge_secret",)
    change_form_template = "admin/evaluation/run/change_form.html"
    change_list_template = "admin/evaluation/run/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("chunk_starts", "chunks_done", "judge_secret")

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        self._tags = baseline_tags_of(runs=list(changelist.result_list))
        return changelist

    @admin.display(description="tags")
    def tags(self, run: Run) -> str:
        return ", ".join(getattr(self, "_tags", {}).get(run.pk, []))

    @admin.display(description="verdict")
    def verdict_badge(self, run: Run):
        result = (run.verdict or {}).get("result")
        if not result:
            return "-"
        colour = "#059669" if result == "pass" else "#dc2626"
        reasons = "; ".join((run.verdict or {}).get("reasons", []))
        return format_html('<strong style="color:{}" title="{}">{}</strong>', colour, reasons, result.upper())

    @admin.display(description="pass rate per scorer")
    def pass_rates(self, run: Run):
        scorers = (run.summary or {}).get("scorers", {})
        rates = ((name, f"{s['pass_rate']:.1%}") for name, s in scorers.items() if s["pass_rate"] is not None)
        return format_html_join(", ", "{}&nbsp;{}", rates)

    @admin.action(description="Tag as baseline (the tag field, default prod)", permissions=["change"])
    def tag_as_baseline(self, request, queryset):
        runs = list(queryset.select_related("dataset")[:2])
        if len(runs) != 1:
            self.message_user(request, "Select exactly one run to tag as baseline.", messages.ERROR)
            return
        tag = request.POST.get("tag") or "prod"
        try:
            baseline_tag_set(dataset=runs[0].dataset, tag=tag, run=runs[0])
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Run {runs[0].pk} is now the '{tag}' baseline of {runs[0].dataset}.")

    def changelist_view(self, request, extra_context=None):
        visible = admin_scope(Run.objects.all(), request)  # only the user's projects' datasets
        dataset_id = request.GET.get("dataset__id__exact")
        if not dataset_id:
            dataset_id = visible.order_by("-created_at").values_list("dataset_id", flat=True).first()
        chart = ""
        name = None
        if dataset_id and str(dataset_id).isdigit():
            name = visible.filter(dataset_id=dataset_id).values_list("dataset__name", flat=True).first()
        if name is not None:
            series = pass_rate_series(dataset_id=int(dataset_id))
            chart = pass_rate_chart(series, title=f"Pass rate across the latest runs of {name}")
        return super().changelist_view(request, {"pass_rate_chart": chart, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if run is not None and run.status == Run.Status.SUCCEEDED:
            kind = request.GET.get("filter", "all")
            kind = kind if kind in FILTERS and (run.baseline_id or kind in ("all", "failed")) else "all"
            try:
                page_number = max(int(request.GET.get("page", 1)), 1)
            except ValueError:
                page_number = 1
            rows = run_results(run=run, filter=kind, regressions_first=True, limit=PAGE + 1,
                               offset=(page_number - 1) * PAGE)  # fmt: skip
            scorer_names = [config["name"] for config in run.scorers]
            context.update(
                {
                    "results": rows[:PAGE],
                    "has_next": len(rows) > PAGE,
                    "page_number": page_number,
                    "filter": kind,
                    "filters": [f for f in FILTERS if run.baseline_id or f in ("all", "failed")],
                    "scorer_names": scorer_names,
                    "summary_scorers": (run.summary or {}).get("scorers", {}),
                    "verdict": run.verdict,
                    "tags": baseline_tags_of(runs=[run]).get(run.pk, []),
                }
            )
        return super().change_view(request, object_id, form_url, context)


@admin.register(BaselineTag)
class BaselineTagAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "dataset__project"
    list_display = ("tag", "dataset", "run", "updated_at")
    list_filter = (("dataset", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("dataset", "run")
    readonly_fields = ("dataset", "tag", "run", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False  # tag from the runs list (action) or PUT /datasets/{name}/baselines/{tag}
