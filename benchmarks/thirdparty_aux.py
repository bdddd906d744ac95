"""Real-world precision of DDP203 on models of installed packages (not run in CI).

Writes small training snippets for torchvision's GoogLeNet, Inception3, FCN and DeepLabV3 (aux_loss=True)
and a timm distilled DeiT into a temporary directory and lints them with ``sys.path`` pointing at the
package sources (unpacked wheels by default; ``--site DIR`` for a user's site-packages). Nothing is
imported from those packages: the linter reads their sources from disk.

    python benchmarks/thirdparty_aux.py [--site /tmp/corpora/src/tv_w --site /tmp/corpora/src/timm_w]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import List, Tuple

DEFAULT_SITES = ["/tmp/corpora/src/tv_w", "/tmp/corpora/src/timm_w"]

# (name, expected culprits ("" = none), snippet)
CASES: List[Tuple[str, str, str]] = [
    ("googlenet_logits_only", "aux1, aux2", """
        model = torchvision.models.googlenet(aux_logits=True, init_weights=True)
        out = model(x)
        loss = F.cross_entropy(out.logits, y)
    """),
    ("googlenet_unpacked", "aux1, aux2", """
        model = models.googlenet(init_weights=True)  # GoogLeNet defaults to aux_logits=True
        logits, aux2, aux1 = model(x)
        loss = F.cross_entropy(logits, y)
    """),
    ("googlenet_all_outputs", "", """
        model = torchvision.models.googlenet(aux_logits=True, init_weights=True)
        logits, aux2, aux1 = model(x)
        loss = F.cross_entropy(logits, y) + 0.3 * (F.cross_entropy(aux1, y) + F.cross_entropy(aux2, y))
    """),
    ("googlenet_no_aux", "", """
        model = torchvision.models.googlenet(aux_logits=False, init_weights=True)
        out = model(x)
        loss = F.cross_entropy(out, y)
    """),
    ("inception_v3_logits_only", "AuxLogits", """
        model = torchvision.models.inception_v3(aux_logits=True, init_weights=True)
        out = model(x)
        loss = F.cross_entropy(out.logits, y)
    """),
    ("inception_v3_index", "AuxLogits", """
        model = models.inception_v3(init_weights=True)
        out = model(x)
        loss = F.cross_entropy(out[0], y)
    """),
    ("fcn_resnet50_out_only", "aux_classifier", """
        model = torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True)
        out = model(x)
        loss = F.cross_entropy(out["out"], y)
    """),
    ("deeplabv3_resnet50_out_only", "aux_classifier", """
        model = segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True)
        out = model(x)
        loss = F.cross_entropy(out["out"], y)
    """),
    ("deeplabv3_no_aux", "", """
        model = segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None)
        out = model(x)
        loss = F.cross_entropy(out["out"], y)
    """),
    ("deit_distilled_default", "", """
        model = timm.create_model("deit_base_distilled_patch16_224")  # averages both heads by default
        out = model(x)
        loss = F.cross_entropy(out, y)
    """),
    ("deit_distilled_training", "head_dist", """
        model = timm.create_model("deit_base_distilled_patch16_224")
        model.set_distilled_training(True)
        out = model(x)
        loss = F.cross_entropy(out[0], y)
    """),
    ("deit_factory_unpacked", "head_dist", """
        model = timm.models.deit.deit_small_distilled_patch16_224()
        model.set_distilled_training()  # enable=True by default
        logits, dist_logits = model(x)
        loss = F.cross_entropy(logits, y)
    """),
    ("deit_distilled_both_heads", "", """
        model = timm.create_model("deit_small_distilled_patch16_224")
        model.set_distilled_training(True)
        logits, dist_logits = model(x)
        loss = F.cross_entropy(logits, y) + F.kl_div(dist_logits.log_softmax(-1), teacher(x), reduction="batchmean")
    """),
]

HEADER = """\
import timm
import torch
import torch.nn.functional as F
import torchvision
from torchvision import models
from torchvision.models import segmentation


def train_step(x, y, teacher):
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", help="a directory holding the packages' sources")
    options = parser.parse_args()
    sites = options.site or DEFAULT_SITES
    sys.path[:0] = sites
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from flake8_ddp_unused import project
    from flake8_ddp_unused.lint import analyze_source

    agree = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, expected, body in CASES:
            path = Path(tmp) / f"{name}.py"
            source = HEADER + textwrap.indent(textwrap.dedent(body).strip() + "\nloss.backward()\n", "    ")
            path.write_text(source, encoding="utf-8")
            project.clear_cache()
            start = time.perf_counter()
            findings = [f for f in analyze_source(source, str(path)) if f.code == "DDP203"]
            elapsed = time.perf_counter() - start
            got = ", ".join(sorted({a for f in findings for a in _attrs(f.attr)}))
            ok = got == expected
            agree += ok
            print(f"{'ok  ' if ok else 'MISS'} {name:32} expected [{expected or '-'}] got [{got or '-'}] "
                  f"({elapsed * 1000:.0f} ms, cold cache)")
            for f in findings:
                print(f"       {f.line}:{f.col + 1} {f.code} {f.message}")
    print(f"{agree}/{len(CASES)} cases as expected (sites: {', '.join(sites)})")
    return 0


def _attrs(text: str) -> List[str]:
    import re

    return re.findall(r"self\.(\w+)", text)


if __name__ == "__main__":
    raise SystemExit(main())
