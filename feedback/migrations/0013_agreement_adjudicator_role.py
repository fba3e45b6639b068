"""The "Adjudicator" role: an SME who may also settle disagreeing verdicts (permission feedback.adjudicate_review).

Creates its content types and permissions itself, like 0004_review_roles, since post_migrate has not run yet.
"""

from django.db import migrations

ADJUDICATOR = "Adjudicator"
ADJUDICATOR_PERMISSIONS = {
    "reviewitem": ["view"],
    "interaction": ["view"],
    "feedback": ["view"],
    "review": ["view", "add", "adjudicate"],
    "historicalreview": ["view"],
    "errorcategory": ["view"],
    "claimevent": ["view"],
    "project": ["view"],
    "cluster": ["view"],
    "reviewpolicy": ["view"],
}


def _permission(apps, model, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    opts = model._meta
    content_type, _ = ContentType.objects.get_or_create(app_label=opts.app_label, model=opts.model_name)
    name = "Can adjudicate disagreeing verdicts" if action == "adjudicate" else f"Can {action} {opts.verbose_name_raw}"
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=f"{action}_{opts.model_name}", defaults={"name": name[:255]}
    )
    return permission


def create_adjudicator(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    feedback_models = {m._meta.model_name: m for m in apps.get_app_config("feedback").get_models()}
    group, _ = Group.objects.get_or_create(name=ADJUDICATOR)
    group.permissions.add(
        *[
            _permission(apps, feedback_models[name], action)
            for name, actions in ADJUDICATOR_PERMISSIONS.items()
            if name in feedback_models
            for action in actions
        ]
    )


def delete_adjudicator(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ADJUDICATOR).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0012_agreement_overlap_adjudication"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_adjudicator, delete_adjudicator)]
