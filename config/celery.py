"""The Celery application. Settings come from Django settings with the CELERY_ prefix (config/settings/base.py)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("goldloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
