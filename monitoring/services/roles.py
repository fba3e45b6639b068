"""The "ML engineer" role reads every monitoring model (it read them when they lived in feedback)."""

from django.contrib.auth.models import Group, Permission

ML_ENGINEER = "ML engineer"


def ml_engineer_permissions_ensure() -> None:
    group, _ = Group.objects.get_or_create(name=ML_ENGINEER)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="monitoring", codename__startswith="view_")
    )


def roles_post_migrate(sender, using: str = "default", **kwargs) -> None:
    if using == "default":
        ml_engineer_permissions_ensure()
