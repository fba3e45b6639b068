"""Which projects a staff user may see and work on in the admin."""

from django.conf import settings

from feedback.models import ProjectMembership


def project_ids_of_admin_user(user) -> list[int] | None:
    """The ids of the projects this user's admin shows, or None for every project.

    Superusers see every project. Other staff see the projects they are members of (ProjectMembership); one with
    no membership at all sees every project while ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL is on, none otherwise.
    """
    if user.is_superuser:
        return None
    ids = list(ProjectMembership.objects.filter(user=user).values_list("project_id", flat=True))
    if not ids and settings.ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL:
        return None
    return ids
