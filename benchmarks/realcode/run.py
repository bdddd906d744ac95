"""Real-code precision: every default finding on pinned public packages, checked against hand labels.

    python benchmarks/realcode/run.py                 # every package, table + unlabelled findings
    python benchmarks/realcode/run.py fairseq timm    # some packages only
    python benchmarks/realcode/run.py --list          # also print every finding with its verdict
    python benchmarks/realcode/run.py --strict        # exit 1 on an unlabelled finding or a FALSE one

Each package is fetched with ``pip download --no-deps`` at a pinned version (nothing is installed or
committed; everything lands in ``benchmarks/corpora/``, git-ignored), and its source is linted the way a
user lints a checkout: real flake8, default-on codes (plus DDP999 to catch internal errors), the working
directory at the top of the unpacked sources so that the whole package is the project and imports
between its files resolve.

Every finding is looked up in ``labels.csv`` by a line-insensitive key (package, file, class, attribute,
code; launch findings use the call and the culprit instead of class and attribute). A label says TRUE (the
named parameters get no gradient in some training iteration of real use), FALSE or UNSURE, whether the
verdict was confirmed by running the class with torch on CPU, and why. ``precision = TRUE / (TRUE + FALSE)``
over the labelled findings of the run. Labels whose finding is no longer reported are listed as
"gone": a gone TRUE label is a lost true finding.
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
from corpora import unpack_python_sources  # noqa: E402
CORPORA = HERE.parent / "corpora" / "realcode"
DOWNLOADS = CORPORA / "dl"
SOURCES = CORPORA / "src"
LABELS = HERE / "labels.csv"
VERDICTS = ("TRUE", "FALSE", "UNSURE")


@dataclass(frozen=True)
class Package:
    name: str
    requirement: str
    roots: Tuple[str, ...]  # top-level directories of the unpacked archive that are linted
    pip_args: Tuple[str, ...] = ()


# fairseq 0.12.2 ships wheels for CPython <= 3.9 only (its sdist needs a build); the wheel holds the sources.
_OLD_WHEEL = ("--only-binary=:all:", "--python-version", "3.8", "--platform", "manylinux1_x86_64")

PACKAGES: List[Package] = [
    Package("fairseq", "fairseq==0.12.2", ("fairseq", "fairseq_cli"), _OLD_WHEEL),
    Package("diffusers", "diffusers==0.42.1", ("diffusers",)),
    Package("mmpretrain", "mmpretrain==1.2.0", ("mmpretrain",)),
    Package("vit-pytorch", "vit-pytorch==1.26.11", ("vit_pytorch",)),
    Package("timm", "timm==1.0.31", ("timm",)),
    Package("torchvision", "torchvision==0.29.1", ("torchvision",)),
    Package("fastNLP", "fastNLP==1.0.1", ("FastNLP-1.0.1/fastNLP",)),
    # chosen for this benchmark: popular, pure-Python, many nn.Module classes
    Package("sentence-transformers", "sentence-transformers==6.2.0", ("sentence_transformers",)),
    Package("open-clip-torch", "open-clip-torch==3.3.0", ("open_clip", "open_clip_train")),
    Package("x-transformers", "x-transformers==2.31.10", ("x_transformers",)),
    Package("segmentation-models-pytorch", "segmentation-models-pytorch==0.6.0", ("segmentation_models_pytorch",)),
    Package("peft", "peft==0.21.2", ("peft",)),
    Package("speechbrain", "speechbrain==1.1.2", ("speechbrain",)),
    Package("denoising-diffusion-pytorch", "denoising-diffusion-pytorch==2.3.4", ("denoising_diffusion_pytorch",)),
]
BY_NAME = {p.name: p for p in PACKAGES}

LINE = re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): (?P<code>DDP\d+) (?P<message>.*)$")
MODEL = re.compile(r"^(?P<attr>self\.\S+) in (?P<cls>\w+)")
CULPRIT = re.compile(r"(?P<culprit>self\.[\w.\[\]']+) in (?P<cls>\w+)")


@dataclass(frozen=True)
class Finding:
    package: str
    file: str
    line: int
    code: str
    cls: str
    attr: str
    message: str

    @property
    def key(self) -> Tuple[str, str, str, str, str]:
        return (self.package, self.file, self.cls, self.attr, self.code)


@dataclass(frozen=True)
class Label:
    verdict: str
    runtime: str
    reason: str


def _archive(package: Package) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    name, version = package.requirement.split("==")
    stems = {name.replace("-", "_").lower(), name.lower()}
    for path in sorted(DOWNLOADS.iterdir()):
        low = path.name.lower()
        if any(low.startswith(f"{stem}-{version}") for stem in stems):
            return path
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DOWNLOADS),
                    *package.pip_args, package.requirement], check=True)
    for path in sorted(DOWNLOADS.iterdir()):
        if any(path.name.lower().startswith(f"{stem}-{version}") for stem in stems):
            return path
    raise RuntimeError(f"pip downloaded no archive for {package.requirement}")


def source_dir(package: Package) -> Path:
    """The unpacked sources of a package (downloaded and unpacked on first use)."""
    root = SOURCES / package.name
    if all((root / r).is_dir() for r in package.roots):
        return root
    archive = _archive(package)
    root.mkdir(parents=True, exist_ok=True)
    unpack_python_sources(archive, root)
    missing = [r for r in package.roots if not (root / r).is_dir()]
    if missing:
        raise RuntimeError(f"{archive.name} has no {', '.join(missing)}")
    return root


def default_codes() -> List[str]:
    sys.path.insert(0, str(ROOT))
    from flake8_ddp_unused.registry import all_rules

    return [rule.code for rule in all_rules() if rule.default_on]


def lint(package: Package, jobs: int) -> Tuple[List[Finding], List[str], int, int]:
    """(findings, internal errors, files, lines) of one package."""
    root = source_dir(package)
    files = [p for r in package.roots for p in sorted((root / r).rglob("*.py"))]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    cmd = [sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", "--exit-zero",
           "--select", ",".join(default_codes() + ["DDP999"]), *package.roots]
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise RuntimeError(f"flake8 failed on {package.name}:\n{result.stderr[-3000:]}")
    findings: List[Finding] = []
    errors: List[str] = []
    for text in result.stdout.splitlines():
        match = LINE.match(text)
        if not match:
            continue
        if match["code"] == "DDP999":
            errors.append(text)
            continue
        message = match["message"]
        head = MODEL.match(message)
        launch = CULPRIT.search(message)
        if head:
            cls, attr = head["cls"], head["attr"]
        elif launch:  # a launch site: the call as written, and the culprit it names
            call = message.split("): ", 1)[0] + ")" if "): " in message else message[:40]
            cls, attr = launch["cls"], f"{call} -> {launch['culprit']}"
        else:
            cls, attr = "", re.sub(r"\d+", "N", message[:60])
        findings.append(Finding(package.name, match["file"].removeprefix("./"), int(match["line"]),
                                match["code"], cls, attr, message))
    findings.sort(key=lambda f: (f.file, f.line, f.code))
    return findings, errors, len(files), lines


def read_labels(path: Path = LABELS) -> Dict[Tuple[str, str, str, str, str], Label]:
    labels: Dict[Tuple[str, str, str, str, str], Label] = {}
    if not path.exists():
        return labels
    with path.open(newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            verdict = row["verdict"].strip().upper()
            if verdict not in VERDICTS:
                raise ValueError(f"{path}: bad verdict {verdict!r} in {row}")
            key = (row["package"], row["file"], row["class"], row["attr"], row["code"])
            if key in labels:
                raise ValueError(f"{path}: duplicate label {key}")
            labels[key] = Label(verdict, row.get("runtime", "").strip(), row["reason"].strip())
    return labels


def precision(true: int, false: int) -> str:
    return f"{true / (true + false):.2f}" if true + false else "n/a"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help=f"default: all of {', '.join(BY_NAME)}")
    parser.add_argument("--list", action="store_true", help="print every finding with its verdict")
    parser.add_argument("--strict", action="store_true", help="exit 1 on unlabelled or FALSE findings")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    unknown = [n for n in args.packages if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.packages] if args.packages else PACKAGES
    labels = read_labels()
    header = f"{'package':28} {'files':>5} {'lines':>7} {'finds':>5} {'TRUE':>4} {'FALSE':>5} {'UNSURE':>6} " \
             f"{'unlab':>5} {'gone':>4}  precision"
    rows: List[str] = [header]
    totals = [0] * 8
    unlabelled: List[Finding] = []
    listing: List[str] = []
    gone: List[str] = []
    errors: List[str] = []
    started = time.time()
    for package in chosen:
        findings, errs, n_files, n_lines = lint(package, args.jobs)
        errors += [f"{package.name}: {e}" for e in errs]
        counts = dict.fromkeys(VERDICTS, 0)
        n_unlab = 0
        seen = set()
        for f in findings:
            seen.add(f.key)
            label = labels.get(f.key)
            if label is None:
                n_unlab += 1
                unlabelled.append(f)
                verdict = "UNLABELLED"
            else:
                counts[label.verdict] += 1
                verdict = label.verdict + (" (runtime)" if label.runtime else "")
            listing.append(f"{verdict:17} {f.package}/{f.file}:{f.line}: {f.code} {f.message[:150]}")
        lost = [k for k in labels if k[0] == package.name and k not in seen]
        gone += [f"{labels[k].verdict:6} {' | '.join(k)}: {labels[k].reason}" for k in lost]
        n_gone_true = sum(1 for k in lost if labels[k].verdict == "TRUE")
        row = [n_files, n_lines, len(findings), counts["TRUE"], counts["FALSE"], counts["UNSURE"], n_unlab, n_gone_true]
        totals = [a + b for a, b in zip(totals, row)]
        rows.append(f"{package.name:28} {row[0]:5} {row[1]:7} {row[2]:5} {row[3]:4} {row[4]:5} {row[5]:6} "
                    f"{row[6]:5} {row[7]:4}  precision={precision(row[3], row[4])}")
    rows.append(f"{'TOTAL':28} {totals[0]:5} {totals[1]:7} {totals[2]:5} {totals[3]:4} {totals[4]:5} {totals[5]:6} "
                f"{totals[6]:5} {totals[7]:4}  precision={precision(totals[3], totals[4])}")
    if args.list:
        print("\n".join(listing) + "\n")
    if unlabelled:
        print("Unlabelled findings (add them to labels.csv: package,file,class,attr,code,verdict,runtime,reason):")
        for f in unlabelled:
            print(f"  {f.package},{f.file},{f.cls},{f.attr},{f.code},,,  # line {f.line}: {f.message[:160]}")
        print()
    lost = [g for g in gone if g.startswith("TRUE")]
    if lost:
        print("TRUE labels whose finding is no longer reported (lost true findings, or a changed code/class):")
        print("\n".join("  " + g for g in lost) + "\n")
    if len(gone) > len(lost):
        print(f"({len(gone) - len(lost)} FALSE/UNSURE labels have no finding any more: fixed false alarms, kept so "
              f"that a regression is counted; --list shows them)\n")
    if args.list and len(gone) > len(lost):
        print("\n".join("  " + g for g in gone if not g.startswith("TRUE")) + "\n")
    if errors:
        print("Internal errors (DDP999):\n" + "\n".join("  " + e for e in errors) + "\n")
    print("\n".join(rows))
    print(f"({time.time() - started:.0f} s; precision = TRUE / (TRUE + FALSE) over labelled findings; "
          f"'gone' = TRUE labels no longer reported)")
    if args.strict and (unlabelled or totals[4] or totals[7] or errors):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
