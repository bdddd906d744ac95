"""Growth of the plugin's cost with the size of pathological files (issue 12): time and peak memory for
many module classes in one file, deep inheritance chains and very long training steps, with the fitted
growth exponent (``cost ~ size ** k``; k = 1 is linear).

    python benchmarks/scaling.py                  # every series, a markdown table on stdout
    python benchmarks/scaling.py --only classes   # one series: classes, depth, method

Each point runs in a fresh process (``plugin_timer.py``: the plugin alone, as flake8 calls it, parse not
timed); CPU seconds are user+sys of the plugin's run, peak memory is the child's max RSS. Files are
generated into a temporary directory and deleted.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

HERE = Path(__file__).resolve().parent
HEADER = "import torch\nimport torch.nn as nn\n\n\n"
CLASS = ("class C{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.a = nn.Linear(2, 2)\n        self.b = nn.Linear(2, 2)\n\n"
         "    def forward(self, x):\n        return self.a(x)\n\n\n")


def many_classes(n: int) -> str:
    """``n`` independent module classes, each with an unused submodule (n DDP001 findings)."""
    return HEADER + "".join(CLASS.format(i=i) for i in range(n))


def deep_inheritance(n: int) -> str:
    """A chain of ``n`` classes, each overriding forward and calling super()."""
    subclass = "class C{i}(C{j}):\n    def forward(self, x):\n        return super().forward(x)\n\n\n"
    return HEADER + CLASS.format(i=0) + "".join(subclass.format(i=i, j=i - 1) for i in range(1, n))


def long_method(n: int) -> str:
    """One forward of ``n`` lines."""
    body = "".join(f"        x = self.a(x) + {i}\n" for i in range(n))
    return HEADER + ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     "        self.a = nn.Linear(2, 2)\n        self.b = nn.Linear(2, 2)\n\n"
                     f"    def forward(self, x):\n{body}        return x\n")


SERIES: Dict[str, Tuple[str, Callable[[int], str], Sequence[int]]] = {
    "classes": ("module classes per file", many_classes, (1000, 2000, 4000, 8000)),
    "depth": ("inheritance depth", deep_inheritance, (500, 1000, 2000, 4000)),
    "method": ("lines of one forward", long_method, (10_000, 50_000, 100_000, 200_000)),
}

# Runs in the child: time the plugin alone on one file and report CPU seconds and peak RSS.
CHILD = """
import ast, json, resource, sys, time
from flake8_ddp_unused.plugin import DDPChecker
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
tree = ast.parse(text)
lines = text.splitlines(keepends=True)
parsed_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # what flake8 holds anyway
start = time.process_time()
found = [f[2].split(" ", 1)[0] for f in DDPChecker(tree, lines, path).run()]
cpu = time.process_time() - start
print(json.dumps({"cpu_s": cpu, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "parsed_mb": parsed_mb,
                  "findings": len([c for c in found if c != "DDP998"]), "skipped": found.count("DDP998")}))
"""


def measure(source: str) -> Dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.py"
        path.write_text(source, encoding="utf-8")
        # the child calls the plugin directly: every record comes out, flake8's selection is not involved
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)],
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        result = json.loads(done.stdout)
        result["lines"] = source.count("\n")
        return result


def exponent(points: List[Tuple[float, float]]) -> float:
    """Least-squares slope of log(cost) against log(size)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(max(y, 1e-3)) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SERIES))
    args = parser.parse_args(argv)
    out: List[str] = []
    for name in args.only.split(","):
        title, make, sizes = SERIES[name]
        rows, cpu_points, mem_points, extra_points = [], [], [], []
        for size in sizes:
            started = time.perf_counter()
            result = measure(make(size))
            wall = time.perf_counter() - started
            cpu_points.append((size, result["cpu_s"]))
            extra = max(result["maxrss_mb"] - result["parsed_mb"], 0.5)
            mem_points.append((size, result["maxrss_mb"]))
            extra_points.append((size, extra))
            rows.append(f"| {size:,} | {result['lines']:,} | {result['cpu_s']:.2f} | {result['parsed_mb']:.0f} | "
                        f"{result['maxrss_mb']:.0f} | {extra:.0f} | {result['findings']} | {result['skipped']} |")
            print(f"{name} {size}: {result} (wall {wall:.1f} s)", file=sys.stderr, flush=True)
        out.append(f"\n#### {title}\n")
        out.append("| size | lines | plugin CPU s | RSS after ast.parse MB | peak RSS MB | plugin's extra MB | "
                   "findings | skip records (DDP998) |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        out += rows
        out.append(f"\nfitted growth: CPU ~ size^{exponent(cpu_points):.2f}, "
                   f"peak memory ~ size^{exponent(mem_points):.2f}, plugin's extra memory ~ size^"
                   f"{exponent(extra_points):.2f}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
