"""Runtime truth for the training fixtures: each ``_runtime()`` runs the script's own training code under
real DDP (gloo, 2 CPU processes); the outcome and the parameters DDP names must match the linter."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused import callsites

HERE = Path(__file__).resolve().parent / "training"
REDUCTION = "Expected to have finished reduction in the prior iteration"
FIXTURES = ["torchvision_ref.py", "hf_compute_loss.py", "accelerate_in_main.py", "lightning_in_function.py",
            "detector_loss.py", "distillation.py", "optional_labels.py", "negatives.py", "detr_app/main.py",
            "instance_flag_on.py", "clip_loss_kwargs.py", "backward_helper.py", "mode_literals.py",
            "seed_recipe.py", "criterion_per_scene.py", "criterion_per_scene_negatives.py",
            "detector_early_return.py"]


@pytest.fixture(scope="module")
def outcomes() -> Dict[str, dict]:
    paths = [str(HERE / name) for name in FIXTURES]
    done = subprocess.run([sys.executable, str(HERE / "_ddp_run.py"), *paths], capture_output=True, text=True,
                          timeout=600)
    found = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            outcome = json.loads(line)
            found[str(Path(outcome["fixture"]).relative_to(HERE))] = outcome
    assert set(found) == set(FIXTURES), done.stdout[-2000:] + done.stderr[-3000:]
    return found


def _launch_culprits(name: str) -> Set[str]:
    """Attributes the linter names at the fixture's DDP201 launches (empty: it expects DDP to train)."""
    project.clear_cache()
    callsites.clear_cache()
    path = HERE / name
    attrs: Set[str] = set()
    for finding in analyze_source(path.read_text(), str(path)):
        if finding.code == "DDP201":
            attrs |= set(re.findall(r"self\.(\w+)", finding.attr))
    return attrs


@pytest.mark.parametrize("name", [n for n in FIXTURES if n != "seed_recipe.py"])
def test_linter_matches_real_ddp(name: str, outcomes: Dict[str, dict]) -> None:
    outcome = outcomes[name]
    expected = _launch_culprits(name)
    if not expected:
        assert outcome["ok"], outcome
        return
    assert not outcome["ok"] and REDUCTION in outcome["error"], outcome
    # DDP names the parameters without gradient; Lightning's wrapper adds a "module." prefix
    unused = {n[len("module."):] if n.startswith("module.") else n for n in outcome["unused"]}
    assert {n.split(".")[0] for n in unused} == expected, (unused, expected)


def test_seed_recipe_under_torchrun_calls_forward_not_train_step(outcomes: Dict[str, dict]) -> None:
    outcome = outcomes["seed_recipe.py"]
    # TextClassifier has only train_step: fastNLP calls the wrapper, i.e. forward, which does not exist
    assert not outcome["ok"] and 'missing the required "forward" function' in outcome["error"], outcome


def test_seed_recipe_under_plain_python_fails_in_the_wrapper() -> None:
    code = ("import sys, warnings; warnings.simplefilter('ignore'); sys.path.insert(0, sys.argv[1]); "
            "import seed_recipe; seed_recipe.main(None)")
    done = subprocess.run([sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "Default process group has not been initialized" in done.stderr, done.stderr[-2000:]
    assert "seed_recipe.py" in done.stderr and "DistributedDataParallel(model" in done.stderr
