"""Launch sites (DDP2xx): where a model with culprits is handed to DistributedDataParallel.

Every framework has its own call that starts DDP and its own spelling of the flag that tolerates
unused parameters (DESIGN.md §4). A launch is reported only with evidence: the model argument resolves
(through the assignments of the same scope, factory functions and imports of other project files) to a
module class whose analysis has culprits, and the message names them. Everything here reads the ``ast``
tree flake8 already parsed; ``fixes.py`` turns the :class:`Edit` plans into libcst edits.
"""
from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from . import project
from .training import callsites, outputs
from .training import modes as training_modes
from .training.loss import _LOSS_ENTRIES, LossRun, Source, calls_backward_helper
from .flow import NEVER, FlowResult, Val
from .index import ClassInfo, FileIndex, FunctionNode
from .init_facts import Built, InitFacts, TrainableAttr
from .registry import rules_by_code
from .rules import LIVE, UNDECIDED, Finding, judge_attribute
from .skips import Skip
from .summaries import InstanceFlow as _InstanceFlow

if TYPE_CHECKING:
    from .analyzer import ClassReport, FileAnalysis

Pos = Tuple[int, int]
Origin = Tuple[str, int, int]  # file, line, column of the call that builds a model instance

TORCH_DDP = {"torch.nn.parallel.DistributedDataParallel", "torch.nn.parallel.distributed.DistributedDataParallel",
             "torch.nn.DistributedDataParallel"}
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
CHECKPOINT_CALLS = {"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint.checkpoint_sequential"}
# Methods that return the module they are called on (or a copy of the same class).
_SAME_MODEL_METHODS = {"cuda", "cpu", "to", "train", "float", "half", "double", "bfloat16", "to_empty",
                       "requires_grad_"}
_SAME_MODEL_FUNCTIONS = {"torch.compile", "copy.deepcopy", "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
                         "torch.nn.modules.batchnorm.SyncBatchNorm.convert_sync_batchnorm",
                         "apex.parallel.convert_syncbn_model"}
# Attributes that hold the same model (the module inside a DDP or torch.compile wrapper).
_SAME_MODEL_ATTRS = {"module", "_orig_mod"}
# Methods that return their arguments prepared, in order: `model, opt = accelerator.prepare(model, opt)`.
_PREPARE_METHODS = {"prepare", "prepare_model"}

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


@dataclass
class Evidence:
    info: ClassInfo
    report: "ClassReport"
    culprits: List[Finding]
    reentrant: Optional[str]  # where the model checkpoints reentrantly, as written

    @property
    def names(self) -> str:
        attrs = sorted({f.attr for f in self.culprits})
        shown = ", ".join(attrs[:4]) + (f" and {len(attrs) - 4} more" if len(attrs) > 4 else "")
        return f"{shown} in {self.info.name}"

    @property
    def static(self) -> bool:
        """True when the unused set is the same in every iteration (static_graph=True tolerates it)."""
        # a dropped output (DDP004) fails under static_graph too, like a tuple output used only in part
        return all(f.code in ("DDP001", "DDP002", "DDP003", "DDP102") for f in self.culprits)


# ---------------------------------------------------------------------------------------------
# Scopes: the assignments of one function (or the module), enough to follow `model = Net(); ...`
# ---------------------------------------------------------------------------------------------
@dataclass
class Scope:
    node: ast.AST
    parent: Optional["Scope"]
    assigns: Dict[str, List[Tuple[Pos, ast.expr, Optional[int]]]] = field(default_factory=dict)
    calls: List[ast.Call] = field(default_factory=list)
    statements: List[ast.stmt] = field(default_factory=list)
    loads: Dict[str, List[ast.Name]] = field(default_factory=dict)
    has_backward: bool = False
    owner: Optional[ast.ClassDef] = None  # the class of a method
    params: Tuple[str, ...] = ()  # the function's parameters: they shadow names of the enclosing scopes

    def lookup(self, name: str, before: Pos) -> Optional[Tuple[Pos, ast.expr, Optional[int], "Scope"]]:
        best = None
        for pos, value, part in self.assigns.get(name, ()):
            if pos < before and (best is None or pos > best[0]):
                best = (pos, value, part)
        if best is not None:
            return best[0], best[1], best[2], self
        if self.parent is not None and name not in self.params:
            return self.parent.lookup(name, (10 ** 9, 0))
        return None


def _pos(node: ast.AST) -> Pos:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def build_scopes(tree: ast.Module) -> List[Scope]:
    module = Scope(tree, None)
    scopes = [module]
    _fill(module, tree.body, module, scopes)
    return scopes


def _fill(scope: Scope, body: Sequence[ast.stmt], module: Scope, scopes: List[Scope]) -> None:
    """A function, not a recursive closure: that would be a reference cycle keeping the tree for the GC."""
    stack: List[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = Scope(node, module if scope is module else scope, params=_param_names(node))
            scopes.append(inner)
            _fill(inner, node.body, module, scopes)
            continue
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner = Scope(item, module, owner=node, params=_param_names(item))
                    scopes.append(inner)
                    _fill(inner, item.body, module, scopes)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                _record_target(scope, target, node.value)
        elif isinstance(node, ast.Call):
            scope.calls.append(node)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("backward", "manual_backward"):
                scope.has_backward = True
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            scope.loads.setdefault(node.id, []).append(node)
        stack.extend(ast.iter_child_nodes(node))


def _param_names(func: FunctionNode) -> Tuple[str, ...]:
    spec = func.args
    names = [a.arg for a in spec.posonlyargs + spec.args + spec.kwonlyargs]
    names += [a.arg for a in (spec.vararg, spec.kwarg) if a is not None]
    return tuple(names)


_SCOPES: "weakref.WeakKeyDictionary[FileIndex, List[Scope]]" = weakref.WeakKeyDictionary()


def scopes_of(index: FileIndex) -> List[Scope]:
    """The scopes of a file, built once per file index."""
    found = _SCOPES.get(index)
    if found is None:
        found = _SCOPES[index] = build_scopes(index.tree)
    return found


def _record_target(scope: Scope, target: ast.expr, value: ast.expr) -> None:
    if isinstance(target, ast.Name):
        scope.assigns.setdefault(target.id, []).append((_pos(value), value, None))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for i, elt in enumerate(target.elts):
            if isinstance(elt, ast.Name):
                scope.assigns.setdefault(elt.id, []).append((_pos(value), value, i))


# ---------------------------------------------------------------------------------------------
# Reading arguments
# ---------------------------------------------------------------------------------------------
def call_arguments(call: ast.Call, scope: Scope, positional: Sequence[str] = ()) -> Dict[str, ast.expr]:
    """Keyword arguments of a call, positional ones named by ``positional``, ``**dict`` literals followed."""
    args: Dict[str, ast.expr] = {}
    for name, value in zip(positional, call.args):
        if isinstance(value, ast.Starred):
            break
        args[name] = value
    for keyword in call.keywords:
        if keyword.arg is not None:
            args[keyword.arg] = keyword.value
            continue
        spread = _dict_literal(keyword.value, scope, _pos(call))
        if spread is None:
            args["**"] = keyword.value  # unknown keywords: the flag may be in there
            continue
        for key, value in spread.items():
            args.setdefault(key, value)
    return args


def _follow(node: ast.expr, scope: Scope, before: Pos, depth: int = 0) -> ast.expr:
    """A name replaced by the value last assigned to it in the scope (when assigned whole)."""
    while isinstance(node, ast.Name) and depth < 8:
        found = scope.lookup(node.id, before)
        if found is None or found[2] is not None:
            return node
        before, node = found[0], found[1]
        scope = found[3]
        depth += 1
    return node


def _dict_literal(node: ast.expr, scope: Scope, before: Pos) -> Optional[Dict[str, ast.expr]]:
    node = _follow(node, scope, before)
    if isinstance(node, ast.Dict):
        out: Dict[str, ast.expr] = {}
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out[key.value] = value
            else:
                return None
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        if any(k.arg is None for k in node.keywords):
            return None
        return {k.arg: k.value for k in node.keywords if k.arg}
    return None


def _const(node: Optional[ast.expr], scope: Scope, before: Pos) -> object:
    """The literal value of an argument (following names), or ``...`` when it is not a literal."""
    if node is None:
        return None
    node = _follow(node, scope, before)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        return -value if isinstance(value, (int, float)) else ...
    return ...


# ---------------------------------------------------------------------------------------------
# Resolving the model argument to a class with culprits
# ---------------------------------------------------------------------------------------------
class Resolver:
    def __init__(self, analysis: "FileAnalysis") -> None:
        self.analysis = analysis
        self.index = analysis.index
        self.settings = analysis.settings
        self._reentrant: Dict[str, Optional[str]] = {}
        self._others: Dict[int, "Resolver"] = {}
        self._binding_stack: Set[Tuple[int, str]] = set()
        self._sites: Dict[str, List[Tuple["Resolver", Scope, ast.Call]]] = {}
        # what the project's training code leaves without gradient, per model instance (the call that built it)
        self.training_culprits: Dict[Origin, List[Finding]] = {}
        # attributes the training step's literal-mode calls of an instance use on every iteration
        self.training_settled: Dict[Origin, Set[str]] = {}
        # per class (file, name): those sets for each instance trained here (None: an instance not settled)
        self.mode_settled: Dict[Tuple[str, str], List[Optional[Set[str]]]] = {}
        self.last_origin: Optional[Origin] = None

    def model_class(self, node: Optional[ast.expr], scope: Scope, before: Pos, depth: int = 0) -> Optional[ClassInfo]:
        if node is None or depth > 10:
            return None
        if isinstance(node, ast.Name):
            found = scope.lookup(node.id, before)
            if found is None:
                return self._bound_class(self.bindings(node, scope, depth), depth)
            pos, value, part, where = found
            if part is not None:
                prepared = _prepared_argument(value, part)
                return self.model_class(prepared, where, pos, depth + 1) if prepared is not None else None
            return self.model_class(value, where, pos, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr in _SAME_MODEL_ATTRS:
            return self.model_class(node.value, scope, before, depth + 1)
        if isinstance(node, ast.Attribute):
            return self._bound_class(self.bindings(node, scope, depth), depth)
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _SAME_MODEL_METHODS:
            return self.model_class(func.value, scope, before, depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in _PREPARE_METHODS and len(node.args) == 1:
            return self.model_class(node.args[0], scope, before, depth + 1)  # model = accelerator.prepare(model)
        qual = self.index.qualify(func)
        if qual is None:
            return None
        if (qual in _SAME_MODEL_FUNCTIONS or qual in TORCH_DDP) and node.args:
            return self.model_class(node.args[0], scope, before, depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in ("from_pretrained", "from_config", "load_from_checkpoint"):
            qual = self.index.qualify(func.value) or ""
        registered = _timm_entrypoint(qual, node)
        info = self.class_or_factory(self.index, registered or qual, depth)
        if info is None:  # a factory of an installed package that only runs on literal values
            args, kwargs = _call_values(node, lambda e: _const(e, scope, before))
            traced = self._through_factory(self.index, qual, args, kwargs, depth)
            info = traced[0] if traced is not None else None
        if info is not None:  # the call that builds the instance: names it across wrappers and calls
            self.last_origin = (self.index.filename,) + _pos(node)
        return info

    def model_origin(self, node: Optional[ast.expr], scope: Scope, before: Pos
                     ) -> Tuple[Optional[ClassInfo], Optional[Origin]]:
        """The class of a model value and the call that built this instance."""
        self.last_origin = None
        info = self.model_class(node, scope, before)
        origin = self.last_origin
        for other in self._others.values():
            origin = origin or other.last_origin
            other.last_origin = None
        return info, (origin if info is not None else None)

    # ---- values that come from outside the scope: parameters (call sites), self.x (the constructor) ----
    def _bound_class(self, sites: List[Tuple["Resolver", ast.expr, Scope, Pos]], depth: int) -> Optional[ClassInfo]:
        """The one class every call site binds (None when one of them is unknown or they differ)."""
        found: Optional[ClassInfo] = None
        for other, expr, where, pos in sites:
            info = other.model_class(expr, where, pos, depth + 1)
            if info is None or (found is not None and (info.module, info.name) != (found.module, found.name)):
                return None
            found = info
        return found

    def bindings(self, node: ast.expr, scope: Scope, depth: int) -> List[Tuple["Resolver", ast.expr, Scope, Pos]]:
        """What a parameter (``def train_one_epoch(model, ...)``) or ``self.model`` is bound to, as
        (resolver of the caller's file, argument expression, caller scope, position). Empty when some call
        site is unknown, passes nothing, or there are none: then the value is not known."""
        if depth > 6 or not isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return []
        key = (id(scope), ast.dump(node) if isinstance(node, ast.Attribute) else getattr(node, "id", ""))
        if key in self._binding_stack:
            return []
        self._binding_stack.add(key)
        try:
            return self._bindings(node, scope, depth)
        finally:
            self._binding_stack.discard(key)

    def _bindings(self, node: ast.expr, scope: Scope, depth: int) -> List[Tuple["Resolver", ast.expr, Scope, Pos]]:
        func: FunctionNode = scope.node  # type: ignore[assignment]
        if isinstance(node, ast.Attribute):  # self.model: what __init__ assigns to it
            if not (isinstance(node.value, ast.Name) and node.value.id == "self" and scope.owner is not None):
                return []
            init_scope = next((s for s in scopes_of(self.index) if s.owner is scope.owner
                               and getattr(s.node, "name", "") == "__init__"), None)
            if init_scope is None:
                return []
            value = _self_assignment(init_scope.node, node.attr)  # type: ignore[arg-type]
            if value is None:
                return []
            return [(self, value, init_scope, _pos(value))]
        if not isinstance(node, ast.Name) or node.id not in scope.params:
            return []
        param = next(a for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs + [
            a for a in (func.args.vararg, func.args.kwarg) if a is not None] if a.arg == node.id)
        if param.annotation is not None:
            info = self.class_or_factory(self.index, self.index.qualify(param.annotation) or "", depth + 1)
            if info is not None:
                built = ast.copy_location(ast.Call(func=param.annotation, args=[], keywords=[]), param)
                return [(self, built, scope, _pos(func))]
        if scope.owner is not None:
            return self._method_bindings(scope, func, node.id, depth)
        if scope.parent is not None and scope.parent.parent is not None:
            return []  # a nested function: its callers are not followed
        sites: List[Tuple[Resolver, ast.expr, Scope, Pos]] = []
        for resolver, other, call in self.call_sites(func.name):
            arg = callsites.bound_argument(func, call, node.id, skip_self=False)
            if arg is None:
                return []
            sites.append((resolver, arg, other, _pos(call)))
        return sites

    def call_sites(self, name: str) -> List[Tuple["Resolver", Scope, ast.Call]]:
        """Calls of this file's top-level function or class ``name`` in the project (cached per resolver)."""
        cached = self._sites.get(name)
        if cached is not None:
            return cached
        found: List[Tuple[Resolver, Scope, ast.Call]] = []
        for caller in callsites.candidate_files(self.index, name):
            resolver = self.for_file(caller)
            for other in scopes_of(caller):
                for call in other.calls:
                    if callsites.refers_to(caller, call.func, self.index, name):
                        found.append((resolver, other, call))
        self._sites[name] = found
        return found

    def _method_bindings(self, scope: Scope, func: FunctionNode, name: str, depth: int
                         ) -> List[Tuple["Resolver", ast.expr, Scope, Pos]]:
        """Parameters of ``__init__`` (the class's construction sites) and the ``model`` of an HF Trainer
        subclass's ``compute_loss`` (the model its construction sites pass)."""
        owner: ast.ClassDef = scope.owner  # type: ignore[assignment]
        info = self.index.classes.get(owner.name)
        if info is None or info.node is not owner:
            return []
        if func.name == "__init__":
            init: Optional[FunctionNode] = func
            param = name
        elif func.name == "compute_loss" and name == "model" and any(
                base.startswith("transformers.") or base.rsplit(".", 1)[-1].endswith("Trainer")
                for base in info.base_names):
            init, param = None, "model"  # transformers.Trainer(model, args, ...) holds it as self.model
        else:
            return []
        sites: List[Tuple[Resolver, ast.expr, Scope, Pos]] = []
        for resolver, other, call in self.call_sites(owner.name):
            if init is not None:
                arg = callsites.bound_argument(init, call, param, skip_self=True)
            else:
                arg = next((k.value for k in call.keywords if k.arg == "model"), None) or (
                    call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else None)
            if arg is None:
                return []
            sites.append((resolver, arg, other, _pos(call)))
        return sites

    def for_file(self, index: FileIndex) -> "Resolver":
        if index is self.index:
            return self
        found = self._others.get(id(index))
        if found is None or found.index is not index:
            found = self._others[id(index)] = Resolver(project.analysis_for(index, self.settings))
            found._binding_stack = self._binding_stack
        return found

    def class_or_factory(self, index: FileIndex, qual: str, depth: int) -> Optional[ClassInfo]:
        info = index.local_class(qual)
        if info is not None:
            return info if index.module_kind(info) else None
        name = qual.rsplit(".", 1)[-1]
        if qual == name and name in index.functions:
            return self.factory_class(index, index.functions[name], depth)
        found = project.resolve_function(index, qual, self.settings)
        if found is not None:
            return self.factory_class(found[0], found[1], depth)  # type: ignore[arg-type]
        # an installed package (torchvision.models.googlenet, timm.create_model): read its sources
        info = project.resolve_class(index, qual, self.settings, installed=True)
        if info is not None:
            return info if info.module.module_kind(info) else None
        found = project.resolve_function(index, qual, self.settings, installed=True)
        if found is not None:
            return self.factory_class(found[0], found[1], depth)  # type: ignore[arg-type]
        return None

    def factory_class(self, index: FileIndex, func: FunctionNode, depth: int) -> Optional[ClassInfo]:
        """The one module class a factory function returns (``def build(): return Net(...)``)."""
        scopes = build_scopes(ast.Module(body=[func], type_ignores=[]))
        inner = scopes[1] if len(scopes) > 1 else scopes[0]
        found: Set[Tuple[str, str]] = set()
        result: Optional[ClassInfo] = None
        for node in ast.walk(func):
            if isinstance(node, ast.Return) and node.value is not None:
                sub = Resolver.__new__(Resolver)
                sub.analysis, sub.index, sub.settings, sub._reentrant = self.analysis, index, self.settings, {}
                sub._others, sub._binding_stack, sub._sites = {}, self._binding_stack, {}
                sub.training_culprits, sub.last_origin = {}, None
                sub.training_settled, sub.mode_settled = {}, {}
                info = sub.model_class(node.value, inner, _pos(node), depth + 1)
                if info is None:
                    return None
                found.add((info.module.filename, info.name))
                result = info
        return result if len(found) == 1 else None

    # ---- the constructor arguments of one model instance (flags such as aux_logits=True) ----
    def instance_args(self, node: Optional[ast.expr], scope: Scope, before: Pos, depth: int = 0) -> Dict[str, object]:
        """Constructor arguments of the model ``node`` evaluates to, through factories and their ``**kwargs``:
        ``googlenet(aux_logits=False)`` -> ``{"aux_logits": False, "num_classes": 1000, ...}`` (the class's
        ``__init__`` defaults filled in). ``...`` stands for a value that is not a literal."""
        if node is None or depth > 10:
            return {}
        if isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and node.attr not in _SAME_MODEL_ATTRS):
            found = scope.lookup(node.id, before) if isinstance(node, ast.Name) else None
            if found is None:
                sites = self.bindings(node, scope, depth)
                if not sites:
                    return {}
                other, expr, where, pos = sites[0]  # several call sites: the first one's instance
                return other.instance_args(expr, where, pos, depth + 1)
            if found[2] is not None:
                prepared = _prepared_argument(found[1], found[2])
                return self.instance_args(prepared, found[3], found[0], depth + 1) if prepared is not None else {}
            return self.instance_args(found[1], found[3], found[0], depth + 1)
        if isinstance(node, ast.Attribute):
            return self.instance_args(node.value, scope, before, depth + 1)
        if not isinstance(node, ast.Call):
            return {}
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _SAME_MODEL_METHODS:
            return self.instance_args(func.value, scope, before, depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in _PREPARE_METHODS and len(node.args) == 1:
            return self.instance_args(node.args[0], scope, before, depth + 1)
        qual = self.index.qualify(func)
        if qual is None:
            return {}
        if (qual in _SAME_MODEL_FUNCTIONS or qual in TORCH_DDP) and node.args:
            return self.instance_args(node.args[0], scope, before, depth + 1)
        args, kwargs = _call_values(node, lambda e: _const(e, scope, before))
        traced = self._through_factory(self.index, qual, args, kwargs, depth)
        return traced[1] if traced is not None else {}

    def _through_factory(self, index: FileIndex, qual: str, args: List[object], kwargs: Dict[str, object],
                         depth: int) -> Optional[Tuple[ClassInfo, Dict[str, object]]]:
        """The class a call of ``qual`` constructs and its constructor arguments, through factories."""
        if depth > 10:
            return None
        info = index.local_class(qual) or project.resolve_class(index, qual, self.settings, installed=True)
        if info is not None:
            return (info, _bind_init(info, args, kwargs)) if info.module.module_kind(info) else None
        if qual in _TIMM_CREATE and args and isinstance(args[0], str):
            # timm.create_model("deit_base_distilled_patch16_224", ...): the @register_model function
            qual, args = _timm_model(args[0]), args[1:]
        name = qual.rsplit(".", 1)[-1]
        found: Optional[Tuple[FileIndex, ast.AST]] = None
        if qual == name and name in index.functions:
            found = index, index.functions[name]
        else:
            found = project.resolve_function(index, qual, self.settings) or project.resolve_function(
                index, qual, self.settings, installed=True)
        if found is None:
            return None
        findex, func = found
        if name.endswith(_BUILD_WITH_CFG) and args and isinstance(args[0], _Ref):
            # timm's build_model_with_cfg(model_cls, variant, pretrained, **kwargs) builds model_cls(**kwargs)
            return self._through_factory(args[0].index, args[0].qual, [], kwargs, depth + 1)
        env = _bind(func, args, kwargs, skip_self=False)  # type: ignore[arg-type]
        built = _FactoryRun(findex, env).run(func.body)  # type: ignore[attr-defined]
        if not isinstance(built, _Built) or built.call is None:
            return None
        callee = built.env.get(built.call.func.id) if isinstance(built.call.func, ast.Name) else None
        run = _FactoryRun(findex, built.env)
        inner_args, inner_kwargs = _call_values(built.call, run.value)
        if isinstance(callee, _Ref):  # `model_cls(**kwargs)` with model_cls chosen above
            return self._through_factory(callee.index, callee.qual, inner_args, inner_kwargs, depth + 1)
        target = findex.qualify(built.call.func)
        if target is None:
            return None
        return self._through_factory(findex, target, inner_args, inner_kwargs, depth + 1)

    def instance_flow(self, ev: Evidence, ctor: Dict[str, object], setters: Optional[Dict[str, object]] = None
                      ) -> Optional[Tuple[FlowResult, InitFacts]]:
        """The training step of this instance: flags its constructor arguments fix are constants, and
        modules the factory builds and passes in (``FCN(backbone, classifier, aux_classifier)``) are
        trainable attributes like those ``__init__`` builds."""
        facts = ev.report.facts
        flags: Dict[str, bool] = {}
        attrs = dict(facts.init.attrs)
        for attr, flag in facts.init.flags.items():
            value = ctor.get(flag.key, ...)
            truth = _truth(value)
            if truth is None:
                continue
            flags[attr] = truth
            if attr not in attrs and isinstance(value, _Built) and value.is_module(self.settings):
                attrs[attr] = TrainableAttr(attr, ev.info.node.lineno, ev.info.node.col_offset, ev.info.name,
                                            Built("maybe", value.ctor))
        for attr in facts.init.attrs.values():
            truth = _truth(ctor.get(attr.built_under, ...)) if attr.built_under else None
            if truth is not None:
                flags[attr.name] = truth
        for attr, value in (setters or {}).items():  # model.set_distilled_training(True), model.aux_logits = False
            truth = _truth(value)
            if truth is None:
                flags.pop(attr, None)
            elif attr in facts.init.flags or attr in facts.init.attrs:  # model.aux1 = None: not built
                flags[attr] = truth
        if not flags:
            return None
        init = replace(facts.init, attrs=attrs)
        mro, complete = ev.info.module.mro(ev.info)
        flow = _InstanceFlow(ev.info.module, ev.info, mro, init, complete, flags).run(facts.entry)
        return None if flow.silent else (flow, init)

    def evidence(self, info: Optional[ClassInfo], ctor: Optional[Dict[str, object]] = None,
                 origin: Optional[Origin] = None) -> Optional[Evidence]:
        if info is None:
            return None
        if info.module is self.index:
            analysis = self.analysis
        else:
            analysis = project.analysis_for(info.module, self.settings)
        report = analysis.report(info.name)
        if report is None or report.facts is None:
            return None
        # the model's own culprits and those of the submodules it builds (self.encoder.pooler)
        culprits = [f for f in report.culprits if not f.code.startswith("DDP9")]
        if project.is_installed_file(info.module.filename):
            culprits = _instance_culprits(culprits, report.facts.init, ctor or {})
        elif ctor and culprits:  # `Net(use_aux=True)`: judged again with the flags this instance sets
            culprits = self._instance_judged(Evidence(info, report, culprits, None), ctor)
        settled = self.training_settled.get(origin, set()) if origin is not None else set()
        culprits = [f for f in culprits if not (f.code == "DDP101" and f.attr_name in settled)]
        named = {f.attr for f in culprits}
        culprits += [f for f in self.training_culprits.get(origin, []) if origin is not None and f.attr not in named
                     and f.cls == info.name]
        return Evidence(info, report, culprits, self.reentrant_checkpoint(info, report))

    def _instance_judged(self, ev: Evidence, ctor: Dict[str, object]) -> List[Finding]:
        """The class's own culprits that stay culprits under this instance's constructor flags."""
        instance = self.instance_flow(ev, ctor)
        if instance is None:
            return ev.culprits
        flow, init = instance
        facts = replace(ev.report.facts, flow=flow, init=init)  # type: ignore[arg-type]
        kept = []
        for finding in ev.culprits:
            attr = init.attrs.get(finding.attr_name) if finding.attr == f"self.{finding.attr_name}" else None
            if attr is not None:
                verdict = judge_attribute(attr, [u for u in flow.uses if u.attr == attr.name], facts)
                if verdict.status in (LIVE, UNDECIDED):
                    continue
            kept.append(finding)
        return kept

    def reentrant_checkpoint(self, info: ClassInfo, report: "ClassReport", depth: int = 0) -> Optional[str]:
        """A reentrant activation checkpoint in the model: ``checkpoint(...)`` without use_reentrant=False,
        in a method of the class, its bases, or the project classes its ``__init__`` builds."""
        key = f"{info.module.filename}:{info.name}"
        if key in self._reentrant:
            return self._reentrant[key]
        self._reentrant[key] = None  # cycles
        found: Optional[str] = None
        mro, _ = info.module.mro(info)
        for owner in mro:
            if "checkpoint" not in "".join(owner.module.lines[owner.node.lineno - 1:owner.node.end_lineno]):
                continue
            found = found or _find_reentrant(owner.module, owner.node)
        if found is None and depth < 3 and report.facts is not None:
            for attr in report.facts.init.attrs.values():
                if attr.built.kind != "module_class" or not attr.built.ctor:
                    continue
                owner_index = next((o.module for o in mro if o.name == attr.owner), info.module)
                sub = owner_index.local_class(owner_index.qualify_dotted(attr.built.ctor))
                if sub is None:
                    continue
                analysis = (self.analysis if sub.module is self.index
                            else project.analysis_for(sub.module, self.settings))
                sub_report = analysis.report(sub.name)
                if sub_report is not None:
                    found = self.reentrant_checkpoint(sub, sub_report, depth + 1)
                    if found:
                        break
        self._reentrant[key] = found
        return found


def _prepared_argument(value: ast.expr, part: int) -> Optional[ast.expr]:
    """``model, opt = accelerator.prepare(model, opt)``: the argument at the position of ``part``."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _PREPARE_METHODS:
        if part < len(value.args) and not any(isinstance(a, ast.Starred) for a in value.args[:part + 1]):
            return value.args[part]
    return None


def _self_assignment(init: FunctionNode, attr: str) -> Optional[ast.expr]:
    """The one value ``__init__`` assigns to ``self.<attr>`` (None when there are several or none)."""
    found: List[ast.expr] = []
    for node in ast.walk(init):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == attr and isinstance(
                        target.value, ast.Name) and target.value.id == "self":
                    found.append(node.value)
    return found[0] if len(found) == 1 else None


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


def _find_reentrant(index: FileIndex, scope: ast.AST) -> Optional[str]:
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and index.qualify(node.func) in CHECKPOINT_CALLS:
            flag = next((k.value for k in node.keywords if k.arg == "use_reentrant"), None)
            if flag is None or (isinstance(flag, ast.Constant) and flag.value is True):
                return f"{ast.unparse(node.func)}(...) at line {node.lineno} of {_base(index.filename)}"
    return None


def _base(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


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


# ---------------------------------------------------------------------------------------------
# One model instance: constructor arguments and the flow they configure
# ---------------------------------------------------------------------------------------------
class _Built:
    """An object a factory builds (``FCNHead(...)``, ``GoogLeNet(**kwargs)``): truthy, never None; the
    call and the factory's variables at that point, to follow it into the class it constructs."""

    def __init__(self, call: ast.Call, env: Dict[str, object], index: FileIndex) -> None:
        self.call = call
        self.env = env
        self.index = index

    @property
    def ctor(self) -> str:
        return ast.unparse(self.call.func)

    def built_class(self) -> Optional[ClassInfo]:
        """The class the call constructs (``FCNHead(...)``), read from its source; None for other calls."""
        qual = self.index.qualify(self.call.func)
        if not qual:
            return None
        return self.index.local_class(qual) or project.resolve_class(self.index, qual, installed=True)

    def is_module(self, settings: object) -> bool:
        info = self.built_class()
        return info is not None and info.module.module_kind(info) is not None

    def __repr__(self) -> str:
        return f"<built {self.ctor}>"


UNKNOWN_SPREAD = "**"  # key of the keyword arguments: an unknown `**cfg` was passed as well


def _truth(value: object) -> Optional[bool]:
    """Truth value of a factory value; None when unknown (a call of a function may return None)."""
    if value is ...:
        return None
    if isinstance(value, _Ref):
        return True
    if isinstance(value, _Built):
        return True if value.built_class() is not None else None
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - an odd literal
        return None


def _bind(func: FunctionNode, args: List[object], kwargs: Dict[str, object], skip_self: bool) -> Dict[str, object]:
    """Parameter name -> value for a call of ``func``: literal defaults, ``...`` when unknown; the
    ``**kwargs`` parameter holds a dict of the keywords no other parameter takes."""
    spec = func.args
    positional = spec.posonlyargs + spec.args
    if skip_self and positional:
        positional = positional[1:]
    env: Dict[str, object] = {}
    defaults = dict(zip([p.arg for p in positional[len(positional) - len(spec.defaults):]], spec.defaults))
    defaults.update({p.arg: d for p, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None})
    spread = UNKNOWN_SPREAD in kwargs  # `**cfg`: any parameter may be set by it
    for param in positional + spec.kwonlyargs:
        default = defaults.get(param.arg)
        env[param.arg] = _literal(default) if default is not None and not spread else ...
    for param, value in zip(positional, args):
        env[param.arg] = value
    extra: Dict[str, object] = {}
    for key, value in kwargs.items():
        if key in env:
            env[key] = value
        else:
            extra[key] = value
    if spec.kwarg is not None:
        env[spec.kwarg.arg] = extra
    return env


def _instance_culprits(culprits: List[Finding], init: InitFacts, ctor: Dict[str, object]) -> List[Finding]:
    """Culprits of an installed package's model class that this instance really has. Library classes are
    configurable: ``self.reg_token = nn.Parameter(...) if reg_tokens else None`` is built only when the
    constructor says so. Keep an attribute built unconditionally or under a flag this instance sets;
    drop the submodules' culprits (their configuration is not followed)."""
    kept = []
    for finding in culprits:
        name = finding.attr[len("self."):]
        attr = init.attrs.get(name)
        if attr is None:
            continue  # `self.encoder.pooler`, or not an attribute __init__ builds
        key = attr.built_under
        if key is None or _truth(ctor.get(key, ...)) is True:
            kept.append(finding)
    return kept


def _set_after_construction(info: ClassInfo, model: ast.expr, scope: Scope, call_pos: Pos) -> Dict[str, object]:
    """Flags set on the model between its construction and the call: ``model.aux_logits = False`` and
    setter methods of the class whose body is ``self.<flag> = <argument>`` (timm's
    ``set_distilled_training(True)``). Values are literals or ``...``."""
    if not isinstance(model, ast.Name):
        return {}
    found = scope.lookup(model.id, call_pos)
    start = found[0] if found is not None else (0, 0)
    setters: Dict[str, object] = {}
    for node in ast.walk(scope.node):
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


def _bind_init(info: ClassInfo, args: List[object], kwargs: Dict[str, object]) -> Dict[str, object]:
    """Constructor arguments by name, through ``super().__init__(*args, **kwargs)`` of the bases."""
    env: Dict[str, object] = {}
    for owner in info.module.mro(info)[0]:
        init = owner.methods.get("__init__")
        if init is None:
            continue
        for key, value in _bind(init, args, kwargs, skip_self=True).items():
            env.setdefault(key, value)
        if init.args.kwarg is None:
            break  # the bases get what this __init__ passes them: not followed further
        args = []
    return env


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ...


def _call_values(call: ast.Call, value: Callable[[ast.expr], object]) -> Tuple[List[object], Dict[str, object]]:
    """Positional and keyword argument values of a call; ``**kwargs`` holding a known dict is spread."""
    args: List[object] = []
    kwargs: Dict[str, object] = {}
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            kwargs[UNKNOWN_SPREAD] = ...
            break
        args.append(value(arg))
    for keyword in call.keywords:
        if keyword.arg is not None:
            kwargs[keyword.arg] = value(keyword.value)
            continue
        spread = value(keyword.value)
        if isinstance(spread, dict):
            for key, item in spread.items():
                kwargs.setdefault(key, item)
        else:
            kwargs[UNKNOWN_SPREAD] = ...
    return args, kwargs


_TIMM_CREATE = {"timm.create_model", "timm.models.create_model", "timm.models._factory.create_model"}


def _timm_model(name: str) -> str:
    """``"hf-hub:timm/deit_base_distilled_patch16_224.fb_in1k"`` -> ``timm.models.deit_base_distilled_patch16_224``."""
    return "timm.models." + name.rsplit(":", 1)[-1].rsplit("/", 1)[-1].split(".")[0]


def _timm_entrypoint(qual: str, call: ast.Call) -> Optional[str]:
    if qual in _TIMM_CREATE and call.args and isinstance(call.args[0], ast.Constant) and isinstance(
            call.args[0].value, str):
        return _timm_model(call.args[0].value)
    return None


_BUILD_WITH_CFG = "build_model_with_cfg"
_OVERWRITE_HELPERS = ("_ovewrite_named_param", "_overwrite_named_param")


@dataclass(frozen=True)
class _Ref:
    """A module-level name used as a value in a factory (``model_cls = VisionTransformerDistilled``)."""

    index: FileIndex
    qual: str


class _FactoryRun:
    """Runs the statements of a model factory on literal values: parameters bound to the call's
    arguments, ``if`` tests on them decided where the values are known (``if weights is not None:``),
    everything else unknown (``...``). The result is the object the factory returns."""

    def __init__(self, index: FileIndex, env: Dict[str, object]) -> None:
        self.index = index
        self.env = env

    def run(self, body: Sequence[ast.stmt]) -> object:
        for stmt in body:
            if isinstance(stmt, ast.Return):
                return self.value(stmt.value) if stmt.value is not None else None
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = self.value(stmt.value)
                for target in targets:
                    self.assign(target, value)
            elif isinstance(stmt, ast.If):
                test = _truth(self.value(stmt.test))
                if test is None:
                    if any(isinstance(n, ast.Return) for n in ast.walk(stmt)):
                        return ...
                    self.forget(stmt)
                    continue
                result = self.run(stmt.body if test else stmt.orelse)
                if result is not _FELL:
                    return result
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self.mutation(stmt.value)
            elif isinstance(stmt, (ast.Expr, ast.Pass, ast.Assert, ast.Import, ast.ImportFrom)):
                continue
            else:  # loops, with, try: what they assign is unknown; a return inside is not followed
                if any(isinstance(n, ast.Return) for n in ast.walk(stmt)):
                    return ...
                self.forget(stmt)
        return _FELL

    def assign(self, target: ast.expr, value: object) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            holder = self.env.get(target.value.id)
            key = self.value(target.slice)
            if isinstance(holder, dict) and isinstance(key, str):
                holder[key] = value  # kwargs["aux_logits"] = True
            elif isinstance(holder, dict):
                holder[UNKNOWN_SPREAD] = ...
        else:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.env[node.id] = ...

    def forget(self, stmt: ast.AST) -> None:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.env[node.id] = ...
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(
                    node.value, ast.Name) and isinstance(self.env.get(node.value.id), dict):
                self.env[node.value.id][UNKNOWN_SPREAD] = ...  # type: ignore[index]

    def mutation(self, call: ast.Call) -> None:
        """``kwargs.setdefault("k", v)``, ``kwargs.update(...)``, ``_ovewrite_named_param(kwargs, "k", v)``."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            holder = self.env.get(func.value.id)
            if isinstance(holder, dict):
                if func.attr == "setdefault" and len(call.args) == 2:
                    key = self.value(call.args[0])
                    if isinstance(key, str):
                        holder.setdefault(key, self.value(call.args[1]))
                        return
                if func.attr in ("pop", "get"):
                    return
                holder[UNKNOWN_SPREAD] = ...
            return
        name = func.id if isinstance(func, ast.Name) else ""
        if name in _OVERWRITE_HELPERS and len(call.args) == 3 and isinstance(call.args[0], ast.Name):
            holder, key = self.env.get(call.args[0].id), self.value(call.args[1])
            if isinstance(holder, dict) and isinstance(key, str):
                holder[key] = self.value(call.args[2])

    def value(self, expr: Optional[ast.expr]) -> object:
        if expr is None:
            return None
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            if expr.id in self.env:
                return self.env[expr.id]
            if expr.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[expr.id]
            if expr.id in self.index.classes or expr.id in self.index.aliases:
                return _Ref(self.index, self.index.qualify_dotted(expr.id))
            return ...
        if isinstance(expr, ast.IfExp):
            test = _truth(self.value(expr.test))
            return ... if test is None else self.value(expr.body if test else expr.orelse)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = _truth(self.value(expr.operand))
            return ... if inner is None else not inner
        if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], (ast.Is, ast.IsNot)):
            left, right = self.value(expr.left), self.value(expr.comparators[0])
            if right is not None or left is ... or (isinstance(left, _Built) and left.built_class() is None):
                return ...
            return (left is None) == isinstance(expr.ops[0], ast.Is)
        if isinstance(expr, ast.BoolOp):
            truth = [_truth(self.value(v)) for v in expr.values]
            if any(t is None for t in truth):
                return ...
            return all(truth) if isinstance(expr.op, ast.And) else any(truth)
        if isinstance(expr, ast.Dict) and all(isinstance(k, ast.Constant) for k in expr.keys):
            return {k.value: self.value(v) for k, v in zip(expr.keys, expr.values)}  # type: ignore[union-attr]
        if isinstance(expr, ast.Call):
            return self.call(expr)
        return _literal(expr)

    def call(self, expr: ast.Call) -> object:
        name = expr.func.id if isinstance(expr.func, ast.Name) else ""
        if name == "bool" and len(expr.args) == 1:
            inner = _truth(self.value(expr.args[0]))
            return ... if inner is None else inner
        if isinstance(expr.func, ast.Attribute) and expr.func.attr == "verify" and len(expr.args) == 1:
            # torchvision's Weights.verify(None) is None; other weights: some enum member
            return None if self.value(expr.args[0]) is None else ...
        if name == "dict":  # dict(model_args, **kwargs)
            merged: Dict[str, object] = {}
            for arg in expr.args:
                part = self.value(arg)
                if not isinstance(part, dict):
                    return ...
                merged.update(part)
            args, kwargs = _call_values(ast.Call(func=expr.func, args=[], keywords=expr.keywords), self.value)
            merged.update(kwargs)
            return merged
        return _Built(expr, dict(self.env), self.index)


_FELL = object()  # a block that ran to its end without returning


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
    for node in ast.walk(scope.node):
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
