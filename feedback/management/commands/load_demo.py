from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo project (placeholder until capture lands)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, **options):
        self.stdout.write("demo: nothing to load yet")
