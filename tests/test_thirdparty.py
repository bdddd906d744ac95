"""Models built by installed packages: DDP203 for training code that drops their auxiliary outputs.

``tests/thirdparty/site/fakevision`` is a small package of our own that mimics torchvision's layout (star
re-exports in ``models/__init__.py``, ``__all__``, namedtuple / ``typing.NamedTuple`` outputs, registered
factories that pass ``aux_logits=True`` through ``**kwargs``, aux heads under
``if self.training and self.aux_logits``, a segmentation model returning an ``OrderedDict``). The linter
finds it on ``sys.path`` and reads it from disk; only the runtime test imports it.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Set

import pytest

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source

from .conftest import expected_findings

HERE = Path(__file__).resolve().parent
SITE = HERE / "thirdparty" / "site"
APP = HERE / "thirdparty" / "app" / "train_aux.py"
APPS = sorted((HERE / "thirdparty" / "app").glob("train_*.py"))


@pytest.fixture()
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """fakevision on sys.path, as if installed; fresh caches before and after."""
    monkeypatch.syspath_prepend(str(SITE))
    project.clear_cache()
    yield SITE
    project.clear_cache()


def _lint(source: str, path: Path) -> List[Any]:
    return analyze_source(source, str(path))


@pytest.mark.parametrize("path", APPS, ids=lambda p: p.name)
def test_app_expectations(site: Path, path: Path) -> None:
    findings = _lint(path.read_text(encoding="utf-8"), path)
    assert {(f.line, f.code) for f in findings} == expected_findings(path), [f.message for f in findings]


def test_training_code_dropping_aux_outputs(site: Path) -> None:
    findings = _lint(APP.read_text(encoding="utf-8"), APP)
    got = {(f.line, f.code) for f in findings}
    assert got == expected_findings(APP), "\n".join(f"{f.line}:{f.col} {f.message}" for f in findings)
    first = next(f for f in findings if f.line == 11)
    assert "self.aux1, self.aux2 in AuxNet" in first.message
    assert ".aux_logits2, .aux_logits1" in first.message
    assert "aux_logits=False" in first.message and "find_unused_parameters=True" in first.message


def test_unpacked_parts_are_named_by_field(site: Path) -> None:
    finding = next(f for f in _lint(APP.read_text(encoding="utf-8"), APP) if f.line == 18)
    assert "[1] (aux_logits2), [2] (aux_logits1)" in finding.message


def test_nothing_without_the_package_on_sys_path() -> None:
    project.clear_cache()
    assert _lint(APP.read_text(encoding="utf-8"), APP) == []


@pytest.mark.parametrize("build, expect", [
    ("auxnet(aux_logits=True)", True),
    ("auxnet()", True),  # AuxNet.__init__ defaults to aux_logits=True
    ("auxnet(aux_logits=False)", False),
    ("auxnet(**cfg)", False),  # unknown flags: the class-level analysis cannot tell the structure
    ("auxnet(weights=None, aux_logits=True).to('cpu')", True),
    ("models.auxnet(aux_logits=True, num_classes=5)", True),
])
def test_factory_flags(site: Path, tmp_path: Path, build: str, expect: bool) -> None:
    source = textwrap.dedent(f"""\
        import torch.nn.functional as F
        from fakevision import models
        from fakevision.models import auxnet

        def train(x, y, cfg):
            model = {build}
            out = model(x)
            F.cross_entropy(out.logits, y).backward()
        """)
    path = tmp_path / "train.py"
    codes = [f.code for f in _lint(source, path)]
    assert codes == (["DDP203"] if expect else [])


def test_star_import_honours_all(site: Path, tmp_path: Path) -> None:
    """``_private_builder`` is not exported by ``from .twohead import *`` (no ``__all__``, leading ``_``),
    ``AuxNet`` is (listed in ``__all__``)."""
    importer = tmp_path / "x.py"
    importer.write_text("", encoding="utf-8")
    from flake8_ddp_unused.index import FileIndex

    index = FileIndex(ast.parse(""), [], str(importer))
    assert project.resolve_class(index, "fakevision.models.AuxNet", installed=True) is not None
    assert project.resolve_class(index, "fakevision.models.AuxNet") is None  # only when asked for
    assert project.resolve_function(index, "fakevision.models.auxnet", installed=True) is not None
    assert project.resolve_function(index, "fakevision.models._private_builder", installed=True) is None
    assert project.resolve_function(index, "fakevision.models.segmentation.segnet", installed=True) is not None


def test_project_model_with_a_named_tuple_output(tmp_path: Path) -> None:
    """The namedtuple record also serves models of the user's own project."""
    (tmp_path / "net.py").write_text(textwrap.dedent("""\
        import collections
        import torch.nn as nn

        Out = collections.namedtuple("Out", "logits aux")

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(4, 4)
                self.aux_head = nn.Linear(4, 2)

            def forward(self, x):
                h = self.body(x)
                return Out(h, aux=self.aux_head(h))
        """), encoding="utf-8")
    train = tmp_path / "train.py"
    source = textwrap.dedent("""\
        import torch.nn.functional as F
        from net import Net

        def step(x, y):
            model = Net()
            out = model(x)
            F.cross_entropy(out.logits, y).backward()

        def step_index(x, y):
            model = Net()
            logits, aux = model(x)
            F.cross_entropy(logits, y).backward()
        """)
    project.clear_cache()
    findings = _lint(source, train)
    assert [(f.line, f.code) for f in findings] == [(6, "DDP203"), (11, "DDP203")]
    assert all("self.aux_head in Net" in f.message for f in findings)


def test_ordinary_files_never_search_installed_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only a training or launch site that needs its model's class looks at sys.path."""
    calls: List[str] = []
    real = project.find_installed

    def counting(module: str):  # type: ignore[no-untyped-def]
        calls.append(module)
        return real(module)

    monkeypatch.setattr(project, "find_installed", counting)
    project.clear_cache()
    source = textwrap.dedent("""\
        import torch.nn as nn
        import torchvision
        from timm.layers import Mlp

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = torchvision.models.resnet18()
                self.mlp = Mlp(4)
                self.unused = nn.Linear(4, 4)

            def forward(self, x):
                return self.mlp(self.backbone(x))
        """)
    codes = [f.code for f in _lint(source, tmp_path / "model.py")]
    assert codes == ["DDP001"]
    assert calls == []


def test_through_the_flake8_executable(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", str(APP)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {(int(m.group(1)), m.group(2)) for m in re.finditer(r":(\d+):\d+: (DDP\d+) ", proc.stdout)}
    assert got == expected_findings(APP), proc.stdout


# ---------------------------------------------------------------------------------------------
# Ground truth: run every training function on CPU with the real fakevision models
# ---------------------------------------------------------------------------------------------
def _load_app(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"thirdparty_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_functions(path: Path) -> Dict[str, range]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: range(node.lineno, (node.end_lineno or node.lineno) + 1) for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("train")}


CLASSES = {"train_named_tuple_class": 3, "train_segmentation_aux": 4, "train_segmentation_both": 4,
           "train_segmentation_plain": 4, "train_passed_heads_aux": 4, "train_passed_heads_default": 4,
           "train_distilled_default": 3, "train_distilled_logits_only": 3, "train_distilled_both": 3}
FACTORIES = ("auxnet", "twohead", "segnet", "passed_seg", "distilled_tiny")


@pytest.mark.parametrize("path", APPS, ids=lambda p: p.name)
def test_findings_match_runtime_gradients(site: Path, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    torch = pytest.importorskip("torch")
    for name in [m for m in sys.modules if m == "fakevision" or m.startswith("fakevision.")]:
        monkeypatch.delitem(sys.modules, name)
    app = _load_app(path)
    built: List[Any] = []

    def recording(factory: Callable[..., Any]) -> Callable[..., Any]:
        def build(*args: Any, **kwargs: Any) -> Any:
            built.append(factory(*args, **kwargs))
            return built[-1]
        return build

    for factory in FACTORIES:
        if hasattr(app, factory):
            monkeypatch.setattr(app, factory, recording(getattr(app, factory)))
    if hasattr(app, "models"):
        monkeypatch.setattr(app, "models", SimpleNamespace(auxnet=recording(app.models.auxnet)))

    findings = _lint(path.read_text(encoding="utf-8"), path)
    torch.manual_seed(0)
    for name, lines in _train_functions(path).items():
        built.clear()
        x = torch.randn(4, 8)
        y = torch.randint(0, CLASSES.get(name, 10), (4,))
        getattr(app, name)(x, y)
        model = built[-1]
        no_grad: Set[str] = {p_name.split(".")[0] for p_name, p in model.named_parameters()
                             if p.requires_grad and p.grad is None}
        reported: Set[str] = set()
        for f in findings:
            if f.line in lines:
                reported |= set(re.findall(r"self\.(\w+)", f.attr))
        assert reported == no_grad, (name, reported, no_grad)
