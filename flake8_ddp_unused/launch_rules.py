"""Launch-site rules (DDP2xx): the registry entries for the checks in ``launch.py``."""
from __future__ import annotations

from typing import Tuple

from .rule_schema import REDUCTION_ERROR, Rule

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
        extra={"mode_message": "{code}: the training step calls {entry} only with {modes}, so {attrs} gets no "
               "gradient; do not build it for this instance, or pass {fix}"},
        summary="Training code (a function that backpropagates or returns the loss to a trainer, with the loss "
        "functions and criterion modules it calls, in any file of the project) that keeps only some outputs of "
        "the model in the loss: `logits, aux = model(x)` with `aux` never in the loss, `out[0]` only, a loss "
        "term computed but never added, while those outputs come from submodules that feed nothing else.",
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
        known_limits="The model must resolve to a class: built in the scope, passed as a parameter whose every "
        "call site in the project builds the same class, or held as `self.model` by a trainer class. An output "
        "passed whole to code the linter cannot read counts as used, and so does anything handed to a function "
        "that stores into its arguments.",
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
    Rule(
        code="DDP206",
        name="fastnlp-trainer-gets-ddp-wrapped-model",
        message="{code} gets a model already wrapped in {wrapper}: {outcome}; pass the plain model and "
        "torch_kwargs={{\"ddp_kwargs\": {{\"find_unused_parameters\": True}}}}",
        summary="A fastNLP Trainer that starts DDP with a model already wrapped in `DistributedDataParallel` by the "
        "script (the recipe `model = DistributedDataParallel(model, find_unused_parameters=True)` plus "
        "`model_wo_auto_param_call=True`).",
        why="fastNLP 1.x wraps the model itself (`TorchDDPDriver.configure_ddp`) and calls `train_step` through "
        "its own wrapper. A model wrapped by the script behaves differently, read off fastNLP 1.0.1: started "
        "with plain `python`, the script's `DistributedDataParallel(...)` call raises at once because no "
        "default process group exists yet (fastNLP starts the processes later, inside the Trainer); started "
        "with `torchrun` after the script's own `init_process_group`, `TorchDDPDriver` accepts the wrapper "
        "(`outside_ddp`) and `get_model_call_fn` calls the wrapper's `forward` instead of `train_step`, with "
        "only a logged warning, so a model with only `train_step` fails and one with both trains `forward`. "
        "`model_wo_auto_param_call=True` changes neither. The plain model with the `ddp_kwargs` flag keeps "
        "`train_step` and tolerates unused parameters.",
        example="""model = DistributedDataParallel(Net(), find_unused_parameters=True)
Trainer(model=model, driver="torch", device=[0, 1], model_wo_auto_param_call=True, ...)  # DDP206""",
        use_instead="""Trainer(model=Net(), driver="torch", device=[0, 1],
        torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}, ...)""",
        known_limits="Reported when the script never calls `init_process_group` (the wrapper cannot be built), or "
        "when the wrapped model's class defines `train_step` (fastNLP would skip it). A script that initialises "
        "the process group and wraps a model with only `forward` trains as intended and is not reported.",
        options=_RESOLUTION_OPTIONS,
    ),
    Rule(
        code="DDP207",
        name="training-code-uses-output-on-some-batches",
        message="{code}: {parts} of {entry}'s output reaches the loss only if {guard}, so {attrs} gets no "
        "gradient in other batches; add it to the loss on every batch (times 0 when it does not apply), or "
        "pass {fix}",
        summary="Training code (a loss function, `compute_loss`, a criterion module, the loop itself) that adds "
        "an output of the model to the loss only under a condition decided by the data, the step or the task: "
        "`if num_pos > 0: loss_box = ... else: loss_box = torch.tensor(0.)`, `if step % k == 0`.",
        why="On a batch where the condition is false the output's submodules take part in the forward graph "
        "but receive no gradient, and the next iteration raises `RuntimeError: " + REDUCTION_ERROR + "`. "
        "Detectors whose box loss is skipped on batches without positives crash this way on the first "
        "such batch, often hours into training. A zero-weighted term (`loss_box = pred_boxes.sum() * 0`) keeps "
        "the graph the same on every batch. The model, its outputs and the loss are followed through "
        "assignments, the usual wrappers, function parameters (call sites of the project), project loss "
        "functions and criterion modules. Conditions on the data (values derived from the batch or the "
        "model's outputs) and on the loop's step count; conditions on configuration (`args.aux_loss`) are not "
        "reported.",
        example="""out = model(x)
if num_pos > 0:
    loss_box = F.l1_loss(out["boxes"][pos], target[pos])  # DDP207 on `out = model(x)`
else:
    loss_box = torch.tensor(0.0)
loss = F.cross_entropy(out["logits"], y) + loss_box""",
        use_instead="""out = model(x)
loss_box = F.l1_loss(out["boxes"][pos], target[pos]) if num_pos > 0 else out["boxes"].sum() * 0
loss = F.cross_entropy(out["logits"], y) + loss_box""",
        known_limits="Reported on the line that calls the model. A part used whole by unknown code counts as "
        "used on every batch.",
        options=_RESOLUTION_OPTIONS,
    ),
    Rule(
        code="DDP208",
        name="optional-argument-decided-per-batch",
        message="{code} {how}, so {attrs} (used only with {arg}) gets no gradient in those batches; pass {arg} "
        "on every training batch, or pass {fix}",
        summary="The project's training code calls the model without an optional argument on some batches "
        "(`labels=batch.get(\"labels\")`, a call under a data-dependent condition, or some call sites "
        "omitting it) while a submodule is used only when that argument is given (DDP901's pattern).",
        why="`if labels is not None: ... self.label_proj ...` is harmless when every training batch passes "
        "`labels`, and crashes DDP when some do not. DDP901 (off by default) flags the model side because the "
        "model alone cannot tell; the training code can: `batch.get(\"labels\")` is None on batches that lack "
        "the field, and a call site that omits the argument leaves the submodule without gradient in those "
        "iterations. When every training call passes the argument, nothing is reported.",
        example="""class Net(nn.Module):
    def forward(self, x, labels=None):
        out = self.body(x)
        if labels is not None:
            out = out + self.label_proj(labels)
        return out

loss = model(batch["x"], labels=batch.get("labels")).sum()  # DDP208""",
        use_instead="""loss = model(batch["x"], labels=batch["labels"]).sum()""",
        known_limits="Only training code (a scope that backpropagates, returns or hands over the loss) is "
        "considered; `model(**batch)` is not judged.",
        options=_RESOLUTION_OPTIONS,
    ),
)
