"""The package as a package index would see it: metadata (SPDX license, LICENSE file, classifiers), an sdist
that carries what its tests need, and a README whose links do not break off GitHub."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import List

import pytest

pytest.importorskip("build")


def tree_files(root: Path) -> List[str]:
    """The repository's files as git sees them (tracked, and new ones not ignored)."""
    proc = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip("not a git work tree")
    return [line for line in proc.stdout.splitlines() if (root / line).is_file()]


@pytest.fixture(scope="module")
def dist(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel built from a copy of the repository's files, as `python -m build` builds them."""
    src = tmp_path_factory.mktemp("src")
    for name in tree_files(root):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_wheel_metadata(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
    assert metadata["License-Expression"] == "MIT"
    assert "LICENSE" in (metadata.get_all("License-File") or [])
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    classifiers = metadata.get_all("Classifier") or []
    for version in ("3.9", "3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # the SPDX expression says it
    assert metadata["Requires-Python"] == ">=3.9"
    for url in metadata.get_all("Project-URL") or []:  # none yet; never a placeholder
        assert "OWNER" not in url and "example" not in url
    assert "flake8_ddp_unused/notebook.py" in names and "flake8_ddp_unused/py.typed" in names


def test_sdist_ships_what_the_tests_need(root: Path, dist: Path) -> None:
    sdist = next(dist.glob("*.tar.gz"))
    with tarfile.open(sdist) as archive:
        shipped = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = [name for name in tree_files(root)
              if name.startswith(("tests/", "examples/", "docs/", "benchmarks/", "flake8_ddp_unused/"))
              and "__pycache__" not in name]
    missing = sorted(set(needed) - shipped)
    assert not missing, missing[:20]
    for name in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "setup.cfg", ".pre-commit-hooks.yaml"):
        assert name in shipped


def test_readme_links_work_off_github(root: Path) -> None:
    """A package index shows README.md on its own: a relative link there leads nowhere."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert not relative, relative
    assert "OWNER" not in readme and "rev: v0.1.0" not in readme


def test_changelog_names_this_version(root: Path) -> None:
    from flake8_ddp_unused import __version__

    assert f"## {__version__}" in (root / "CHANGELOG.md").read_text(encoding="utf-8")
