"""Datasets and their drafts, with the freeze action and the diff page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from core.errors import ApplicationError
from examples_lib.canonical import content_hash
from examples_lib.models import Dataset, Example
from examples_lib.selectors.versions import version_diff
from examples_lib.services.datasets import dataset_delete
from examples_lib.services.drafts import example_update
from examples_lib.services.examples import examples_add
from examples_lib.services.versions import version_create
from feedback.admin.scoping import ProjectScopedAdmin


def short_text(value, length: int = 80) -> str:
    return Truncator(value if isinstance(value, str) else str(value)).chars(length)


@admin.action(description="Freeze the draft as a new version")
def freeze_draft(modeladmin, request, queryset):
    if not request.user.has_perm("examples_lib.add_datasetversion"):
        raise PermissionDenied
    for dataset in queryset:
        try:
            version = version_create(
                dataset=dataset, note=f"Frozen in the admin by {request.user}", created_by=request.user
            )
        except ApplicationError as error:
            modeladmin.message_user(request, f"{dataset.name}: {error.message}", messages.WARNING)
        else:
            modeladmin.message_user(
                request,
                f"{dataset.name}: version {version.number} ({version.example_count} "
                f"examples, sha256 {version.sha256[:12]}…).",
                messages.SUCCESS,
            )


@admin.register(Dataset)
class DatasetAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "project", "draft_size", "latest", "ratios", "diff_link", "created_at")
    list_filter = ("project",)
    search_fields = ("name", "description")
    readonly_fields = ("created_by", "created_at", "updated_at")
    actions = [freeze_draft]

    def get_queryset(self, request):

        return (
            super()
            .get_queryset(request)
            .select_related("project")
            .annotate(draft_count=Count("examples", distinct=True), latest_number=Max("versions__number"))
        )

    @admin.display(description="draft examples", ordering="draft_count")
    def draft_size(self, obj):
        return obj.draft_count

    @admin.display(description="latest version", ordering="latest_number")
    def latest(self, obj):
        if obj.latest_number is None:
            return "—"
        url = reverse("admin:examples_lib_datasetversion_changelist") + f"?dataset__id__exact={obj.pk}"
        return format_html('<a href="{}">v{}</a>', url, obj.latest_number)

    @admin.display(description="train/validation/test")
    def ratios(self, obj):
        return f"{obj.train_ratio:g}/{obj.validation_ratio:g}/{obj.test_ratio:g}"

    @admin.display(description="diff")
    def diff_link(self, obj):
        url = reverse("admin:examples_lib_dataset_diff", args=[obj.pk])
        return format_html('<a href="{}">compare versions</a>', url)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        dataset_delete(dataset=obj)

    def delete_queryset(self, request, queryset):
        for dataset in queryset:
            dataset_delete(dataset=dataset)

    def get_deleted_objects(self, objs, request):
        # The default page lists every related row: millions of frozen examples. A summary per dataset instead.
        datasets = Dataset.objects.filter(pk__in=[obj.pk for obj in objs]).annotate(
            draft=Count("examples", distinct=True), version_count=Count("versions", distinct=True)
        )
        summary = [
            f"{d.name} ({d.project}): {d.draft} draft example(s) and {d.version_count} frozen version(s)"
            for d in datasets
        ]
        perms_needed = set() if self.has_delete_permission(request) else {"dataset"}
        return summary, {"datasets": len(summary)}, perms_needed, []

    def get_urls(self):
        view = self.admin_site.admin_view(self.diff_view)
        return [path("<int:pk>/diff/", view, name="examples_lib_dataset_diff"), *super().get_urls()]

    def diff_view(self, request, pk: int):
        dataset = get_object_or_404(self.get_queryset(request).select_related("project"), pk=pk)
        if not self.has_view_permission(request, dataset):
            raise PermissionDenied
        versions = list(dataset.versions.order_by("-number"))
        by_number = {str(v.number): v for v in versions}
        base = by_number.get(request.GET.get("a")) or (versions[1] if len(versions) > 1 else None)
        other = by_number.get(request.GET.get("b")) or (versions[0] if versions else None)
        diff = version_diff(base=base, other=other) if base and other else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions of {dataset.name}",
            "opts": self.model._meta,
            "dataset": dataset,
            "versions": versions,
            "base": base,
            "other": other,
            "diff": diff,
            "shown": 500,
        }
        return TemplateResponse(request, "admin/examples_lib/diff.html", context)


class ExampleForm(forms.ModelForm):
    class Meta:
        model = Example
        fields = ["dataset", "input", "expected_output", "metadata"]

    def clean(self):
        data = super().clean()
        dataset = data.get("dataset") or getattr(self.instance, "dataset", None)
        if dataset is not None and "input" in data and "expected_output" in data:
            key = content_hash(data["input"], data["expected_output"])
            twin = Example.objects.filter(dataset=dataset, content_hash=key).exclude(pk=self.instance.pk).first()
            if twin is not None:
                raise forms.ValidationError(f"The draft already has this input and expected output ({twin.stable_id}).")
        return data


@admin.register(Example)
class ExampleAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "dataset__project"
    form = ExampleForm
    list_display = ("stable_id", "dataset", "split", "short_input", "short_expected", "source", "updated_at")
    list_filter = ("dataset__project", "dataset", "split")
    search_fields = ("stable_id", "lineage__interaction_id")
    readonly_fields = (
        "stable_id",
        "split",
        "lineage",
        "content_hash",
        "source_interaction",
        "created_at",
        "updated_at",
    )
    list_select_related = ("dataset",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("embedding")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "dataset") if obj else self.readonly_fields

    @admin.display(description="input")
    def short_input(self, obj):
        return short_text(obj.input)

    @admin.display(description="expected output")
    def short_expected(self, obj):
        return short_text(obj.expected_output)

    @admin.display(description="source")
    def source(self, obj):
        return obj.lineage.get("interaction_id") or obj.lineage.get("source", "")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            example_update(
                example=obj,
                input=data["input"],
                expected_output=data["expected_output"],
                metadata=data.get("metadata") or {},
            )
            return
        result = examples_add(
            dataset=data["dataset"],
            examples=[
                {
                    "input": data["input"],
                    "expected_output": data["expected_output"],
                    "metadata": data.get("metadata") or {},
                    "lineage": {"added_by": request.user.get_username()},
                }
            ],
            source="admin",
        )
        added = result.added[0]["id"]
        obj.pk = Example.objects.get(dataset=data["dataset"], stable_id=added).pk
        for item in result.near_duplicates:
            self.message_user(
                request, f"Near duplicate of {item['similar_to']} ({item['similarity']}).", messages.WARNING
            )
