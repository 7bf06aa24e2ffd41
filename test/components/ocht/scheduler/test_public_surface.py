import subprocess
import sys


def test_importing_the_brick_does_not_load_the_queue_library() -> None:
    code = "import sys, ocht.scheduler; print('procrastinate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
