from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ExamplesLibConfig(AppConfig):
    name = "examples_lib"
    verbose_name = "Golden datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from examples_lib.services.roles import roles_post_migrate

        post_migrate.connect(roles_post_migrate, sender=self, dispatch_uid="examples_lib.roles_post_migrate")
