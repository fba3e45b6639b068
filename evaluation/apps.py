from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evaluation.services.roles import roles_post_migrate

        post_migrate.connect(roles_post_migrate, sender=self, dispatch_uid="evaluation.roles_post_migrate")
