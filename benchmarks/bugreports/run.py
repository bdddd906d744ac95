"""Recall on public bug reports of DDP's unused-parameter crash: does the linter name the established culprit?

    python benchmarks/bugreports/run.py            # fetch the pinned sources, lint, print hits and recall
    python benchmarks/bugreports/run.py -k peft    # only the cases whose id contains "peft"
    python benchmarks/bugreports/run.py --verify   # also check each reconstruction with torch (CPU)

The cases are in cases.toml beside this file. Pinned packages are fetched with ``pip download --no-deps`` into
benchmarks/corpora/ (git-ignored) and unpacked (``.py`` files only); nothing is installed or imported from them.
Each case's files are linted with flake8 exactly as a user would, in a subprocess whose ``PYTHONPATH`` holds the
case's packages (the linter reads installed packages from ``sys.path`` without importing them). One run selects
every DDP code; the default figures keep only the codes that are on by default (the selection only filters what
flake8 prints, the analysis is the same). A package that cannot be fetched marks its cases "error", never a crash.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPORA = REPO / "benchmarks" / "corpora"
DOWNLOADS = CORPORA / "dl"
SOURCES = CORPORA / "src"
CASES_FILE = HERE / "cases.toml"

# "self.a, self.b.c in Klass" as the messages write culprits (model and launch-site findings alike)
# (an item of a container is written `self.blocks[-1].txt_mlp`; it is scored as the path `blocks.-1.txt_mlp`)
NAMES = re.compile(r"((?:self(?:\.\w+|\[-?\d+\])+)(?:, self(?:\.\w+|\[-?\d+\])+)*)(?: and \d+ more)? in (\w+)")
ITEM = re.compile(r"\[(-?\d+)\]")
LINE = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<code>DDP\d{3}) (?P<text>.*)$")


@dataclass
class Case:
    id: str
    url: str
    title: str
    evidence: str
    side: str
    source: str
    culprits: List[str]
    codes: List[str]
    packages: List[str] = field(default_factory=list)
    lint: List[str] = field(default_factory=list)
    file: str = ""
    runtime: str = ""
    config: str = ""
    note: str = ""
    also_right: List[str] = field(default_factory=list)
    no_grad: List[str] = field(default_factory=list)  # reconstructions: what torch leaves without gradient


@dataclass
class Finding:
    path: str
    line: int
    code: str
    text: str
    names: List[str]  # "Klass.attr.path"

    @property
    def short(self) -> str:
        return f"{Path(self.path).name}:{self.line} {self.code} {self.text[:150]}"


@dataclass
class Outcome:
    case: Case
    status: str  # hit / miss / error
    status_all: str
    hits: List[Finding] = field(default_factory=list)
    hits_all: List[Finding] = field(default_factory=list)
    wrong: List[Finding] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def load_cases() -> List[Case]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    data = tomllib.loads(CASES_FILE.read_text(encoding="utf-8"))
    return [Case(**entry) for entry in data["case"]]


def off_by_default() -> List[str]:
    sys.path.insert(0, str(REPO))
    from flake8_ddp_unused.registry import default_off_codes

    return sorted(default_off_codes())


# ---------------------------------------------------------------------------------------------------------------
# fetching: pip download --no-deps, then unpack the .py files


def _pip_download(requirement: str) -> None:
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DOWNLOADS)]
    attempts = [
        ["--only-binary=:all:", requirement],
        # old releases ship wheels only for old interpreters; the sources are the same .py files
        ["--only-binary=:all:", "--python-version", "3.8", "--platform", "manylinux1_x86_64", requirement],
        ["--no-binary=:all:", requirement],
    ]
    errors = []
    for extra in attempts:
        done = subprocess.run(base + extra, capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            return
        errors.append(done.stderr.strip().splitlines()[-1:] or ["?"])
    raise RuntimeError(f"pip download {requirement} failed: {errors[-1][0]}")


def _archive(requirement: str) -> Path:
    name, version = requirement.split("==")
    prefixes = {f"{name}-{version}", f"{name.replace('-', '_')}-{version}", f"{name.replace('_', '-')}-{version}"}
    prefixes |= {p.lower() for p in prefixes}

    def find() -> Optional[Path]:
        if DOWNLOADS.is_dir():
            for path in sorted(DOWNLOADS.iterdir()):
                stem = path.name.lower()
                if any(stem.startswith(p.lower() + suffix) for p in prefixes for suffix in ("-", ".tar", ".zip")):
                    return path
        return None

    found = find()
    if found is None:
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        _pip_download(requirement)
        found = find()
    if found is None:
        raise RuntimeError(f"pip download {requirement} left no archive in {DOWNLOADS}")
    return found


def package_root(requirement: str) -> Path:
    """The directory to put on PYTHONPATH for a pinned requirement, fetching and unpacking it on first use."""
    archive = _archive(requirement)
    name = archive.name
    for suffix in (".whl", ".tar.gz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    target = SOURCES / name
    marker = target / ".unpacked"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(target, [m for m in zf.namelist() if m.endswith(".py")])
        else:
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".py")
                           and not m.name.startswith(("/", "..")) and ".." not in m.name.split("/")]
                tf.extractall(target, members)
        marker.write_text("ok\n")
    if archive.suffix != ".whl":  # an sdist unpacks into its own top directory
        tops = [p for p in target.iterdir() if p.is_dir()]
        if len(tops) == 1:
            return tops[0]
    return target


# ---------------------------------------------------------------------------------------------------------------
# linting and scoring


def parse(output: str) -> List[Finding]:
    findings = []
    for raw in output.splitlines():
        match = LINE.match(raw.strip())
        if not match:
            continue
        names = []
        for attrs, cls in NAMES.findall(match["text"]):
            for attr in attrs.split(", "):
                path = ITEM.sub(r".\1", attr[len("self."):])
                names.append(f"{cls}.{path}")
        findings.append(Finding(match["path"], int(match["line"]), match["code"], match["text"], names))
    return findings


def names_culprit(finding: Finding, culprits: Sequence[str]) -> bool:
    return any(name == c or name.startswith(c + ".") for name in finding.names for c in culprits)


def lint(files: Sequence[Path], roots: Sequence[Path], cwd: Path, off: Sequence[str]) -> List[Finding]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(r) for r in roots] + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, "-m", "flake8", "--isolated", "--jobs=1", "--select=DDP",
           f"--extend-select={','.join(off)}", *[str(f) for f in files]]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise RuntimeError(f"flake8 exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return parse(done.stdout)


def run_case(case: Case, off: Sequence[str]) -> Outcome:
    start = time.perf_counter()
    try:
        roots = [package_root(req) for req in case.packages]
        if case.source == "reconstructed":
            files = [HERE / case.file]
            cwd = files[0].parent
        else:
            files = []
            for rel in case.lint:
                found = next((r / rel for r in roots if (r / rel).is_file()), None)
                if found is None:
                    raise RuntimeError(f"{rel} is in none of {', '.join(case.packages)}")
                files.append(found)
            cwd = next(r for r in roots if any(str(f).startswith(str(r)) for f in files))
        findings = lint(files, roots, cwd, off)
    except Exception as error:  # noqa: BLE001 - one broken case must not stop the benchmark
        return Outcome(case, "error", "error", error=f"{type(error).__name__}: {error}",
                       seconds=time.perf_counter() - start)
    default = [f for f in findings if f.code not in off]
    hits = [f for f in default if names_culprit(f, case.culprits)]
    hits_all = [f for f in findings if names_culprit(f, case.culprits)]
    wrong = [f for f in default if f not in hits and not names_culprit(f, case.also_right)]
    return Outcome(case, "hit" if hits else "miss", "hit" if hits_all else "miss", hits, hits_all, wrong,
                   seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------------------
# runtime check of the reconstructions


def verify(case: Case) -> Tuple[bool, str]:
    """Run the reconstruction's build() on CPU: every ``no_grad`` prefix of the case must get no gradient, and
    every other trainable parameter must get one (so the reconstruction has no culprit the report does not name).
    The prefixes live in cases.toml, not in the linted file: dotted names in it would read as uses."""
    path = HERE / case.file
    spec = importlib.util.spec_from_file_location(f"bugreport_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    model, step = built["model"], built["step"]
    model.train()
    missing: Set[str] = set()
    for batch in built["batches"]:
        model.zero_grad(set_to_none=True)
        step(model, batch).backward()
        missing |= {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}
    expected: List[str] = list(case.no_grad)
    unmatched = [e for e in expected if not any(n.startswith(e) for n in missing)]
    extra = sorted(n for n in missing if not any(n.startswith(e) for e in expected))
    ok = not unmatched and not extra
    detail = f"no grad: {', '.join(sorted(missing))}"
    if unmatched:
        detail += f"; expected but got a gradient: {', '.join(unmatched)}"
    if extra:
        detail += f"; unexpected: {', '.join(extra)}"
    return ok, detail


# ---------------------------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", default="", help="only the cases whose id contains this text")
    parser.add_argument("--jobs", type=int, default=2, help="cases linted at once (default 2)")
    parser.add_argument("--verify", action="store_true", help="also run the reconstructions with torch (CPU)")
    args = parser.parse_args(argv)

    cases = [c for c in load_cases() if args.k in c.id]
    off = off_by_default()
    # fetch sequentially first: pip runs are not safe to interleave on one download directory
    for requirement in sorted({r for c in cases for r in c.packages}):
        try:
            package_root(requirement)
        except Exception as error:  # noqa: BLE001 - reported per case below
            print(f"fetch failed: {requirement}: {error}", file=sys.stderr)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda c: run_case(c, off), cases))

    width = max(len(c.id) for c in cases)
    for out in outcomes:
        c = out.case
        mark = {"hit": "HIT ", "miss": "miss", "error": "ERR "}[out.status]
        print(f"{mark} {c.id:<{width}}  all-codes={out.status_all:<5} {c.evidence:<10} {c.source:<13} "
              f"{c.side:<8} culprit={c.culprits[0]}  ({out.seconds:.1f}s)")
        for f in out.hits:
            print(f"       named: {f.short}")
        for f in out.hits_all:
            if f not in out.hits:
                print(f"       named (off-by-default code): {f.short}")
        for f in out.wrong:
            print(f"       wrong finding: {f.short}")
        if out.error:
            print(f"       error: {out.error}")

    if args.verify:
        print()
        for c in cases:
            if c.source != "reconstructed":
                continue
            try:
                ok, detail = verify(c)
            except Exception as error:  # noqa: BLE001
                ok, detail = False, f"{type(error).__name__}: {error}"
            print(f"{'verified' if ok else 'MISMATCH'} {c.id}: {detail}")

    total = len(outcomes)
    hits = sum(o.status == "hit" for o in outcomes)
    hits_all = sum(o.status_all == "hit" for o in outcomes)
    errors = sum(o.status == "error" for o in outcomes)
    wrong = sum(len(o.wrong) for o in outcomes)
    training = [o for o in outcomes if o.case.side == "training"]
    print()
    print(f"cases={total} errors={errors} wrong_findings={wrong} "
          f"training_side={sum(o.status == 'hit' for o in training)}/{len(training)} "
          f"lint_seconds={time.perf_counter() - start:.0f}")
    print(f"recall={hits / total:.2f} ({hits}/{total}) at default codes")
    print(f"recall_all_codes={hits_all / total:.2f} ({hits_all}/{total}) with every code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
