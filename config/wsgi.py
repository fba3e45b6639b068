"""The WSGI application: Django, with /api/ served by a handler of its own (ApiHandler).

The admin needs sessions, CSRF, messages and the rest of settings.MIDDLEWARE; API requests authenticate by key and
need none of it (settings.API_MIDDLEWARE). Both handlers share one URL configuration and Django's own resolver, so
either serves any path (docs/decisions/api-route-table.md says why there is no table of routes of our own).
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

API_PREFIX = "/api/"


class ApiHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        # BaseHandler builds its chain from settings.MIDDLEWARE; this runs once, at start-up, before any request.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware


site = get_wsgi_application()  # sets Django up
api = ApiHandler()


def application(environ, start_response):
    handler = api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else site
    return handler(environ, start_response)
