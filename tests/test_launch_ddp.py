"""Real DDP (gloo, 2 CPU processes on 127.0.0.1, subprocess with a hard timeout): the crash, and the fix."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict


from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused.fixes import fix_source

WORKER = Path(__file__).resolve().parent / "launch" / "_ddp_worker.py"
REDUCTION = "Expected to have finished reduction in the prior iteration"
READY_ONCE = "Expected to mark a variable ready only once"


def _free_port() -> int:
    """A port the OS reports free now (a random one collided with other runs on a busy machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_all(tmp: Path, jobs: Dict[str, str], parallel: int = 2) -> Dict[str, str]:
    """Run every (name -> mode), ``parallel`` at a time; each gets its own copy of the script and port. A run
    whose rendezvous port was taken in between (EADDRINUSE: the machine's business, not DDP's) runs again once."""
    out = _run_batch(tmp, jobs, parallel)
    again = {name: jobs[name] for name, text in out.items() if "EADDRINUSE" in text}
    if again:
        out.update(_run_batch(tmp, again, parallel))
    return out


def _run_batch(tmp: Path, jobs: Dict[str, str], parallel: int) -> Dict[str, str]:
    out: Dict[str, str] = {}
    items = list(jobs.items())
    for start in range(0, len(items), parallel):
        procs = {}
        for name, mode in items[start:start + parallel]:
            script = tmp / f"{name}.py"
            script.write_text(WORKER.read_text() if mode != "fixed" else
                              fix_source(WORKER.read_text(), str(WORKER)))
            port = _free_port()
            procs[name] = subprocess.Popen(
                [sys.executable, str(script), "unused" if mode == "fixed" else mode, str(port)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, proc in procs.items():
            try:
                text, _ = proc.communicate(timeout=240)  # hard timeout per run
            except subprocess.TimeoutExpired:
                proc.kill()
                text, _ = proc.communicate()
                text = "TIMEOUT " + (text or "")[-500:]
            out[name] = next((line[len("RESULT "):] for line in text.splitlines() if line.startswith("RESULT ")),
                             text[-2000:])
    return out


def test_real_ddp_crash_and_fixes(tmp_path: Path) -> None:
    # the worker's own launch is what the linter reports and fixes
    codes = {f.code for f in analyze_source(WORKER.read_text(), str(WORKER))}
    assert "DDP201" in codes
    results = _run_all(tmp_path, {
        "unused": "unused",  # Linear never called, default DDP
        "fixed": "fixed",  # the same file after fix_source: find_unused_parameters=True
        "ckpt_reentrant_unused": "ckpt-reentrant-unused",  # DDP204
        "ckpt_reentrant_static": "ckpt-reentrant-static",
        "ckpt_nonreentrant_unused": "ckpt-nonreentrant-unused",
        "dropped_default": "dropped-default",  # DDP203
        "dropped_static": "dropped-static",
        "dropped_unused": "dropped-unused",
    })
    assert REDUCTION in results["unused"], results
    assert results["fixed"] == "ok", results
    assert READY_ONCE in results["ckpt_reentrant_unused"], results
    assert results["ckpt_reentrant_static"] == "ok", results
    assert results["ckpt_nonreentrant_unused"] == "ok", results
    assert REDUCTION in results["dropped_default"], results
    assert results["dropped_static"] != "ok", results  # static_graph does not help with dropped outputs
    assert results["dropped_unused"] == "ok", results
