"""gunicorn settings of the web process: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Used by the Dockerfile, docker-compose.yml and bench/ingest.py; the command line and GUNICORN_CMD_ARGS override any
value. Chosen by measuring capture one request at a time (bench/ingest.py; docs/performance.md):
- gthread, not sync: the sync worker closes the connection after each response, so every request of a client
  pays a new TCP connection; gthread keeps it alive (keepalive below) and hands each request to a thread.
- one worker process per core (at most 4 by default) and four threads each: a thread waits for PostgreSQL
  (commits are durable) while others run Python; more processes than cores only add context switches. On 2 cores,
  8 clients one at a time, alternating in one session: 2 x 4 threads served 921-1,235 requests/s, 2 x 2 920-1,048,
  2 x 3 1,052-1,083, 2 x 6 880-1,010 (gevent workers measured no better earlier). Each thread keeps its own
  database connection (CONN_MAX_AGE), so workers x threads must stay well under PostgreSQL's max_connections (100
  by default) together with the Celery workers.
- HTTP parsing by gunicorn_h1c (C, picohttpparser) when installed, as requirements/base.txt does.
- timeouts: a worker stuck longer than `timeout` is replaced; idle keep-alive connections close after
  `keepalive` seconds (clients and proxies reuse them well within that).
This file only reads the environment (no Django, no app imports), since the master process loads it.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or "0.0.0.0:8000"
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", min(os.cpu_count() or 1, 4))
threads = _int("GUNICORN_THREADS", 4)
keepalive = _int("GUNICORN_KEEPALIVE", 30)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Off unless GUNICORN_ACCESS_LOG names a file ("-": stdout). Formatting and writing one line per request took
# 0.11-0.14 ms of gunicorn's CPU (a trivial app under bench/ingest.py's one-at-a-time load: 0.48-0.54 ms per
# request with it, 0.34-0.36 without); request logs belong to the proxy or load balancer in front, and errors are
# logged either way.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
