"""`manage.py embedded_db status|start|stop`: the embedded PostgreSQL of this checkout (when DATABASE_URL is unset).

Loading the settings of this command never starts the server (core.embedded_postgres.managing_command), so
`status` only looks and `stop` on a stopped server does nothing.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from core import embedded_postgres


class Command(BaseCommand):
    help = "Status, start or stop of the embedded PostgreSQL server (used when DATABASE_URL is not set)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args, action: str, **options):
        pgdata = settings.EMBEDDED_PGDATA
        if action == "status":
            state = "running" if embedded_postgres.is_running(pgdata) else "stopped"
            self.stdout.write(f"embedded PostgreSQL at {pgdata}: {state}")
        elif action == "start":
            was_running = embedded_postgres.is_running(pgdata)
            embedded_postgres.embedded_database_url(pgdata)
            self.stdout.write(f"embedded PostgreSQL {'was already running' if was_running else 'started'}")
        elif embedded_postgres.stop(pgdata):
            self.stdout.write("embedded PostgreSQL stopped")
        else:
            self.stdout.write("embedded PostgreSQL was not running")
