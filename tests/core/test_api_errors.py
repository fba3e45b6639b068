"""Under /api/, every error is JSON in the error shape of API.md, whatever answered it and whatever DEBUG says."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from config import urls as site_urls

ROOT = Path(__file__).resolve().parent.parent.parent


def boom(request):
    raise RuntimeError("a bug")


def html_unavailable(request):
    return HttpResponse("<h1>down</h1>", status=503, headers={"Retry-After": "5"})


urlpatterns = [
    path("api/v1/test/boom", boom),
    path("api/v1/test/unavailable", html_unavailable),
    path("admin/boom", boom),
    path("", include(site_urls)),
]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    settings.ROOT_URLCONF = __name__
    return request.param


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path, status, code",
    [
        ("get", "/api/v1/no-such-thing", 404, "not_found"),
        ("get", "/api/nothing", 404, "not_found"),
        ("delete", "/api/v1/datasets", 405, "method_not_allowed"),
        ("get", "/api/v1/test/boom", 500, "server_error"),
        ("get", "/api/v1/test/unavailable", 503, "server_error"),
        ("get", "/api/v1/interactions?model=%00", 400, "invalid"),
    ],
)
def test_api_errors_are_json_with_debug_on_or_off(debug, api, method, path, status, code):
    api.raise_request_exception = False
    response = getattr(api, method)(path)
    assert_error_shape(response, status, code)
    if status == 503:
        assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_a_body_over_the_limit_is_a_json_413_before_it_is_read(debug, settings, api):
    settings.API_MAX_BODY_BYTES = 100
    response = api.generic("POST", "/api/v1/datasets", b"x" * 200, content_type="application/json")
    assert_error_shape(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_the_debug_page_only_when_asked_for(settings, api):
    settings.ROOT_URLCONF, settings.DEBUG, settings.API_DEBUG_PAGES = __name__, True, True
    api.raise_request_exception = False
    response = api.get("/api/v1/test/boom")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_admin_keeps_its_html_pages(debug):
    response = Client(raise_request_exception=False).get("/admin/boom")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.production", "config.settings.test"])
def test_every_settings_module_runs_the_guard_for_the_api_and_the_site(module):
    code = (
        f"import importlib; s = importlib.import_module('{module}'); "
        "print('core.middleware.RequestGuardMiddleware' in s.MIDDLEWARE, "
        "'core.middleware.RequestGuardMiddleware' in s.API_MIDDLEWARE, s.API_DEBUG_PAGES)"
    )
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": "postgresql://u@localhost/db"}
    env.pop("API_DEBUG_PAGES", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"]
