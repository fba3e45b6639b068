"""The roles of the review workflow ("SME", "ML engineer", "Adjudicator") as auth groups, on the live models.

The roles migration (feedback 0004) created them with its own frozen copy of this definition; roles_ensure
re-applies it after every migrate (new models) and flush (transactional tests), and for the demo. It only ever adds.
"""

from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

SME = "SME"
ML_ENGINEER = "ML engineer"
ADJUDICATOR = "Adjudicator"
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
# An adjudicator is an SME who may also settle disagreeing verdicts (feedback.services.adjudication).
ADJUDICATOR_PERMISSIONS = {
    **SME_PERMISSIONS,
    "review": ["view", "add", "adjudicate"],
    "reviewpolicy": ["view"],
    "adjudicationitem": ["view"],
    "agreementreport": ["view"],
}


def _permission(model, action: str) -> Permission:
    opts = model._meta
    custom = dict(opts.permissions)  # e.g. adjudicate_review, declared in Review.Meta.permissions
    codename = f"{action}_{opts.model_name}"
    permission, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        codename=codename,
        defaults={"name": custom.get(codename, f"Can {action} {opts.verbose_name_raw}")[:255]},
    )
    return permission


def roles_ensure() -> dict[str, Group]:
    """The SME reads the queue and adds reviews; the ML engineer reads every feedback model and edits categories."""
    models = {model._meta.model_name: model for model in django_apps.get_app_config("feedback").get_models()}
    sme, _ = Group.objects.get_or_create(name=SME)
    sme.permissions.add(
        *[
            _permission(models[name], action)
            for name, actions in SME_PERMISSIONS.items()
            if name in models
            for action in actions
        ]
    )
    engineer, _ = Group.objects.get_or_create(name=ML_ENGINEER)
    engineer.permissions.add(
        *[_permission(model, "view") for model in models.values()],
        *[_permission(models[name], action) for name, actions in ML_ENGINEER_EXTRA.items() for action in actions],
    )
    adjudicator, _ = Group.objects.get_or_create(name=ADJUDICATOR)
    adjudicator.permissions.add(
        *[
            _permission(models[name], action)
            for name, actions in ADJUDICATOR_PERMISSIONS.items()
            if name in models
            for action in actions
        ]
    )
    return {SME: sme, ML_ENGINEER: engineer, ADJUDICATOR: adjudicator}


def roles_post_migrate(sender, **kwargs) -> None:
    """post_migrate receiver (FeedbackConfig.ready): keeps the roles complete for models added after 0004."""
    if kwargs.get("using", "default") == "default":
        roles_ensure()
