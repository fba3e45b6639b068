"""Local development: `make run` (gunicorn, as production serves). Debug pages only with DJANGO_DEBUG=1."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = env_bool("DJANGO_DEBUG", False)
# Static files (admin, API docs) served by the web process itself, found in the apps at start-up: no
# collectstatic step is needed locally (production serves the collected, hashed copies; config/settings/production.py).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405
WHITENOISE_USE_FINDERS = True
