"""The "ML engineer" group curates golden datasets: add/change/view datasets and draft examples, add (freeze) and
view versions and tags. Versions are never changed or deleted, so no one gets those permissions.

Permissions are normally created after migrate (post_migrate), so this creates the content types and permissions
it needs itself, on the historical models. The group is created by feedback's roles migration; it is created
here too when missing. This runs after feedback's roles migration and is the one word on examples_lib permissions:
any other examples_lib permission the group holds (that migration grants add/change/view on every model it
finds) is taken away, so that no role can ever change or delete a version, whatever order migrations ran in."""

from django.db import migrations

GROUP = "ML engineer"
PERMISSIONS = {
    "dataset": ["add", "change", "view"],
    "example": ["add", "change", "view"],
    "datasetversion": ["add", "view"],
    "versiontag": ["add", "change", "view"],
}


def _permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    permissions = []
    for model_name, actions in PERMISSIONS.items():
        opts = apps.get_model("examples_lib", model_name)._meta
        content_type, _ = ContentType.objects.get_or_create(app_label="examples_lib", model=model_name)
        for action in actions:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model_name}",
                defaults={"name": f"Can {action} {opts.verbose_name_raw}"[:255]},
            )
            permissions.append(permission)
    return permissions


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    granted = _permissions(apps)
    extra = group.permissions.filter(content_type__app_label="examples_lib").exclude(pk__in=[p.pk for p in granted])
    group.permissions.remove(*extra)
    group.permissions.add(*granted)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("examples_lib", "0002_frozen_versions_trigger"),
        ("feedback", "0004_review_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
