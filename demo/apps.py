from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo project and its loaders. It may import every app; nothing imports it."""

    name = "demo"
    verbose_name = "Demo"
    default_auto_field = "django.db.models.BigAutoField"
