"""The Celery application. Settings come from Django settings with the CELERY_ prefix (config/settings/base.py)."""

import os

from celery import Celery

import core.broker  # noqa: F401  (registers the atomicfs:// transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("goldloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
