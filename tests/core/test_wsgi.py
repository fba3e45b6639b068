"""config/wsgi.py: /api/ runs without the browser middleware, the admin with all of it."""

import io
import json

import pytest

from config.wsgi import application


def call(
    path: str, *, method: str = "GET", host: str = "testserver", body: bytes = b"", key: str = ""
) -> tuple[int, dict, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    if key:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    response = application(environ, start_response)
    content = b"".join(response)
    response.close()
    headers: dict[str, list[str]] = {}
    for name, value in answer["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return answer["status"], headers, content


def test_api_requests_skip_sessions_csrf_and_frame_options():
    status, headers, content = call("/api/v1/feedback", method="POST", body=b"{}")
    assert status == 401
    assert headers["www-authenticate"] == ["Bearer"]
    assert headers["content-length"] == [str(len(content))]
    assert headers["x-content-type-options"] == ["nosniff"]  # SecurityMiddleware still runs
    assert "x-frame-options" not in headers
    assert "set-cookie" not in headers
    assert "cookie" not in headers.get("vary", [""])[0].lower()


@pytest.mark.django_db
def test_the_admin_keeps_the_whole_middleware():
    status, headers, _ = call("/admin/login/")
    assert status == 200
    assert headers["x-frame-options"] == ["DENY"]
    assert any("csrftoken=" in cookie for cookie in headers["set-cookie"])


def test_api_requests_still_check_the_host_header():
    status, _, _ = call("/api/v1/feedback", method="POST", host="evil.example", body=b"{}")
    assert status == 400


@pytest.mark.django_db(transaction=True)  # the handler's request signals close and reopen the connection
def test_the_api_works_end_to_end_through_its_own_handler():
    from feedback.services.api_keys import api_key_create
    from feedback.services.projects import project_get_or_create

    project = project_get_or_create(slug="wsgi-app", name="WSGI app")
    _, key = api_key_create(project=project, scopes=["ingest", "read"])
    feedback = json.dumps(
        {"id": "fb-1", "interaction": {"id": "chat-1", "input": "hi", "output": "yo"}, "name": "thumbs", "value": "up"}
    ).encode()
    status, _, content = call("/api/v1/feedback", method="POST", body=feedback, key=key)
    assert status == 201, content
    status, _, content = call("/api/v1/interactions", key=key)  # a DRF view: pagination, serializers, filters
    assert status == 200, content
    assert [row["id"] for row in json.loads(content)["results"]] == ["chat-1"]


def test_the_api_handler_finds_static_routes_as_the_resolver_does():
    from django.urls import resolve

    from config.wsgi import api

    assert "/api/v1/feedback" in api.routes and "/api/v1/ingest" in api.routes
    for path, match in api.routes.items():
        assert path.startswith("/api/")
        assert resolve(path).func == match.func, path


def test_a_path_with_converters_still_resolves_through_the_api_handler():
    status, _, content = call("/api/v1/interactions/chat-1", body=b"")
    assert status == 401, content  # found (the view asks for a key), not 404
