import time

from django.conf import settings
from django.core.management.base import BaseCommand

from core.embedder import onnx_build, onnx_dir


class Command(BaseCommand):
    help = (
        "Export the embedder's model to ONNX (fp32, and qint8 per channel) into EMBEDDER_MODELS_DIR, unless already "
        "there. Run at install and image build time; needs no database."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--model", default=None, help="default: settings.EMBEDDER_MODEL")
        parser.add_argument("--force", action="store_true", help="export again even if the graphs exist")

    def handle(self, *args, model: str | None, force: bool, **options):
        name = model or settings.EMBEDDER_MODEL
        folder = onnx_dir(name)
        started = time.perf_counter()
        existed = (folder / "model.qint8.onnx").exists() and not force
        onnx_build(name, force=force)
        verb = "present" if existed else f"built in {time.perf_counter() - started:.1f}s"
        self.stdout.write(f"ONNX graphs of {name}: {folder} ({verb})")
