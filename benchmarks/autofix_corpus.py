"""The autofix on real training scripts (issue 12): each launch site rewired to a model with a culprit, then
fixed; the fixed file must be valid Python, idempotent, changed only on the launch call's lines (and an
added import), with flake8's E/W findings unchanged and no fixable finding left.

    python benchmarks/autofix_corpus.py          # a markdown table on stdout, one row per launch site
    python benchmarks/autofix_corpus.py timm     # some releases only (names as pip spells them)

The scripts come from PyPI releases that ship example or benchmark training scripts, fetched with
``pip download --no-deps`` into ``benchmarks/corpora/autofix/`` (git-ignored; nothing is committed).
Rewiring: a small module class with an unused submodule (``_CulpritNet``) is inserted after the file's
imports, and the launch call's model argument becomes ``_CulpritNet()``; everything else is the real
script. Each launch site of a script is one case.
"""
from __future__ import annotations

import ast
import difflib
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused.fixes import fix_source
from flake8_ddp_unused.settings import Settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpora import unpack_python_sources  # noqa: E402

ROOT = HERE / "corpora" / "autofix"
DOWNLOADS = ROOT / "dl"
SOURCES = ROOT / "src"


@dataclass(frozen=True)
class Source:
    requirement: str
    sdist: bool  # the scripts are only in the source distribution
    files: Tuple[str, ...]  # paths inside the unpacked release
    trainer_calls: Tuple[str, ...] = ()  # the plugin's `ddp-trainer-calls` option for this project
    pip_args: Tuple[str, ...] = ()  # extra `pip download` arguments


# fairseq 0.12.2 ships wheels for CPython <= 3.9 only (its sdist needs a build); the wheel holds the sources.
OLD_WHEEL = ("--only-binary=:all:", "--python-version", "3.8", "--platform", "manylinux1_x86_64")


IGNITE = "pytorch_ignite-0.5.5/examples/"
RELEASES: Tuple[Source, ...] = (
    Source("opacus==1.6.0", True, tuple(f"opacus-1.6.0/examples/{name}" for name in (
        "cifar10.py", "vision_benchmark.py", "mnist_lightning.py"))),
    # ignite's auto_model(model, **kwargs) wraps the model in DistributedDataParallel(model, **kwargs)
    Source("pytorch-ignite==0.5.5", True, tuple(IGNITE + name for name in (
        "cifar10/main.py", "cifar10_qat/main.py", "transformers/main.py", "references/classification/imagenet/main.py",
        "references/classification/imagenet/utils.py", "references/segmentation/pascal_voc2012/main.py",
        "references/segmentation/pascal_voc2012/utils.py")) + ("pytorch_ignite-0.5.5/assets/tldr/teaser.py",),
        ("ignite.distributed.auto_model",)),
    Source("fairscale==0.4.13", True, ("fairscale-0.4.13/benchmarks/moe.py", "fairscale-0.4.13/benchmarks/oss.py")),
    Source("yolov5==7.0.14", False, ("yolov5/train.py", "yolov5/segment/train.py", "yolov5/classify/train.py",
                                     "yolov5/utils/torch_utils.py")),
    # training code inside libraries: the trainers and training entry points users launch
    Source("timm==1.0.31", False, tuple(f"timm/task/{name}.py" for name in (
        "classification", "distillation", "token_distillation"))),
    Source("denoising-diffusion-pytorch==2.3.4", False, tuple(f"denoising_diffusion_pytorch/{name}.py" for name in (
        "denoising_diffusion_pytorch", "denoising_diffusion_pytorch_1d", "guided_diffusion", "repaint"))),
    Source("open-clip-torch==3.3.0", False, ("open_clip_train/main.py",)),
    Source("speechbrain==1.1.2", False, ("speechbrain/core.py", "speechbrain/inference/interfaces.py")),
    Source("FastNLP==1.0.1", True, tuple(f"FastNLP-1.0.1/fastNLP/core/drivers/torch_driver/{name}.py" for name in (
        "ddp", "fairscale"))),
    # the distributed training scripts accelerate ships for `accelerate test` (models trained with Accelerator)
    Source("accelerate==1.15.0", False, tuple(f"accelerate/test_utils/scripts/{name}.py" for name in (
        "test_script", "test_sync", "test_ddp_comm_hook", "test_merge_weights", "external_deps/test_checkpointing",
        "external_deps/test_performance", "external_deps/test_peak_memory_usage", "external_deps/test_metrics"))),
    Source("fairseq==0.12.2", False, tuple(f"fairseq/{name}.py" for name in (
        "models/distributed_fairseq_model", "distributed/module_proxy_wrapper")), pip_args=OLD_WHEEL),
)
LAUNCH_NAMES = {"DistributedDataParallel", "DDP", "auto_model", "prepare"}  # prepare: accelerate's
MODEL_KEYWORDS = ("module", "model")  # DistributedDataParallel(module=...), auto_model(model=...)
CULPRIT = '''import torch.nn as _culprit_nn


class _CulpritNet(_culprit_nn.Module):
    def __init__(self):
        super().__init__()
        self.used = _culprit_nn.Linear(2, 2)
        self.unused = _culprit_nn.Linear(2, 2)

    def forward(self, x):
        return self.used(x)
'''


def fetch(source: Source) -> Path:
    name = source.requirement.split("==")[0]
    root = SOURCES / name
    if not root.is_dir():
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DOWNLOADS), source.requirement]
        if source.sdist:
            cmd[4:4] = ["--no-binary", ":all:"]
        cmd[4:4] = list(source.pip_args)
        subprocess.run(cmd, check=True)
        stem = name.replace("-", "_").lower()
        archive = next(p for p in sorted(DOWNLOADS.iterdir())
                       if p.name.replace("-", "_").lower().startswith(stem + "_" + source.requirement.split("==")[1])
                       and (p.suffix == ".whl") != source.sdist)
        root.mkdir(parents=True)
        unpack_python_sources(archive, root)
    return root


def model_argument(call: ast.Call) -> ast.expr:
    if call.args:
        return call.args[0]
    return next(k.value for k in call.keywords if k.arg in MODEL_KEYWORDS)


def launch_calls(tree: ast.Module) -> List[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.args or any(k.arg in MODEL_KEYWORDS for k in node.keywords)):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in LAUNCH_NAMES:
                calls.append(node)
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def rewire(source: str, call: ast.Call, tree: ast.Module) -> Tuple[str, int]:
    """The script with the call's model argument replaced by `_CulpritNet()` and the class inserted after the
    top-level imports; returns the text and how many lines the insertion added before the call."""
    lines = source.splitlines(keepends=True)
    arg = model_argument(call)
    if getattr(call.func, "attr", "") == "prepare":  # accelerate's prepare(dataloader, model, optimizer, ...)
        models = [a for a in call.args if "model" in ast.unparse(a).lower()]
        if not models:
            raise ValueError("no model among the prepared objects")
        arg = models[0]
    line = lines[arg.lineno - 1].encode()
    if arg.lineno != arg.end_lineno:
        raise ValueError("multi-line model argument")
    lines[arg.lineno - 1] = (line[:arg.col_offset] + b"_CulpritNet()" + line[arg.end_col_offset:]).decode()
    after = max([n.end_lineno or n.lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))] or [0])
    block = "\n\n" + CULPRIT + "\n\n"
    return "".join(lines[:after]) + block + "".join(lines[after:]), block.count("\n")


def style(text: str) -> Counter:
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "E,W", "-"], input=text,
                          capture_output=True, text=True)
    return Counter(line.split(": ", 1)[1].split(" ", 1)[0] for line in done.stdout.splitlines() if ": " in line)


def changed_lines(before: str, after: str) -> Tuple[List[int], List[Tuple[int, str]]]:
    """Line numbers of ``before`` that changed, and lines inserted without replacing any (with the number of
    the line of ``before`` they follow)."""
    a, b = before.splitlines(), after.splitlines()
    touched: List[int] = []
    inserted: List[Tuple[int, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            touched += range(i1 + 1, i2 + 1)
        if tag == "insert":
            inserted += [(i1, text) for text in b[j1:j2]]
        if tag == "replace" and j2 - j1 > i2 - i1:
            touched.append(i2)  # lines added at the end of a changed span belong to it
    return touched, inserted


def check(path: Path, call: ast.Call, source: str, tree: ast.Module, settings: Settings) -> Tuple[str, str]:
    try:
        rewired, _ = rewire(source, call, tree)
    except ValueError as why:
        return "n/a", str(why)
    project.clear_cache()
    # the findings about the rewired model: on the call itself, or (accelerate) on the Accelerator(...) call
    # that makes `accelerator.prepare(model)` start DDP
    fixable = [f for f in analyze_source(rewired, str(path), settings) if f.fixable and f.code.startswith("DDP2")]
    if not any("_CulpritNet" in f.message for f in fixable):
        return "n/a", "no fixable launch finding about the model (e.g. already tolerant, or not resolved)"
    fixed = fix_source(rewired, str(path), settings)
    problems = []
    try:
        compile(fixed, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        problems.append(f"invalid: {error}")
    if fix_source(fixed, str(path), settings) != fixed:
        problems.append("not idempotent")
    touched, inserted = changed_lines(rewired, fixed)
    # every launch call with a fixable finding may change (a second launch of the same model, too)
    starts = {(f.line, f.col) for f in fixable}
    spans = [(node.lineno, node.end_lineno or node.lineno) for node in ast.walk(ast.parse(rewired))
             if isinstance(node, ast.Call) and (node.lineno, node.col_offset) in starts]
    outside = [n for n in touched if not any(a <= n <= b for a, b in spans)]
    if outside:
        problems.append(f"lines changed outside the call: {outside}")
    # a new line inside a call (one argument per line) is part of the call; anything else but an import is not
    stray = [text for after, text in inserted if not any(a <= after < b for a, b in spans)
             and not text.startswith(("from ", "import "))]
    if stray:
        problems.append(f"lines inserted outside the call: {stray}")
    before_style, after_style = style(rewired), style(fixed)
    if before_style != after_style:
        problems.append(f"E/W {dict(before_style)} -> {dict(after_style)}")
    project.clear_cache()
    left = [f for f in analyze_source(fixed, str(path), settings) if f.fixable]
    if left:
        problems.append(f"fixable findings left: {[f.code for f in left]}")
    imports = any(text.startswith(("from ", "import ")) for _, text in inserted)
    diff = f"{len(touched) + len(inserted) - imports} line(s) changed{', an import added' if imports else ''}"
    return ("ok" if not problems else "FAIL"), "; ".join(problems) or diff


def main(argv: Sequence[str] = ()) -> int:
    rows: List[str] = []
    counts: Counter = Counter()
    scripts = set()
    for source in RELEASES:
        if argv and source.requirement.split("==")[0] not in argv:
            continue
        root = fetch(source)
        settings = Settings(trainer_calls=source.trainer_calls)
        for name in source.files:
            path = root / name
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
            calls = launch_calls(tree)
            if not calls:
                rows.append(f"| {source.requirement} | {name} | - | n/a | no launch call |")
                counts["n/a"] += 1
            for call in calls:
                verdict, note = check(path, call, text, tree, settings)
                counts[verdict] += 1
                if verdict != "n/a":
                    scripts.add(name)
                rows.append(f"| {source.requirement} | {name} | {call.lineno} | {verdict} | {note} |")
                print(rows[-1], file=sys.stderr, flush=True)
    print("| release | script | launch line | result | notes |")
    print("|---|---|---:|---|---|")
    print("\n".join(rows))
    print(f"\n{counts['ok']} launch sites fixed correctly, {counts['FAIL']} failed, in {len(scripts)} scripts; "
          f"{counts['n/a']} not applicable")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
