"""Clustering as a new user meets it: failures posted through /api/v1/ingest, a run started through the API.

    .venv/bin/python bench/cluster_api.py [--rounds 5] [--data banking77] [--limit N]

On a database of its own (goldloop_bench_cluster_api on the embedded server, or BENCH_DATABASE_URL), with a private
filesystem broker, it starts a real gunicorn (config/gunicorn.py) and a real Celery worker (prefork, concurrency 1,
as `make run` starts it), then per round, on a fresh project:
  1. posts Banking77's 3,080 test queries, shuffled by the round's seed, through POST /api/v1/ingest (500
     interactions and their thumbs-down per request), as failures;
  2. starts a clustering run with POST /api/v1/clustering/runs and polls GET /api/v1/clustering/runs/{id};
  3. prints the run's embedding stage (texts/s, from the run's own timings and counts) beside the raw torch speed of
     the same model on the same texts measured in this process right before and right after the run (their mean),
     and ARI/NMI of the run's clusters against the true intents (unclustered points count as singletons).
The rounds start once the worker's process has loaded its model (as it does when it starts), as on a worker that
has been up a while; each round prints the part of its stage spent loading the model (0 then).
The worker listens to the clustering queue only, so the embedding tasks ingest queues are left in the private
broker and the run's embedding stage embeds every failure (the figure the issue asks for). Figures are indicative:
the machine's two cores are shared with whatever else runs; ratios are taken in the same round, side by side.
"""

import argparse
import csv
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, SHARED, django_setup  # noqa: E402
from _stack import free_port, gunicorn_process, stop, wait_http  # noqa: E402

BENCH_DB = "goldloop_bench_cluster_api"
BANKING = SHARED / "data" / "banking77" / "test.csv"
OUTPUT = "I'm sorry, I can't help with that. Is there anything else?"
PER_REQUEST = 500  # interactions (and as many feedback items) per ingest call: 1,000 items, the contract's limit


class Http:
    def __init__(self, port: int, key: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)  # idle keep-alives are closed
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()


def start_stack(env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    web = gunicorn_process(env, port, None, open(logs / "web.log", "w"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO", "-Q", "clustering",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "-n", f"bench-api-{os.getpid()}@%h"],
        cwd=ROOT, env={**env, "LOG_LEVEL": "INFO"}, stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_http(port, web, timeout=90)
    wait_warm_up(logs / "worker.log", worker)
    return [web, worker]


def wait_warm_up(log: Path, worker: subprocess.Popen, timeout: float = 180) -> None:
    """Until the worker's process has loaded the model (it does when it starts), as a worker that has been up a while.

    A run that comes sooner waits for the rest of the load; its timings say how long (embedding.model_load)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and worker.poll() is None:
        for line in log.read_text(errors="replace").splitlines():
            if "loaded and warmed up" in line:
                print(f"worker: {line.split('] ', 1)[-1]} (seen after {time.monotonic() - started:.1f} s)")
                return
        time.sleep(0.5)
    print(f"worker: no warm-up seen within {time.monotonic() - started:.0f} s; the first run loads the model")


def load_rows(limit: int | None) -> list[tuple[str, str]]:
    with BANKING.open(encoding="utf-8") as handle:
        rows = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    return rows[:limit] if limit else rows


def ingest(http: Http, rows: list[tuple[str, str]], prefix: str) -> float:
    started = time.perf_counter()
    for start in range(0, len(rows), PER_REQUEST):
        chunk = rows[start : start + PER_REQUEST]
        ids = [f"{prefix}{start + n}" for n in range(len(chunk))]
        body = {
            "interactions": [
                {"id": i, "input": [{"role": "user", "content": text}], "output": OUTPUT, "model": "bench"}
                for i, (text, _) in zip(ids, chunk, strict=True)
            ],
            "feedback": [{"id": f"fb-{i}", "interaction_id": i, "name": "thumbs", "value": "down"} for i in ids],
        }
        status, answer = http.call("POST", "/api/v1/ingest", body)
        bad = [r for part in answer.values() for r in part if r.get("status") not in (200, 201)]
        if status != 207 or bad:
            sys.exit(f"ingest answered {status}: {bad[:3] or answer}")
    return time.perf_counter() - started


def run_clustering(http: Http, worker: subprocess.Popen) -> dict:
    status, body = http.call("POST", "/api/v1/clustering/runs")
    if status not in (200, 201, 202):
        sys.exit(f"POST /clustering/runs answered {status}: {body}")
    run_id = body["id"]
    while True:
        time.sleep(0.5)
        if worker.poll() is not None:
            sys.exit("the worker died")
        _, body = http.call("GET", f"/api/v1/clustering/runs/{run_id}")
        if body["status"] in ("succeeded", "failed"):
            return body


def raw_torch(texts: list[str]) -> float:
    """texts/s of the torch model on these texts (model.encode, batch 64), in this process."""
    from core.embedder import get_torch_model

    started = time.perf_counter()
    get_torch_model().encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def score(project_id: int, truth: dict[str, str]) -> tuple[float, float, int, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from feedback.models import Interaction

    rows = list(Interaction.objects.filter(project_id=project_id).values_list("external_id", "cluster_id"))
    true = [truth[ext] for ext, _ in rows]
    predicted = [f"c{cid}" if cid is not None else f"single-{ext}" for ext, cid in rows]
    clusters = len({cid for _, cid in rows if cid is not None})
    unclustered = sum(cid is None for _, cid in rows) / len(rows)
    return adjusted_rand_score(true, predicted), normalized_mutual_info_score(true, predicted), clusters, unclustered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries (a quick look)")
    parser.add_argument("--backend", choices=["onnx", "torch"], default=None, help="EMBEDDER_BACKEND of the stack")
    args = parser.parse_args()
    if args.backend:
        os.environ["EMBEDDER_BACKEND"] = args.backend

    broker = Path(tempfile.mkdtemp(prefix="bench-api-broker-"))
    os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = str(broker)
    os.environ.pop("CELERY_BROKER_URL", None)
    django_setup(BENCH_DB)
    from django.conf import settings

    from core.embedder import backend_in_use, embedder_name, get_torch_model
    from feedback.models import ApiKey, Project
    from feedback.services.api_keys import api_key_create
    from feedback.services.embeddings import embedding_text

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "0"}
    rows = load_rows(args.limit)
    print(
        f"database {BENCH_DB}; embedder {embedder_name()} backend {settings.EMBEDDER_BACKEND} "
        f"(qint8 {settings.EMBEDDER_ONNX_QUANTIZED}), in this process: {backend_in_use()}; "
        f"{len(rows):,} Banking77 test queries, {len({c for _, c in rows})} intents; load {os.getloadavg()}"
    )
    get_torch_model().encode(["warm up"] * 64, batch_size=64, show_progress_bar=False)

    port, logs = free_port(), Path(tempfile.mkdtemp(prefix="bench-api-logs-"))
    processes = start_stack(env, port, logs)
    results = []
    try:
        for round_number in range(args.rounds):
            order = list(range(len(rows)))
            random.Random(round_number).shuffle(order)
            shuffled = [rows[i] for i in order]
            slug = f"bench-api-{round_number}"
            Project.objects.filter(slug=slug).delete()
            project = Project.objects.create(slug=slug, name=slug)
            _, key = api_key_create(project=project, scopes=list(ApiKey.Scope.values))
            http = Http(port, key)
            prefix = f"r{round_number}-"
            seconds_ingest = ingest(http, shuffled, prefix)
            truth = {f"{prefix}{n}": category for n, (_, category) in enumerate(shuffled)}
            # The texts the pipeline embeds (its template), for the raw figure on the same texts.
            from feedback.models import Interaction

            texts = [embedding_text(interaction=i) for i in Interaction.objects.filter(project=project)]
            before = raw_torch(texts)
            body = run_clustering(http, processes[1])
            after = raw_torch(texts)
            if body["status"] != "succeeded":
                sys.exit(f"the run failed: {body}")
            from feedback.models import ClusteringRun

            run = ClusteringRun.objects.get(pk=body["id"])
            stage = run.counts["embedded_now"] / max(run.timings["embedding"], 1e-9)
            raw = (before + after) / 2
            ari, nmi, clusters, unclustered = score(project.pk, truth)
            results.append((ari, nmi, stage / raw))
            print(
                f"round {round_number + 1} (order seed {round_number}): ingest {len(rows) / seconds_ingest:.0f}/s; "
                f"embedding stage {stage:.0f} texts/s ({run.counts['embedded_now']} texts; model load in it "
                f"{run.timings.get('embedding.model_load', float('nan')):.2f} s) vs raw torch "
                f"{before:.0f}/{after:.0f} texts/s before/after = {stage / raw:.2f}x (target >= 2.2x); "
                f"ARI {ari:.3f} NMI {nmi:.3f} (targets 0.62 / 0.85) clusters {clusters} "
                f"unclustered {unclustered:.1%} resolution {run.params.get('resolution')}; "
                f"stages {run.timings}; load {os.getloadavg()[0]:.1f}"
            )
    finally:
        stop(*processes, timeout=30)
        shutil.rmtree(broker, ignore_errors=True)
    if results:
        print(
            f"all rounds: ARI min {min(r[0] for r in results):.3f}, NMI min {min(r[1] for r in results):.3f}, "
            f"embedding stage / raw torch min {min(r[2] for r in results):.2f}x; logs in {logs}"
        )


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
