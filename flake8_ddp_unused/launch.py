"""Launch sites (DDP2xx): where a model with culprits is handed to DistributedDataParallel.

Every framework has its own call that starts DDP and its own spelling of the flag that tolerates
unused parameters (DESIGN.md §4). A launch is reported only with evidence: the model argument resolves
(through the assignments of the same scope, factory functions and imports of other project files) to a
module class whose analysis has culprits, and the message names them. Everything here reads the ``ast``
tree flake8 already parsed; ``fixes.py`` turns the :class:`Edit` plans into libcst edits.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from . import callsites, project
from .analyzer import FileAnalysis
from .index import ClassInfo, FileIndex, FunctionNode, walk
from .instances import (TORCH_DDP, _PREPARE_METHODS, _SAME_MODEL_FUNCTIONS, _SAME_MODEL_METHODS, Evidence, Origin, Pos,
                        Resolver, Scope, _bind, _const, _dict_literal, _follow, _pos, _truth, call_arguments, scopes_of)
from .init_facts import InitFacts
from .registry import rules_by_code
from .rules import Finding
from .skips import Skip
from .training import modes as training_modes
from .training import outputs
from .training.loss import _LOSS_ENTRIES, LossRun, Source, calls_backward_helper
from .values import NEVER, FlowResult, Val

DETECTRON2_DDP = {"detectron2.engine.create_ddp_model", "detectron2.engine.defaults.create_ddp_model"}
FASTNLP_TRAINER = {"fastNLP.Trainer", "fastNLP.core.Trainer", "fastNLP.core.controllers.Trainer",
                   "fastNLP.core.controllers.trainer.Trainer"}
FASTNLP_DIST_TRAINER = {"fastNLP.DistTrainer", "fastNLP.core.DistTrainer", "fastNLP.core.dist_trainer.DistTrainer"}
HF_ARGS = {"transformers.TrainingArguments", "transformers.Seq2SeqTrainingArguments",
           "transformers.training_args.TrainingArguments",
           "transformers.training_args_seq2seq.Seq2SeqTrainingArguments"}
HF_TRAINER = {"transformers.Trainer", "transformers.Seq2SeqTrainer", "transformers.trainer.Trainer",
              "transformers.trainer_seq2seq.Seq2SeqTrainer"}
LIGHTNING_TRAINER = {"lightning.Trainer", "lightning.pytorch.Trainer", "pytorch_lightning.Trainer",
                     "lightning.pytorch.trainer.Trainer", "pytorch_lightning.trainer.Trainer",
                     "lightning.pytorch.trainer.trainer.Trainer", "pytorch_lightning.trainer.trainer.Trainer"}
LIGHTNING_DDP_STRATEGY = {"lightning.pytorch.strategies.DDPStrategy", "pytorch_lightning.strategies.DDPStrategy",
                          "lightning.pytorch.strategies.ddp.DDPStrategy",
                          "pytorch_lightning.strategies.ddp.DDPStrategy",
                          "lightning.fabric.strategies.DDPStrategy"}
LIGHTNING_DDP_NAMES = ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook")
ACCELERATOR = {"accelerate.Accelerator", "accelerate.accelerator.Accelerator"}
ACCELERATE_DDP_KWARGS = {"accelerate.DistributedDataParallelKwargs", "accelerate.utils.DistributedDataParallelKwargs",
                         "accelerate.utils.dataclasses.DistributedDataParallelKwargs"}
_INIT_PROCESS_GROUP = {"torch.distributed.init_process_group", "torch.distributed.distributed_c10d.init_process_group"}

# Cheap pre-filter: a file that mentions none of these has no launch site and no training loop.
LAUNCH_MARKERS = ("DistributedDataParallel", "DDP", "Trainer", "TrainingArguments", "Accelerator",
                  "create_ddp_model", "find_unused_parameters", "backward")


@dataclass(frozen=True)
class Edit:
    """One libcst edit ``fixes.py`` applies, anchored on the position of an ast node (line, 0-based col).

    kind ``kwarg``: on the call at ``pos``, set keyword ``path[0]`` to ``value`` (added when missing);
    kind ``dict``: in the dict literal at ``pos``, set the nested key ``path`` to ``value``;
    kind ``replace``: replace the expression at ``pos`` with ``value``;
    kind ``import``: add ``value`` (an import statement) after the module's imports.
    """

    kind: str
    pos: Pos
    path: Tuple[str, ...] = ()
    value: str = ""


@dataclass
class LaunchHit:
    finding: Finding
    edits: Tuple[Edit, ...] = ()


def _passes(func: FunctionNode, call: ast.Call, name: str) -> Optional[str]:
    """How a model call passes the optional argument ``name``: "given", "missing", the expression when it
    may be None per batch (``batch.get("labels")``), or None when unknown (``model(**batch)``)."""
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    arg = callsites.bound_argument(func, call, name, skip_self=True)
    if arg is None:
        return "missing"
    if isinstance(arg, ast.Constant) and arg.value is None:
        return "missing"
    if isinstance(arg, ast.Call) and (
            (isinstance(arg.func, ast.Attribute) and arg.func.attr == "get" and len(arg.args) == 1)
            or (isinstance(arg.func, ast.Name) and arg.func.id == "getattr" and len(arg.args) == 3)):
        return ast.unparse(arg)
    return "given"


_FIXES_BY_FRAMEWORK = {
    "fastnlp": 'torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}} to the fastNLP Trainer',
    "accelerate": "kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)] to Accelerator",
    "lightning": 'strategy="ddp_find_unused_parameters_true" to the Lightning Trainer',
}


def _fix_text(framework: str) -> str:
    return _FIXES_BY_FRAMEWORK.get(framework, "find_unused_parameters=True to DistributedDataParallel")


def _hf_reentrant(call: ast.Call) -> bool:
    """``model.gradient_checkpointing_enable()`` without ``{"use_reentrant": False}``: reentrant in transformers 4.x."""
    for keyword in call.keywords:
        if keyword.arg == "gradient_checkpointing_kwargs" and isinstance(keyword.value, ast.Dict):
            for key, value in zip(keyword.value.keys, keyword.value.values):
                if isinstance(key, ast.Constant) and key.value == "use_reentrant":
                    return not (isinstance(value, ast.Constant) and value.value is False)
    return True


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------
def _relevant(index: FileIndex, extra: Sequence[str]) -> bool:
    text = "".join(index.lines)
    return any(marker in text for marker in LAUNCH_MARKERS) or any(
        call.rsplit(".", 1)[-1] in text for call in extra)


def check_launches(analysis: "FileAnalysis") -> List[Finding]:
    return [hit.finding for hit in launch_hits(analysis)]


def launch_hits(analysis: "FileAnalysis") -> List[LaunchHit]:
    index = analysis.index
    if not _relevant(index, analysis.settings.trainer_calls):
        return []
    checker = LaunchChecker(analysis)
    hits = checker.run()
    analysis.mode_settled = _settled_here(checker.resolver, index.filename)
    # launch sites whose model could not be resolved join the file's skip records (DDP998, --verbose, JSON)
    analysis.skipped.extend(Skip(index.filename, line, subject, reason) for line, subject, reason in checker.skipped)
    return hits


def _settled_here(resolver: Resolver, filename: str) -> Dict[str, Set[str]]:
    """Classes of this file whose every instance trained here is called with literal modes: the attributes
    all of them use on every iteration."""
    out: Dict[str, Set[str]] = {}
    for (path, name), sets in resolver.mode_settled.items():
        if path != filename or not sets or any(s is None for s in sets):
            continue
        out[name] = set.intersection(*[s for s in sets if s is not None])
    return out


def drop_settled(analysis: "FileAnalysis", findings: List[Finding]) -> List[Finding]:
    """A model-side DDP101 ("used only if mode == 'fwd'") on an attribute that the training code in this file
    uses on every iteration of every instance it trains: the mode is the caller's literal, not the batch's."""
    settled: Dict[str, Set[str]] = getattr(analysis, "mode_settled", {})
    return [f for f in findings if not (f.code == "DDP101" and f.attr_name in settled.get(f.cls, ()))]


class LaunchChecker:
    def __init__(self, analysis: "FileAnalysis") -> None:
        self.analysis = analysis
        self.index = analysis.index
        self.resolver = Resolver(analysis)
        self.rules = rules_by_code()
        self.hits: Dict[Tuple[int, int, str], LaunchHit] = {}
        self.ddp_calls = TORCH_DDP | DETECTRON2_DDP | set(analysis.settings.trainer_calls)
        self.scopes: List[Scope] = []
        self._own_calls: Set[int] = set()
        self.skipped: List[Tuple[int, str, str]] = []  # launch sites whose model is unknown: line, subject, why

    def run(self) -> List[LaunchHit]:
        scopes = self.scopes = scopes_of(self.index)
        self._own_calls = {id(c) for s in scopes for c in s.calls}
        self.training_code()
        for scope in scopes:
            for call in scope.calls:
                qual = self.index.qualify(call.func)
                if qual is None:
                    continue
                if qual in self.ddp_calls:
                    self.torch_ddp(call, scope, qual)
                elif qual in FASTNLP_TRAINER:
                    self.fastnlp(call, scope)
                elif qual in FASTNLP_DIST_TRAINER:
                    self.fastnlp_dist(call, scope)
                elif qual in HF_TRAINER or self._hf_trainer_subclass(qual):
                    self.hf(call, scope)
                elif qual in LIGHTNING_TRAINER:
                    self.lightning(call, scope)
                elif qual in ACCELERATOR:
                    self.accelerate(call, scope)
            if scope.has_backward:
                self.dropped_outputs(scope)
        self.mmengine_config(scopes[0])
        return sorted(self.hits.values(), key=lambda h: (h.finding.line, h.finding.col, h.finding.code))

    def _hf_trainer_subclass(self, qual: str) -> bool:
        """A project class derived from transformers' Trainer (``class MyTrainer(Trainer)``)."""
        if not qual.endswith("Trainer"):
            return False
        info = self.index.local_class(qual)
        if info is None:
            return False
        return any(base in HF_TRAINER for owner in info.module.mro(info)[0] for base in owner.base_names)

    def _evidence(self, where: Tuple[Optional[ast.expr], Scope, Pos], launch: Optional[ast.AST] = None
                  ) -> Optional[Evidence]:
        info, origin = self.resolver.model_origin(*where)
        if info is None and launch is not None:
            self.unresolved(launch, *where)
        ctor = self.resolver.instance_args(*where) if info is not None else None
        return self.resolver.evidence(info, ctor, origin)

    def unresolved(self, launch: ast.AST, model: Optional[ast.expr], scope: Scope, before: Pos) -> None:
        """A launch site seen whose model could not be resolved: silent, but listed (``--verbose``, JSON)."""
        if model is None:
            return
        node, seen = model, 0
        while isinstance(node, ast.Name) and seen < 8:  # the value as last assigned: what could not be read
            found = scope.lookup(node.id, before)
            if found is None:
                break
            before, node, scope = found[0], found[1], found[3]
            seen += 1
        while isinstance(node, ast.Call) and node.args and (
                self.index.qualify(node.func) in TORCH_DDP | _SAME_MODEL_FUNCTIONS or (
                isinstance(node.func, ast.Attribute) and node.func.attr in _SAME_MODEL_METHODS | _PREPARE_METHODS)):
            node = node.args[0] if not (isinstance(node.func, ast.Attribute) and node.func.attr in
                                        _SAME_MODEL_METHODS) else node.func.value
        text = _short(node)
        if isinstance(node, ast.Name) and isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.id in scope.params):
            reason = f"its model is the parameter {text} of {scope.node.name}(), whose callers do not decide it"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript):
            reason = f"its model is chosen at run time ({_short(node.func)})"
        else:
            reason = f"its model ({text}) is not a module class the linter can read"
        line, _ = _pos(launch)
        self.skipped.append((line, f"launch site {_short(launch)}", reason))

    # ---- reporting ----
    def add(self, rule: str, node: ast.AST, edits: Sequence[Edit] = (), **fields: str) -> None:
        line, col = _pos(node)
        message = self.rules[rule].message.format(**fields)
        finding = Finding(rule, line, col, message, fields.get("cls", ""), fields.get("attrs", ""),
                          fixable=bool(edits))
        self.hits.setdefault((line, col, rule), LaunchHit(finding, tuple(edits)))

    def _fields(self, ev: Evidence, call: ast.AST) -> Dict[str, str]:
        return dict(code=_short(call), attrs=ev.names, cls=ev.info.name)

    def _tolerant(self, value: object, ev: Evidence, call: ast.AST, flag_text: str) -> bool:
        """Report a launch whose flag is True while the model checkpoints reentrantly (DDP204)."""
        if value is True and ev.reentrant and ev.culprits:
            self.add("DDP204", call, **self._fields(ev, call), flag=flag_text, where=ev.reentrant)
        return value is True

    def _advice(self, ev: Evidence, fix: str) -> str:
        if ev.reentrant:
            alt = " (or use static_graph=True)" if ev.static else ""
            return f"pass use_reentrant=False to checkpoint ({ev.reentrant}), then {fix}{alt}"
        return fix

    # ---- torch DistributedDataParallel, detectron2 create_ddp_model, --ddp-trainer-calls ----
    def torch_ddp(self, call: ast.Call, scope: Scope, qual: str) -> None:
        args = call_arguments(call, scope, ("module",))
        model = args.get("module") or args.get("model")
        info, origin = self.resolver.model_origin(model, scope, _pos(call))
        if info is None:
            self.unresolved(call, model, scope, _pos(call))
        ctor = self.resolver.instance_args(model, scope, _pos(call)) if info is not None else None
        ev = self.resolver.evidence(info, ctor, origin)
        if ev is None or not ev.culprits or "**" in args:
            return
        flag = _const(args.get("find_unused_parameters"), scope, _pos(call))
        if flag is ...:
            return
        if self._tolerant(flag, ev, call, "find_unused_parameters=True"):
            return
        if _const(args.get("static_graph"), scope, _pos(call)) is True and ev.static:
            return
        edits: List[Edit] = []
        if not ev.reentrant:
            edits = _keyword_edits(call, "find_unused_parameters", "True")
        self.add("DDP201", call, edits, **self._fields(ev, call),
                 fix=self._advice(ev, "pass find_unused_parameters=True"))

    # ---- fastNLP 1.x Trainer ----
    def fastnlp(self, call: ast.Call, scope: Scope) -> None:
        before = _pos(call)
        args = call_arguments(call, scope, ("model", "train_dataloader", "optimizers", "driver", "device"))
        driver = _const(args.get("driver"), scope, before) if "driver" in args else "auto"
        if driver not in ("torch", "auto"):
            return
        if not _fastnlp_ddp_device(args.get("device"), scope, before):
            return
        if self.fastnlp_prewrapped(call, args.get("model"), scope):
            return  # the wrapper decides what happens, not the flags below
        ev = self._evidence((args.get("model"), scope, before), call)
        if ev is None:
            return
        flag, edits = _fastnlp_flag(call, args, scope)
        if flag is ...:
            return
        if self._tolerant(flag, ev, call, 'torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}'):
            return
        fields = self._fields(ev, call)
        fix = 'pass torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}'
        if ev.reentrant:
            edits = []
        if ev.culprits:
            wo_auto = _const(args.get("model_wo_auto_param_call"), scope, before) is True
            self.add("DDP202" if wo_auto else "DDP201", call, edits, **fields, fix=self._advice(ev, fix))
            return
        if _const(args.get("model_wo_auto_param_call"), scope, before) is True:
            return  # the whole batch goes to train_step/forward: defaults are not filled in by fastNLP
        for finding in ev.report.findings:
            if finding.code != "DDP901":
                continue
            argument = _guarding_argument(ev, finding)
            if argument is None:
                continue
            name, default = argument
            self.add("DDP205", call, edits, **{**fields, "attrs": f"{finding.attr} in {ev.info.name}"},
                     entry=f"{ev.info.name}.{ev.report.facts.entry}", arg=name, default=default, fix=fix)

    def fastnlp_prewrapped(self, call: ast.Call, model: Optional[ast.expr], scope: Scope) -> bool:
        """The seed's recipe: ``model = DistributedDataParallel(model, ...)`` handed to the fastNLP Trainer
        (DDP206). True when the model is such a wrapper (reported or not)."""
        wrapper = _follow(model, scope, _pos(call)) if model is not None else None
        if not (isinstance(wrapper, ast.Call) and self.index.qualify(wrapper.func) in TORCH_DDP):
            return False
        inner = self.resolver.model_class(wrapper.args[0] if wrapper.args else None, scope, _pos(wrapper))
        has_train_step = inner is not None and any(
            "train_step" in owner.methods for owner in inner.module.mro(inner)[0])
        has_forward = inner is not None and any("forward" in owner.methods for owner in inner.module.mro(inner)[0])
        initialised = any(self.index.qualify(c.func) in _INIT_PROCESS_GROUP for s in self.scopes for c in s.calls)
        if initialised and not has_train_step:
            return True  # under torchrun with its own process group: fastNLP calls forward, as the user wants
        if not initialised:
            outcome = ("under python it fails at once (no process group yet); under torchrun fastNLP calls "
                       "forward, not train_step")
        elif has_forward:
            outcome = (f"fastNLP calls {inner.name}.forward, not {inner.name}.train_step "  # type: ignore
                       "(only a logged warning)")
        else:
            outcome = (f"fastNLP calls forward, not train_step, and {inner.name} has no forward, so "  # type: ignore
                       "training fails")
        self.add("DDP206", call, (), code=_short(call), wrapper=_short(wrapper), outcome=outcome,
                 cls=inner.name if inner is not None else "")
        return True

    def fastnlp_dist(self, call: ast.Call, scope: Scope) -> None:
        before = _pos(call)
        args = call_arguments(call, scope, ("train_data", "model"))
        ev = self._evidence((args.get("model"), scope, before), call)
        if ev is None or not ev.culprits or "**" in args:
            return
        flag = _const(args.get("find_unused_parameters"), scope, before)
        if flag is ... or self._tolerant(flag, ev, call, "find_unused_parameters=True"):
            return
        edits = [] if ev.reentrant else _keyword_edits(call, "find_unused_parameters", "True")
        self.add("DDP201", call, edits, **self._fields(ev, call),
                 fix=self._advice(ev, "pass find_unused_parameters=True"))

    # ---- Hugging Face Trainer + TrainingArguments ----
    def hf(self, call: ast.Call, scope: Scope) -> None:
        before = _pos(call)
        args = call_arguments(call, scope, ("model", "args"))
        training_args = _follow(args["args"], scope, before) if "args" in args else None
        if not isinstance(training_args, ast.Call) or self.index.qualify(training_args.func) not in HF_ARGS:
            return
        targs = call_arguments(training_args, scope, ("output_dir",))
        if "**" in targs:
            return
        ev = self._evidence((args.get("model"), scope, before), training_args)
        if ev is None or not ev.culprits:
            return
        flag = _const(targs.get("ddp_find_unused_parameters"), scope, _pos(training_args))
        if flag is ... or flag is None or flag is True:
            return  # None: the HF Trainer passes find_unused_parameters=True unless checkpointing
        edits = _keyword_edits(training_args, "ddp_find_unused_parameters", "True")
        self.add("DDP201", training_args, edits, **self._fields(ev, training_args),
                 fix=self._advice(ev, "set ddp_find_unused_parameters=True (or leave it unset)"))

    # ---- Lightning ----
    def lightning(self, call: ast.Call, scope: Scope) -> None:
        before = _pos(call)
        args = call_arguments(call, scope)
        strategy = args.get("strategy")
        if strategy is None:
            return
        value = _follow(strategy, scope, before)
        edits: List[Edit] = []
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            name = value.value
            base = name.replace("_find_unused_parameters_false", "").replace("_find_unused_parameters_true", "")
            if base not in LIGHTNING_DDP_NAMES:
                return
            flag: object = name.endswith("_find_unused_parameters_true")
            fixed = f"{base}_find_unused_parameters_true"
            edits = [Edit("replace", _pos(value), (), repr(fixed))]
            fix = f'use strategy="{fixed}"'
        elif isinstance(value, ast.Call) and self.index.qualify(value.func) in LIGHTNING_DDP_STRATEGY:
            sargs = call_arguments(value, scope)
            if "**" in sargs:
                return
            flag = _const(sargs.get("find_unused_parameters"), scope, before)
            edits = _keyword_edits(value, "find_unused_parameters", "True")
            fix = "pass find_unused_parameters=True"
        else:
            return
        if flag is ...:
            return
        model = self._fit_model(call, scope)
        ev = self._evidence((model, scope, (10 ** 9, 0)), call)
        if ev is None or not ev.culprits:
            return
        if self._tolerant(flag, ev, call, "find_unused_parameters=True"):
            return
        if ev.reentrant:
            edits = []
        self.add("DDP201", call, edits, **self._fields(ev, call), fix=self._advice(ev, fix))

    def _fit_model(self, trainer_call: ast.Call, scope: Scope) -> Optional[ast.expr]:
        names = {name for name, entries in scope.assigns.items()
                 if any(value is trainer_call and part is None for _, value, part in entries)}
        for call in scope.calls:
            func = call.func
            if (isinstance(func, ast.Attribute) and func.attr in ("fit", "validate")
                    and isinstance(func.value, ast.Name)
                    and func.value.id in names):
                args = call_arguments(call, scope, ("model",))
                return args.get("model")
        return None

    # ---- accelerate ----
    def accelerate(self, call: ast.Call, scope: Scope) -> None:
        args = call_arguments(call, scope)
        if "**" in args:
            return
        names = {name for name, entries in scope.assigns.items()
                 if any(value is call and part is None for _, value, part in entries)}
        ev = None
        prepared: Optional[ast.Call] = None
        for other in scope.calls:
            func = other.func
            if (isinstance(func, ast.Attribute) and func.attr in ("prepare", "prepare_model")
                    and isinstance(func.value, ast.Name) and func.value.id in names):
                prepared = other
                for arg in other.args:
                    ev = self._evidence((arg, scope, _pos(other)))
                    if ev is not None:
                        break
            if ev is not None:
                break
        if ev is None and prepared is not None:
            self.unresolved(call, prepared.args[0] if prepared.args else None, scope, _pos(prepared))
        if ev is None or not ev.culprits:
            return
        flag, edits = self._accelerate_flag(call, args.get("kwargs_handlers"), scope)
        if flag is ... or self._tolerant(flag, ev, call, "DistributedDataParallelKwargs(find_unused_parameters=True)"):
            return
        if ev.reentrant:
            edits = []
        self.add("DDP201", call, edits, **self._fields(ev, call), fix=self._advice(
            ev, "pass kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]"))

    def _accelerate_flag(self, call: ast.Call, handlers: Optional[ast.expr], scope: Scope) -> Tuple[object, List[Edit]]:
        before = _pos(call)
        if handlers is None:
            ctor, imported = self._ddp_kwargs_name()
            edits = [Edit("kwarg", before, ("kwargs_handlers",), f"[{ctor}(find_unused_parameters=True)]")]
            if not imported:
                edits.append(Edit("import", (0, 0), (), "from accelerate import DistributedDataParallelKwargs"))
            return False, edits
        value = _follow(handlers, scope, before)
        if not isinstance(value, (ast.List, ast.Tuple)):
            return ..., []
        for elt in value.elts:
            item = _follow(elt, scope, before)
            if isinstance(item, ast.Call) and self.index.qualify(item.func) in ACCELERATE_DDP_KWARGS:
                kw = call_arguments(item, scope)
                if "**" in kw:
                    return ..., []
                return _const(kw.get("find_unused_parameters"), scope, before), _keyword_edits(
                    item, "find_unused_parameters", "True")
            if not isinstance(item, ast.Call):
                return ..., []
        return False, []

    def _ddp_kwargs_name(self) -> Tuple[str, bool]:
        """How this file can spell DistributedDataParallelKwargs, and whether it is importable as is."""
        for alias, target in self.index.aliases.items():
            if target in ACCELERATE_DDP_KWARGS:
                return alias, True
        for alias, target in self.index.aliases.items():
            if target == "accelerate":
                return f"{alias}.DistributedDataParallelKwargs", True
        return "DistributedDataParallelKwargs", False

    # ---- mmengine config files ----
    def mmengine_config(self, module: Scope) -> None:
        entries = module.assigns.get("find_unused_parameters")
        if not entries:
            return
        pos, value, part = max(entries, key=lambda e: e[0])
        if part is not None or not (isinstance(value, ast.Constant) and value.value is False):
            return
        model_cfg = module.assigns.get("model")
        if not model_cfg:
            return
        cfg = _dict_literal(max(model_cfg, key=lambda e: e[0])[1], module, (10 ** 9, 0))
        if cfg is None or "type" not in cfg:
            return
        info = self._mmengine_type(cfg["type"], module)
        ev = self.resolver.evidence(info)
        if ev is None or not ev.culprits:
            return
        stmt = next((s for s in self.index.tree.body if isinstance(s, ast.Assign) and s.value is value), None)
        if stmt is None:
            return
        self.add("DDP201", stmt, [Edit("replace", _pos(value), (), "True")], code="find_unused_parameters = False",
                 attrs=ev.names, cls=ev.info.name,
                 fix=self._advice(ev, "set find_unused_parameters = True"))

    def _mmengine_type(self, node: ast.expr, module: Scope) -> Optional[ClassInfo]:
        if isinstance(node, (ast.Name, ast.Attribute)):
            qual = self.index.qualify(node)
            return self.resolver.class_or_factory(self.index, qual, 0) if qual else None
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return None
        name = node.value.rsplit(".", 1)[-1]
        if name in self.index.classes:
            return self.index.classes[name]
        imports = module.assigns.get("custom_imports")
        cfg = _dict_literal(imports[-1][1], module, (10 ** 9, 0)) if imports else None
        modules = cfg.get("imports") if cfg else None
        if isinstance(modules, (ast.List, ast.Tuple)):
            for elt in modules.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    info = self.index.local_class(f"{elt.value}.{name}")
                    if info is not None:
                        return info
        return None

    # ---- training code that drops model outputs (DDP203) ----
    def dropped_outputs(self, scope: Scope) -> None:
        for name, entries in list(scope.assigns.items()):
            for pos, value, part in entries:
                if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
                    continue
                ev = self.resolver.evidence(self.resolver.model_class(value.func, scope, pos))
                if ev is None or ev.report.facts.flow.silent:
                    continue
                ctor = self.resolver.instance_args(value.func, scope, pos)
                setters = _set_after_construction(ev.info, value.func, scope, pos)
                instance = self.resolver.instance_flow(ev, ctor, setters) if ctor or setters else None
                flow, init = instance or (ev.report.facts.flow, ev.report.facts.init)
                self._judge_dropped(ev, value, scope, pos, flow, init, ctor)

    def _judge_dropped(self, ev: Evidence, call: ast.Call, scope: Scope, pos: Pos, flow: FlowResult,
                       init: InitFacts, ctor: Optional[Dict[str, object]] = None) -> None:
        targets = [(n, p) for n, entries in scope.assigns.items() for (q, v, p) in entries if v is call]
        returned: Val = flow.returned
        kept: Optional[Set[object]] = set()
        if any(p is not None for _, p in targets):  # `logits, aux = model(x)`
            if returned.items is None:
                return
            for name, part in targets:
                if part is not None and not name.startswith("_") and _loaded_after(scope, name, pos):
                    kept.add(part)
            parts = dict(enumerate(returned.items))
        else:
            if len(targets) != 1:
                return
            kept = _used_parts(scope, targets[0][0], pos)
            if kept is None:
                return
            if returned.items is not None and all(isinstance(k, int) for k in kept):
                parts = dict(enumerate(returned.items))
                kept = {k % len(returned.items) for k in kept if -len(returned.items) <= k < len(returned.items)}
            elif returned.keys is not None and all(isinstance(k, str) for k in kept):
                parts = dict(returned.keys)
            else:
                return
        dropped = [k for k in parts if k not in kept]
        if not dropped or not kept:
            return
        self._report_parts(ev, call, flow, init, ctor, parts, kept, dropped, "DDP203")

    def _part_attrs(self, ev: Evidence, flow: FlowResult, init: InitFacts, parts: Dict[object, Val],
                    kept: Set[object], targets: Sequence[object]) -> List[str]:
        """Attributes whose only outputs are the ``targets`` parts of what the model returns."""
        returned = flow.returned
        # taint on the whole value beyond its parts (join() also copies every part's taint up there)
        whole = {uid for uid, _ in returned.taint} - _ids(iter(parts.values()))
        kept_ids = _ids(parts[k] for k in kept) | whole
        dropped_ids = _ids(parts[k] for k in targets)
        facts = ev.report.facts
        attrs: List[str] = []
        uses_by_attr: Dict[str, List[int]] = {}
        for use in flow.uses:
            if not use.test_only and not any(g.kind == NEVER for g in use.guards):
                uses_by_attr.setdefault(use.attr, []).append(use.id)
        # reported on the model's own lines already; not for an installed package's model (nobody lints
        # it) nor for the off-by-default DDP9xx guesses the instance flow may settle
        already = set() if project.is_installed_file(ev.info.module.filename) else {
            f.attr_name for f in ev.report.findings if not f.code.startswith("DDP9")}
        for attr_name, ids in uses_by_attr.items():
            attr = init.attrs.get(attr_name)
            if attr is None or attr_name in already or self.analysis._never_judged(attr, facts):
                continue
            if any(i in flow.escaped or i in kept_ids for i in ids):
                continue
            if any(i in dropped_ids for i in ids):
                attrs.append(f"self.{attr_name}")
        return sorted(attrs)

    def _report_parts(self, ev: Evidence, call: ast.Call, flow: FlowResult, init: InitFacts,
                      ctor: Optional[Dict[str, object]], parts: Dict[object, Val], kept: Set[object],
                      targets: Sequence[object], code: str, guard: str = "", report: bool = True,
                      origin: Optional[Origin] = None) -> None:
        attrs = self._part_attrs(ev, flow, init, parts, kept, targets)
        if not attrs:
            return
        returned = flow.returned
        facts = ev.report.facts
        found = self.resolver.training_culprits.setdefault(origin, []) if origin else []
        for attr in attrs:
            if all(f.attr != attr for f in found):
                found.append(Finding(code, call.lineno, call.col_offset, "", ev.info.name, attr, attr[len("self."):]))
        if not report:
            return
        fields = [k for k, _ in returned.keys or ()] if returned.items is not None and returned.keys else []
        shown = ", ".join(_part_text(k) + (f" ({fields[k]})" if isinstance(k, int) and k < len(fields) else "")
                          for k in targets)
        names = f"{', '.join(attrs)} in {ev.info.name}"
        switches = sorted({f"{key}={ctor[key]!r}" for key in (init.attrs[a[len('self.'):]].built_under
                                                              for a in attrs) if key and ctor and key in ctor
                           and isinstance(ctor[key], bool)})
        if switches:  # the constructor flag that builds them: the other way out
            names += (f" (built because of {', '.join(switches)}: build the model without them, e.g. "
                      f"{switches[0].replace('True', 'False')}, if they are not trained)")
        self.add(code, call, (), code=_short(call), attrs=names, cls=ev.info.name, parts=shown,
                 entry=f"{ev.info.name}.{facts.entry}", guard=guard, fix=_fix_text(self.analysis.framework))

    # ---- loss code across functions and files (DDP203, DDP207, DDP208) ----
    def training_code(self) -> None:
        """Run the loss interpreter from every training entry of this file (reported), and from the
        scopes that launch DDP (evidence for the launch only)."""
        launches = (self.ddp_calls | FASTNLP_TRAINER | FASTNLP_DIST_TRAINER | HF_TRAINER | LIGHTNING_TRAINER
                    | ACCELERATOR)
        for scope in self.scopes:
            func = scope.node
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            entry = scope.has_backward or (scope.owner is not None and func.name in _LOSS_ENTRIES) or any(
                calls_backward_helper(c, self.index) for c in scope.calls)  # `backward(total_loss, scaler)`
            launch = not entry and any(self.index.qualify(c.func) in launches for c in scope.calls)
            if not (entry or launch):
                continue
            run = LossRun(self.resolver)
            run.run_entry(scope)
            if run.has_root:
                self.judge_run(run, report=entry)

    def judge_run(self, run: LossRun, report: bool) -> None:
        per_class: Dict[Tuple[str, str], List[Source]] = {}
        for source in run.sources:
            ref = source.ref
            ctor = ref.resolver.instance_args(ref.node, ref.scope, ref.before)
            ev = ref.resolver.evidence(ref.info, ctor)
            if ev is None or ev.report.facts is None or ev.report.facts.flow.silent:
                continue
            here = report and source.anchor is not None and id(source.anchor) in self._own_calls
            always, some, whole = run.reached(source)
            if not (always or some):
                continue  # its output does not reach the loss at all (evaluation, logging)
            per_class.setdefault((ref.info.module.filename, ref.info.name, ref.origin), []).append(source)
            if whole:
                continue
            instance = ref.resolver.instance_flow(ev, ctor) if ctor else None
            flow, init = instance or (ev.report.facts.flow, ev.report.facts.init)
            returned = flow.returned
            keys = set(always) | set(some)
            if returned.items is not None and all(isinstance(k, int) for k in keys):
                size = len(returned.items)
                parts: Dict[object, Val] = dict(enumerate(returned.items))
                always = {k % size for k in always if isinstance(k, int) and -size <= k < size}
                some = {k % size: g for k, g in some.items() if isinstance(k, int) and -size <= k < size}
            elif returned.keys is not None and all(isinstance(k, str) for k in keys):
                parts = dict(returned.keys)
                if not keys <= set(parts):
                    continue  # a key the output does not have (what unknown code returned, indexed): undecided
            else:  # return paths the flow merged (a record, or a tuple): the model's summary splits them
                self._judge_by_summary(ev, source, ctor or {}, always, some, here)
                continue
            dropped = [k for k in parts if k not in always and k not in some]
            if dropped:
                self._report_parts(ev, source.anchor, flow, init, ctor, parts, set(always) | set(some), dropped,
                                   "DDP203", report=here, origin=ref.origin)
            for guard in sorted(set(some.values())):
                targets = [k for k, g in some.items() if g == guard]
                self._report_parts(ev, source.anchor, flow, init, ctor, parts, set(always), targets, "DDP207",
                                   guard=guard, report=here, origin=ref.origin)
        for sources in per_class.values():
            self.judge_optional(sources, report)
            self.judge_modes(sources, report, single_backward=len(run.backward_sites) == 1)

    def _judge_by_summary(self, ev: Evidence, source: Source, ctor: Dict[str, object], always: Set[object],
                          some: Dict[object, str], report: bool) -> None:
        """DDP203/DDP207 from the summary of the model's forward called as the training code calls it."""
        flags = outputs.instance_flags(ev.info, ctor, _truth)
        facts = ev.report.facts
        already = set() if project.is_installed_file(ev.info.module.filename) else {
            f.attr_name for f in ev.report.findings if not f.code.startswith("DDP9")}
        origin = source.ref.origin
        for code, guard, paths, parts in outputs.dropped_paths(ev.info, flags, source.call, always, some):
            attrs = ["self." + ".".join(p) for p in paths if p[0] not in already]
            if not attrs:
                continue
            found = self.resolver.training_culprits.setdefault(origin, []) if origin else []
            for attr in attrs:
                if all(f.attr != attr for f in found):
                    found.append(Finding(code, source.call.lineno, source.call.col_offset, "", ev.info.name, attr,
                                         attr[len("self."):].split(".")[0]))
            if report:
                self.add(code, source.anchor, (), code=_short(source.call),
                         attrs=f"{', '.join(attrs)} in {ev.info.name}",
                         cls=ev.info.name, parts=", ".join(_part_text(k) for k in parts),
                         entry=f"{ev.info.name}.{facts.entry}", guard=guard, fix=_fix_text(self.analysis.framework))

    def judge_modes(self, sources: List[Source], report: bool, single_backward: bool) -> None:
        """DDP203: every call of one instance in the training step passes a literal mode
        (``encoder("fwd", ...)``), and a submodule is used only in the other modes. What those calls use on
        every iteration is settled: a model-side DDP101 on it ("used only if mode == 'fwd'") is not
        per batch for this instance (when the step backpropagates once: a GAN's two backward passes each
        see one mode)."""
        ref = sources[0].ref
        key = (ref.info.module.filename, ref.info.name)
        if ref.origin is None:
            self.resolver.mode_settled.setdefault(key, []).append(None)
            return  # which calls are of one instance is known only for an instance built in view
        ctor = ref.resolver.instance_args(ref.node, ref.scope, ref.before)
        ev = ref.resolver.evidence(ref.info, ctor)
        if ev is None or ev.report.facts is None:
            self.resolver.mode_settled.setdefault(key, []).append(None)
            return
        facts = ev.report.facts
        flags = dict(outputs.instance_flags(ev.info, ctor or {}, _truth))
        unused, modes, always = training_modes.mode_unused(ev.info, facts.init, flags, facts.entry,
                                                           [s.call for s in sources])
        # decided by the literal modes: used on every iteration, or never (reported below instead of DDP101)
        settled = always | unused if modes and single_backward else None
        self.resolver.mode_settled.setdefault(key, []).append(settled)
        if settled:
            self.resolver.training_settled.setdefault(ref.origin, set()).update(settled)
        already = set() if project.is_installed_file(ev.info.module.filename) else {
            f.attr_name for f in ev.report.findings if not f.code.startswith("DDP9") and f.code != "DDP101"}
        attrs: List[str] = []
        for name in sorted(unused):
            attr = facts.init.attrs.get(name)
            if attr is None or flags.get(name) is False or name in already:
                continue
            if name in facts.init.shared:  # a tied weight gets its gradient elsewhere: name the other parts
                unshared = replace(facts, init=replace(facts.init, shared=facts.init.shared - {name}))
                if not self.analysis._never_judged(attr, unshared):
                    attrs += ["self." + ".".join(p) for p in training_modes.untied_parts(ev.info, name)]
            elif not self.analysis._never_judged(attr, facts):
                attrs.append(f"self.{name}")
        if not attrs:
            return
        found = self.resolver.training_culprits.setdefault(ref.origin, [])
        anchor = sources[0]
        for attr in attrs:
            if all(f.attr != attr for f in found):
                found.append(Finding("DDP203", anchor.call.lineno, anchor.call.col_offset, "", ev.info.name, attr,
                                     attr[len("self."):].split(".")[0]))
        if not (report and id(anchor.anchor) in self._own_calls):
            return
        shown = " and ".join(f"{name}={value!r}" for name, values in sorted(modes.items()) for value in sorted(values))
        message = self.rules["DDP203"].extra["mode_message"].format(
            code=_short(anchor.call), entry=f"{ev.info.name}.{facts.entry}", modes=shown,
            attrs=f"{', '.join(attrs)} in {ev.info.name}", fix=_fix_text(self.analysis.framework))
        line, col = _pos(anchor.anchor)
        self.hits.setdefault((line, col, "DDP203"), LaunchHit(
            Finding("DDP203", line, col, message, ev.info.name, ", ".join(attrs)), ()))

    def judge_optional(self, sources: List[Source], report: bool) -> None:  # noqa: C901
        """DDP208: a submodule used only when an optional argument is given, and the training code does not
        pass it on every batch (``batch.get("labels")``, some calls without it)."""
        ref = sources[0].ref
        ev = ref.resolver.evidence(ref.info)
        if ev is None:
            return
        for finding in ev.report.findings:
            if finding.code != "DDP901":
                continue
            argument = _guarding_argument(ev, finding)
            if argument is None:
                continue
            name = argument[0]
            func = next((o.methods[ev.report.facts.entry] for o in ref.info.module.mro(ref.info)[0]
                         if ev.report.facts.entry in o.methods), None)
            if func is None:
                continue
            passed = [_passes(func, s.call, name) for s in sources]
            if any(p is None for p in passed) or all(p == "given" for p in passed):
                continue
            for source, how in zip(sources, passed):
                if how == "given":
                    continue
                found = self.resolver.training_culprits.setdefault(ref.origin, []) if ref.origin else []
                if all(f.attr != finding.attr for f in found):
                    found.append(replace(finding, code="DDP208"))
                if not (report and id(source.anchor) in self._own_calls):
                    continue
                if how == "missing":
                    text = f"omits {name}" + (" (other training calls pass it)" if "given" in passed else "")
                else:
                    text = f"passes {name}={how}, None in batches without it"
                self.add("DDP208", source.anchor, (), code=_short(source.call), how=text,
                         attrs=f"{finding.attr} in {ev.info.name}", arg=name,
                         cls=ev.info.name, fix=_fix_text(self.analysis.framework))


def _set_after_construction(info: ClassInfo, model: ast.expr, scope: Scope, call_pos: Pos) -> Dict[str, object]:
    """Flags set on the model between its construction and the call: ``model.aux_logits = False`` and
    setter methods of the class whose body is ``self.<flag> = <argument>`` (timm's
    ``set_distilled_training(True)``). Values are literals or ``...``."""
    if not isinstance(model, ast.Name):
        return {}
    found = scope.lookup(model.id, call_pos)
    start = found[0] if found is not None else (0, 0)
    setters: Dict[str, object] = {}
    for node in walk(scope.node):
        if not (start < _pos(node) < call_pos):
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == model.id:
                setters[target.attr] = _const(node.value, scope, _pos(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Name) and node.func.value.id == model.id:
            method = next((o.methods[node.func.attr] for o in info.module.mro(info)[0]
                           if node.func.attr in o.methods), None)
            if method is None or len(method.body) != 1 or not isinstance(method.body[0], ast.Assign):
                continue
            stmt = method.body[0]
            target = stmt.targets[0]
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == "self" and isinstance(stmt.value, ast.Name)):
                continue
            values = {k.arg: _const(k.value, scope, _pos(node)) for k in node.keywords if k.arg}
            values.update(_bind(method, [_const(a, scope, _pos(node)) for a in node.args], values, skip_self=True))
            setters[target.attr] = values.get(stmt.value.id, ...)
    return setters


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    if isinstance(node, ast.Call) and len(text) > 32:  # the column points at the call: keep the message short
        text = f"{ast.unparse(node.func)}(...)"
    return text


def _keyword_edits(call: ast.Call, name: str, value: str) -> List[Edit]:
    if any(k.arg is None for k in call.keywords):
        return []
    return [Edit("kwarg", _pos(call), (name,), value)]


def _fastnlp_ddp_device(device: Optional[ast.expr], scope: Scope, before: Pos) -> bool:
    """fastNLP 1.x starts DDP for a list of devices, or -1 (every GPU); a plain int or 'cpu' is one process."""
    if device is None:
        return False
    node = _follow(device, scope, before)
    if isinstance(node, (ast.List, ast.Tuple)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "range"):
        return True
    return _const(node, scope, before) == -1


def _fastnlp_flag(call: ast.Call, args: Dict[str, ast.expr], scope: Scope) -> Tuple[object, List[Edit]]:
    """find_unused_parameters inside torch_kwargs={"ddp_kwargs": {...}}, and the edit that sets it."""
    before = _pos(call)
    if "torch_kwargs" not in args:
        if "**" in args:
            return ..., []
        return None, _keyword_edits(call, "torch_kwargs", '{"ddp_kwargs": {"find_unused_parameters": True}}')
    torch_kwargs = _follow(args["torch_kwargs"], scope, before)
    outer = _dict_literal(torch_kwargs, scope, before)
    if outer is None:
        return ..., []
    edit_outer = [Edit("dict", _pos(torch_kwargs), ("ddp_kwargs", "find_unused_parameters"), "True")] if isinstance(
        torch_kwargs, ast.Dict) else []
    if "ddp_kwargs" not in outer:
        return None, edit_outer
    ddp_node = _follow(outer["ddp_kwargs"], scope, before)
    inner = _dict_literal(ddp_node, scope, before)
    if inner is None:
        return ..., []
    edits = ([Edit("dict", _pos(ddp_node), ("find_unused_parameters",), "True")]
             if isinstance(ddp_node, ast.Dict) else [])
    return _const(inner.get("find_unused_parameters"), scope, before), edits


def _guarding_argument(ev: Evidence, finding: Finding) -> Optional[Tuple[str, str]]:
    """The entry-point argument with a default whose presence guards ``finding``'s attribute."""
    facts = ev.report.facts
    func = None
    for owner in ev.info.module.mro(ev.info)[0]:
        func = owner.methods.get(facts.entry)
        if func is not None:
            break
    if func is None:
        return None
    params = func.args.args + func.args.kwonlyargs
    defaults: Dict[str, str] = {}
    positional = func.args.args
    for param, default in zip(positional[len(positional) - len(func.args.defaults):], func.args.defaults):
        defaults[param.arg] = ast.unparse(default)
    for param, default in zip(func.args.kwonlyargs, func.args.kw_defaults):
        if default is not None:
            defaults[param.arg] = ast.unparse(default)
    text = finding.message
    for param in params:
        if param.arg in defaults and f"{param.arg}" in text.split(" when ", 1)[-1].split(";")[0]:
            return param.arg, defaults[param.arg]
    return None


def _loaded_after(scope: Scope, name: str, pos: Pos) -> bool:
    return any(_pos(node) > pos for node in scope.loads.get(name, ()))


def _used_parts(scope: Scope, name: str, pos: Pos) -> Optional[Set[object]]:
    """Which parts of ``out`` the code reads after ``pos``: ``out[0]``, ``out["logits"]``, ``out.logits``.

    None when ``out`` is also used whole (then nothing is dropped)."""
    parents: Dict[int, ast.AST] = {}
    for node in walk(scope.node):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    parts: Set[object] = set()
    for node in scope.loads.get(name, ()):
        if _pos(node) <= pos:
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Subscript) and parent.value is node and isinstance(parent.slice, ast.Constant) and (
                isinstance(parent.slice.value, (int, str))):
            parts.add(parent.slice.value)
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            parts.add(parent.attr)
        else:
            return None
    return parts


def _ids(vals: Iterator[Val]) -> Set[int]:
    out: Set[int] = set()
    for val in vals:
        out.update(uid for uid, _ in val.taint)
        out |= _ids(iter(val.items or ()))
        out |= _ids(v for _, v in (val.keys or ()))
    return out


def _part_text(part: object) -> str:
    return f"[{part}]" if isinstance(part, int) else f".{part}"
