"""What the "ML engineer" role may do with golden datasets, on the live models.

Migration 0003 grants it once; this re-applies it after every migrate and flush (post_migrate, for databases
flushed by transactional tests) and leaves exactly the permissions below: no role can change or delete a
version.
"""

from django.contrib.auth.models import Group, Permission

ML_ENGINEER = "ML engineer"
ML_ENGINEER_PERMISSIONS = {
    "dataset": ["add", "change", "view"],
    "example": ["add", "change", "view"],
    "datasetversion": ["add", "view"],
    "versiontag": ["add", "change", "view"],
}


def ml_engineer_permissions_ensure() -> None:
    group, _ = Group.objects.get_or_create(name=ML_ENGINEER)
    codenames = [f"{action}_{model}" for model, actions in ML_ENGINEER_PERMISSIONS.items() for action in actions]
    ours = Permission.objects.filter(content_type__app_label="examples_lib")
    group.permissions.remove(*ours.exclude(codename__in=codenames).filter(group=group))
    group.permissions.add(*ours.filter(codename__in=codenames))


def roles_post_migrate(sender, using: str = "default", **kwargs) -> None:
    if using == "default":
        ml_engineer_permissions_ensure()
