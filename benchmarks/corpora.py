"""Real-world corpora for the benchmarks: fetched with ``pip download --no-deps`` and unpacked.

Wheels and sdists carry the sources; nothing is installed. Everything lands in ``benchmarks/corpora/``
(git-ignored). Versions are pinned so that the figures in RESULTS.md can be reproduced.
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpora"
DOWNLOADS = CORPORA / "dl"
SOURCES = CORPORA / "src"


@dataclass(frozen=True)
class Corpus:
    name: str
    requirement: str  # what pip downloads
    archive_prefix: str  # start of the downloaded file's name
    subdir: str  # the part of the unpacked sources that is linted


CORPUS_LIST: List[Corpus] = [
    Corpus("torchvision", "torchvision==0.29.1", "torchvision-", "torchvision/models"),
    Corpus("timm", "timm==1.0.31", "timm-", "timm"),
    Corpus("fastNLP", "fastNLP==1.0.1", "FastNLP-", "FastNLP-1.0.1/fastNLP"),
    Corpus("transformers", "transformers==5.24.0", "transformers-", "transformers/models"),
]
CORPUS_BY_NAME: Dict[str, Corpus] = {c.name: c for c in CORPUS_LIST}


def _archive(corpus: Corpus) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    version = corpus.requirement.split("==")[1]
    for path in sorted(DOWNLOADS.iterdir()):
        if path.name.startswith(corpus.archive_prefix + version):
            return path
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DOWNLOADS),
                    corpus.requirement], check=True)
    return _archive(corpus)


def unpack_python_sources(archive: Path, root: Path) -> None:
    """Only the ``.py`` files of a wheel or an sdist, unpacked under ``root``."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root, [m for m in zf.namelist() if m.endswith(".py")])
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(root, [m for m in tf.getmembers() if m.name.endswith(".py") and m.isfile()])


def corpus_path(name: str) -> Path:
    """The directory to lint for a corpus, downloading and unpacking it on first use."""
    corpus = CORPUS_BY_NAME[name]
    root = SOURCES / name
    target = root / corpus.subdir
    if target.is_dir():
        return target
    archive = _archive(corpus)
    root.mkdir(parents=True, exist_ok=True)
    unpack_python_sources(archive, root)
    if not target.is_dir():
        raise RuntimeError(f"{archive.name} has no {corpus.subdir}")
    return target


def python_files(path: Path) -> List[Path]:
    return sorted(p for p in path.rglob("*.py") if p.is_file())


def count_lines(paths: List[Path]) -> int:
    return sum(p.read_bytes().count(b"\n") for p in paths)


if __name__ == "__main__":
    for c in CORPUS_LIST:
        p = corpus_path(c.name)
        files = python_files(p)
        print(f"{c.name:13} {len(files):5} files {count_lines(files):8} lines  {p}")
