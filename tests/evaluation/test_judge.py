"""The external judge against a real HTTP server started by the test: signatures, retries, failures, time-outs."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evaluation.scorers import Item, scorer_build


class Judge:
    """A judge server; `mode` says how it answers: ok, flaky (503 once), error (500), slow, garbage, partial."""

    def __init__(self, secret: str):
        self.secret, self.mode, self.requests, self.bad_signatures = secret, "ok", [], 0
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(judge.secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(self.headers.get("X-Goldloop-Signature", ""), expected):
                    judge.bad_signatures += 1
                    return self._send(401, b"{}")
                judge.requests.append(json.loads(body))
                mode = judge.mode
                if mode == "flaky" and len(judge.requests) == 1 or mode == "error":
                    return self._send(503 if mode == "flaky" else 500, b"{}")
                if mode == "slow":
                    time.sleep(1.0)
                if mode == "garbage":
                    return self._send(200, b"<html>")
                items = json.loads(body)["items"]
                if mode == "partial":
                    items = items[:1]
                results = [
                    {"example_id": i["example_id"], "score": 1.0 if i["output"] == i["expected"] else 0.2,
                     "reason": "differs"}
                    for i in items
                ]  # fmt: skip
                self._send(200, json.dumps({"results": results}).encode())

            def _send(self, status, payload):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/judge"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def judge():
    server = Judge("s3cret")
    yield server
    server.server.shutdown()
    server.server.server_close()


ITEMS = [Item("ex-1", "q1", "a1", "a1"), Item("ex-2", "q2", "a2", "nope"), Item("ex-3", "q3", "a3", "a3")]


def build(judge, **options):
    config = {"kind": "judge", "name": "faithful", "url": judge.url, "batch_size": 2, "backoff": 0.01, **options}
    return scorer_build(config).bind(run_id=7, secret="s3cret")


def test_batches_are_signed_and_scored(judge):
    results = build(judge).score_batch(ITEMS)
    assert [(r.score, r.passed) for r in results] == [(1.0, True), (0.2, False), (1.0, True)]
    assert results[1].error == "judge: differs"
    assert [len(r["items"]) for r in judge.requests] == [2, 1]
    assert judge.requests[0]["run"] == 7 and judge.requests[0]["scorer"] == "faithful"
    assert judge.bad_signatures == 0


def test_a_wrong_secret_is_refused_by_the_judge_and_reported_per_example(judge):
    scorer = build(judge).bind(run_id=7, secret="wrong")
    results = scorer.score_batch(ITEMS)
    assert judge.bad_signatures == 2  # 401 is not retried
    assert all(not r.passed and r.score is None for r in results)
    assert "HTTP 401 (1 attempt)" in results[0].error


def test_a_transient_failure_is_retried(judge):
    judge.mode = "flaky"
    results = build(judge, batch_size=10).score_batch(ITEMS)
    assert [r.passed for r in results] == [True, False, True] and len(judge.requests) == 2


def test_failures_and_time_outs_fail_each_example_with_a_clear_error(judge):
    judge.mode = "error"
    failed = build(judge, retries=1).score_batch(ITEMS[:1])
    assert failed[0].error == f"The judge at {judge.url} failed: it answered HTTP 500 (2 attempts)."
    judge.mode = "slow"
    started = time.monotonic()
    slow = build(judge, timeout=0.2, retries=1).score_batch(ITEMS[:1])
    assert time.monotonic() - started < 2
    assert not slow[0].passed and "no answer within 0.2 s (2 attempts)" in slow[0].error
    judge.mode = "garbage"
    assert "not JSON" in build(judge).score_batch(ITEMS[:1])[0].error
    judge.mode = "partial"
    partial = build(judge).score_batch(ITEMS[:2])
    assert partial[0].passed and partial[1].error == "The judge returned no result for this example."


def test_an_unreachable_judge_fails_cleanly():
    scorer = scorer_build({"kind": "judge", "url": "http://127.0.0.1:9/x", "retries": 0}).bind(run_id=1, secret="s")
    result = scorer.score_batch(ITEMS[:1])[0]
    assert not result.passed and result.error.startswith("The judge at http://127.0.0.1:9/x failed:")


@pytest.mark.django_db
def test_a_run_scores_with_the_judge_and_reports_its_failures_per_example(api, project, judge):
    from evaluation.services.scoring import run_score_inline
    from tests.evaluation.helpers import golden, outputs

    golden(project, 4)
    scorers = [{"kind": "judge", "name": "faithful", "url": judge.url, "retries": 0, "timeout": 0.3}]
    created = api.post("/api/v1/datasets/support-answers/versions/prod/runs",
                       {"scorers": scorers, "judge_secret": "s3cret"}, format="json")  # fmt: skip
    assert created.status_code == 201 and created.json()["judge_secret"] == "s3cret"
    run_id = created.json()["id"]
    assert "judge_secret" not in api.get(f"/api/v1/runs/{run_id}").json()
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(4, wrong={1}, missing={3})}, format="json")
    judge.mode = "partial"  # answers only the first item of each batch
    run_score_inline(run_id=int(run_id))
    results = api.get(f"/api/v1/runs/{run_id}/results").json()["results"]
    rows = {r["example_id"]: r["scores"]["faithful"] for r in results}
    assert rows["ex-0"]["passed"] and rows["ex-0"]["score"] == 1.0
    assert rows["ex-1"]["error"] == "The judge returned no result for this example."
    assert rows["ex-3"]["error"] == "No output was posted for this example."
    assert judge.bad_signatures == 0 and len(judge.requests[0]["items"]) == 3  # missing outputs are never sent
    summary = api.get(f"/api/v1/runs/{run_id}").json()["scorers"]["faithful"]
    assert (summary["n"], summary["passed"], summary["errors"]) == (4, 1, 3)
