"""manage.py recluster [--project <slug>] [--async]: recluster failures now, with a progress bar, or on a worker."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feedback.models import Project
from feedback.selectors.clusters import projects_with_failures
from feedback.services.clustering import clustering_run_execute, clustering_run_start


class Command(BaseCommand):
    help = "Embed any failure not embedded yet and recluster the failures of one project (or of every project)."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project slug; default: every project with failures.")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="Queue the run for a worker and return."
        )

    def handle(self, *args, project: str | None, run_async: bool, **options):
        if project:
            projects = list(Project.objects.filter(slug=project))
            if not projects:
                raise CommandError(f"No project '{project}'.")
        else:
            projects = list(projects_with_failures())
        for project_obj in projects:
            run, created = clustering_run_start(project=project_obj, enqueue=run_async)
            if run_async or not created:
                state = "queued" if created else f"already {run.status}"
                self.stdout.write(f"{project_obj.slug}: run {run.pk} {state}.")
                continue
            self._run_now(project_obj, run)

    def _run_now(self, project: Project, run) -> None:
        with tqdm(total=100, desc=project.slug, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}") as bar:

            def progress(fraction: float, stage: str) -> None:
                bar.n = round(fraction * 100, 1)
                bar.set_postfix_str(stage, refresh=True)

            finished = clustering_run_execute(run_id=run.pk, progress=progress)
        counts = finished.counts
        self.stdout.write(
            f"{project.slug}: run {run.pk} {finished.status}: {counts.get('failures', 0)} failures, "
            f"{counts.get('clusters', 0)} clusters ({counts.get('clusters_new', 0)} new, "
            f"{counts.get('clusters_vanished', 0)} gone), {counts.get('unclustered', 0)} unclustered, "
            f"{counts.get('embedded_now', 0)} embedded now; seconds per stage: {finished.timings}"
        )
