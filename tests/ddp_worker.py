"""Train fixture models under real DDP (gloo, 2 CPU processes on 127.0.0.1) and print the outcomes as JSON.

Usage: python -m tests.ddp_worker SCENARIOS_JSON
SCENARIOS_JSON is a list of {"fixture": path, "key": submodule of the fixture's ModuleDict ("" for the
whole model), "call": how the wrapper's output becomes a loss ("sum" | "loss" | "tuple"),
"iterations": int, "options": DistributedDataParallel keyword arguments, "train_after_wrap": call train()
after wrapping rather than before (optional)}.
The two processes are started once (starting torch costs seconds) and run every scenario in a fresh
process group of its own. Each rank catches its own error, so the parent sees both ranks' outcome.
"""
from __future__ import annotations

import datetime
import json
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

WORLD_SIZE = 2
Scenario = Dict[str, Any]
Outcome = Dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def to_loss(out: Any, call: str) -> torch.Tensor:
    if call == "loss":
        return out["loss"]
    if call == "tuple":
        return sum(part.sum() for part in out)
    return out.sum()


def train(scenario: Scenario) -> Outcome:
    """Train one scenario in the current process group; a RuntimeError is the outcome, not a failure."""
    from tests.fixture_runtime import load_fixture

    done = 0
    try:
        torch.manual_seed(0)
        spec = load_fixture(Path(scenario["fixture"])).build()
        model = spec["model"][scenario["key"]] if scenario["key"] else spec["model"]
        if scenario.get("train_after_wrap"):
            ddp = DistributedDataParallel(model, **scenario["options"])
            ddp.train()  # a runner's order: wrap once, then train() at the start of each epoch
        else:
            model.train()
            ddp = DistributedDataParallel(model, **scenario["options"])
        batches: List[Any] = spec["batches"]
        for i in range(scenario["iterations"]):
            batch = batches[i % len(batches)]
            ddp.zero_grad(set_to_none=True)
            args = [b for b in batch if b is not None]  # a missing optional field is not passed
            to_loss(ddp(*args), scenario["call"]).backward()
            done = i + 1
    except RuntimeError as error:
        return {"ok": False, "error": str(error), "iterations": done}
    return {"ok": True, "error": "", "iterations": done}


def _rank(rank: int, scenarios: List[Scenario], port: int, outdir: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    torch.set_num_threads(1)
    store = dist.TCPStore("127.0.0.1", port, WORLD_SIZE, rank == 0, timeout=datetime.timedelta(seconds=60))
    outcomes = []
    for number, scenario in enumerate(scenarios):
        # a fresh group per scenario: an error in one scenario cannot leave collectives pending in the next
        dist.init_process_group("gloo", store=dist.PrefixStore(f"scenario{number}", store), rank=rank,
                                world_size=WORLD_SIZE, timeout=datetime.timedelta(seconds=30))
        outcomes.append(train(scenario))
        dist.destroy_process_group()
    Path(outdir, f"rank{rank}.json").write_text(json.dumps(outcomes))


def run(scenarios: List[Scenario]) -> List[List[Outcome]]:
    """For each scenario, the outcome on every rank."""
    with tempfile.TemporaryDirectory() as outdir:
        mp.spawn(_rank, args=(scenarios, free_port(), outdir), nprocs=WORLD_SIZE, join=True)
        per_rank = [json.loads(Path(outdir, f"rank{r}.json").read_text()) for r in range(WORLD_SIZE)]
    return [list(outcomes) for outcomes in zip(*per_rank)]


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
