"""python manage.py export_dataset <name> --project <slug> --version <ref> --format jsonl --output <file>"""

import hashlib
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ApplicationError
from examples_lib.canonical import SPLITS
from examples_lib.exports import FORMATS, canonical_sha256, export_stream
from examples_lib.selectors.datasets import dataset_get
from examples_lib.selectors.versions import version_resolve
from feedback.models import Project


class Command(BaseCommand):
    help = "Export a version of a golden dataset to a file, then verify the version's hash."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version` is the dataset version here (API.md, Commands), not Django's version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("name", help="The dataset's name.")
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument("--version", dest="ref", default="latest", help="A number, a tag, or 'latest'.")
        parser.add_argument("--format", dest="fmt", default="jsonl", choices=list(FORMATS))
        parser.add_argument("--split", choices=list(SPLITS), help="Only this split.")
        parser.add_argument("--output", required=True, help="The file to write ('-' for standard output).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, name, project, ref, fmt, split, output, no_progress, **options):
        project_obj = Project.objects.filter(slug=project).first()
        if project_obj is None:
            raise CommandError(f"No project '{project}'.")
        try:
            dataset = dataset_get(project=project_obj, name=name)
            version = version_resolve(dataset=dataset, ref=ref)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        total = version.counts.get(split, 0) if split else version.example_count
        digest = hashlib.sha256()
        progress = tqdm(
            total=total,
            unit="rows",
            disable=no_progress,
            file=sys.stderr,
            desc=f"{dataset.name} v{version.number} {fmt}",
        )
        sink = sys.stdout.buffer if output == "-" else open(output, "wb")  # closed below
        try:
            for chunk in export_stream(version_id=version.pk, fmt=fmt, split=split, on_rows=progress.update):
                digest.update(chunk)
                sink.write(chunk)
        finally:
            progress.close()
            if sink is not sys.stdout.buffer:
                sink.close()
        # The canonical JSONL is re-derived from the frozen columns (not from the stored lines the export streamed);
        # a whole jsonl export must also hash, byte for byte, to the manifest.
        checks = {"the frozen rows": canonical_sha256(version_id=version.pk)}
        if (fmt, split) == ("jsonl", None):
            checks["the written file"] = digest.hexdigest()
        for source, actual in checks.items():
            if actual != version.sha256:
                raise CommandError(
                    f"Hash mismatch for {dataset.name} v{version.number}: the manifest says {version.sha256}, "
                    f"{source} give {actual}. Do not use {output}."
                )
        self.stderr.write(f"OK: {dataset.name} v{version.number} sha256 {version.sha256} verified.")
