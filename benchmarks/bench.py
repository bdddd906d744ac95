"""Cost of flake8-ddp-unused on real code, against the targets of issue 6. Prints a table of ratios.

    python benchmarks/bench.py                 # everything (about 15 minutes on 2 cores)
    python benchmarks/bench.py --only t1,t2    # some targets: t1 t2 t3 t4 t5 robust memory
    python benchmarks/bench.py --repeat 5      # more runs per measurement (the minimum is kept)

How "flake8 without the plugin" is measured, honestly: flake8 runs every installed plugin whatever
``--select`` says, and this plugin switches itself off when no DDP code is selected (that is target 2).
So the baseline is a *separate clean venv* (``benchmarks/corpora/venvs/flake8``) holding only
``flake8==7.5.0`` (pycodestyle, pyflakes, mccabe), run with the same Python and the same arguments.
TorchFix gets its own venv (``venvs/torchfix``: flake8==7.5.0 + torchfix) because it pins another libcst.

Every flake8 run uses ``--isolated`` (no config file is read) and ``-j1`` (one process: CPU time and peak
memory are then those of one process, and the ratio is not blurred by scheduling), except target 5, which
is specified with ``-j2``. CPU time is user+sys of the child (``os.wait4``), the minimum of ``--repeat``
runs. Besides whole-run ratios, ``plugin_timer.py`` times each plugin alone in-process on the same files
(no parse, no other checker): the cleanest per-line figure for target 3.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpora import CORPORA, corpus_path, count_lines, python_files  # noqa: E402
from synth import write_synthetic  # noqa: E402

VENVS = CORPORA / "venvs"
PLUGIN_PYTHON = sys.executable  # the environment this script runs in must have the plugin installed
FLAKE8 = "flake8==7.5.0"
TORCHFIX = "torchfix==0.7.0"
SMALL_CORPORA = ("torchvision", "timm", "fastNLP")


@dataclass
class Run:
    cpu_s: float
    wall_s: float
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str


def venv_python(name: str, requirements: Sequence[str]) -> str:
    """A clean venv (no system site-packages) with only ``requirements``; created on first use."""
    root = VENVS / name
    python = root / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    version = subprocess.run([str(python), "-P", "-m", "flake8", "--version"], capture_output=True, text=True)
    if "flake8-ddp-unused" in version.stdout:
        raise SystemExit(f"{root} sees flake8-ddp-unused: it is no baseline ({version.stdout.strip()})")
    return str(python)


def run(cmd: Sequence[str], sample_memory: bool = False) -> Run:
    """Run to completion; CPU time and max RSS of the child and its waited-for descendants."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, start_new_session=sample_memory)
        peak = [0]
        if sample_memory:
            threading.Thread(target=_sample_group_rss, args=(proc.pid, peak), daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        rss = max(usage.ru_maxrss * 1024, peak[0]) / 2**20
        return Run(usage.ru_utime + usage.ru_stime, wall, rss, proc.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def _sample_group_rss(pgid: int, peak: List[int]) -> None:
    """Peak of the summed RSS of a process group (flake8 -j2 forks workers): read /proc every 50 ms."""
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        total = 0
        alive = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:  # field 5 of stat: process group
                alive = True
                total += int(fields[21]) * page  # field 24: rss in pages
        peak[0] = max(peak[0], total)
        if not alive:
            return
        time.sleep(0.05)


def flake8(python: str, paths: Sequence[Path], *args: str, jobs: int = 1, sample_memory: bool = False) -> Run:
    # -P: `python -m` would otherwise put the working directory on sys.path, and in a checkout of this
    # repository the editable install's egg-info there would hand the plugin to the "clean" venv too.
    cmd = [python, "-P", "-m", "flake8", "--isolated", f"--jobs={jobs}", "--exit-zero", *args, *map(str, paths)]
    result = run(cmd, sample_memory)
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def best(python: str, paths: Sequence[Path], args: Sequence[str], repeat: int) -> Run:
    runs = [flake8(python, paths, *args) for _ in range(repeat)]
    return min(runs, key=lambda r: r.cpu_s)


def plugin_alone(python: str, spec: str, paths: Sequence[Path]) -> Dict[str, object]:
    cmd = [python, str(HERE / "plugin_timer.py"), spec, *map(str, paths)]
    result = run(cmd)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout)


class Table:
    def __init__(self) -> None:
        self.rows: List[Tuple[str, ...]] = []

    def add(self, *cells: object) -> None:
        self.rows.append(tuple(str(c) for c in cells))
        print(" | ".join(self.rows[-1]), flush=True)

    def markdown(self, header: Sequence[str]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def target_1_2(repeat: int, out: List[str]) -> None:
    clean = venv_python("flake8", [FLAKE8])
    table = Table()
    print("\n## Targets 1 and 2: whole flake8 run, CPU s (min of runs), -j1, plugin env / clean env")
    for name in SMALL_CORPORA:
        path = corpus_path(name)
        lines = count_lines(python_files(path))
        base = best(clean, [path], [], repeat)
        on = best(PLUGIN_PYTHON, [path], [], repeat)
        table.add(name, lines, "default (DDP on)", f"{base.cpu_s:.2f}", f"{on.cpu_s:.2f}",
                  f"{on.cpu_s / base.cpu_s:.3f}", "<= 1.5", verdict(on.cpu_s <= 1.5 * base.cpu_s),
                  f"{base.maxrss_mb:.0f}", f"{on.maxrss_mb:.0f}", f"{on.maxrss_mb / base.maxrss_mb:.2f}")
        for args in (["--select", "E,F"], ["--extend-ignore", "DDP"]):
            base_off = best(clean, [path], args, repeat)
            off = best(PLUGIN_PYTHON, [path], args, repeat)
            table.add(name, lines, " ".join(args), f"{base_off.cpu_s:.2f}", f"{off.cpu_s:.2f}",
                      f"{off.cpu_s / base_off.cpu_s:.3f}", "<= 1.05", verdict(off.cpu_s <= 1.05 * base_off.cpu_s),
                      f"{base_off.maxrss_mb:.0f}", f"{off.maxrss_mb:.0f}", f"{off.maxrss_mb / base_off.maxrss_mb:.2f}")
    out.append("### Targets 1, 2 (and the memory part of 4): whole flake8 run, -j1\n")
    out.append(table.markdown(["corpus", "lines", "selection", "flake8 alone CPU s", "with plugin CPU s",
                               "ratio", "target", "", "flake8 alone MB", "with plugin MB", "memory ratio"]))


def target_3(repeat: int, out: List[str]) -> None:
    clean = venv_python("flake8", [FLAKE8])
    torchfix = venv_python("torchfix", [FLAKE8, TORCHFIX])
    paths = [corpus_path(name) for name in SMALL_CORPORA]
    lines = count_lines([f for p in paths for f in python_files(p)])
    print("\n## Target 3: cost per line against TorchFix (same files: torchvision/models, timm, fastNLP)")
    table = Table()
    base = best(clean, paths, [], repeat)
    ours = best(PLUGIN_PYTHON, paths, [], repeat)
    theirs = best(torchfix, paths, [], repeat)
    ours_ms = (ours.cpu_s - base.cpu_s) / lines * 1e6
    theirs_ms = (theirs.cpu_s - base.cpu_s) / lines * 1e6
    table.add("whole run minus flake8 alone", lines, f"{ours_ms:.1f}", f"{theirs_ms:.1f}",
              f"{theirs_ms / max(ours_ms, 1e-9):.1f}x", ">= 5x", verdict(theirs_ms >= 5 * ours_ms))
    ours_alone = plugin_alone(PLUGIN_PYTHON, "flake8_ddp_unused.plugin:DDPChecker", paths)
    theirs_alone = plugin_alone(torchfix, "torchfix.torchfix:TorchChecker", paths)
    a = float(ours_alone["cpu_s"]) / int(ours_alone["lines"]) * 1e6  # type: ignore[arg-type]
    b = float(theirs_alone["cpu_s"]) / int(theirs_alone["lines"]) * 1e6  # type: ignore[arg-type]
    table.add("plugin alone, in-process", ours_alone["lines"], f"{a:.1f}", f"{b:.1f}", f"{b / a:.1f}x", ">= 5x",
              verdict(b >= 5 * a))
    out.append("\n### Target 3: CPU microseconds per line, flake8-ddp-unused vs TorchFix 0.7.0\n")
    out.append(table.markdown(["measure", "lines", "flake8-ddp-unused us/line", "TorchFix us/line", "TorchFix / ours",
                               "target", ""]))


def target_4(repeat: int, out: List[str]) -> None:
    print("\n## Target 4: linear in file size (synthetic module files)")
    table = Table()
    per_kloc: List[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        clean = venv_python("flake8", [FLAKE8])
        for size in (1000, 5000, 10000, 20000, 50000):
            path = Path(tmp) / f"synthetic_{size}.py"
            write_synthetic(path, size)
            lines = count_lines([path])
            alone = min((plugin_alone(PLUGIN_PYTHON, "flake8_ddp_unused.plugin:DDPChecker", [path])
                         for _ in range(repeat)), key=lambda r: float(r["cpu_s"]))  # type: ignore[arg-type]
            cpu = float(alone["cpu_s"])  # type: ignore[arg-type]
            per_kloc.append(cpu / lines * 1000)
            base = best(clean, [path], [], 1)
            whole = best(PLUGIN_PYTHON, [path], [], 1)
            table.add(lines, alone["findings"], f"{cpu:.3f}", f"{per_kloc[-1]:.4f}",
                      f"{per_kloc[-1] / per_kloc[0]:.2f}", f"{base.cpu_s:.2f}", f"{whole.cpu_s:.2f}",
                      f"{base.maxrss_mb:.0f}", f"{whole.maxrss_mb:.0f}", f"{whole.maxrss_mb / base.maxrss_mb:.2f}")
    out.append("\n### Target 4: linearity (synthetic files of realistic module classes)\n")
    out.append(table.markdown(["lines", "findings", "plugin alone CPU s", "plugin s/kloc", "s/kloc vs 1k",
                               "flake8 alone CPU s", "with plugin CPU s", "flake8 alone MB", "with plugin MB",
                               "memory ratio"]))
    out.append(f"\nPlugin s/kloc at 50k lines / at 1k lines: {per_kloc[-1] / per_kloc[0]:.2f} "
               "(1.0 = perfectly linear).")


def target_5(out: List[str]) -> None:
    path = corpus_path("transformers")
    files = python_files(path)
    lines = count_lines(files)
    print(f"\n## Target 5: transformers models/ ({len(files)} files, {lines} lines), -j2, default selection")
    result = flake8(PLUGIN_PYTHON, [path], "--extend-select", "DDP999", jobs=2, sample_memory=True)
    codes = _count_codes(result.stdout)
    ddp = {k: v for k, v in codes.items() if k.startswith("DDP")}
    text = (f"transformers {lines} lines in {len(files)} files, `flake8 -j2` default selection + DDP999: "
            f"wall {result.wall_s:.0f} s, CPU {result.cpu_s:.0f} s, peak memory (all processes) "
            f"{result.maxrss_mb:.0f} MB, exit status {result.returncode}, no traceback; DDP findings {ddp}")
    print(text)
    out.append("\n### Target 5: transformers `models/` with `-j2`\n")
    out.append(text)


def median(values: List[float]) -> float:
    return sorted(values)[len(values) // 2]


def memory(repeat: int, out: List[str]) -> None:
    """Issue 12: peak memory (all processes) of the whole transformers models/ run with -j2, flake8 alone
    (clean venv) against flake8 with the plugin, alternated in the same session; medians of ``repeat``."""
    path = corpus_path("transformers")
    baseline = venv_python("flake8", [FLAKE8])
    alone: List[Run] = []
    plugin: List[Run] = []
    for _ in range(repeat):
        alone.append(flake8(baseline, [path], jobs=2, sample_memory=True))
        plugin.append(flake8(PLUGIN_PYTHON, [path], jobs=2, sample_memory=True))
    mem_alone, mem_plugin = median([r.maxrss_mb for r in alone]), median([r.maxrss_mb for r in plugin])
    cpu_alone, cpu_plugin = median([r.cpu_s for r in alone]), median([r.cpu_s for r in plugin])
    text = (f"transformers models/, `flake8 -j2`, median of {repeat}: peak memory flake8 alone {mem_alone:.0f} MB, "
            f"with the plugin {mem_plugin:.0f} MB (ratio {mem_plugin / mem_alone:.2f}, target <= 2); CPU "
            f"{cpu_alone:.0f} s vs {cpu_plugin:.0f} s (ratio {cpu_plugin / cpu_alone:.2f})")
    print(text)
    out.append("\n### Memory of the whole transformers run (issue 12)\n")
    out.append(text)


def robustness(out: List[str]) -> None:
    """Zero DDP999 (internal error) over every corpus and the standard library; no traceback."""
    print("\n## Robustness: DDP999 (internal errors) with --select DDP --extend-select DDP999, -j2")
    table = Table()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    targets = [(name, corpus_path(name)) for name in SMALL_CORPORA + ("transformers",)] + [("stdlib", stdlib)]
    for name, path in targets:
        result = flake8(PLUGIN_PYTHON, [path], "--select", "DDP", "--extend-select", "DDP999", jobs=2)
        codes = _count_codes(result.stdout)
        errors = codes.pop("DDP999", 0)
        table.add(name, len(python_files(path)), f"{result.wall_s:.0f}", errors, verdict(errors == 0),
                  ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
        for line in result.stdout.splitlines():
            if " DDP999 " in line:
                print("   ", line[:300])
    out.append("\n### Robustness: internal errors (DDP999) on real code\n")
    out.append(table.markdown(["corpus", "files", "wall s", "DDP999", "", "other DDP findings (incl. opt-in)"]))


def _count_codes(stdout: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for line in stdout.splitlines():
        parts = line.split(": ", 1)
        if len(parts) == 2 and parts[1]:
            code = parts[1].split(" ", 1)[0]
            counts[code] = counts.get(code, 0) + 1
    return counts


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="t1,t2,t3,t4,t5,robust")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, help="write the markdown tables to this file")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    version = subprocess.run([PLUGIN_PYTHON, "-m", "flake8", "--version"], capture_output=True, text=True).stdout
    if "flake8-ddp-unused" not in version:
        sys.exit("run this with the Python where flake8-ddp-unused is installed")
    out: List[str] = [f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
                      f"{' '.join(version.split())}\n"]
    if only & {"t1", "t2"}:
        target_1_2(args.repeat, out)
    if "t3" in only:
        target_3(args.repeat, out)
    if "t4" in only:
        target_4(args.repeat, out)
    if "t5" in only:
        target_5(out)
    if "robust" in only:
        robustness(out)
    if "memory" in only:
        memory(args.repeat, out)
    text = "\n".join(out) + "\n"
    print("\n" + text)
    if args.write:
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
