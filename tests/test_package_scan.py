"""A package's text is read once for all the judges that need names from its every file (issue 12's cost).

``project_calls`` (method names called), ``eval_only`` (files writing ``Name(``) and ``inference_only`` (files
naming each class) used to read the whole package each for its own index, so the first linted file with a
finding paid for several reads of it (about 3 s on transformers). These tests count the reads instead of
timing them, and check that the shared index answers exactly what each reader's own pattern finds.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from flake8_ddp_unused import package_text, project
from flake8_ddp_unused.lint import analyze_source

PACKAGE = Path(__file__).resolve().parent / "projects" / "inference_pkg" / "ipkg"


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter]:
    """How many times each package scope is read whole."""
    counts: Counter = Counter()
    original = package_text.package_texts

    def counting(scope: str) -> Iterator[Tuple[str, bytes]]:
        counts[scope] += 1
        return original(scope)

    monkeypatch.setattr(package_text, "package_texts", counting)
    project.clear_cache()
    yield counts
    project.clear_cache()


def _lint(path: Path) -> List[str]:
    return [f"{f.line}:{f.code}" for f in analyze_source(path.read_text(), str(path))]


def test_the_package_is_read_once_for_every_judge(reads: Counter) -> None:
    findings = _lint(PACKAGE / "models.py")
    assert findings  # the file has findings, so eval_only and inference_only are both asked
    scope = package_text.package_scope(str(PACKAGE / "models.py"))
    assert set(reads) == {scope}
    # one read for the method names, the constructions and the class definitions, and one for the
    # words naming each defined class (they need every defined class first); before: four reads
    assert reads[scope] == 2
    text = package_text.scan(scope)
    assert text.naming is not None and text.constructed and text.method_calls
    for other in sorted(PACKAGE.glob("*.py")):
        _lint(other)
    assert reads[scope] == 2  # the other files of the package read nothing again


def test_a_file_without_findings_reads_the_package_once(reads: Counter, tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "net.py").write_text(
        "import torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(2, 2)\n\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n")
    assert _lint(pkg / "net.py") == []
    assert reads == Counter({str(pkg): 1})  # the method names only: no second read for class names


def _reference(scope: str) -> Dict[str, object]:
    """Each reader's index as its own regex found it before the shared scan."""
    call = re.compile(rb"(?<!\bself)\.\s*([A-Za-z_]\w*)\s*\(")
    called = re.compile(rb"\b([A-Z]\w*)\s*\(")
    class_def = re.compile(rb"^[ \t]*class[ \t]+([A-Za-z_]\w*)", re.M)
    word = re.compile(rb"[A-Za-z_]\w*")
    texts = list(package_text.package_texts(scope))
    calls = {m.decode() for _, data in texts for m in call.findall(data)}
    constructed: Dict[str, List[str]] = {}
    defined = set()
    for path, data in texts:
        for name in set(called.findall(data)):
            constructed.setdefault(name.decode(), []).append(path)
        defined.update(class_def.findall(data))
    naming: Dict[str, List[str]] = {}
    for path, data in texts:
        for name in defined.intersection(word.findall(data)):
            naming.setdefault(name.decode(), []).append(path)
    return {"calls": calls, "constructed": constructed, "naming": naming}


def test_the_shared_index_finds_what_each_pattern_finds(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import Encoder as Encoder\n")
    (pkg / "a.py").write_text(
        "class Encoder:\n    pass\n\n\n"
        "  class  Indented :  pass\n"
        "x = 1; class_ = 2\n"
        "subclass Fake\n"
        "class D: pass\n"
        "m = model.get_probs (x)\nself.own()\nmyself.other(y)\nobj . spaced\t(1)\n")
    (pkg / "b.py").write_text(
        "e = Encoder (1)\nz = Indented\n(2)\nnot_a_Class(3)\nhex_ = 0x3D + 3D\nTrainingArguments\n"
        "s = '''Encoder2(x)'''\n")
    scope = str(pkg)
    project.clear_cache()
    text = package_text.scan(scope)
    want = _reference(scope)
    assert text.method_calls == want["calls"] and "get_probs" in text.method_calls and "own" not in text.method_calls
    assert text.constructed == want["constructed"] and "Indented" in text.constructed
    assert package_text.naming(scope) == want["naming"]
    assert package_text.naming(scope)["D"] == [str(pkg / "a.py"), str(pkg / "b.py")]  # `3D` names D
    assert text.hf_trainer
