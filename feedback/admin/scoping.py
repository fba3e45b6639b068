"""Access in the admin per project: a staff user sees, reviews and edits only their projects' rows.

Every admin of a project's data (feedback, examples_lib, monitoring) takes ProjectScopedAdmin first in its bases and
names the path from its model to the project in `project_lookup`: the changelist, the change, delete and history
views (through get_object), actions and the review pages all start from get_queryset, and foreign keys to a project
offer only the user's projects. Who sees what: feedback.selectors.projects.project_ids_of_admin_user.
"""

from django.contrib import admin

from feedback.models import Project
from feedback.selectors.projects import project_ids_of_admin_user

_CACHE = "_goldloop_admin_project_ids"


def admin_project_ids(request) -> list[int] | None:
    """The request's user's projects (None: all), looked up once per request."""
    if not hasattr(request, _CACHE):
        setattr(request, _CACHE, project_ids_of_admin_user(request.user))
    return getattr(request, _CACHE)


def admin_scope(queryset, request, lookup: str = "project"):
    ids = admin_project_ids(request)
    return queryset if ids is None else queryset.filter(**{f"{lookup}__in": ids})


class ScopedProjectFilter(admin.RelatedFieldListFilter):
    """The "project" filter of a changelist, offering only the user's projects."""

    def field_choices(self, field, request, model_admin):
        ids = admin_project_ids(request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        limit = None if ids is None else {"pk__in": ids}
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)


class ProjectScopedAdmin:
    """Mixin for a ModelAdmin (put it first in the bases); `project_lookup` is the path to the project."""

    project_lookup = "project"

    def get_queryset(self, request):
        return admin_scope(super().get_queryset(request), request, self.project_lookup)

    def get_list_filter(self, request):
        return [("project", ScopedProjectFilter) if f == "project" else f for f in super().get_list_filter(request)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Project:
            kwargs["queryset"] = admin_scope(Project.objects.all(), request, "pk")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
