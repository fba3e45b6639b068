from django.conf import settings
from django.core.management.base import BaseCommand

from core import embedded_postgres


class Command(BaseCommand):
    help = "Status or stop of the embedded PostgreSQL server (used when DATABASE_URL is not set)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args, action: str, **options):
        pgdata = settings.BASE_DIR / ".pgdata"
        if action == "status":
            state = "running" if embedded_postgres.is_running(pgdata) else "stopped"
            self.stdout.write(f"embedded PostgreSQL at {pgdata}: {state}")
        elif embedded_postgres.stop(pgdata):
            self.stdout.write("embedded PostgreSQL stopped")
        else:
            self.stdout.write("embedded PostgreSQL was not running")
