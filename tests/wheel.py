"""The package as users install it: a venv holding only the wheel built from this tree.

`wheel_venv(tmp)` builds the wheel (`pip wheel --no-deps`) and installs it, without dependencies, into a fresh
venv that sees the project venv's site-packages through a plain .pth line; that venv's own .pth files (its
editable finder, which points at the checkout) are not processed there, so `import corpus_tools` finds only
the wheel's copy. Used by tests/test_packaging.py and the Ray cluster tests (tests/cluster/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wheel_venv(tmp: Path) -> Path:
    """Build the wheel into tmp/dist, install it into tmp/venv; return the venv."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist"),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp / "dist").glob("corpus_tools-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz-project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    return venv
