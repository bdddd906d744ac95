"""Run training fixtures' ``_runtime()`` under real DDP (gloo, 2 CPU processes on 127.0.0.1).

Usage: python _ddp_run.py FIXTURE [FIXTURE ...]; prints one JSON line per fixture with rank 0's outcome:
{"fixture": path, "ok": bool, "error": first line, "unused": [parameter names without gradient]}.
DDP reports the indices of the parameters that got no gradient; they are named from the module the
fixture wrapped (DETAIL debug mode would name them, but crashes the gloo CPU build). The stand-ins in
_stubs/ replace the frameworks that are not installed (see _stubs/README.md).
"""
import datetime
import importlib.util
import json
import re
import socket
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

HERE = Path(__file__).resolve().parent
INDICES = re.compile(r"Parameter indices which did not receive grad for rank \d+: ([0-9 ]+)")
WRAPPED = []  # every module wrapped in DDP in this process, to name the parameter indices DDP reports


def _record_wrapped():
    init = DistributedDataParallel.__init__

    def recording(self, module, *args, **kwargs):
        WRAPPED.append(module)
        init(self, module, *args, **kwargs)

    DistributedDataParallel.__init__ = recording


def _names(text):
    found = INDICES.search(text)
    if not found or not WRAPPED:
        return []
    params = [name for name, p in WRAPPED[-1].named_parameters() if p.requires_grad]
    return sorted(params[int(i)] for i in found.group(1).split())


def _load(path):
    spec = importlib.util.spec_from_file_location(f"training_fixture_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rank(rank, fixtures, port, outdir):
    sys.path.insert(0, str(HERE / "_stubs"))
    torch.set_num_threads(1)
    _record_wrapped()
    store = dist.TCPStore("127.0.0.1", port, 2, rank == 0, timeout=datetime.timedelta(seconds=60))
    outcomes = []
    for number, path in enumerate(fixtures):
        sys.path.insert(0, str(Path(path).parent))
        dist.init_process_group("gloo", store=dist.PrefixStore(f"f{number}", store), rank=rank, world_size=2,
                                timeout=datetime.timedelta(seconds=30))
        torch.manual_seed(0)
        WRAPPED.clear()
        outcome = {"fixture": path, "ok": True, "error": "", "unused": []}
        try:
            _load(path)._runtime()
        except RuntimeError as error:
            text = str(error)
            outcome = {"fixture": path, "ok": False, "error": text.splitlines()[0], "unused": _names(text)}
        dist.destroy_process_group()
        sys.path.remove(str(Path(path).parent))
        outcomes.append(outcome)
    Path(outdir, f"rank{rank}.json").write_text(json.dumps(outcomes))


def main(fixtures):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as outdir:
        mp.spawn(_rank, args=(fixtures, port, outdir), nprocs=2, join=True)
        for outcome in json.loads(Path(outdir, "rank0.json").read_text()):
            print(json.dumps(outcome))


if __name__ == "__main__":
    main(sys.argv[1:])
