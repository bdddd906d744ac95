"""Ground truth on CPU for real model zoos: which parameters get no gradient in one training step.

Not part of CI. Needs torch (2.13 CPU here) and runs torchvision's and timm's *sources* from
``benchmarks/corpora/src`` (unpacked by corpora.py) without installing them: torchvision's compiled ops
cannot load beside this torch, so its meta-registrations are stubbed (no model here needs them), and
Pillow, which torchvision imports, is unpacked from its wheel into ``benchmarks/corpora/runtime``.

    python benchmarks/realworld.py --json findings.json
    python benchmarks/runtime_check.py --findings findings.json [--timm-limit 60]

For every model built: train mode, batch of 2, one forward, then
  * ``all``  mode: every floating tensor of the output in the loss -> parameters without gradient are real
    culprits whatever the training script does (default-on findings are confirmed only by these);
  * ``main`` mode: only the main output in the loss (first element / ``out`` / ``logits``) -> the aux heads a
    training script that drops the other outputs leaves without gradient.
Each finding ``self.attr in Class`` is then confirmed (a model had ``Class.attr`` without gradient in
``all`` mode), refuted (seen, always with gradient) or unchecked (no model built that class).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpora import CORPORA, corpus_path  # noqa: E402

RUNTIME = CORPORA / "runtime"
MAX_PARAMS = 120_000_000
Key = Tuple[str, str]  # (class name, "self.attr")


def prepare_imports() -> None:
    tv_root = corpus_path("torchvision").parent.parent
    timm_root = corpus_path("timm").parent
    if not (RUNTIME / "PIL").is_dir():
        RUNTIME.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(RUNTIME), "pillow"],
                       check=True)
        import zipfile

        for wheel in RUNTIME.glob("pillow-*.whl"):
            zipfile.ZipFile(wheel).extractall(RUNTIME)
    sys.path[:0] = [str(tv_root), str(timm_root), str(RUNTIME)]
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")


def tensors(value: Any) -> Iterator[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.requires_grad:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors(item)
    elif hasattr(value, "__dict__"):
        for item in vars(value).values():
            yield from tensors(item)


def main_output(value: Any) -> Any:
    if isinstance(value, dict):
        for key in ("out", "logits", "loss"):
            if key in value:
                return value[key]
        return next(iter(value.values()))
    if isinstance(value, (list, tuple)) and value:
        return value[0]
    if hasattr(value, "logits"):
        return value.logits
    return value


def owners(model: Any, param_name: str) -> List[Key]:
    """Every (class, self.attr) on the path to a parameter: ``aux1.conv.weight`` -> GoogLeNet.aux1, ..."""
    keys: List[Key] = []
    module = model
    for part in param_name.split("."):
        keys.append((type(module).__name__, f"self.{part}"))
        child = getattr(module, part, None)
        if child is None or not hasattr(child, "named_parameters"):
            break
        module = child
    return keys


def step(model: Any, make_input: Callable[[], Any], mode: str) -> Tuple[Set[Key], Set[Key], List[str]]:
    import torch

    model.train()
    model.zero_grad(set_to_none=True)
    out = model(make_input())
    parts = list(tensors(out if mode == "all" else main_output(out)))
    if not parts:
        raise RuntimeError("no differentiable output")
    sum(p.float().sum() for p in parts).backward()
    used: Set[Key] = set()
    unused: Set[Key] = set()
    names: List[str] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        keys = owners(model, name)
        if param.grad is None:
            names.append(name)
            unused.update(keys[-1:])  # the attribute that holds the parameter directly
            unused.update(keys)
        else:
            used.update(keys)
    del torch
    return used, unused, names


def torchvision_models() -> Iterator[Tuple[str, Callable[[], Any], Callable[[], Any]]]:
    import torch
    import torchvision.models as tvm

    for name in tvm.list_models(module=tvm):
        size = 299 if name.startswith("inception") else 224
        kwargs: Dict[str, Any] = {"weights": None}
        if name in ("googlenet", "inception_v3"):
            kwargs.update(aux_logits=True, init_weights=False)
        yield name, (lambda n=name, k=kwargs: tvm.get_model(n, **k)), (lambda s=size: torch.randn(2, 3, s, s))
    for name in tvm.list_models(module=tvm.segmentation):
        kwargs = {"weights": None, "weights_backbone": None}
        if not name.startswith("lraspp"):
            kwargs["aux_loss"] = True
        yield name, (lambda n=name, k=kwargs: tvm.get_model(n, **k)), (lambda: torch.randn(2, 3, 96, 96))


def timm_models(limit: int) -> Iterator[Tuple[str, Callable[[], Any], Callable[[], Any]]]:
    import timm
    import torch

    seen_modules: Set[str] = set()
    for name in timm.list_models():
        module = timm.models.get_pretrained_cfg(name)  # noqa: F841 - registry warm-up
        family = timm.models._registry._model_to_module.get(name, name)  # type: ignore[attr-defined]
        if family in seen_modules:
            continue
        seen_modules.add(family)
        if len(seen_modules) > limit:
            return

        def build(n: str = name) -> Any:
            return timm.create_model(n, pretrained=False)

        def make(n: str = name) -> Any:
            cfg = timm.models.get_pretrained_cfg(n)
            size = tuple(getattr(cfg, "input_size", None) or (3, 224, 224))
            return torch.randn(2, *size)

        yield name, build, make


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=Path, help="JSON written by realworld.py --json")
    parser.add_argument("--timm-limit", type=int, default=40, help="timm model families to run (one model each)")
    parser.add_argument("--skip-torchvision", action="store_true")
    args = parser.parse_args(argv)
    prepare_imports()
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(2)
    used_all: Set[Key] = set()
    unused_all: Set[Key] = set()
    main_only: Dict[str, List[str]] = {}
    failures: Dict[str, str] = {}
    sources = [] if args.skip_torchvision else [("torchvision", torchvision_models())]
    sources.append(("timm", timm_models(args.timm_limit)))
    for zoo, models in sources:
        for name, build, make_input in models:
            try:
                model = build()
                if sum(p.numel() for p in model.parameters()) > MAX_PARAMS:
                    failures[f"{zoo}:{name}"] = "skipped: too large for a CPU check"
                    continue
                used, unused, names = step(model, make_input, "all")
                used_all |= used
                unused_all |= unused
                if names:
                    print(f"{zoo}:{name} ALL outputs in the loss, still without gradient: {names[:8]}", flush=True)
                _, _, main_names = step(model, make_input, "main")
                extra = sorted({n.split(".")[0] for n in main_names} - {n.split(".")[0] for n in names})
                if extra:
                    main_only[f"{zoo}:{name}"] = extra
                    print(f"{zoo}:{name} main output only -> no gradient for {extra}", flush=True)
            except Exception as error:  # noqa: BLE001 - a model that cannot run here is reported, not fatal
                failures[f"{zoo}:{name}"] = f"{type(error).__name__}: {str(error)[:120]}"
            finally:
                model = None
    print(f"\nmodels that failed or were skipped: {len(failures)}")
    for name, why in sorted(failures.items()):
        print(f"  {name}: {why}")
    print("\nmain output only (what a training script dropping the other outputs leaves without gradient):")
    for name, heads in sorted(main_only.items()):
        print(f"  {name}: {', '.join(heads)}")
    if args.findings:
        data = json.loads(args.findings.read_text())
        print("\nfindings:")
        for group, findings in data.items():
            for f in findings:
                key = (str(f.get("cls", "")), str(f.get("attr", "")).split("[")[0])
                status = ("CONFIRMED" if key in unused_all else "REFUTED" if key in used_all else "unchecked")
                print(f"  {status:9} {group} {f['file']}:{f['line']} {f['code']} {key[1]} in {key[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
