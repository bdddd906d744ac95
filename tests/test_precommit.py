"""The real ``pre-commit run --all-files`` in a temporary git repository.

pre-commit clones the hook repository (here: a git repository made from this checkout's package files, so
the test sees uncommitted work too), builds a virtualenv in PRE_COMMIT_HOME and ``pip install``s the
repository into it; that needs PyPI (or pip's cache) for setuptools, flake8 and libcst, nothing else.
Measured here (pre-commit 4.7.0, Python 3.11): 13-25 s per test, nearly all of it pre-commit building
the hook's virtualenv (one per test: the two hooks have different environments).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Tuple

import pytest

from .test_flake8_e2e import MODEL

PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE", "MANIFEST.in", "CHANGELOG.md")
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
FIXED = MODEL.replace("        self.pooler = nn.Linear(4, 4)\n", "")


def git(cwd: Path, *args: str, env: Dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    environ = dict(os.environ, **GIT_ENV, HOME=str(home), PRE_COMMIT_HOME=str(home / "pre-commit"))
    environ.pop("PRE_COMMIT", None)
    environ.pop("VIRTUAL_ENV", None)
    return environ


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, root: Path, env: Dict[str, str]) -> Tuple[Path, str]:
    """A git repository holding this checkout's package, as pre-commit would clone it from GitHub."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in PACKAGE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, repo / name)
    shutil.copytree(root / "flake8_ddp_unused", repo / "flake8_ddp_unused",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q", env=env)
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-q", "-m", "snapshot", env=env)
    return repo, git(repo, "rev-parse", "HEAD", env=env)


def user_repo(path: Path, config: str, env: Dict[str, str]) -> Path:
    path.mkdir()
    git(path, "init", "-q", env=env)
    (path / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    (path / "model.py").write_text(MODEL, encoding="utf-8")
    git(path, "add", ".", env=env)
    return path


def pre_commit(repo: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def test_hook_of_this_repository(tmp_path: Path, hook_repo: Tuple[Path, str], env: Dict[str, str]) -> None:
    """README: `- repo: <this project>` with `id: flake8-ddp-unused`."""
    path, rev = hook_repo
    config = textwrap.dedent(f"""\
        repos:
          - repo: {path.as_posix()}
            rev: {rev}
            hooks:
              - id: flake8-ddp-unused
        """)
    repo = user_repo(tmp_path / "user", config, env)
    proc = pre_commit(repo, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "flake8-ddp-unused" in output and "Failed" in output
    assert "model.py:8:9: DDP001 self.pooler in Net gets no gradient: unused in forward()" in output

    (repo / "model.py").write_text(FIXED, encoding="utf-8")
    proc = pre_commit(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def readme_hook(root: Path, hook_id: str, path: Path) -> str:
    """The README's `repo: local` configuration for ``hook_id``, with this checkout's path filled in."""
    from .test_docs import fenced

    readme = (root / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in fenced(readme, "yaml") if "repo: local" in b and f"id: {hook_id}\n" in b]
    return block.replace("/path/to/flake8-ddp-unused", path.as_posix())


def test_flake8_hook_with_the_plugin_as_additional_dependency(
        tmp_path: Path, root: Path, hook_repo: Tuple[Path, str], env: Dict[str, str]) -> None:
    """README's flake8 route: flake8 as a local hook with the checkout as additional dependency."""
    path, _ = hook_repo
    repo = user_repo(tmp_path / "user", readme_hook(root, "flake8", path), env)
    proc = pre_commit(repo, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "model.py:8:9: DDP001 self.pooler in Net" in output

    (repo / "model.py").write_text(FIXED, encoding="utf-8")
    proc = pre_commit(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_local_standalone_hook_keeps_excludes(
        tmp_path: Path, root: Path, hook_repo: Tuple[Path, str], env: Dict[str, str]) -> None:
    """README's standalone route as a local hook: pre-commit names every file, --force-exclude keeps the
    configured excludes; the finding in model.py fails the hook, the excluded copy does not count."""
    path, _ = hook_repo
    repo = user_repo(tmp_path / "user", readme_hook(root, "flake8-ddp-unused", path), env)
    (repo / "vendored").mkdir()
    (repo / "vendored" / "copy.py").write_text(MODEL, encoding="utf-8")
    (repo / "setup.cfg").write_text("[flake8]\nextend-exclude = vendored\n", encoding="utf-8")
    git(repo, "add", ".", env=env)
    proc = pre_commit(repo, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "model.py:8:9: DDP001 self.pooler in Net" in output and "vendored/copy.py" not in output

    (repo / "model.py").write_text(FIXED, encoding="utf-8")
    proc = pre_commit(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
