"""Model instances across the project: where the model a launch site or a training loop receives is built.

A launch site (``launch.py``) and the training code (``training/``) both ask the same question: which
module class, built with which arguments, is this expression? The :class:`Resolver` follows it through
the assignments of its scope (:class:`Scope`), the wrappers that return the same model (``.to(device)``,
``torch.compile``, ``convert_sync_batchnorm``, ``accelerator.prepare``, a DDP wrapper's ``.module``),
function parameters bound at the project's call sites, ``self.model`` of trainer classes, project and
timm factories with literal arguments, and imports of other files; then the analysis of that class
(``analyzer.py``), specialised to the arguments it was built with, gives the :class:`Evidence`.
Everything here reads the ``ast`` trees flake8 and ``project.py`` already parsed.
"""
from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from . import analyzer, project
from .analyzer import ClassReport, FileAnalysis
from .index import ClassInfo, FileIndex, FunctionNode, walk
from .init_facts import Built, InitFacts, TrainableAttr
from .rules import LIVE, UNDECIDED, Finding, judge_attribute
from .summaries import InstanceFlow as _InstanceFlow
from . import callsites
from .values import FlowResult

Pos = Tuple[int, int]
Origin = Tuple[str, int, int]  # file, line, column of the call that builds a model instance

TORCH_DDP = {"torch.nn.parallel.DistributedDataParallel", "torch.nn.parallel.distributed.DistributedDataParallel",
             "torch.nn.DistributedDataParallel"}
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
            found = self._others[id(index)] = Resolver(analyzer.analysis_for(index, self.settings))
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
        for node in walk(func):
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
            analysis = analyzer.analysis_for(info.module, self.settings)
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
                            else analyzer.analysis_for(sub.module, self.settings))
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
    for node in walk(init):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == attr and isinstance(
                        target.value, ast.Name) and target.value.id == "self":
                    found.append(node.value)
    return found[0] if len(found) == 1 else None


def _find_reentrant(index: FileIndex, scope: ast.AST) -> Optional[str]:
    for node in walk(scope):
        if isinstance(node, ast.Call) and index.qualify(node.func) in CHECKPOINT_CALLS:
            flag = next((k.value for k in node.keywords if k.arg == "use_reentrant"), None)
            if flag is None or (isinstance(flag, ast.Constant) and flag.value is True):
                return f"{ast.unparse(node.func)}(...) at line {node.lineno} of {_base(index.filename)}"
    return None


def _base(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


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
                    if any(isinstance(n, ast.Return) for n in walk(stmt)):
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
                if any(isinstance(n, ast.Return) for n in walk(stmt)):
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
            for node in walk(target):
                if isinstance(node, ast.Name):
                    self.env[node.id] = ...

    def forget(self, stmt: ast.AST) -> None:
        for node in walk(stmt):
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
