import sys
from pathlib import Path

# The client package (clients/python) is installed by requirements/dev.txt; a checkout without it still tests.
try:
    import goldloop  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))
