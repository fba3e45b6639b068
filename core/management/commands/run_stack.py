"""`make run`: the web server (gunicorn), a Celery worker and beat, supervised as child processes.

- One stack per checkout: a lock on var/run_stack.lock (held while this process lives, released by the kernel when
  it dies) makes a second start refuse at once, before it touches anything the first one uses.
- Supervision: a child that exits is restarted after a backoff (1 s, doubling to 30 s; back to 1 s once it stayed
  up a minute). A web server that cannot bind its address is not retried forever: that is a configuration error.
- Ctrl-C (SIGINT) or SIGTERM stops each child by pid (SIGTERM, then SIGKILL after 20 s), then the embedded
  PostgreSQL, but only if this process started it (it was not running when run_stack began).
- Children run in their own session, so a Ctrl-C in the terminal reaches run_stack only and children are stopped in
  order; on Linux they also get SIGTERM if run_stack itself is killed (PR_SET_PDEATHSIG), so none is left behind.
"""

import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import embedded_postgres

# Run before the children start, each as its own process (so that this one stays small), by `--setup`.
SETUP_COMMANDS = (
    ("migrate", "--no-input"),
    ("ensure_demo_admin", "--username", "{user}", "--password", "{password}"),
    ("load_demo", "--once", "--cluster"),
)
BACKOFF_FIRST, BACKOFF_MAX, STABLE_SECONDS = 1.0, 30.0, 60.0


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None
    restarts: int = field(default=0)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when run_stack dies (Linux), and its own session (no terminal Ctrl-C)."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = "Start gunicorn, a Celery worker and beat; restart any that exits; stop them all on Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port the web server binds.")
        parser.add_argument("--login", default="", help="Demo login, as user:password (printed; --setup creates it).")
        parser.add_argument("--setup", action="store_true", help="Migrate, create the demo login, load the demo.")
        parser.add_argument("--state-dir", default="", help="Lock, logs and beat schedule (default: var/).")

    def handle(self, *args, addr: str, login: str, setup: bool, state_dir: str, **options):
        # Decided before anything else runs: settings were loaded to get here, and they start the embedded
        # database when it is not running; this is where we learn whether it was us.
        owns_database = embedded_postgres.started_by_this_process()
        state = Path(state_dir) if state_dir else settings.BASE_DIR / "var"
        (state / "log").mkdir(parents=True, exist_ok=True)
        lock = self._lock(state / "run_stack.lock")
        host, _, port = addr.rpartition(":")
        self._check_free(host, int(port))
        self._stopping = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        children = [Child(name, command) for name, command in self._commands(addr, state).items()]
        try:
            if setup:
                self._setup(login)
            for child in children:
                if not self._stopping:
                    self._start(child, state)
            if not self._stopping:
                self._banner(addr, login)
            self._supervise(children, state)
        finally:
            self._stop_all(children)
            if owns_database and embedded_postgres.stop(settings.EMBEDDED_PGDATA):
                self.stdout.write("stopped the embedded PostgreSQL (this run started it)")
            self.stdout.write("all stopped.")
            lock.close()

    # --- start-up ------------------------------------------------------------------------------------------------
    def _lock(self, path: Path):
        handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise CommandError(
                f"goldloop is already running from this checkout (run_stack pid {holder}, lock {path}); "
                "stop it first (Ctrl-C in its terminal, or kill that pid)."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return handle

    def _check_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host or "127.0.0.1", port))
            except OSError as exc:
                raise CommandError(f"Cannot listen on {host}:{port} ({exc.strerror}); pass --addr.") from None

    def _commands(self, addr: str, state: Path) -> dict[str, list[str]]:
        python = sys.executable
        return {
            "web": [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", addr, "config.wsgi:application"],
            "worker": [
                *(python, "-m", "celery", "-A", "config", "worker", "-l", "INFO"),
                *("-Q", ",".join(settings.GOLDLOOP_QUEUES), "--concurrency", "1"),
                *("--without-gossip", "--without-mingle"),
            ],
            "beat": [
                *(python, "-m", "celery", "-A", "config", "beat", "-l", "INFO"),
                *("--schedule", str(state / "celerybeat-schedule")),
            ],
        }

    def _setup(self, login: str) -> None:
        user, _, password = (login or "admin:goldloop-demo").partition(":")
        for step in SETUP_COMMANDS:
            if self._stopping:
                return
            arguments = [part.format(user=user, password=password) for part in step]
            self.stdout.write(f"manage.py {arguments[0]}")
            done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, check=False)
            if done.returncode != 0 and not self._stopping:
                raise CommandError(f"manage.py {arguments[0]} failed (exit {done.returncode}).")

    def _banner(self, addr: str, login: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"\ngoldloop is running: http://{addr}/admin/"))
        if login:
            user, _, password = login.partition(":")
            self.stdout.write(f"demo login: {user} / {password}")
        self.stdout.write(f"API docs: http://{addr}/api/docs/   health: http://{addr}/healthz")
        self.stdout.write("Press Ctrl-C to stop.\n")

    # --- supervision ---------------------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self._stopping = True

    def _start(self, child: Child, state: Path) -> None:
        with open(state / "log" / f"{child.name}.log", "a") as log:
            child.process = subprocess.Popen(
                child.command,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only setsid and prctl, no locks or threads
            )
        child.started_at, child.restart_at = time.monotonic(), None
        self.stdout.write(f"started {child.name} (pid {child.process.pid}), log: {state / 'log' / child.name}.log")

    def _supervise(self, children: list[Child], state: Path) -> None:
        while not self._stopping:
            now = time.monotonic()
            for child in children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.restarts += 1
                        self._start(child, state)
                    continue
                code = child.process.poll()
                if code is None:
                    continue
                lived = now - child.started_at
                if child.name == "web" and lived < 5 and child.restarts == 0:
                    raise CommandError(f"The web server exited at start-up (exit {code}); see its log.")
                if lived >= STABLE_SECONDS:
                    child.backoff = BACKOFF_FIRST
                wait, child.backoff = child.backoff, min(child.backoff * 2, BACKOFF_MAX)
                child.restart_at = now + wait
                pid = child.process.pid
                self.stderr.write(f"{child.name} (pid {pid}) exited with {code}; restarting in {wait:g} s")
            time.sleep(0.2)

    def _stop_all(self, children: list[Child]) -> None:
        running = [c for c in children if c.process is not None and c.process.poll() is None]
        for child in running:
            self.stdout.write(f"stopping {child.name} (pid {child.process.pid})")
            child.process.send_signal(signal.SIGTERM)
        for child in running:
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
