"""The package installed from its wheel works outside the checkout.

The wheel is built from this tree and installed, without dependencies, into a fresh venv that sees the
project venv's site-packages through a .pth file (so torch, datatrove, ... are not installed again). From a
folder outside the repository, the installed `corpus` runs the default recipe by name and a reviving restage.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

REPO = Path(__file__).resolve().parent.parent
# the Danish web-archive crawl of the sample: small, and FineWeb's quality rule drops two of its pages
WARC = REPO / "tests" / "data" / "sample-crawl" / "NAS-20100909163324-00000-mette.kb.dk.warc.gz"


def test_every_sub_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(REPO), include=["corpus_tools*"]))
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_data_folders_resolve_to_the_checkout_here():
    from corpus_tools.core.languages import LANGUAGE_IDS, data_dir
    from corpus_tools.core.layout import SCHEMA_DIR
    from corpus_tools.rights.policy import MANIFESTS
    from corpus_tools.core.recipe import PIPELINES_DIR

    assert LANGUAGE_IDS == REPO / "language_ids" == data_dir("language_ids")
    assert MANIFESTS == SCHEMA_DIR == REPO / "manifests"
    assert (PIPELINES_DIR / "eu_web.py").is_file()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A venv holding only the built wheel, plus the project venv's packages; its environment and bin/."""
    from tests.wheel import wheel_venv

    tmp = tmp_path_factory.mktemp("wheel")
    venv = wheel_venv(tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    work = tmp / "elsewhere"
    work.mkdir()
    return {"env": env, "bin": venv / "bin", "cwd": work}


def _corpus(inst: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(inst["bin"] / "corpus"), *args], cwd=inst["cwd"], env=inst["env"],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_installed_wheel_runs_a_recipe_and_a_reviving_restage_outside_the_repository(installed):
    where = subprocess.run([str(installed["bin"] / "python"), "-c",
                            "import corpus_tools.core.languages as l; print(l.__file__); print(l.LANGUAGE_IDS)"],
                           cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True, check=True).stdout.split()
    assert not where[0].startswith(str(REPO)) and not where[1].startswith(str(REPO))
    assert where[1].endswith("corpus_tools/language_ids")

    r = _corpus(installed, "run", "eu_web", "--input", str(WARC), "--output", "out", "--no-report")
    assert r.returncode == 0, r.stderr[-2000:]
    out = installed["cwd"] / "out"
    release = json.loads((out / "release.json").read_text())
    assert release["totals"]["records_read"] == 120

    # FineWeb's rule off: documents it dropped come back, re-read from their WARC records
    r = _corpus(installed, "stage", "quality", "--input", "out", "--output", "loose",
                "--param", "rules=gopher_repetition_v1,gopher_quality_v1")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    loose = json.loads((installed["cwd"] / "loose" / "release.json").read_text())
    assert loose["totals"]["documents_kept"] > release["totals"]["documents_kept"]
    r = _corpus(installed, "audit", "verify", "loose")
    assert r.returncode == 0, r.stdout + r.stderr
