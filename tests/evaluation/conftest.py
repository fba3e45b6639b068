import sys
from pathlib import Path

# The client package (clients/python) is installed by requirements/dev.txt; a checkout without it still tests.
try:
    import goldloop  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fake_example_embedder(settings):
    """Adding examples checks near duplicates with an embedder: a hashed bag of words here (no model load). The
    semantic scorer still uses the real model."""
    settings.EXAMPLES_EMBEDDER = "tests.examples_lib.conftest.fake_embed_texts"
