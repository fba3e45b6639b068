"""What the "ML engineer" role (examples_lib/services/roles.py) may do with runs: view them and tag baselines
(change_run, the admin action's permission). Re-applied after every migrate and flush (post_migrate)."""

from django.contrib.auth.models import Group, Permission

from examples_lib.services.roles import ML_ENGINEER

ML_ENGINEER_PERMISSIONS = {"run": ["change", "view"], "baselinetag": ["view"], "runoutput": [], "runscore": []}


def roles_post_migrate(sender, using: str = "default", **kwargs) -> None:
    if using != "default":
        return
    group, _ = Group.objects.get_or_create(name=ML_ENGINEER)
    codenames = [f"{action}_{model}" for model, actions in ML_ENGINEER_PERMISSIONS.items() for action in actions]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="evaluation", codename__in=codenames))
