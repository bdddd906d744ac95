"""Length statistics of the messages the linter prints (issue: messages short enough for a problem panel).

Runs the standalone command with every code selected over ``examples/`` and ``tests/fixtures/`` (or the
paths given) and prints the count, median, 90th percentile and maximum length of the messages, without
the ``path:line:col: CODE`` prefix, as flake8 prints them. ``--show`` also lists the longest ones.

    python benchmarks/message_stats.py [--show N] [PATH ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("examples", "tests/fixtures")


def percentile(values: Sequence[int], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def messages(paths: Sequence[str]) -> List[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_ddp_unused", "--isolated", "--select", "DDP", "--format", "json", *paths],
        cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the linter failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--show", type=int, default=0, help="also print the N longest messages")
    args = parser.parse_args(argv)
    found = messages(args.paths)
    lengths = [len(f"{item['code']} {item['message']}") for item in found]
    if not lengths:
        print("no findings")
        return 1
    print(f"findings: {len(lengths)}  median: {statistics.median(lengths):.0f}  "
          f"p90: {percentile(lengths, 0.9):.0f}  max: {max(lengths)}  (characters of 'CODE message')")
    by_code: dict = {}
    for item, length in zip(found, lengths):
        by_code.setdefault(item["code"], []).append(length)
    for code in sorted(by_code):
        values = by_code[code]
        print(f"  {code}: {len(values):3d} findings, median {statistics.median(values):.0f}, max {max(values)}")
    for item in sorted(found, key=lambda i: -len(i["message"]))[:args.show]:
        print(f"{len(item['code']) + 1 + len(item['message'])}: {item['code']} {item['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
