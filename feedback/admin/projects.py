"""Admin of projects (with their score thresholds) and API keys: keys are shown once, stored hashed."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from core.errors import ApplicationError
from feedback.admin.scoping import ProjectScopedAdmin
from feedback.models import ApiKey, Project, ProjectMembership, ScoreThreshold
from feedback.services.api_keys import api_key_create, api_keys_revoke
from feedback.services.projects import score_thresholds_apply


class ScoreThresholdInline(admin.TabularInline):
    model = ScoreThreshold
    extra = 1
    fields = ("name", "threshold")


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "pk"
    list_display = ("slug", "name", "interaction_total", "created_at")
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ScoreThresholdInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(interaction_total=Count("interactions"))

    @admin.display(description="Interactions", ordering="interaction_total")
    def interaction_total(self, obj: Project) -> int:
        return obj.interaction_total

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is not ScoreThreshold:
            return
        # A changed threshold re-judges the feedback it applies to, so failures follow the project's settings.
        names = {f.cleaned_data.get("name") for f in formset.forms if f.has_changed() and f.cleaned_data}
        names |= {obj.name for obj in formset.deleted_objects}
        names.discard(None)
        if names:
            new_failures = score_thresholds_apply(project_id=form.instance.pk, names=sorted(names))
            messages.info(
                request,
                f"Re-judged the feedback named {', '.join(sorted(names))}: {len(new_failures)} new failure(s).",
            )


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple, initial=["ingest", "read"]
    )

    class Meta:
        model = ApiKey
        fields = ("project", "name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ("prefix", "project", "name", "scope_list", "is_active", "last_used_at", "created_at")
    list_filter = ("project", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("project",)
    search_fields = ("prefix", "name", "project__slug")
    readonly_fields = ("prefix", "project", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("project", "name", "scopes")
        return ("prefix", "project", "name", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            api_key, raw_key = api_key_create(
                project=form.cleaned_data["project"],
                scopes=list(form.cleaned_data["scopes"]),
                name=form.cleaned_data["name"],
                created_by=request.user,
            )
        except ApplicationError as exc:  # the form already checks scopes; kept for a clear message anyway
            messages.error(request, exc.message)
            return
        for model_field in ApiKey._meta.concrete_fields:  # the admin's messages and redirect use the saved row
            setattr(obj, model_field.attname, getattr(api_key, model_field.attname))
        obj._state.adding = False
        messages.warning(
            request,
            f"API key {api_key.prefix}… created. Copy it now; it is stored hashed and not shown again: {raw_key}",
        )

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="Active", boolean=True)
    def is_active(self, obj: ApiKey) -> bool:
        return obj.revoked_at is None

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        count = api_keys_revoke(api_key_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(request, f"Revoked {count} API key(s); they answer 401 from now on.")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a revoked key keeps its audit trail


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    """Who sees which project in the admin (superusers see all); only superusers grant or withdraw access."""

    list_display = ("user", "project", "created_at")
    list_filter = ("project",)
    list_select_related = ("user", "project")
    search_fields = ("user__username", "project__slug")
    autocomplete_fields = ("user",)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
