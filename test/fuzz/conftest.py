"""The harness and strategies are plain modules beside the tests (bench/ imports them too)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
