"""A small HTTP client of the goldloop API (urllib; JSON in and out; errors as GoldloopError)."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_RETRY = {429, 502, 503, 504}


class GoldloopError(Exception):
    """A request failed: `status` is the HTTP status (None when the server could not be reached)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status, self.body = status, body


class Client:
    def __init__(self, url: str, key: str, *, timeout: float = 60.0, retries: int = 4):
        if not url:
            raise GoldloopError("No server URL: pass --url or set GOLDLOOP_URL.")
        if not key:
            raise GoldloopError("No API key: pass --key or set GOLDLOOP_API_KEY.")
        self.url, self.key, self.timeout, self.retries = url.rstrip("/"), key, timeout, retries

    # -- transport -------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201, 202, 207)) -> Any:
        url = path if path.startswith("http") else f"{self.url}/api/v1/{path.lstrip('/')}"
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json", "User-Agent": "goldloop/0.1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the user's server)
                    status, payload, retry_after = response.status, response.read(), None
            except urllib.error.HTTPError as exc:
                status, payload, retry_after = exc.code, exc.read(), exc.headers.get("Retry-After")
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                raise GoldloopError(f"Cannot reach {self.url}: {getattr(exc, 'reason', exc)}") from exc
            # Rate limited or briefly unavailable: wait as told (or back off) and send the same request again; every
            # write of the evaluation API is idempotent, so a retry never doubles anything that counts.
            if status not in _RETRY or attempt == self.retries:
                break
            try:
                delay = float(retry_after) if retry_after else 0.5 * 2**attempt
            except ValueError:
                delay = 0.5 * 2**attempt
            time.sleep(min(delay, 30.0))
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = None
        if status not in ok:
            error = (decoded or {}).get("error", {}) if isinstance(decoded, dict) else {}
            message = error.get("message") or f"HTTP {status}"
            fields = error.get("fields")
            detail = f" {json.dumps(fields)}" if fields else ""
            raise GoldloopError(f"{method} {url}: {status} {message}{detail}", status=status, body=decoded)
        return decoded

    # -- evaluate --------------------------------------------------------------------------------------------------
    def create_run(self, dataset: str, ref: str = "latest", **fields: Any) -> dict:
        body = {key: value for key, value in fields.items() if value is not None}
        path = f"datasets/{urllib.parse.quote(dataset)}/versions/{urllib.parse.quote(str(ref))}/runs"
        return self.request("POST", path, body)

    def post_outputs(
        self, run_id: str, outputs: Iterable[dict], *, batch_size: int = 1000, on_batch: Callable | None = None
    ) -> list[dict]:
        """Post outputs in batches; returns every item's result, in order."""
        results: list[dict] = []
        batch: list[dict] = []

        def flush():
            answer = self.request("POST", f"runs/{run_id}/outputs", {"outputs": batch})
            results.extend(answer["outputs"])
            if on_batch:
                on_batch(len(results))
            batch.clear()

        for item in outputs:
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        return results

    def complete(self, run_id: str) -> dict:
        return self.request("POST", f"runs/{run_id}/complete")

    def get_run(self, run_id: str) -> dict:
        return self.request("GET", f"runs/{run_id}")

    def wait(
        self, run_id: str, *, timeout: float = 3600, poll: float = 1.0, on_progress: Callable | None = None
    ) -> dict:
        """Poll until the run has succeeded or failed."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if on_progress:
                on_progress(run)
            if run["status"] in ("succeeded", "failed"):
                return run
            if time.monotonic() > deadline:
                raise GoldloopError(f"Run {run_id} is still {run['status']} after {timeout:g} s.")
            time.sleep(poll)

    def results(self, run_id: str, *, filter: str = "all", limit: int = 500) -> Iterator[dict]:
        url: str | None = f"runs/{run_id}/results?filter={filter}&limit={limit}"
        while url:
            page = self.request("GET", url)
            yield from page["results"]
            url = page["next"]

    def runs(self, dataset: str) -> Iterator[dict]:
        url: str | None = f"datasets/{urllib.parse.quote(dataset)}/runs"
        while url:
            page = self.request("GET", url)
            yield from page["results"]
            url = page["next"]

    def set_baseline(self, dataset: str, tag: str, run_id: str) -> dict:
        path = f"datasets/{urllib.parse.quote(dataset)}/baselines/{urllib.parse.quote(tag)}"
        return self.request("PUT", path, {"run": str(run_id)})
