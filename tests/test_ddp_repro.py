"""Real DDP (gloo, 2 CPU processes) agrees with the fixtures: positives crash, negatives train (DESIGN.md §1).

All scenarios run in one subprocess (torch starts once per rank) under a hard timeout, so a hang fails
the test instead of blocking CI.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any, Dict, List, NamedTuple

import pytest

from .conftest import FIXTURES, ROOT, expected_findings

REDUCTION_ERROR = "Expected to have finished reduction in the prior iteration"
STATIC_GRAPH_ERROR = "Your training graph has changed in this iteration"
TIMEOUT_SECONDS = 120


class Case(NamedTuple):
    name: str
    fixture: str
    key: str  # submodule of the fixture's ModuleDict that DDP wraps
    call: str  # "sum" | "loss" | "tuple": how the output becomes the loss
    options: Dict[str, Any]
    expected_error: str  # "" when training must succeed
    train_after_wrap: bool = False  # wrap, then model.train() (a runner's order), instead of the reverse


CASES: List[Case] = [
    # positives: the default find_unused_parameters=False crashes on the next forward
    Case("DDP001-never-used", "core_unused.py", "net", "sum", {}, REDUCTION_ERROR),
    Case("DDP002-eval-only", "branches_training_flag.py", "eval_only", "sum", {}, REDUCTION_ERROR),
    Case("DDP003-no-grad-teacher", "branches_no_grad.py", "trainable", "sum", {}, REDUCTION_ERROR),
    Case("DDP004-beside-loss", "branches_dropped_output.py", "dict", "loss", {}, REDUCTION_ERROR),
    Case("DDP101-task-heads", "branches_multitask.py", "if_task", "sum", {}, REDUCTION_ERROR),
    Case("DDP102-flag-off", "branches_static_flags.py", "off", "sum", {}, REDUCTION_ERROR),
    # train() freezes after the wrap (mmdet's Swin with frozen_stages=3): DDP waits for the frozen stages
    Case("DDP103-frozen-in-train", "init_frozen_in_train.py", "swin", "sum", {}, REDUCTION_ERROR, True),
    Case("DDP901-batch-without-labels", "branches_optional_arg.py", "cond", "sum", {}, REDUCTION_ERROR),
    # the fixes of DESIGN.md §1: find_unused_parameters=True tolerates it; static_graph=True does not
    # tolerate a used set that changes between iterations
    Case("DDP001-find-unused-true", "core_unused.py", "net", "sum", {"find_unused_parameters": True}, ""),
    Case("DDP103-find-unused-true", "init_frozen_in_train.py", "swin", "sum", {"find_unused_parameters": True}, "",
         True),
    Case("DDP101-static-graph", "branches_multitask.py", "if_task", "sum", {"static_graph": True},
         STATIC_GRAPH_ERROR),
    # negatives: train cleanly with the default
    Case("aux-head-in-training", "branches_training_flag.py", "inception", "tuple", {}, ""),
    Case("drop-path-scaling", "branches_layerdrop.py", "scale", "sum", {}, ""),
    Case("frozen-teacher", "branches_no_grad_frozen.py", "frozen", "sum", {}, ""),
    Case("soft-moe", "branches_moe.py", "soft", "sum", {}, ""),
    # frozen in __init__ too (mmdet's ResNet), and a train() that only puts BatchNorm in eval mode
    Case("frozen-in-init-too", "init_frozen_in_train.py", "resnet", "sum", {}, "", True),
    Case("norm-eval-in-train", "init_frozen_in_train.py", "norm_eval", "sum", {}, "", True),
]
ITERATIONS = 4


@pytest.fixture(scope="module")
def outcomes() -> Dict[str, List[Dict[str, Any]]]:
    scenarios = [{"fixture": str(FIXTURES / c.fixture), "key": c.key, "call": c.call, "iterations": ITERATIONS,
                  "options": c.options, "train_after_wrap": c.train_after_wrap} for c in CASES]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "tests.ddp_worker", json.dumps(scenarios)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and both ranks: our own session
        proc.communicate()
        pytest.fail(f"DDP worker hung for more than {TIMEOUT_SECONDS} s")
    assert proc.returncode == 0, err[-3000:]
    results = json.loads(out.strip().splitlines()[-1])
    return {case.name: result for case, result in zip(CASES, results)}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_ddp_outcome(case: Case, outcomes: Dict[str, List[Dict[str, Any]]]) -> None:
    for rank, outcome in enumerate(outcomes[case.name]):
        if case.expected_error:
            assert not outcome["ok"], f"rank {rank} trained {outcome['iterations']} iterations without error"
            assert case.expected_error in outcome["error"], outcome["error"][:500]
        else:
            assert outcome["ok"], f"rank {rank}: {outcome['error'][:500]}"
            assert outcome["iterations"] == ITERATIONS


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith("DDP")], ids=lambda c: c.name)
def test_case_code_is_expected_by_fixture(case: Case) -> None:
    """The crash each positive reproduces is the code its fixture announces."""
    code = case.name.split("-")[0]
    assert code in {c for _, c in expected_findings(FIXTURES / case.fixture)}
