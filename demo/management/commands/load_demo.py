"""`manage.py load_demo [--once] [--cluster]`: the demo project `support-bot`, part after part.

Capture builds the project, its interactions and feedback (demo/capture.py); then each feature adds its own part,
in order, through `demo.<feature>.load(project=..., stdout=...)`: idempotent, so a second run is a retry.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import agreement, capture, connect, evaluation, golden, reviews
from feedback.models import Interaction, Project
from feedback.services.clustering import clustering_run_start

# The parts after capture, in order: reviews need failures, the golden set needs reviews.
# FEATURE LOADERS: a feature with demo data adds its module here (demo/<feature>.py with
# `load(*, project, stdout) -> None`), after the parts whose data it builds on.
PARTS = (reviews, golden, evaluation, agreement, connect)


class Command(BaseCommand):
    help = f"Load the demo project '{capture.DEMO_SLUG}' (~2,000 interactions with feedback). {capture.ATTRIBUTION}"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Do nothing when the demo project exists already.")
        parser.add_argument("--seed", type=int, default=77)
        parser.add_argument(
            "--cluster", action="store_true", help="Queue a clustering run of its failures for the Celery worker."
        )
        parser.add_argument("--data", type=Path, default=capture.DATA_DIR, help="The banking77 folder (train.csv).")

    def handle(self, *args, once: bool, seed: int, data: Path, cluster: bool = False, **options):
        slug = capture.DEMO_SLUG
        if once and Project.objects.filter(slug=slug).exists():
            self.stdout.write(f"demo: project '{slug}' exists already; nothing to do.")
            return
        if not (data / "train.csv").exists():
            raise CommandError(f"No Banking77 data at {data}; pass --data <folder with train.csv>.")
        started = time.monotonic()
        with transaction.atomic():
            project, interactions, feedback, counts = capture.load(seed=seed, data_dir=data)
        for part in PARTS:
            part.load(project=project, stdout=self.stdout)
        failures = Interaction.objects.filter(project=project, is_failure=True).count()
        summary = ", ".join(f"{n} x {status}" for status, n in sorted(counts.items()))
        self.stdout.write(
            f"demo: project '{slug}': {interactions} interactions, {feedback} feedback ({summary}); "
            f"{failures} failures; {time.monotonic() - started:.1f} s."
        )
        self.stdout.write(f"demo data: {capture.ATTRIBUTION}")
        if cluster:
            run, _ = clustering_run_start(project=project)
            self.stdout.write(f"demo: clustering run {run.pk} queued; its clusters appear in the admin once it ends.")
