from django.apps import AppConfig


class ExamplesLibConfig(AppConfig):
    name = "examples_lib"
    verbose_name = "Golden datasets"
    default_auto_field = "django.db.models.BigAutoField"
