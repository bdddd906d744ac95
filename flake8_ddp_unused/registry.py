"""The one table of codes: message templates, defaults and documentation.

Everything user-visible about a code comes from here: the flake8 message, whether the code is on by
default, ``docs/rules.md`` (generated, a test fails when it is stale) and ``explain CODE``.
Codes: DDP0xx definite model findings, DDP1xx likely model findings, DDP2xx launch sites,
DDP9xx off by default (enabled with ``--extend-select``).
"""
from __future__ import annotations

from typing import Dict, Tuple

from .launch_rules import LAUNCH_RULES
from .rule_schema import REDUCTION_ERROR, Rule

__all__ = ["REDUCTION_ERROR", "Rule", "MODEL_RULES", "all_rules", "rules_by_code", "default_off_codes"]


_MODEL_OPTIONS = (
    "`ddp-entry-points` (methods that start a training step, tried before `training_step`, `train_step` and "
    "`forward`) and `ddp-module-bases` (extra base classes that make a class an `nn.Module`), in the "
    "`[flake8]` section of setup.cfg, tox.ini or .flake8."
)

_FIXES = (
    "Ways out, best first: make the output reach the loss, delete the attribute, or freeze it with "
    "`requires_grad_(False)`; if the unused set is genuinely dynamic, tolerate it at the launch site with "
    "your framework's flag (`find_unused_parameters=True` for `DistributedDataParallel`, "
    '`strategy="ddp_find_unused_parameters_true"` for Lightning, '
    '`torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}` for the fastNLP Trainer, '
    "`ddp_find_unused_parameters=True` for HF `TrainingArguments`, "
    "`DistributedDataParallelKwargs(find_unused_parameters=True)` for accelerate, "
    "`--find-unused-parameters` for fairseq-train). "
    "That flag costs an extra graph traversal every iteration."
)

MODEL_RULES: Tuple[Rule, ...] = (
    Rule(
        code="DDP001",
        name="unused-submodule",
        message="{attr} in {cls} gets no gradient: unused in {entry}; use, delete or freeze it, or "
        "{fix}",
        summary="Trainable state built in `__init__` that the training entry point never reaches.",
        why="DDP registers every parameter with `requires_grad=True` and waits for its gradient. A "
        "submodule or `nn.Parameter` that `forward` (or `training_step`/`train_step`) never uses gets "
        "no gradient, and the next iteration raises `RuntimeError: " + REDUCTION_ERROR + "`. "
        "It is also dead weight in the optimizer. The same holds inside a child that uses a submodule only "
        "when an optional argument of its `forward` is given (`if residual is not None:`) while the class "
        "that owns it never passes that argument to it, or to one instance of it: the path is named on the "
        "owner's line (`self.layers.0.residual_layer1`). " + _FIXES,
        example="""class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.pooler = nn.Linear(16, 16)  # DDP001
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(4)])  # DDP001: self.layers[-1]

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = layer(x)
        return self.encoder(x)""",
        use_instead="""class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.pooler = nn.Linear(16, 16).requires_grad_(False)  # kept for checkpoints, frozen
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.encoder(x)""",
        known_limits="Silent when usage cannot be decided statically: `getattr(self, name)` with a name the "
        "code does not fix (a literal, or a class constant such as HF's `_input_embed_layer`, is read), "
        "`self.children()`/`modules()`/`parameters()`/`_modules` in the training path, `self` handed to "
        "unknown code, a base class the linter cannot read, or an attribute of the same name read "
        "from outside the class in the same file (`model.pooler(...)`). Attributes built by unknown "
        "factories (`build_encoder(cfg)`, `norm_layer(dim)`) are reported only by the opt-in DDP902. "
        "Code outside the linted project (a training script that calls `model.pooler` directly) is not seen. "
        "An argument the owner never passes is decided only for a child class of the same file whose every "
        "read in the owner is a call (`self.head(x)`, `self.layers[0](x)`, a loop over `self.layers[1:]`); "
        "`*args`/`**kwargs` count as passing everything.",
        options=_MODEL_OPTIONS,
        # a child's submodule that needs an optional argument its owner never passes (callers.py)
        extra={"caller_message": "{attr} in {cls} gets no gradient: {entry} calls {call} without {arg}, which it "
                                 "needs; pass {arg} there, or do not build it for that call, or {fix}"},
    ),
    Rule(
        code="DDP002",
        name="used-only-when-not-training",
        message="{attr} in {cls} gets no gradient: used only in eval mode ({guard}); freeze it, or "
        "{fix}",
        summary="A submodule used only on the eval path (`if not self.training:` or the `else` of "
        "`if self.training:`).",
        why="DDP training runs with `self.training == True` in every iteration, so a module used only "
        "when `self.training` is False never gets a gradient during training. " + _FIXES,
        example="""    def forward(self, x):
        if self.training:
            return self.backbone(x)
        return self.refiner(self.backbone(x))  # self.refiner: DDP002""",
        use_instead="""    def forward(self, x):
        h = self.backbone(x)
        return self.refiner(h)  # or freeze self.refiner during training""",
        known_limits="A module switched to training mode only for some steps by hand (`m.train()` on "
        "a submodule) is not followed.",
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP003",
        name="used-without-autograd",
        message="{attr} in {cls} gets no gradient: used only {how}; freeze it (requires_grad_(False)), or "
        "{fix}",
        summary="A trainable submodule used only under `torch.no_grad()`/`torch.inference_mode()`, or "
        "whose output is only used after `.detach()`, `.item()`, `.argmax()` or `.numpy()`.",
        why="A module run without autograd, or whose output is detached, takes no part in the backward "
        "pass: its parameters stay without gradient while DDP waits for them. The usual intent is a "
        "frozen teacher or backbone, which should then say so with `requires_grad_(False)` (DDP skips "
        "frozen parameters). " + _FIXES,
        example="""        with torch.no_grad():
            soft = self.teacher(x)  # self.teacher: DDP003 (not frozen)
        return self.student(x), soft""",
        use_instead="""        # in __init__: self.teacher.requires_grad_(False)
        with torch.no_grad():
            soft = self.teacher(x)""",
        known_limits="Freezing done outside the linted file (in a training script) is not seen; "
        "freezing by a helper whose name contains 'freeze' is trusted.",
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP004",
        name="output-never-reaches-loss",
        message="{attr} in {cls} gets no gradient: its output {where}; add it to the loss, delete it, or "
        "{fix}",
        summary="A submodule whose output is computed but never reaches what the entry point returns "
        "(or the `loss` entry where the entry point defines the loss).",
        why="Running a module is not enough: it gets a gradient only if its output reaches the loss "
        "that `backward()` starts from. An auxiliary head computed and dropped, or returned only beside "
        "the loss of a `training_step`/`train_step`/`{'loss': ...}` result, gets none. The same holds "
        "inside a child module: a class that keeps only some parts of what a child returns "
        "(`self.bert(x)[0]`, `.last_hidden_state`) leaves the child's parameters that feed only the other "
        "parts (BERT's `pooler`) without gradient; they are named by their path (`self.bert.pooler`) on "
        "the line that builds the child, also for models of installed packages such as transformers' "
        "`BertModel`. " + _FIXES,
        example="""    def forward(self, x):
        h = self.body(x)
        aux = self.aux_head(h)  # self.aux_head: DDP004
        return self.head(h)""",
        use_instead="""    def forward(self, x):
        h = self.body(x)
        return self.head(h), self.aux_head(h)  # and put both in the loss""",
        known_limits="When the output goes where the data flow is lost (stored on `self`, handed to "
        "unknown code whose result is discarded), the rule stays silent. A forward that returns several "
        "outputs is judged by the training code that consumes them (DDP203). A child's parts are "
        "followed where its class can be read (the project, or an installed package's source) and its "
        "summary stays within budget; `AutoModel.from_pretrained(name)` is followed only for a literal "
        "name whose model family is unambiguous (`\"bert-base-uncased\"`).",
        options=_MODEL_OPTIONS,
        # a child's parameters fed only by the parts of its output its parent drops (summaries.py)
        extra={"part_message": "{attr} in {cls} gets no gradient: {entry} keeps only {kept} of {call}; {fix}",
               # only other methods of the child run (`self.encoder.forward_features(x)`), never this part
               "method_message": "{attr} in {cls} gets no gradient: {entry} calls only {call}; {fix}",
               # the child's own forward uses it only detached (`argsort` of a score), whatever is kept
               "detached_message": "{attr} in {cls} gets no gradient: {child}.forward() uses it only with its "
                                   "output detached; {fix}"},
    ),
    Rule(
        code="DDP101",
        name="used-only-on-some-batches",
        message="{attr} in {cls} gets no gradient in some batches: used only if {guard}{why}; {fix}",
        summary="A submodule used only under a condition that changes between iterations: data values, "
        "randomness (layer-drop), task or mode arguments, the process rank.",
        why="DDP needs the same parameters to get gradients in every iteration on every rank. Layer-drop, "
        "top-1 mixture-of-experts routing, early exits and multi-task heads selected per batch all leave "
        "some parameters without gradient in some iterations. `static_graph=True` does not help either: "
        "the used set changes. " + _FIXES,
        example="""        for layer in self.layers:
            if self.training and random.random() < self.drop:
                continue  # self.layers: DDP101
            x = layer(x)""",
        use_instead="""        # keep layer-drop and launch with find_unused_parameters=True,
        # or drop residual branches by scaling (DropPath/StochasticDepth) instead of skipping modules""",
        known_limits="Conditions on shapes, `isinstance` and unknown calls are not judged. A rate read from a "
        "configuration object (`self.config.layerdrop`, `cfg.x`, argparse `args.x`) is judged at its literal "
        "default, and not judged without one. Loops are assumed to run at least once.",
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP102",
        name="built-always-used-under-flag",
        message="{attr} in {cls} gets no gradient by default: used only when {guard} (default {default}); "
        "build it under that flag, or {fix}",
        summary="A submodule built in every configuration but used only when a constructor flag is on, "
        "while the flag's default is off.",
        why="With the default configuration the module is registered (DDP waits for its gradient) but "
        "never run. Building it under the same flag (`self.aux = Head() if use_aux else None`) removes "
        "the parameters from the configurations that do not use them. " + _FIXES,
        example="""    def __init__(self, use_aux=False):
        ...
        self.use_aux = use_aux
        self.aux = nn.Linear(8, 2)  # DDP102

    def forward(self, x):
        out = self.head(x)
        if self.use_aux:
            out = out + self.aux(x)
        return out""",
        use_instead="""        self.aux = nn.Linear(8, 2) if use_aux else None""",
        known_limits="Only flags stored from a constructor argument or a literal in `__init__` and never "
        "reassigned elsewhere in the class, and switches of configuration objects with a literal default "
        "(configuration classes, dataclasses, the file's argparse parsers), are judged, at that default; so "
        "are optional lists an `__init__` of the class's hierarchy builds from a constructor argument "
        "(`self.cols = list(cols) if cols is not None else []`, passed on by `super().__init__(cols=cols)` and "
        "written nowhere else), also when the training step decides from them whether it passes a value to a "
        "child that returns None without it (`if len(self.cols): x = ...`, then `if child(x=x)[0] is not "
        "None`). A module handed to the constructor and stored as is (a wrapper's `self.original = module`) cannot "
        "be built under the flag: the message says to freeze it instead.",
        options=_MODEL_OPTIONS,
        # a module the class is given rather than builds (peft's `ModulesToSaveWrapper.original_module`)
        extra={"handed_message": "{attr} in {cls} gets no gradient by default: used only when {guard} (default "
                                 "{default}); freeze it (it is handed in), or {fix}"},
    ),
    Rule(
        code="DDP103",
        name="frozen-only-in-train",
        message="{attr} in {cls} gets no gradient{when}: train() freezes it{how} after DDP registered it; "
        "freeze it in __init__ too, or {fix}",
        summary="Parameters that the class's `train()` override freezes (directly or through a method it calls, "
        "such as `_freeze_stages()`) while `__init__` leaves them trainable.",
        why="`DistributedDataParallel` registers, when it wraps the model, every parameter that requires a "
        "gradient at that moment, and waits for each one's gradient in every iteration. Training code wraps the "
        "model first and calls `model.train()` at the start of each epoch (mmengine's runner, most scripts), so a "
        "`train()` override that sets `requires_grad = False` takes the parameters out of the backward pass after "
        "DDP registered them, and the next iteration raises `RuntimeError: " + REDUCTION_ERROR + "` naming them "
        "(mmdet's `SwinTransformer` with `frozen_stages`). Freezing in `__init__` as well (mmdet's `ResNet` calls "
        "`self._freeze_stages()` there too) keeps the frozen parameters out of DDP from the start. DDP103 reports "
        "the freezes that happen with the constructor's defaults; a freeze only under an option the defaults "
        "leave off (`if self.frozen_stages >= 0:` with `frozen_stages=-1`) is the opt-in DDP903. " + _FIXES,
        example="""    def __init__(self, frozen_stages=1):
        super().__init__()
        self.frozen_stages = frozen_stages
        self.stem = nn.Conv2d(3, 8, 3)  # DDP103 when self.frozen_stages >= 0 (default frozen_stages=1)
        self.head = nn.Linear(8, 2)

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            for param in self.stem.parameters():
                param.requires_grad = False""",
        use_instead="""    def __init__(self, frozen_stages=1):
        ...
        self._freeze_stages()  # frozen before DDP wraps the model: never registered""",
        known_limits="Only `requires_grad = False`, `requires_grad_(False)` and loops over `.parameters()` of "
        "`self.x` (or of a local bound to it, or `getattr(self, \"x\")`) are read; `.eval()` alone (BatchNorm "
        "statistics) freezes no parameter and is never reported. A freeze through a helper the linter cannot read "
        "is not seen, and an `__init__` that calls such a freezing helper keeps the class silent. An attribute "
        "that another method also freezes (a `freeze()` the user may call before wrapping) is not reported, nor "
        "is a freeze under a test on state that a method other than `__init__` changes. A training script that "
        "calls `model.train()` before wrapping the model (then DDP never registers the frozen parameters) is "
        "not seen.",
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP901",
        name="used-only-with-optional-argument",
        message="{attr} in {cls} gets no gradient when a batch lacks the argument: used only when {guard}; "
        "{fix}",
        summary="(Off by default.) A submodule used only when an optional argument of the entry point is "
        "given (`if labels is not None`, `if return_aux:`).",
        why="Whether an optional argument is passed is usually the same in every training iteration, so "
        "this is often fine; but a data loader whose batches sometimes lack the key (or fastNLP's "
        "automatic argument matching, which silently uses the default when the batch has no such "
        "field) switches the branch off. Too uncertain to be on by default: enable it with "
        "`--extend-select DDP901`. " + _FIXES,
        example="""    def forward(self, x, labels=None):
        out = self.body(x)
        if labels is not None:
            out = out + self.label_proj(labels)  # self.label_proj: DDP901
        return out""",
        use_instead="""        # make sure every training batch carries `labels`, or use the framework flag""",
        known_limits="Whether the data loader really omits the argument cannot be seen from the model; "
        "the code only says the branch depends on it. Arguments without a default that are checked "
        "against None count too.",
        default_on=False,
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP902",
        name="unused-factory-attribute",
        message="{attr} in {cls} ({factory}(...)) is never used by {entry}; if it has parameters, use, "
        "delete or freeze it, or {fix}",
        summary="(Off by default.) Like DDP001, for attributes built by a call the linter cannot classify "
        "(`build_encoder(cfg)`, `norm_layer(dim)`).",
        why="Factories usually return modules with parameters, but they also return tokenizers, metrics, "
        "losses and configs, which are harmless. On real model zoos this guess is wrong too often to be "
        "on by default; enable it with `--extend-select DDP902` for your own code. " + _FIXES,
        example="""        self.neck = build_neck(cfg)  # DDP902 when forward never uses it""",
        use_instead="""        # use self.neck in forward, or do not build it""",
        known_limits="A call counts as a factory when its name is class-like (`Block(...)`) or names a "
        "builder (`build_*`, `create_*`, `*_layer`, `*_block`, `*_norm`, ...); predicates (`use_*`, `is_*`), "
        "builtins and the standard library do not. An attribute read as a condition (`if self.flag:`) "
        "is a flag, not a module. Measured on torchvision/models, timm and fastNLP: one finding, a wrong "
        "one (an enum built by `Format(...)`), which is why it stays opt-in.",
        default_on=False,
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP903",
        name="frozen-in-train-under-option",
        message="{attr} in {cls} gets no gradient{when}: train() freezes it{how} after DDP registered it; "
        "freeze it in __init__ too, or {fix}",
        summary="(Off by default.) DDP103 for a freeze that happens only under an option the constructor's "
        "defaults leave off (`if self.frozen_stages >= 0:` with `frozen_stages=-1`).",
        why="Every run that sets the option crashes exactly as DDP103 describes (mmdetection#10157: Swin with "
        "`frozen_stages=3`), but runs at the defaults train, and the linter cannot see the configuration files "
        "that set the option. On mmpretrain 1.2.0 it names 19 backbones whose `frozen_stages` no shipped "
        "configuration sets. Enable it with `--extend-select DDP903` when your configurations set such an "
        "option. " + _FIXES,
        example="""    def __init__(self, frozen_stages=-1):
        super().__init__()
        self.frozen_stages = frozen_stages
        self.stem = nn.Conv2d(3, 8, 3)  # DDP903 when self.frozen_stages >= 0 (default frozen_stages=-1)

    def train(self, mode=True):
        super().train(mode)
        if self.frozen_stages >= 0:
            self.stem.requires_grad_(False)""",
        use_instead="""    def __init__(self, frozen_stages=-1):
        ...
        self._freeze_stages()  # frozen before DDP wraps the model: never registered""",
        known_limits="As DDP103. A test the linter cannot evaluate at the defaults counts as off.",
        default_on=False,
        options=_MODEL_OPTIONS,
    ),
    Rule(
        code="DDP998",
        name="analysis-skipped",
        message="analysis of {subject} stopped ({reason}); findings about it may be missing",
        summary="(Off by default.) A part of the file the analysis gave up on, and why.",
        why="Where the analysis stops (an expression nested deeper than libcst can safely parse, a training "
        "step larger than the per-file budget, a method libcst cannot re-parse), the code is not judged and "
        "only the plain facts are reported about it (trainable state whose name the class's code never "
        "writes again is still DDP001). Silence there does not mean the code is fine: enable this code "
        "to see what was skipped. The standalone command lists the same records on stderr with "
        "`--verbose` and under `\"skipped\"` in its JSON report.",
        example="""$ flake8 --extend-select DDP998 model.py
model.py:12:1: DDP998 analysis of class Generated stopped (forward() nests expressions 5001 deep, limit 100); \
findings about it may be missing""",
        use_instead="""# split the generated expression or the very large method, or accept that it is not checked""",
        known_limits="Reported on the line of the class (or of the code) that was skipped. The budgets are "
        "counted in work done, not seconds, so the same file gives the same records on every machine.",
        default_on=False,
    ),
    Rule(
        code="DDP999",
        name="internal-error",
        message="flake8-ddp-unused could not analyse this file ({error}); please report it",
        summary="(Off by default.) The analysis failed on this file; no finding is reported for it.",
        why="A linter must never abort a flake8 run. Internal failures are swallowed; enable this code "
        "to see them.",
        example="""$ flake8 --extend-select DDP999 model.py
model.py:1:1: DDP999 flake8-ddp-unused could not analyse this file (RecursionError: ...); please report it""",
        use_instead="""# nothing to change in your code: report the file (or a reduced copy) to the project""",
        known_limits="Reported once per file, on line 1. Files that do not parse are left to flake8 (E999).",
        default_on=False,
    ),
)


def all_rules() -> Tuple[Rule, ...]:
    """Every rule, model rules first, then launch-site rules (they live beside their checks)."""
    return MODEL_RULES + LAUNCH_RULES


def rules_by_code() -> Dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}


def default_off_codes() -> Tuple[str, ...]:
    return tuple(rule.code for rule in all_rules() if not rule.default_on)
