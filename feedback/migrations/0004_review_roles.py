"""The two roles of the review workflow, as auth groups with their permissions.

Permissions are normally created after migrate (post_migrate), so this migration creates the content types and
permissions it needs itself, the way Django's own auth 0011 works on the historical models. The "ML engineer"
permissions on golden datasets belong to examples_lib (its migration 0003 and examples_lib.services.roles).
"""

from django.db import migrations

SME = "SME"
ML_ENGINEER = "ML engineer"
SME_PERMISSIONS = {
    "reviewitem": ["view"],
    "interaction": ["view"],
    "feedback": ["view"],
    "review": ["view", "add"],
    "historicalreview": ["view"],
    "errorcategory": ["view"],
    "claimevent": ["view"],
    "project": ["view"],
    "cluster": ["view"],
}
ML_ENGINEER_EXTRA = {"errorcategory": ["add", "change"]}


def _permission(apps, model, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    opts = model._meta
    content_type, _ = ContentType.objects.get_or_create(app_label=opts.app_label, model=opts.model_name)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=f"{action}_{opts.model_name}",
        defaults={"name": f"Can {action} {opts.verbose_name_raw}"[:255]},
    )
    return permission


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    feedback_models = {m._meta.model_name: m for m in apps.get_app_config("feedback").get_models()}

    sme, _ = Group.objects.get_or_create(name=SME)
    sme.permissions.add(
        *[
            _permission(apps, feedback_models[name], action)
            for name, actions in SME_PERMISSIONS.items()
            if name in feedback_models
            for action in actions
        ]
    )

    engineer, _ = Group.objects.get_or_create(name=ML_ENGINEER)
    permissions = [_permission(apps, model, "view") for model in feedback_models.values()]
    permissions += [
        _permission(apps, feedback_models[name], action)
        for name, actions in ML_ENGINEER_EXTRA.items()
        for action in actions
    ]
    engineer.permissions.add(*permissions)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[SME, ML_ENGINEER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_review_queue_claims"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
