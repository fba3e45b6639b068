"""The roles of the review workflow ("SME", "ML engineer") as auth groups.

The roles migration (feedback 0004) creates them; roles_ensure re-applies the same definition on the live models,
for databases flushed after migrate (transactional tests) and for the demo. It only ever adds.
"""

from importlib import import_module

from django.apps import apps as django_apps
from django.contrib.auth.models import Group

SME = "SME"
ML_ENGINEER = "ML engineer"
ADJUDICATOR = "Adjudicator"


def roles_ensure() -> dict[str, Group]:
    migration = import_module("feedback.migrations.0004_review_roles")
    migration.create_roles(django_apps, None)
    import_module("feedback.migrations.0013_agreement_adjudicator_role").create_adjudicator(django_apps, None)
    return {group.name: group for group in Group.objects.filter(name__in=[SME, ML_ENGINEER, ADJUDICATOR])}


def roles_post_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: keeps the roles complete for models added after the roles migration (the ML engineer
    reads every feedback model). Wire it in FeedbackConfig.ready(): post_migrate.connect(roles_post_migrate,
    sender=self)."""
    using = kwargs.get("using", "default")
    if using == "default":
        roles_ensure()
