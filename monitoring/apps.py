from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MonitoringConfig(AppConfig):
    """Rollups, the dashboard, alert rules, alerts and webhooks. A leaf: it reads feedback, nothing imports it."""

    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.services.roles import roles_post_migrate

        post_migrate.connect(roles_post_migrate, sender=self, dispatch_uid="monitoring.roles_post_migrate")
