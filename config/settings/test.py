"""The test suite: real PostgreSQL with pgvector, a real Celery transport (Redis in CI, filesystem otherwise)."""

import os
import tempfile

# Each test run gets its own filesystem broker folder, so concurrent runs never consume each other's tasks;
# worker processes started by the tests inherit it through the environment.
if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("CELERY_FILESYSTEM_BROKER_DIR"):
    os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = tempfile.mkdtemp(prefix="goldloop-broker-")

from config.env import env_bool, env_int
from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests revoke a key and use it at once; tests/feedback/test_capture_key_cache.py covers the cache itself.
API_KEY_CACHE_SECONDS = 0
# The session's worker must not embed other tests' rows behind their back; tests of the sweep turn it on.
EMBEDDING_SWEEP_ON_WORKER_START = env_bool("EMBEDDING_SWEEP_ON_WORKER_START", False)
# Off, so that query counts stay those of the views; tests/core/test_ratelimit.py turns it on.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 0)
