from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from feedback.services.api_keys import api_key_create
from feedback.services.projects import project_get_or_create


class Command(BaseCommand):
    help = "Create an API key for a project (created if new). The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project slug.")
        parser.add_argument("--scopes", default="ingest,read", help="Comma-separated: ingest,read,review,curate.")
        parser.add_argument("--name", default="", help="A name to recognise the key by.")

    def handle(self, *args, project: str, scopes: str, name: str, **options):
        project_obj = project_get_or_create(slug=project)
        try:
            api_key, raw_key = api_key_create(
                project=project_obj, scopes=[s.strip() for s in scopes.split(",") if s.strip()], name=name
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Created key {api_key.prefix}… for project '{project_obj.slug}' with scopes {','.join(api_key.scopes)}."
        )
        self.stdout.write("Store it now; it is not shown again:")
        self.stdout.write(raw_key)
