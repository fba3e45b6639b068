"""The test suite: real PostgreSQL with pgvector, a real Celery transport (Redis in CI, filesystem otherwise)."""

import os
import tempfile

# Each test run gets its own filesystem broker folder, so concurrent runs never consume each other's tasks;
# worker processes started by the tests inherit it through the environment.
if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("CELERY_FILESYSTEM_BROKER_DIR"):
    os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = tempfile.mkdtemp(prefix="goldloop-broker-")

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests revoke a key and use it at once; tests/feedback/test_capture_key_cache.py covers the cache itself.
API_KEY_CACHE_SECONDS = 0
