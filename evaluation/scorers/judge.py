"""An external judge: an HTTP endpoint the user runs (their LLM-as-judge), called once per batch.

Request: POST `url` with {"run": <id>, "scorer": <name>, "items": [{"example_id", "input", "expected", "output"}]}
and the header `X-Goldloop-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes under the run's judge
secret. Answer: {"results": [{"example_id": ..., "score": 0.0-1.0, "passed": true|false, "reason": "..."}]}
(`passed` defaults to score >= threshold). Time-outs, connection errors, 429 and 5xx are retried with exponential
backoff; when the judge still fails, every example of the batch gets a clear error and fails.
"""

import hashlib
import hmac
import json
import math
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from evaluation.scorers.base import Item, Result, Scorer, ScorerConfigError

SIGNATURE_HEADER = "X-Goldloop-Signature"
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class JudgeFailed(Exception):
    pass


class JudgeScorer(Scorer):
    kind = "judge"
    reads_input = True
    options = {
        "url": str,
        "threshold": (int, float),
        "batch_size": int,
        "timeout": (int, float),
        "retries": int,
        "backoff": (int, float),
    }
    required = ("url",)

    def setup(self, url, threshold=0.5, batch_size=50, timeout=10.0, retries=2, backoff=0.5):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ScorerConfigError("'url' must be an http or https URL.")
        if not 1 <= batch_size <= 1000:
            raise ScorerConfigError("'batch_size' must be between 1 and 1000.")
        if not 0 < timeout <= 120 or not 0 <= retries <= 5 or not 0 <= backoff <= 30:
            raise ScorerConfigError("'timeout' must be in (0, 120], 'retries' in [0, 5], 'backoff' in [0, 30].")
        self.url, self.threshold, self.batch_size = url, float(threshold), batch_size
        self.timeout, self.retries, self.backoff = float(timeout), retries, float(backoff)
        self.secret, self.run_id = "", None  # bound by the scoring service

    def bind(self, *, run_id: int, secret: str) -> "JudgeScorer":
        self.run_id, self.secret = run_id, secret
        return self

    def score_batch(self, items: list[Item]) -> list[Result]:
        results: list[Result] = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            try:
                answer = self._call(batch)
            except JudgeFailed as exc:
                results.extend(Result(None, False, f"The judge at {self.url} failed: {exc}") for _ in batch)
                continue
            results.extend(self._read(batch, answer))
        return results

    def _call(self, batch: list[Item]) -> Any:
        body = json.dumps(
            {
                "run": self.run_id,
                "scorer": self.name,
                "items": [
                    {"example_id": i.example_id, "input": i.input, "expected": i.expected, "output": i.output}
                    for i in batch
                ],
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "goldloop-judge/1"}
        headers[SIGNATURE_HEADER] = signature(self.secret, body)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http/https only)
                    payload = response.read(10 * 1024 * 1024)
            except urllib.error.HTTPError as exc:
                problem = f"it answered HTTP {exc.code}"
                if exc.code not in _RETRYABLE_STATUS:
                    break
                continue
            except TimeoutError:
                problem = f"no answer within {self.timeout:g} s"
                continue
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = f"no answer within {self.timeout:g} s" if isinstance(reason, TimeoutError) else str(reason)
                continue
            try:
                return json.loads(payload)
            except ValueError:
                problem = "its answer is not JSON"
                break
        tries = attempt + 1
        raise JudgeFailed(f"{problem} ({tries} attempt{'s' if tries > 1 else ''}).")

    def _read(self, batch: list[Item], answer: Any) -> list[Result]:
        rows = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            return [Result(None, False, "The judge's answer has no 'results' list.") for _ in batch]
        by_id = {row.get("example_id"): row for row in rows if isinstance(row, dict)}
        positional = len(rows) == len(batch) and not any("example_id" in row for row in by_id.values() if row)
        results = []
        for position, item in enumerate(batch):
            row = rows[position] if positional else by_id.get(item.example_id)
            results.append(self._result(row))
        return results

    def _result(self, row: Any) -> Result:
        if not isinstance(row, dict):
            return Result(None, False, "The judge returned no result for this example.")
        score, passed = row.get("score"), row.get("passed")
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            score = None
        if not isinstance(passed, bool):
            if score is None:
                return Result(None, False, "The judge's result has neither a numeric 'score' nor 'passed'.")
            passed = score >= self.threshold
        reason = row.get("reason")
        return Result(
            float(score) if score is not None else (1.0 if passed else 0.0),
            passed,
            "" if passed or not isinstance(reason, str) else f"judge: {reason[:1000]}",
        )
