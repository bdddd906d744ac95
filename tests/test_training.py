"""Training code across functions and files (issue 13): the model as a value, loss code, callers'
optional arguments, the fastNLP seed recipe, names in any scope."""
from __future__ import annotations

import ast
import inspect
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import List

import pytest
import torch
from torch import nn

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused.skips import SKIP_CODE
from flake8_ddp_unused import callsites

from .conftest import expected_findings

HERE = Path(__file__).resolve().parent
TRAINING = HERE / "training"


def _files() -> List[Path]:
    return sorted(p for p in TRAINING.rglob("*.py") if not any(part.startswith("_") and part != "__init__.py"
                                                               for part in p.relative_to(TRAINING).parts))


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(TRAINING)))
def test_training_fixture(path: Path) -> None:
    project.clear_cache()
    callsites.clear_cache()
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    got = {(f.line, f.code) for f in findings}
    assert got == expected_findings(path), "\n".join(f"{f.line}:{f.col} {f.text}" for f in findings)


def _finding(path: Path, code: str):  # type: ignore[no-untyped-def]
    project.clear_cache()
    callsites.clear_cache()
    return next(f for f in analyze_source(path.read_text(), str(path)) if f.code == code)


def test_messages_name_the_culprit_the_condition_and_the_fix() -> None:
    box = _finding(TRAINING / "detector_loss.py", "DDP207")
    assert "self.box_head in Detector" in box.message and "num_pos > 0" in box.message
    assert "find_unused_parameters=True" in box.message
    mlm = _finding(TRAINING / "distillation.py", "DDP203")
    assert ".mlm_logits" in mlm.message and "self.mlm_head in Student" in mlm.message
    launch = _finding(TRAINING / "detr_app" / "main.py", "DDP201")
    assert "self.aux_class_embed in TinyDETR" in launch.message
    labels = _finding(TRAINING / "optional_labels.py", "DDP208")
    assert "batch.get('labels')" in labels.message and "self.label_proj in Tagger" in labels.message
    accelerate = _finding(TRAINING / "accelerate_in_main.py", "DDP201")
    assert "DistributedDataParallelKwargs(find_unused_parameters=True)" in accelerate.message


def test_seed_recipe_message_says_what_fastnlp_does() -> None:
    finding = _finding(TRAINING / "seed_recipe.py", "DDP206")
    assert "fails at once (no process group yet)" in finding.message and "forward, not train_step" in finding.message
    assert 'torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}' in finding.message
    # with its own process group the script gets the forward-instead-of-train_step outcome
    source = (TRAINING / "seed_recipe.py").read_text().replace(
        "    model = TextClassifier()\n    model = Distributed",
        "    torch.distributed.init_process_group('gloo')\n    model = TextClassifier()\n    model = Distributed")
    found = [f for f in analyze_source(source, str(TRAINING / "seed_recipe.py")) if f.code == "DDP206"]
    assert len(found) == 1 and "TextClassifier has no forward, so training fails" in found[0].message, found
    forward = "    def forward(self, batch):\n        return batch\n\n"
    with_forward = source.replace("    def train_step(self, batch):", forward + "    def train_step(self, batch):")
    found = [f for f in analyze_source(with_forward, "<string>") if f.code == "DDP206"]
    assert len(found) == 1 and "calls TextClassifier.forward, not TextClassifier.train_step" in found[0].message
    assert not any(f.code in ("DDP201", "DDP202") for f in analyze_source(source, "<string>"))


def test_project_files_are_parsed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    project.clear_cache()
    callsites.clear_cache()
    calls = []
    real = project.ast.parse

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("filename"))
        return real(*args, **kwargs)

    monkeypatch.setattr(project.ast, "parse", counting)
    app = TRAINING / "detr_app"
    for path in [app / "main.py", app / "detr" / "engine.py", app / "main.py", app / "detr" / "engine.py"]:
        analyze_source(path.read_text(), str(path))
    named = [name for name in calls if name is not None]  # None: analyze_source parsing the linted text
    assert named and all(named.count(name) == 1 for name in named), calls


def test_names_in_any_scope() -> None:
    source = (
        "import torch\n"
        "def main():\n"
        "    from accelerate import Accelerator\n"
        "    import torch.nn as nn\n"
        "    class Net(nn.Module):\n"
        "        def __init__(self):\n"
        "            super().__init__()\n"
        "            self.a = nn.Linear(2, 2)\n"
        "            self.b = nn.Linear(2, 2)\n"
        "        def forward(self, x):\n"
        "            return self.a(x)\n"
        "    accelerator = Accelerator()\n"
        "    model = accelerator.prepare(Net())\n"
    )
    assert {(f.line, f.code) for f in analyze_source(source)} == {(9, "DDP001"), (12, "DDP201")}


def test_a_dynamic_model_stays_silent() -> None:
    source = (
        "import torch, torchvision\n"
        "def train_one_epoch(model, criterion, loader):\n"
        "    for x, y in loader:\n"
        "        out = model(x)\n"
        "        criterion(out[0], y).backward()\n"
        "def main(args, loader):\n"
        "    model = torchvision.models.__dict__[args.model]()\n"
        "    model = torch.nn.parallel.DistributedDataParallel(model)\n"
        "    train_one_epoch(model, torch.nn.CrossEntropyLoss(), loader)\n"
    )
    # Only the skip record (DDP998, off by default) that says why the launch site was not judged.
    assert [f.code for f in analyze_source(source)] == [SKIP_CODE]


# ---- task or mode arguments the training step passes --------------------------------------------------
MODE_MODEL = """\
import torch
from torch import nn


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.ner = nn.Linear(4, 2)
        self.pos = nn.Linear(4, 2)

    def forward(self, x, task):
        h = self.body(x)
        if task == "ner":
            return self.ner(h)
        elif task == "pos":
            return self.pos(h)
        raise ValueError(task)


"""
MODE_STEPS = {
    # the task comes with the batch: per batch, the model-side DDP101 stays on both heads
    "per_batch": "def train(model, loader):\n"
                 "    for x, task in loader:\n"
                 "        model(x, task).sum().backward()\n",
    # both tasks in one backward pass: every head is trained, the DDP101 is settled
    "both_literal": "def train(model, loader):\n"
                    "    for x, task in loader:\n"
                    "        (model(x, 'ner').sum() + model(x, 'pos').sum()).backward()\n",
    # one literal task per backward pass: each pass leaves the other head without gradient, nothing settled
    "two_backwards": "def train(model, loader):\n"
                     "    for x, task in loader:\n"
                     "        model(x, 'ner').sum().backward()\n"
                     "        model(x, 'pos').sum().backward()\n",
    # only one task ever: the other head never gets a gradient (DDP203 on the call)
    "one_literal": "def train(model, loader):\n"
                   "    for x, task in loader:\n"
                   "        model(x, 'ner').sum().backward()\n",
}
MODE_LAUNCH = "\n\ndef main(loader):\n    train(torch.nn.parallel.DistributedDataParallel(MultiTask()), loader)\n"


def _mode_runtime(step: str) -> List[set]:
    """Parameters without gradient after each backward pass of the step, over batches of both tasks."""
    namespace: dict = {}
    exec(compile(MODE_MODEL + MODE_STEPS[step], "<mode>", "exec"), namespace)  # noqa: S102 - the test's own code
    torch.manual_seed(0)
    model = namespace["MultiTask"]()
    missing: List[set] = []
    real_backward = torch.Tensor.backward

    def backward(tensor, *args, **kwargs):  # type: ignore[no-untyped-def]
        model.zero_grad(set_to_none=True)
        real_backward(tensor, *args, **kwargs)
        missing.append({n.split(".")[0] for n, p in model.named_parameters() if p.grad is None})

    torch.Tensor.backward = backward  # type: ignore[method-assign]
    try:
        namespace["train"](model, [(torch.randn(2, 4), "ner"), (torch.randn(2, 4), "pos")])
    finally:
        torch.Tensor.backward = real_backward  # type: ignore[method-assign]
    return missing


def _line(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), start=1) if text in line)


@pytest.mark.parametrize("step, runtime, found", [
    ("per_batch", [{"pos"}, {"ner"}], {"self.ner": "DDP101", "self.pos": "DDP101", "DataParallel": "DDP201"}),
    ("both_literal", [set(), set()], {}),
    ("two_backwards", [{"pos"}, {"ner"}, {"pos"}, {"ner"}],
     {"self.ner": "DDP101", "self.pos": "DDP101", "DataParallel": "DDP201"}),
    ("one_literal", [{"pos"}, {"pos"}], {"model(x, 'ner')": "DDP203", "DataParallel": "DDP201"}),
])
def test_literal_modes_decide_the_branches(step: str, runtime: List[set], found: dict) -> None:
    assert _mode_runtime(step) == runtime
    source = MODE_MODEL + MODE_STEPS[step] + MODE_LAUNCH
    project.clear_cache()
    findings = analyze_source(source)
    expected = {(_line(source, text), code) for text, code in found.items()}
    assert {(f.line, f.code) for f in findings} == expected, [f.text for f in findings]
    if step == "one_literal":
        message = next(f.message for f in findings if f.code == "DDP203")
        assert "only with task='ner'" in message and "self.pos in MultiTask" in message
        assert "self.ner" not in message and "self.ner" not in next(f.message for f in findings if f.code == "DDP201")


# ---- the seed's recipe, against fastNLP 1.0.1's own code -------------------------------------------
def _fastnlp_ddp():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastnlp = pytest.importorskip("fastNLP")
        from fastNLP.core.drivers.torch_driver.ddp import TorchDDPDriver
    assert fastnlp.__version__ == "1.0.1"
    return TorchDDPDriver


def test_recipe_under_python_the_wrapper_fails_without_a_process_group() -> None:
    import torch.distributed as dist

    assert not dist.is_initialized()
    with pytest.raises((RuntimeError, ValueError), match="process group"):
        torch.nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_recipe_fastnlp_keeps_an_outside_wrapper_and_calls_forward() -> None:
    driver = _fastnlp_ddp()
    init = inspect.getsource(driver.__init__)
    # an initialised process group plus a DistributedDataParallel model: accepted as the user's own DDP
    assert "if dist.is_initialized()" in init and "isinstance(model, DistributedDataParallel)" in init
    assert "self.outside_ddp = True" in init
    # configure_ddp does not wrap again, so fastNLP's train_step-calling wrapper is never installed
    configure = inspect.getsource(driver.configure_ddp)
    assert "if not isinstance(self.model, DistributedDataParallel):" in configure
    assert "_DDPWrappingModel" in configure

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return {"loss": self.lin(x).sum()}

        def train_step(self, x):  # type: ignore[no-untyped-def]
            raise AssertionError("fastNLP calls forward for an outside DDP wrapper")

    model = Model()
    wrapped = SimpleNamespace(module=model)
    fake = SimpleNamespace(_has_ddpwrapped=False, model=wrapped, unwrap_model=lambda: model)
    call_target, fn = driver.get_model_call_fn(fake, "train_step")  # the driver's own method
    assert call_target is wrapped and fn == model.forward  # forward, not train_step (a warning is logged)
    # model_wo_auto_param_call only decides how the batch is passed
    model_call = inspect.getsource(driver.model_call)
    assert "wo_auto_param_call" in model_call and "find_unused" not in model_call


def test_recipe_fix_reaches_distributed_data_parallel() -> None:
    driver = _fastnlp_ddp()
    init = inspect.getsource(driver.__init__)
    assert 'self._fsdp_kwargs = self._torch_kwargs.get("ddp_kwargs", {})' in init
    assert "**self._fsdp_kwargs" in inspect.getsource(driver.configure_ddp)


def test_recipe_finding_has_no_autofix_and_the_fixed_script_is_silent() -> None:
    path = TRAINING / "seed_recipe.py"
    tree = ast.parse(path.read_text())
    fixed = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "fixed")
    findings = analyze_source(path.read_text(), str(path))
    assert not any(fixed.lineno <= f.line <= fixed.end_lineno for f in findings)  # type: ignore[operator]
    assert not next(f for f in findings if f.code == "DDP206").fixable


def test_unresolved_launch_sites_are_recorded_with_the_reason() -> None:
    from flake8_ddp_unused.analyzer import FileAnalysis
    from flake8_ddp_unused.index import FileIndex
    from flake8_ddp_unused.launch import LaunchChecker
    from flake8_ddp_unused.settings import Settings

    source = (
        "import torch, torchvision\n"
        "def main(args):\n"
        "    model = torchvision.models.__dict__[args.model]()\n"
        "    model.to(args.gpu)\n"
        "    model = torch.nn.parallel.DistributedDataParallel(model)\n"
        "def wrap(model):\n"
        "    return torch.nn.parallel.DistributedDataParallel(model)\n"
        "def known():\n"
        "    return torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))\n"
    )
    index = FileIndex(ast.parse(source), source.splitlines(True), "<string>")
    checker = LaunchChecker(FileAnalysis(index, Settings()))
    assert checker.run() == []
    assert sorted(checker.skipped) == [
        (5, "launch site torch.nn.parallel.DistributedDataParallel(...)",
         "its model is chosen at run time (torchvision.models.__dict__[args.model])"),
        (7, "launch site torch.nn.parallel.DistributedDataParallel(...)",
         "its model is the parameter model of wrap(), whose callers do not decide it"),
        (9, "launch site torch.nn.parallel.DistributedDataParallel(...)",
         "its model (torch.nn.Linear(2, 2)) is not a module class the linter can read"),
    ]


def test_unresolved_launch_sites_are_listed_by_verbose_and_json(tmp_path, capsys, monkeypatch) -> None:
    """Dynamic launch sites stay silent by default but the standalone's --verbose and JSON name them."""
    import json

    from flake8_ddp_unused.cli import main as cli_main

    (tmp_path / "train.py").write_text(
        "import torch, torchvision\n"
        "def main(args):\n"
        "    model = torchvision.models.__dict__[args.model]()\n"
        "    model = torch.nn.parallel.DistributedDataParallel(model)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli_main(["--isolated", "train.py"]) == 0
    assert capsys.readouterr().out == ""
    assert cli_main(["--isolated", "--verbose", "train.py"]) == 0
    assert ("train.py:4: skipped launch site torch.nn.parallel.DistributedDataParallel(...): its model is chosen "
            "at run time (torchvision.models.__dict__[args.model])") in capsys.readouterr().err
    assert cli_main(["--isolated", "--verbose", "--format", "json", "train.py"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(s["line"], s["subject"]) for s in report["skipped"]] == [
        (4, "launch site torch.nn.parallel.DistributedDataParallel(...)")]


def test_backward_helper_through_flake8() -> None:
    """open_clip's loop hands its loss to ``backward(total_loss, scaler)``: through the real flake8, the loop is
    training code (DDP203 on the model call) and the launch names the culprit (DDP201); the negative loop that
    keeps every output through a helper stays silent."""
    import subprocess
    import sys

    names = ["backward_helper.py", "negatives.py"]
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", *names], cwd=TRAINING,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {name: set() for name in names}
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got[Path(path).name].add((int(row), rest.split()[0]))
    for name in names:
        assert got[name] == expected_findings(TRAINING / name), (name, proc.stdout)
    assert (40, "DDP203") in got["backward_helper.py"]


_UNKNOWN_CRITERION = '''
import torch
from torch import nn
from lib import build_criterion


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return {"logits": self.head(self.body(x)), "feat": self.body(x)}


def train(loader, cfg):
    model = torch.nn.parallel.DistributedDataParallel(Net())
    criterion = build_criterion(cfg)
    for x, y in loader:
        loss = criterion(model(x), y)["loss"]
        loss.backward()
'''


def test_unknown_criterion_indexed_by_a_key_the_output_lacks_is_undecided() -> None:
    """``criterion(outputs)["loss"]`` with an unknown criterion: "loss" is not a key of the model's output (it
    used to crash the check with a KeyError, DDP999); nothing is decided, nothing is reported."""
    project.clear_cache()
    callsites.clear_cache()
    assert analyze_source(_UNKNOWN_CRITERION, "train.py") == []


_EARLY_RETURN = '''
import torch
import torch.nn.functional as F
from torch import nn


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.cls_head = nn.Linear(8, 3)
        self.box_head = nn.Linear(8, 4)

    def forward(self, x):
        h = self.body(x)
        return self.cls_head(h), self.box_head(h)


def detection_loss(outputs, labels, boxes):
    cls_logits, box_pred = outputs
    loss_cls = F.cross_entropy(cls_logits, labels)
    pos = labels > 0
    if pos.sum() == 0:
        return loss_cls
    return loss_cls + F.l1_loss(box_pred[pos], boxes[pos])


def train(loader):
    model = torch.nn.parallel.DistributedDataParallel(Detector())
    for x, labels, boxes in loader:
        loss = detection_loss(model(x), labels, boxes)
        loss.backward()
'''


def test_early_return_of_a_loss_function_is_a_per_batch_condition() -> None:
    """``if pos.sum() == 0: return loss_cls``: the box term is added only after the test fails."""
    project.clear_cache()
    callsites.clear_cache()
    found = [f for f in analyze_source(_EARLY_RETURN, "train.py") if f.code == "DDP207"]
    assert len(found) == 1 and "not (pos.sum() == 0)" in found[0].message and "self.box_head" in found[0].message
    always = _EARLY_RETURN.replace("        return loss_cls\n", "        return loss_cls + box_pred.sum() * 0\n")
    assert not [f for f in analyze_source(always, "train.py") if f.code in ("DDP207", "DDP201")]


def test_criterion_object_through_flake8() -> None:
    """A criterion object (plain class with ``__call__``) that skips scenes without boxes: through the real flake8,
    DDP207 on the model call and the launch names the box head (DDP201); the zero-weighted criterion and the loop
    that skips whole batches stay silent."""
    import subprocess
    import sys

    names = ["criterion_per_scene.py", "criterion_per_scene_negatives.py"]
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", *names], cwd=TRAINING,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {name: set() for name in names}
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got[Path(path).name].add((int(row), rest.split()[0]))
    for name in names:
        assert got[name] == expected_findings(TRAINING / name), (name, proc.stdout)
    assert got["criterion_per_scene.py"] == {(45, "DDP207"), (52, "DDP201")}
    assert "self.out_bboxes in SceneDecoder" in proc.stdout
