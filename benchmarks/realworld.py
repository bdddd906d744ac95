"""Lint real model zoos and list every finding (precision check on real code).

    python benchmarks/realworld.py                      # torchvision/models, timm, fastNLP
    python benchmarks/realworld.py --corpus transformers --opt-in
    python benchmarks/realworld.py --json findings.json  # input for runtime_check.py

Default-on model findings on torchvision's and timm's model files are false alarms unless a runtime
check (``runtime_check.py``: run the model on CPU with every output in the loss, look for ``grad is
None``) confirms them: the target is zero. Opt-in codes (DDP9xx) are listed apart with ``--opt-in``.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpora import CORPUS_BY_NAME, corpus_path  # noqa: E402
from registry_codes import default_on_codes, opt_in_codes  # noqa: E402

LINE = re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): (?P<code>DDP\d+) (?P<message>.*)$")
CLASS_ATTR = re.compile(r"^(?P<attr>self\.\S+) in (?P<cls>\w+)")


def lint(path: Path, codes: Sequence[str], jobs: int = 2) -> List[Dict[str, object]]:
    cmd = [sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", "--exit-zero",
           "--select", ",".join(codes), str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    if "Traceback" in result.stderr or "failed during execution" in result.stdout + result.stderr:
        raise RuntimeError(result.stderr[-3000:] or result.stdout[-3000:])
    findings: List[Dict[str, object]] = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        item: Dict[str, object] = {
            "file": str(Path(match["file"]).relative_to(path)), "line": int(match["line"]),
            "col": int(match["col"]), "code": match["code"], "message": match["message"],
        }
        head = CLASS_ATTR.match(match["message"])
        if head:
            item["cls"], item["attr"] = head["cls"], head["attr"]
        findings.append(item)
    findings.sort(key=lambda f: (str(f["file"]), int(f["line"]), str(f["code"])))  # type: ignore[arg-type]
    return findings


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", choices=sorted(CORPUS_BY_NAME),
                        help="default: torchvision, timm, fastNLP")
    parser.add_argument("--opt-in", action="store_true", help="also list the off-by-default codes")
    parser.add_argument("--json", type=Path, help="write the findings as JSON (for runtime_check.py)")
    args = parser.parse_args(argv)
    names = args.corpus or ["torchvision", "timm", "fastNLP"]
    everything: Dict[str, List[Dict[str, object]]] = {}
    for name in names:
        path = corpus_path(name)
        groups = [("default-on", default_on_codes())]
        if args.opt_in:
            groups.append(("opt-in", [c for c in opt_in_codes() if c != "DDP999"]))
        for label, codes in groups:
            findings = lint(path, codes)
            everything[f"{name}/{label}"] = findings
            counts = Counter(str(f["code"]) for f in findings)
            print(f"\n## {name} ({path}), {label} codes: {len(findings)} findings {dict(sorted(counts.items()))}")
            for f in findings:
                print(f"{f['file']}:{f['line']}:{f['col']}: {f['code']} {str(f['message'])[:160]}")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
