from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.services.roles import roles_post_migrate

        # Roles must cover models added after the roles migration, so they are re-applied after every migrate.
        post_migrate.connect(roles_post_migrate, sender=self)
