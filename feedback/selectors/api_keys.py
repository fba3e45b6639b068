"""API key basics shared by the lookup of every request (selectors/api_key_lookup.py) and key creation."""

import hashlib

# last_used_at is written at most this often per key, so that hot ingest paths do not update it every request.
LAST_USED_RESOLUTION_SECONDS = 60


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()
