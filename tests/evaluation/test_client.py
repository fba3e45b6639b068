"""The client's transport against a real HTTP server: rate limits are waited out, errors are readable."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from goldloop import Client, GoldloopError, parse_gate, parse_scorer


@pytest.fixture
def server():
    answers: list[tuple[int, dict, dict]] = []
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.headers["Authorization"])
            status, headers, body = answers.pop(0)
            payload = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Length": str(len(payload)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", answers, seen
    httpd.shutdown()
    httpd.server_close()


def test_a_rate_limited_request_is_sent_again_after_retry_after(server):
    url, answers, seen = server
    answers += [(429, {"Retry-After": "0"}, {}), (503, {}, {}), (200, {}, {"status": "succeeded"})]
    assert Client(url, "gl_key").get_run("7") == {"status": "succeeded"}
    assert seen == ["Bearer gl_key"] * 3


def test_errors_carry_the_servers_message_and_fields(server):
    url, answers, _ = server
    error = {"error": {"code": "invalid", "message": "The run is invalid; see fields.", "fields": {"split": ["x"]}}}
    answers.append((400, {}, error))
    with pytest.raises(GoldloopError) as raised:
        Client(url, "k").get_run("7")
    assert raised.value.status == 400 and 'The run is invalid; see fields. {"split": ["x"]}' in str(raised.value)


def test_gates_and_scorers_shorthands():
    assert parse_gate("semantic.pass_rate>=0.9") == {"scorer": "semantic", "min_pass_rate": 0.9}
    assert parse_gate("exact.drop <= 0.02") == {"scorer": "exact", "max_drop": 0.02}
    assert parse_gate("regressions<=3") == {"max_regressions": 3}
    assert parse_scorer("semantic:0.85") == {"kind": "semantic", "threshold": 0.85}
    assert parse_scorer("judge:https://judge.local/x") == {"kind": "judge", "url": "https://judge.local/x"}
    assert parse_scorer('{"kind": "exact", "ignore_case": true}') == {"kind": "exact", "ignore_case": True}
