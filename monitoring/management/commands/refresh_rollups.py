"""Recompute the hourly metrics rollups now (beat does it every minute); --rebuild recomputes every hour."""

import time

from django.core.management.base import BaseCommand, CommandError

from feedback.models import Project
from monitoring.services.rollups import rollups_refresh


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project slug (default: every project).")
        parser.add_argument("--rebuild", action="store_true", help="Recompute all closed hours, not only new ones.")

    def handle(self, *args, project: str | None, rebuild: bool, **options):
        projects = Project.objects.all()
        if project:
            projects = projects.filter(slug=project)
            if not projects.exists():
                raise CommandError(f"No project {project!r}.")
        for item in projects:
            started = time.perf_counter()
            state = rollups_refresh(project=item, rebuild=rebuild)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"{item.slug}: rollups complete before {state.covered_until:%Y-%m-%d %H:%M} UTC ({elapsed:.2f} s)"
            )
