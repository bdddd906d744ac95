"""Classes the project never trains: every way the project gets an instance runs it without gradients.

Inference ports keep checkpoint-compatible parts their forward never runs (an audio branch kept so a
checkpoint loads, a head whose logits are only sampled). The project hands such a model to a pipeline
whose only code that runs it is under ``@torch.no_grad()``, or builds the class inside a model class that
is itself in that case. What its forward leaves unused gets no gradient only in training nobody in the
project does. This extends ``eval_only`` (every construction site freezes the instance) to the other ways
an instance is obtained.

The decision needs *every* reference to the class's name in the project (the text scan of the package
that ``eval_only`` and ``project_calls`` use; only the files naming the class are parsed) to be one of:

- an import, a string, the class's own definition, ``super(C, self)``, a return annotation;
- a construction (``C(...)``, ``C.from_pretrained(...)``) in a function that puts it in eval mode;
- a construction in ``__init__`` of a module class that is itself never trained (followed a few levels);
- an annotation of an ``__init__`` parameter of a holder that is no ``nn.Module`` (a pipeline): the holder
  stores it (``self.t = p``, ``self.register_modules(t=p)``) and every method of the holder that reads
  ``self.t`` runs without gradients (decorated with ``torch.no_grad()``/``inference_mode()``, inside such a
  ``with`` block, or a private method called only from such places) and uses it in place (calls it, reads
  its attributes, tests it; never returns, stores or hands it on), and no file naming the holder reads
  ``.t`` from outside it.

Anything else (``isinstance``, an alias ``cls = C``, a subclass, an annotation of another function, a
holder's public method with gradients) keeps the class judged. So does a training affordance: a class, or
a model class containing it, that declares gradient-checkpointing support
(``_supports_gradient_checkpointing = True``) is offered for training even where the project only samples
from it, and a user who trains it with DDP must be told. Known limit: an instance reached through a
generic accessor (``pipe.components["transformer"]``) or by a project that does not name the holder is
not seen.
"""
from __future__ import annotations

import ast
import os
import re
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from .eval_only import _site_is_eval
from .flow import _NO_GRAD_CONTEXTS, _decorated_no_grad
from .index import ClassInfo, FileIndex, FunctionNode, dotted_name, walk
from .package_text import naming, package_scope
from .project import load_index, register_cache

_MAX_REF_FILES = 40  # files naming one class; more and the class stays judged
_MAX_DEPTH = 4  # containing models followed upwards
_LOADERS = {"from_pretrained", "from_config", "from_single_file"}
_TRAINING_CALLS = {"train", "requires_grad_", "forward", "__call__"}

_RESULTS: Dict[Tuple[str, str], bool] = {}


def clear_cache() -> None:
    _RESULTS.clear()


register_cache(clear_cache, "all")  # per-class answers (the package's name index is package_text's)


def offers_training(info: ClassInfo) -> bool:
    """The class or a readable base declares gradient-checkpointing support under the name its framework's
    switch reads: transformers' ``gradient_checkpointing_enable()`` checks ``supports_gradient_checkpointing``,
    diffusers' ``enable_gradient_checkpointing()`` checks ``_supports_gradient_checkpointing``. A declaration
    under the other name (diffusers' copy of BART in ``LDMBertPreTrainedModel``) enables nothing: transformers
    raises "does not support gradient checkpointing"."""
    classes = info.module.mro(info)[0]
    hf = any(base.startswith("transformers.") for cls in classes for base in cls.base_names) or any(
        cls.name == "PreTrainedModel" and "transformers" in cls.module.filename for cls in classes)
    wanted = "supports_gradient_checkpointing" if hf else "_supports_gradient_checkpointing"
    for cls in classes:
        for stmt in cls.node.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] \
                if isinstance(stmt, ast.AnnAssign) else []
            value = getattr(stmt, "value", None)
            if any(isinstance(t, ast.Name) and t.id == wanted for t in targets) \
                    and isinstance(value, ast.Constant) and value.value is True:
                return True
    return False


def never_trained(info: ClassInfo, settings: object = None) -> bool:
    """Whether every way the project obtains an instance of the class runs it without gradients."""
    filename = info.module.filename
    if not filename or filename in ("<string>", "<stdin>", "stdin") or not os.path.exists(filename):
        return False
    return _never_trained(info, settings, 0, frozenset())


def _never_trained(info: ClassInfo, settings: object, depth: int, seen: FrozenSet[Tuple[str, str]]) -> bool:
    key = (os.path.abspath(info.module.filename), info.name)
    if key in _RESULTS:
        return _RESULTS[key]
    if depth > _MAX_DEPTH or key in seen:
        return False  # a cycle or a deep chain: not decided, so judged
    result = not offers_training(info) and _every_use_without_grad(info, settings, depth, seen | {key})
    _RESULTS[key] = result
    return result


def _files_naming(info: ClassInfo) -> Optional[List[str]]:
    """The files whose text names the class, or None when they cannot all be read."""
    index = naming(package_scope(info.module.filename))
    paths = index.get(info.name, []) if index is not None else None
    return paths if paths is not None and len(paths) <= _MAX_REF_FILES else None


def _load(path: str, here: FileIndex, settings: object) -> Optional[FileIndex]:
    if os.path.abspath(path) == os.path.abspath(here.filename):
        return here
    return load_index(path, settings)  # type: ignore[arg-type]  # the project's parse-once cache


def _every_use_without_grad(info: ClassInfo, settings: object, depth: int,
                            seen: FrozenSet[Tuple[str, str]]) -> bool:
    paths = _files_naming(info)
    if not paths:
        return False
    uses = 0
    for path in paths:
        index = _load(path, info.module, settings)
        if index is None or getattr(index, "tree", None) is None:
            return False
        counted = _uses_in(index, info, settings, depth, seen)
        if counted is None:
            return False
        uses += counted
    return uses > 0


def _parents(tree: ast.AST) -> Dict[ast.AST, ast.AST]:
    parents: Dict[ast.AST, ast.AST] = {}
    for node in walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _loads_of(index: FileIndex) -> Tuple[Dict[ast.AST, ast.AST], Dict[str, List[ast.AST]]]:
    """The file's parent map and its loaded names (``C``, ``x.C``) by name, in walk order, built once per file:
    asked per class, a walk of the whole file each time was quadratic in the classes of a file."""
    cached = index.__dict__.get("_inference_only_loads")
    if cached is None:
        loads: Dict[str, List[ast.AST]] = {}
        for node in walk(index.tree):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            if name is not None and isinstance(getattr(node, "ctx", None), ast.Load):
                loads.setdefault(name, []).append(node)
        cached = index.__dict__["_inference_only_loads"] = (_parents(index.tree), loads)
    return cached


def _is_us(index: FileIndex, node: ast.AST, info: ClassInfo) -> Optional[bool]:
    """Whether a reference resolves to the class asked about (None: it cannot be resolved)."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    found = index.local_class(index.qualify_dotted(dotted))
    if found is None:
        return None
    return found.name == info.name and os.path.abspath(found.module.filename) == os.path.abspath(info.module.filename)


def _uses_in(index: FileIndex, info: ClassInfo, settings: object, depth: int,
             seen: FrozenSet[Tuple[str, str]]) -> Optional[int]:
    """How many gradient-free uses of the class the file holds, or None when one use may train it."""
    parents, loads = _loads_of(index)
    uses = 0
    for node in loads.get(info.name, []):
        ours = _is_us(index, node, info)
        if ours is False:
            continue  # another class of the same name
        verdict = _reference(node, parents, index, info, settings, depth, seen)
        if verdict is None:
            return None
        uses += verdict
    return uses


def _enclosing(node: ast.AST, parents: Dict[ast.AST, ast.AST], kinds: tuple) -> Optional[ast.AST]:
    node = parents.get(node)
    while node is not None and not isinstance(node, kinds):
        node = parents.get(node)
    return node


def _annotation_of(node: ast.AST, parents: Dict[ast.AST, ast.AST]) -> Tuple[str, Optional[ast.AST]]:
    """('arg', the ast.arg) or ('returns', the function) when the node is (part of) an annotation."""
    child, parent = node, parents.get(node)
    while isinstance(parent, (ast.Subscript, ast.BinOp, ast.Tuple, ast.List)):
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.arg) and parent.annotation is child:
        return "arg", parent
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and parent.returns is child:
        return "returns", parent
    return "", None


def _reference(node: ast.AST, parents: Dict[ast.AST, ast.AST], index: FileIndex, info: ClassInfo,
               settings: object, depth: int, seen: FrozenSet[Tuple[str, str]]) -> Optional[int]:
    parent = parents.get(node)
    if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name) \
            and parent.func.id == "super":
        return 0  # `super(C, self).__init__()` in its own class
    kind, where = _annotation_of(node, parents)
    if kind == "returns":
        return 0  # an annotation does not run anything; the construction it describes is a reference too
    if kind == "arg":
        func = parents.get(parents.get(where))  # ast.arg -> ast.arguments -> the function
        holder = parents.get(func) if func is not None else None
        if not (isinstance(func, ast.FunctionDef) and func.name == "__init__" and isinstance(holder, ast.ClassDef)):
            return None
        hinfo = index.classes.get(holder.name)
        if hinfo is None or hinfo.node is not holder:
            return None
        if index.module_kind(hinfo):  # a module given the instance as a child: it shares the child's fate
            return 1 if _never_trained(hinfo, settings, depth + 1, seen) else None
        runs = _holder_runs_without_grad(hinfo, func, where.arg, index, info, settings)  # type: ignore[union-attr]
        return 1 if runs else None
    call = None
    if isinstance(parent, ast.Call) and parent.func is node:
        call = parent
    elif isinstance(parent, ast.Attribute) and parent.value is node and parent.attr in _LOADERS:
        grand = parents.get(parent)
        call = grand if isinstance(grand, ast.Call) and grand.func is parent else None
    if call is None:
        return None  # isinstance, an alias, a base class, a default value: not followed
    func = _enclosing(call, parents, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    if isinstance(func, ast.FunctionDef) and func.name == "__init__":
        owner = parents.get(func)
        cinfo = index.classes.get(owner.name) if isinstance(owner, ast.ClassDef) else None
        if cinfo is None or cinfo.node is not owner or cinfo is info or not index.module_kind(cinfo):
            return None
        return 1 if _never_trained(cinfo, settings, depth + 1, seen) else None
    return 1 if _site_is_eval(call, parents) else None


def _holder_runs_without_grad(holder: ClassInfo, init: ast.FunctionDef, param: str, index: FileIndex,
                              info: ClassInfo, settings: object) -> bool:
    """A holder that is no module stores the instance from ``param`` and runs it only without gradients."""
    parents = _parents(init)
    attrs: Set[str] = set()
    for node in walk(init):
        if not (isinstance(node, ast.Name) and node.id == param and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Assign) and parent.value is node:
            for target in parent.targets:
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self"):
                    return False
                attrs.add(target.attr)
        elif isinstance(parent, ast.keyword) and parent.value is node and parent.arg:
            call = parents.get(parent)
            func = call.func if isinstance(call, ast.Call) else None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                attrs.add(parent.arg)  # `self.register_modules(t=p)`: stored under the keyword's name
            elif not _annotated_holder(index, func, parent.arg, info):
                return False
        elif isinstance(parent, ast.Compare) or _in_test(node, parents):
            continue  # `if p is None:`
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            call = parents.get(parent)
            if isinstance(call, ast.Call) and call.func is parent and parent.attr in _TRAINING_CALLS:
                return False
        else:
            return False  # handed to other code
    methods: Dict[str, Tuple[ClassInfo, FunctionNode]] = {}
    for cls in holder.module.mro(holder)[0]:
        for name, func in list(cls.methods.items()) + list(cls.properties.items()):
            methods.setdefault(name, (cls, func))
    free = _gradient_free_methods(methods)
    for name, (cls, func) in methods.items():
        if name == "__init__":
            continue
        fparents = _parents(func)
        for node in walk(func):
            if isinstance(node, ast.Attribute) and node.attr in attrs and isinstance(node.value, ast.Name) \
                    and node.value.id == "self":
                if not _run_in_place(node, fparents) or not (name in free or _under_no_grad(node, fparents, cls)):
                    return False
    return not _read_from_outside(holder, attrs, settings)


def _run_in_place(node: ast.AST, parents: Dict[ast.AST, ast.AST]) -> bool:
    """``self.t(...)``, ``self.t.decode(...)``, ``self.t.config``, ``self.t is None``: used where it is. Returned,
    stored or handed on, the instance may be trained elsewhere."""
    parent = parents.get(node)
    if isinstance(parent, ast.Call) and parent.func is node:
        return True
    if isinstance(parent, ast.Attribute) and parent.value is node:
        call = parents.get(parent)
        return not (isinstance(call, ast.Call) and call.func is parent and parent.attr in _TRAINING_CALLS)
    return isinstance(parent, ast.Compare) or _in_test(node, parents)


def _annotated_holder(index: FileIndex, func: Optional[ast.AST], keyword: str, info: ClassInfo) -> bool:
    """``Holder(t=p)`` where ``Holder.__init__`` annotates ``t`` with the class: that reference is judged
    where it is written."""
    dotted = dotted_name(func) if func is not None else None
    target = index.local_class(index.qualify_dotted(dotted)) if dotted else None
    init = target.methods.get("__init__") if target is not None else None
    if init is None:
        return False
    for arg in init.args.args + init.args.kwonlyargs:
        if arg.arg == keyword and arg.annotation is not None:
            return re.search(rf"\b{re.escape(info.name)}\b", ast.unparse(arg.annotation)) is not None
    return False


def _in_test(node: ast.AST, parents: Dict[ast.AST, ast.AST]) -> bool:
    child, parent = node, parents.get(node)
    while isinstance(parent, (ast.BoolOp, ast.UnaryOp)):
        child, parent = parent, parents.get(parent)
    return isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is child


def _no_grad_context(expr: ast.AST, owner: ClassInfo) -> bool:
    target = expr.func if isinstance(expr, ast.Call) else expr
    dotted = dotted_name(target)
    return dotted is not None and owner.module.qualify_dotted(dotted) in _NO_GRAD_CONTEXTS


def _under_no_grad(node: ast.AST, parents: Dict[ast.AST, ast.AST], owner: ClassInfo) -> bool:
    """Inside the body of a ``with torch.no_grad():`` block."""
    child, parent = node, parents.get(node)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(parent, (ast.With, ast.AsyncWith)) and child in parent.body \
                and any(_no_grad_context(item.context_expr, owner) for item in parent.items):
            return True
        child, parent = parent, parents.get(parent)
    return False


def _gradient_free_methods(methods: Dict[str, Tuple[ClassInfo, FunctionNode]]) -> Set[str]:
    """Methods decorated with no_grad, and private methods called only from such methods or blocks."""
    free = {name for name, (cls, func) in methods.items() if _decorated_no_grad(cls, func)}
    sites: Dict[str, List[Tuple[str, bool]]] = {}  # private method -> (caller, under a no_grad block)
    for caller, (cls, func) in methods.items():
        fparents = _parents(func)
        for node in walk(func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                sites.setdefault(node.func.attr, []).append((caller, _under_no_grad(node, fparents, cls)))
    changed = True
    while changed:
        changed = False
        for name in methods:
            if name in free or not name.startswith("_") or name.startswith("__"):
                continue
            calls = sites.get(name, [])
            if calls and all(blocked or caller in free for caller, blocked in calls):
                free.add(name)
                changed = True
    return free


def _read_from_outside(holder: ClassInfo, attrs: Set[str], settings: object) -> bool:
    """``pipe.t`` on anything but ``self`` in a file that names the holder (a script training its part)."""
    if not attrs:
        return False
    paths = _files_naming(holder)
    if paths is None:
        return True
    for path in set(paths) | {holder.module.filename}:
        index = _load(path, holder.module, settings)
        if index is None or getattr(index, "tree", None) is None:
            return True
        for node in walk(index.tree):
            if isinstance(node, ast.Attribute) and node.attr in attrs and not (
                    isinstance(node.value, ast.Name) and node.value.id == "self"):
                return True
    return False
