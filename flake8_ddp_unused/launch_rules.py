"""Launch-site rules (DDP2xx): the registry entries for the checks in ``launch.py``."""
from __future__ import annotations

from typing import Tuple

from .registry import REDUCTION_ERROR, Rule

_EVIDENCE = ("Reported only with evidence: the model argument resolves (through `model = Net(...)`, "
             "`.cuda()`/`.to()`, `torch.compile`, factory functions of the same file, and classes or factories "
             "imported from other files of the project, relative or absolute) to a module class whose own "
             "analysis has culprits. An unresolvable model, a model without culprits, or a flag whose value is "
             "not a literal (`find_unused_parameters=args.unused`, `**kwargs` from elsewhere) keep it silent.")

_RESOLUTION_OPTIONS = (
    "The model's culprits follow the model rules' options (`ddp-entry-points`, `ddp-module-bases`); the "
    "model class is found in the linted file or in other files of the same project."
)


LAUNCH_RULES: Tuple[Rule, ...] = (
    Rule(
        code="DDP201",
        name="launch-without-unused-flag",
        message="{code}: {attrs} gets no gradient, which stops DDP; {fix}",
        summary="A DDP launch (DistributedDataParallel, fastNLP Trainer/DistTrainer, HF TrainingArguments, "
        "Lightning strategy, accelerate Accelerator, mmengine config, detectron2 create_ddp_model) that does "
        "not set the framework's find-unused flag, for a model that has culprits.",
        why="DDP waits for a gradient of every trainable parameter. When the model has a parameter that gets "
        "none (see DDP0xx/DDP1xx), the next iteration raises `RuntimeError: " + REDUCTION_ERROR + "`. "
        "Each framework has its own spelling of the flag that makes DDP look for unused parameters: "
        "`DistributedDataParallel(model, find_unused_parameters=True)`; fastNLP 1.x "
        "`Trainer(..., torch_kwargs={\"ddp_kwargs\": {\"find_unused_parameters\": True}})` (DDP starts when "
        "`driver` is \"torch\"/\"auto\" and `device` is a list or -1); fastNLP 0.x "
        "`DistTrainer(..., find_unused_parameters=True)`; HF `TrainingArguments(ddp_find_unused_parameters=True)` "
        "(reported only when it is set to False: unset means True unless activation checkpointing is on); "
        "Lightning `strategy=\"ddp_find_unused_parameters_true\"` (also `ddp_spawn_`, `ddp_fork_`, "
        "`ddp_notebook_`) or `DDPStrategy(find_unused_parameters=True)`; accelerate "
        "`Accelerator(kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])` when the "
        "model goes through `accelerator.prepare`; mmengine `find_unused_parameters = True` in the config; "
        "detectron2 `create_ddp_model(model, find_unused_parameters=True)`. When the model checkpoints "
        "reentrantly (`torch.utils.checkpoint.checkpoint` without `use_reentrant=False`, still the default "
        "in torch 2.13), that flag crashes in another way (DDP204): the message then says to pass "
        "`use_reentrant=False` first, or `static_graph=True` when the unused set never changes. "
        "The better fix is often in the model (use, delete or freeze the culprit); the flag costs an extra "
        "graph traversal every iteration. " + _EVIDENCE,
        example="""# models.py
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.pooler = nn.Linear(16, 16)  # never used by forward

    def forward(self, x):
        return self.encoder(x)

# train.py
from fastNLP import Trainer
from .models import Net
trainer = Trainer(model=Net(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt)  # DDP201""",
        use_instead="""trainer = Trainer(model=Net(), driver="torch", device=[0, 1],
                  train_dataloader=dl, optimizers=opt,
                  torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}})""",
        known_limits="Lightning `strategy=\"auto\"` with several devices and fastNLP Trainers started under "
        "`torchrun` (where `device` is ignored) are not recognised as DDP launches. HF: only an explicit "
        "`ddp_find_unused_parameters=False` is reported. mmengine: only module-level "
        "`find_unused_parameters = False` with `model = dict(type=...)` resolvable to a project class. "
        "`static_graph=True` is accepted when every culprit is unused in every iteration (DDP001-004, DDP102).",
        options="`--ddp-trainer-calls` adds calls that take the model as first argument and "
        "`find_unused_parameters` as keyword.",
        fix_safety="Safe: adds (or sets to True) the framework's flag; behaviour changes only by tolerating "
        "unused parameters. Not offered when the model checkpoints reentrantly (the flag would crash), "
        "when the call has `**kwargs` from elsewhere, or when the flag sits in a dict built elsewhere.",
        fixable=True,
    ),
    Rule(
        code="DDP202",
        name="fastnlp-wo-auto-param-call-is-no-fix",
        message="{code}: {attrs} gets no gradient, and model_wo_auto_param_call=True does not tolerate "
        "that; {fix}",
        summary="A fastNLP Trainer that launches DDP with `model_wo_auto_param_call=True` but without the "
        "`ddp_kwargs` flag, for a model with culprits: the fix copied from the web that does not work.",
        why="In fastNLP 1.0 `model_wo_auto_param_call` decides how a batch reaches `train_step`/`forward`: "
        "with True the batch is passed as one object; with False (the default) fastNLP's `auto_param_call` "
        "matches batch keys to argument names. Neither tolerates parameters without gradient: only "
        "`torch_kwargs={\"ddp_kwargs\": {\"find_unused_parameters\": True}}` (passed to "
        "`DistributedDataParallel` by `TorchDDPDriver.configure_ddp`) does, and fastNLP's own error hint "
        "names it. " + _EVIDENCE,
        example="""Trainer(model=Net(), driver="torch", device=[0, 1], model_wo_auto_param_call=True, ...)  # DDP202""",
        use_instead="""Trainer(model=Net(), driver="torch", device=[0, 1],
        torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}, ...)""",
        known_limits="As DDP201.",
        fix_safety="Safe: adds the `ddp_kwargs` flag; `model_wo_auto_param_call` is left as it is.",
        fixable=True,
        options=_RESOLUTION_OPTIONS,
    ),
    Rule(
        code="DDP203",
        name="training-code-drops-model-output",
        message="{code} drops {parts} of {entry}'s output, so {attrs} gets no gradient; add it to the "
        "loss, or pass find_unused_parameters=True",
        summary="Training code (a scope that calls `.backward()`) that keeps only some outputs of the model: "
        "`logits, aux = model(x)` with `aux` never read, `out = model(x)` with only `out[0]` or `out.logits` "
        "read, while the model's other outputs come from submodules that feed nothing else.",
        why="A model may use every submodule in `forward` and still leave some without gradient: the ones "
        "that feed only outputs the training loop throws away. DDP cannot see that: those parameters take "
        "part in the forward graph but receive no gradient. Measured with torch 2.13 (gloo, 2 processes): "
        "this crashes with the default and with `static_graph=True`; `find_unused_parameters=True` tolerates "
        "it. The attributes are found from the structure of what the model's entry point returns (tuple "
        "positions, dict keys or ModelOutput fields). " + _EVIDENCE,
        example="""logits, aux = model(x)  # DDP203: self.aux_head in Net
loss = F.cross_entropy(logits, y)
loss.backward()""",
        use_instead="""logits, aux = model(x)
loss = F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)
loss.backward()""",
        known_limits="The model must be called by a name assigned from a resolvable model in the same scope "
        "(`out = model(x)`), and the scope must call `.backward()`. An output passed whole to another call, "
        "or read in any other way, counts as used.",
        options=_RESOLUTION_OPTIONS,
    ),
    Rule(
        code="DDP204",
        name="unused-flag-with-reentrant-checkpoint",
        message="{code} sets {flag}, but the model checkpoints reentrantly ({where}), which crashes DDP; "
        "pass use_reentrant=False to checkpoint, or use static_graph=True instead",
        summary="A launch that sets find_unused_parameters=True for a model that uses reentrant activation "
        "checkpointing.",
        why="With reentrant checkpointing the parameters inside a checkpointed segment do not appear in the "
        "forward graph, so `find_unused_parameters=True` marks them ready at the end of forward; the "
        "recomputation in backward produces their gradients and DDP raises `RuntimeError: Expected to mark a "
        "variable ready only once`. torch 2.13 still defaults `torch.utils.checkpoint.checkpoint` to "
        "`use_reentrant=True` (with a warning). Non-reentrant checkpointing (`use_reentrant=False`) works with "
        "the flag; `static_graph=True` works with reentrant checkpointing. " + _EVIDENCE.replace(
            "whose own analysis has culprits", "whose file calls checkpoint without use_reentrant=False"),
        example="""# model: x = checkpoint(self.block, x)
model = DDP(Net(), find_unused_parameters=True)  # DDP204""",
        use_instead="""# model: x = checkpoint(self.block, x, use_reentrant=False)
model = DDP(Net(), find_unused_parameters=True)""",
        known_limits="The checkpoint call is looked for in the file that defines the model class. HF "
        "`gradient_checkpointing_enable()` is not judged (its default changed to non-reentrant in "
        "transformers 5).",
        options=_RESOLUTION_OPTIONS,
    ),
    Rule(
        code="DDP205",
        name="fastnlp-auto-param-default-switches-branch",
        message="{code}: {attrs} gets no gradient when a batch lacks '{arg}' ({entry} then gets "
        "{arg}={default}); make every batch carry it, or {fix}",
        summary="A fastNLP Trainer that launches DDP for a model whose `train_step`/`forward` argument with a "
        "default guards a submodule (`if labels is not None: ... self.label_proj ...`).",
        why="With `model_wo_auto_param_call=False` (the default), fastNLP 1.x calls the entry point through "
        "`auto_param_call`: each argument is taken from the batch field of the same name, and an argument "
        "the batch lacks silently keeps its default. A submodule used only when that argument is given then "
        "gets no gradient whenever the batch lacks the field. " + _EVIDENCE,
        example="""class Net(nn.Module):
    def forward(self, x, labels=None):
        out = self.body(x)
        if labels is not None:
            out = out + self.label_proj(labels)
        return {"pred": out}

Trainer(model=Net(), driver="torch", device=[0, 1], ...)  # DDP205 when batches may lack 'labels'""",
        use_instead="""Trainer(model=Net(), driver="torch", device=[0, 1], ...,
        torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}})""",
        known_limits="Whether the batches carry the field is not known statically; the finding is a warning "
        "about fastNLP's matching, reported only for DDP launches. Not reported with "
        "`model_wo_auto_param_call=True`.",
        fix_safety="Safe: adds the `ddp_kwargs` flag.",
        fixable=True,
        options=_RESOLUTION_OPTIONS,
    ),
)
