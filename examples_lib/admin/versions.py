"""Versions and tags: versions are read-only for everyone, with export links."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdmin
from examples_lib.admin.datasets import short_text
from examples_lib.exports import FORMATS, export_stream
from examples_lib.models import DatasetVersion, VersionTag
from examples_lib.services.versions import RESERVED_TAGS
from feedback.admin.scoping import ProjectScopedAdmin


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ProjectScopedAdmin, ReadOnlyAdmin):  # frozen: freeze from the dataset page
    project_lookup = "dataset__project"
    list_display = (
        "__str__",
        "dataset",
        "number",
        "tag_names",
        "example_count",
        "counts",
        "short_sha",
        "created_by_name",
        "created_at",
        "export_links",
    )
    list_filter = ("dataset__project", "dataset")
    list_select_related = ("dataset",)
    readonly_fields = (
        "dataset",
        "number",
        "note",
        "sha256",
        "counts",
        "example_count",
        "parent",
        "created_by_name",
        "created_at",
        "tag_names",
        "export_links",
        "preview",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="tags")
    def tag_names(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all()) or "—"

    @admin.display(description="sha256")
    def short_sha(self, obj):
        return format_html('<code title="{}">{}…</code>', obj.sha256, obj.sha256[:12])

    @admin.display(description="export")
    def export_links(self, obj):
        return format_html_join(
            " ",
            '<a href="{}">{}</a>',
            ((reverse("admin:examples_lib_datasetversion_export", args=[obj.pk, fmt]), fmt) for fmt in FORMATS),
        )

    @admin.display(description="first rows")
    def preview(self, obj):
        rows = obj.examples.order_by("ordinal").values_list("stable_id", "split", "input", "expected_output")[:20]
        return format_html(
            "<table><tr><th>id</th><th>split</th><th>input</th><th>expected output</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((i, s, short_text(x), short_text(y)) for i, s, x, y in rows),
            ),
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:pk>/export/<str:fmt>/", view, name="examples_lib_datasetversion_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, pk: int, fmt: str):
        version = get_object_or_404(self.get_queryset(request).select_related("dataset"), pk=pk)
        if fmt not in FORMATS or not self.has_view_permission(request, version):
            raise PermissionDenied
        filename = f"{version.dataset.name}-v{version.number}.{FORMATS[fmt].extension}"
        return StreamingHttpResponse(
            export_stream(version_id=version.pk, fmt=fmt),
            content_type=FORMATS[fmt].content_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-SHA256": version.sha256},
        )


class VersionTagForm(forms.ModelForm):
    class Meta:
        model = VersionTag
        fields = ["dataset", "name", "version"]

    def clean(self):
        data = super().clean()
        if data.get("name") in RESERVED_TAGS or (data.get("name") or "").isdigit():
            raise forms.ValidationError("'latest' and numbers already name versions.")
        if data.get("version") and data.get("dataset") and data["version"].dataset_id != data["dataset"].pk:
            raise forms.ValidationError("The version belongs to another dataset.")
        return data


@admin.register(VersionTag)
class VersionTagAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "dataset__project"
    form = VersionTagForm
    list_display = ("name", "dataset", "version", "updated_at")
    list_filter = ("dataset",)
    list_select_related = ("dataset", "version", "version__dataset")
    raw_id_fields = ("version",)
