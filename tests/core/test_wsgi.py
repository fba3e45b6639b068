"""config/wsgi.py: /api/ runs without the browser middleware, the admin with all of it."""

import io

import pytest

from config.wsgi import application


def call(path: str, *, method: str = "GET", host: str = "testserver", body: bytes = b"") -> tuple[int, dict, bytes]:
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
