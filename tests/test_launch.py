"""Launch-site checks (DDP2xx): fixtures per framework, multi-file projects, the cache, real signatures."""
from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path
from typing import List

import pytest

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused.skips import SKIP_CODE
from flake8_ddp_unused.launch_rules import LAUNCH_RULES
from flake8_ddp_unused.registry import rules_by_code

from .conftest import expected_findings

HERE = Path(__file__).resolve().parent
LAUNCH = HERE / "launch"
PROJECTS = HERE / "projects"


def _files(root: Path) -> List[Path]:
    return sorted(p for p in root.rglob("*.py") if not p.name.startswith("_") or p.name == "__init__.py")


@pytest.mark.parametrize("path", _files(LAUNCH) + _files(PROJECTS), ids=lambda p: str(p.relative_to(HERE)))
def test_launch_fixture(path: Path) -> None:
    project.clear_cache()
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    got = {(f.line, f.code) for f in findings if f.code != SKIP_CODE}  # skip records are not findings
    assert got == expected_findings(path), "\n".join(f"{f.line}:{f.col} {f.text}" for f in findings)


def test_newcomer_fastnlp_script_gets_one_finding_with_the_exact_fix() -> None:
    path = PROJECTS / "fastnlp_app" / "app" / "train.py"
    findings = [f for f in analyze_source(path.read_text(), str(path)) if f.line == 8 and f.code != SKIP_CODE]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.code == "DDP201" and finding.col == 14
    assert "self.unused_head in Net" in finding.message
    assert 'torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}' in finding.message


def test_unresolvable_and_clean_models_are_silent() -> None:
    source = (
        "from fastNLP import Trainer\nfrom somewhere_else import Net\n"
        "Trainer(model=Net(), driver='torch', device=[0, 1], train_dataloader=None, optimizers=None)\n"
    )
    assert [f for f in analyze_source(source, "<string>") if f.code != SKIP_CODE] == []


def test_each_project_file_is_parsed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    project.clear_cache()
    calls = []
    real = project.ast.parse

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("filename"))
        return real(*args, **kwargs)

    monkeypatch.setattr(project.ast, "parse", counting)
    path = PROJECTS / "fastnlp_app" / "app" / "train.py"
    for _ in range(3):
        analyze_source(path.read_text(), str(path))
    models = str(PROJECTS / "fastnlp_app" / "app" / "models.py")
    assert calls.count(models) == 1
    first = project.load_index(models)
    assert project.load_index(models) is first


def test_cache_notices_a_changed_file(tmp_path: Path) -> None:
    project.clear_cache()
    target = tmp_path / "m.py"
    target.write_text("class A: pass\n")
    first = project.load_index(str(target))
    target.write_text("class A: pass\nclass B: pass\n")
    os.utime(target, ns=(1, 1))
    second = project.load_index(str(target))
    assert first is not second and second is not None and "B" in second.classes


def test_package_root_and_module_name() -> None:
    root, name = project.package_root(str(PROJECTS / "fastnlp_app" / "app" / "models.py"))
    assert root == str(PROJECTS / "fastnlp_app") and name == "app.models"


def test_launch_rules_are_documented_and_unique() -> None:
    codes = [rule.code for rule in LAUNCH_RULES]
    assert codes == sorted(set(codes)) and all(code.startswith("DDP2") for code in codes)
    for rule in LAUNCH_RULES:
        assert rule.summary and rule.why and rule.example and rule.use_instead and rule.known_limits
        assert rule.fix_safety
        assert rules_by_code()[rule.code] is rule


# ---- the keyword names and defaults the checks rely on, against the real signatures ----------------
def test_torch_signatures() -> None:
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.checkpoint import checkpoint

    params = inspect.signature(DistributedDataParallel.__init__).parameters
    assert list(params)[1] == "module"
    assert params["find_unused_parameters"].default is False
    assert params["static_graph"].default is False
    # torch 2.13: use_reentrant=None still means reentrant (DDP204)
    assert inspect.signature(checkpoint).parameters["use_reentrant"].default is None
    assert "use_reentrant = True" in inspect.getsource(checkpoint)


def test_fastnlp_signatures() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastnlp = pytest.importorskip("fastNLP")
        from fastNLP.core.drivers.torch_driver.ddp import TorchDDPDriver
        from fastNLP.core.drivers.torch_driver.initialize_torch_driver import initialize_torch_driver
        from fastNLP.core.utils import auto_param_call
    params = inspect.signature(fastnlp.Trainer.__init__).parameters
    assert list(params)[1:6] == ["model", "train_dataloader", "optimizers", "driver", "device"]
    assert params["driver"].default == "auto" and params["device"].default == "cpu"
    assert params["model_wo_auto_param_call"].default is False
    assert inspect.Parameter.VAR_KEYWORD in {p.kind for p in params.values()}  # torch_kwargs goes through **kwargs
    driver_init = inspect.getsource(TorchDDPDriver.__init__)
    assert 'self._torch_kwargs.get("ddp_kwargs", {})' in driver_init
    assert "**self._fsdp_kwargs" in inspect.getsource(TorchDDPDriver.configure_ddp)
    # a list of devices (or -1) makes the torch driver start DDP
    init_src = inspect.getsource(initialize_torch_driver)
    assert "return TorchDDPDriver(model, device, **kwargs)" in init_src and "device != -1" in init_src
    # model_wo_auto_param_call only changes how the batch is passed
    call_src = inspect.getsource(TorchDDPDriver.model_call)
    assert "not self.wo_auto_param_call" in call_src and "auto_param_call(fn, batch" in call_src

    def forward(x, labels=None):  # type: ignore[no-untyped-def]
        return labels

    assert auto_param_call(forward, {"x": 1}) is None  # a missing field silently takes the default
