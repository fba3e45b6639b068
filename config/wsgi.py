"""The WSGI application: Django, with /api/ served by a handler of its own (ApiHandler).

The admin needs sessions, CSRF, messages and the rest of settings.MIDDLEWARE; API requests authenticate by key and
need none of it (settings.API_MIDDLEWARE). The API handler also finds the view of a path without converters (every
capture route) in a table made at start-up from the real resolver's own answers, instead of matching the URL
patterns again on each request: in process, 0.48 instead of 0.53 ms of CPU for a capture request (docs/decisions/
lean-api.md, which weighs it). Both handlers share one URL configuration, so either serves any path.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

API_PREFIX = "/api/"


def static_routes(prefix: str) -> dict:
    """{path: ResolverMatch} for every path under `prefix` that a route without converters matches: the match the
    root resolver itself returns for that path, so a pattern listed earlier that shadows a route still wins."""
    resolver = get_resolver()
    paths: list[str] = []

    def walk(patterns, route: str) -> None:
        for entry in patterns:
            if not isinstance(entry.pattern, RoutePattern) or entry.pattern.converters:
                continue
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                paths.append("/" + route + str(entry.pattern))

    walk(resolver.url_patterns, "")
    routes = {}
    for path in paths:
        if not path.startswith(prefix):
            continue
        try:
            routes[path] = resolver.resolve(path)
        except Resolver404:  # e.g. a route ending in '/' matched only through a longer pattern
            continue
    return routes


class ApiHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        # BaseHandler builds its chain from settings.MIDDLEWARE; this runs once, at start-up, before any request.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware
        self.routes, self.routes_urlconf = static_routes(API_PREFIX), settings.ROOT_URLCONF

    def resolve_request(self, request):
        # The table is the start-up root URL configuration's: a request.urlconf (set by a middleware) or another
        # ROOT_URLCONF (a test's override_settings) resolves as usual.
        same_urls = settings.ROOT_URLCONF == self.routes_urlconf and not hasattr(request, "urlconf")
        match = self.routes.get(request.path_info) if same_urls else None
        if match is None:
            return super().resolve_request(request)
        request.resolver_match = match
        return match


site = get_wsgi_application()  # sets Django up
api = ApiHandler()


def application(environ, start_response):
    handler = api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else site
    return handler(environ, start_response)
