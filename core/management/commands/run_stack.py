"""`make run`: web, Celery worker and beat as child processes; Ctrl-C stops each by pid, then the embedded DB."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from core import embedded_postgres


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and beat; stop them all on Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--login", default="", help="Demo login to print, as user:password.")

    def handle(self, *args, addr: str, login: str, **options):
        python = sys.executable
        log_dir = settings.BASE_DIR / "var" / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        queues = ",".join(settings.GOLDLOOP_QUEUES)
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "INFO",
                "-Q",
                queues,
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(settings.BASE_DIR / "var" / "celerybeat-schedule"),
            ],
        }
        processes: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            log = open(log_dir / f"{name}.log", "a")  # lives as long as the child
            processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
            self.stdout.write(f"started {name} (pid {processes[name].pid}), log: var/log/{name}.log")

        self.stdout.write(self.style.SUCCESS(f"\ngoldloop is running: http://{addr}/admin/"))
        if login:
            user, _, password = login.partition(":")
            self.stdout.write(f"demo login: {user} / {password}")
        self.stdout.write(f"API docs: http://{addr}/api/docs/   health: http://{addr}/healthz")
        self.stdout.write("Press Ctrl-C to stop.\n")

        stopping = False

        def _stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stopping:
                dead = [name for name, proc in processes.items() if proc.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} exited; see var/log/. Stopping the rest.")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(processes)

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        for name, proc in processes.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                self.stdout.write(f"stopping {name} (pid {proc.pid})")
        for proc in processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not os.environ.get("DATABASE_URL") and embedded_postgres.stop(settings.BASE_DIR / ".pgdata"):
            self.stdout.write("stopped the embedded PostgreSQL")
        self.stdout.write("all stopped.")
