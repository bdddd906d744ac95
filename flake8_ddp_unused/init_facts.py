"""Facts about what a module class builds in ``__init__``: its trainable attributes and its flags.

Read from the ``ast`` tree (cheap; flake8 already parsed it). Judgement lives in ``rules.py``.
"""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from . import defaults_eval, init_state, unroll
from .handed import Cond, follow, reaches_self
from .index import ClassInfo, FileIndex, FunctionNode, dotted_name, walk
from .torchnn import (
    CONDITIONAL_PARAMETERS,
    CONTAINERS,
    KNOWN_MODEL_FACTORY_PREFIXES,
    PARAMETER_CLASSES,
    PARAMETER_LAYERS,
    PARAMETERLESS_LAYERS,
    TRANSFORMERS_MODEL_SUFFIXES,
    torch_nn_layer,
)

# What a constructor expression builds. "none": nothing trainable; "maybe": unknown factory.
TRAINABLE_KINDS = ("layer", "parameter", "container", "module_class", "model")
_CLASS_CONSTRUCTORS = ("from_config", "_from_config", "from_pretrained")


@dataclass
class Built:
    kind: str  # layer | parameter | container | module_class | model | maybe | none
    ctor: str = ""  # the callee as written, e.g. "nn.Linear"
    frozen: bool = False
    length: Optional[int] = None  # container length when a literal says it
    keys: Optional[Tuple[str, ...]] = None  # ModuleDict keys when a literal says them
    # kind "classref": a module class held as a value (`norm_layer = nn.BatchNorm2d`), built when called;
    # kind "classrefs": a literal list of them (`inception_blocks = [BasicConv2d, InceptionA, ...]`)
    ref: Optional[ast.expr] = None
    items: Optional[Tuple["Built", ...]] = None
    handed: bool = False  # a module argument of __init__ stored as is (`self.original = module`), not built here


@dataclass
class TrainableAttr:
    name: str
    line: int
    col: int
    owner: str  # the class whose __init__ builds it
    built: Built
    built_under: Optional[str] = None  # a flag key when built only under a condition ("?" unknown)
    file: str = ""  # the file whose `self.x = ...` line this is (a base class may live elsewhere)

    @property
    def frozen(self) -> bool:
        return self.built.frozen


@dataclass
class Flag:
    key: str  # the constructor argument it comes from, or "self.<name>" for a literal
    default: Optional[str]  # source text of the default/literal value, None when unknown


@dataclass
class InitFacts:
    attrs: Dict[str, TrainableAttr] = field(default_factory=dict)
    flags: Dict[str, Flag] = field(default_factory=dict)  # self.<name> -> Flag
    dynamic_attrs: bool = False  # setattr(self, name, ...) with a computed name
    shared: Set[str] = field(default_factory=set)  # read while building another attribute: shared
    reads_unknown_init: bool = False  # a base __init__ the linter cannot read
    eval_mode: Set[str] = field(default_factory=set)  # put in eval mode by __init__ (`self.x.eval()`; "self")
    # the argument values __init__ leaves in `self.x` and as keys of `self.c` (init_state.py), by token
    held: Dict[str, str] = field(default_factory=dict)
    keys: Dict[str, FrozenSet[str]] = field(default_factory=dict)
    # `self.out_indices = [0, 2, 4, 6]`: attributes __init__ sets once to a small literal, changed nowhere else
    literals: Dict[str, tuple] = field(default_factory=dict)
    # `self.encoder = encoder`, a parameter of the class's own __init__ stored as it is: the module the caller
    # hands over (constructed.py finds it at the project's construction sites) -> (parameter, line, column)
    params: Dict[str, Tuple[str, int, int]] = field(default_factory=dict)
    # `self.net1.bias = self.bias`: the attribute is registered in the submodules named here too, so it gets a
    # gradient wherever one of them runs (and nowhere else than its own uses)
    held_in: Dict[str, Set[str]] = field(default_factory=dict)
    # `self.skips = create_skips(..., self.heads)`: a module handed to a function of the file that keeps it only in
    # what the call returns or in what it stores on self, under the flag tests in force there (handed.py):
    # attribute -> ((holder, tests), ...), () when nothing keeps it. Judged by its holders' uses under those tests.
    handed: Dict[str, Tuple[Tuple[str, FrozenSet[Cond]], ...]] = field(default_factory=dict)


@dataclass
class FileFacts:
    """One walk over the whole file: names frozen anywhere, names read from outside their class."""

    frozen_names: Set[str] = field(default_factory=set)
    frozen_classes: Set[str] = field(default_factory=set)
    frozen_attrs: Set[Tuple[str, str]] = field(default_factory=set)  # (class, attribute) frozen via self.x
    external_reads: Set[str] = field(default_factory=set)
    tied_names: Set[str] = field(default_factory=set)  # named in `_tied_weights_keys`: tied at load time
    # methods called on other objects from code that may run in a training step: `self.encoder.encode(x)`
    external_calls: Set[str] = field(default_factory=set)


# Code in functions with these words in their name sets a model up; it is not a training step.
_TIED_WEIGHTS_NAMES = {"_tied_weights_keys", "_tied_weights", "_dynamic_tied_weights_keys"}
_SETUP_WORDS = ("init", "reset", "freeze", "load", "save", "build", "setup", "configure")

# Methods of a module that return the module itself: nn.Linear(...).to(device).requires_grad_(False)
_MODULE_RETURNING_METHODS = {"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "type",
                             "requires_grad_"}

_FALSY = {"False", "None", "0", "0.0", "''", '""'}


def _is_false(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


# `.name` after an expression (not after `self`, not a sentence's full stop), and `.name(` calls.
_DOTTED_READ = re.compile(r"(?<=[\w)\]])\.([A-Za-z_]\w*)")
_SELF_READ = re.compile(r"\bself\.([A-Za-z_]\w*)")
_DOTTED_CALL = re.compile(r"(?<=[\w)\]])\.([A-Za-z_]\w*)\s*\(")
_SELF_CALL = re.compile(r"\bself\.([A-Za-z_]\w*)\s*\(")
# `self.net1.bias = ...` in set-up code: a store into a submodule, not a read of `bias` from outside a class
_SUBMODULE_STORE = re.compile(r"^\s*self\.\w+\.([A-Za-z_]\w*)\s*=(?!=)")


def file_facts(tree: ast.Module, lines: Sequence[str], index: Optional[FileIndex] = None) -> FileFacts:
    """Facts about the whole file, mostly read off the text (cheap), the rest from targeted walks.

    Over-approximating (a name in a comment counts too) only makes the linter more silent."""
    facts = FileFacts()
    setup_lines = _setup_line_ranges(index) if index is not None else []
    # per line: inside a set-up function? (a difference array: linear in lines + functions)
    depth = [0] * (len(lines) + 2)
    for first, last in setup_lines:
        depth[min(first, len(lines) + 1)] += 1
        depth[min(last + 1, len(lines) + 1)] -= 1
    in_setup = [False] * (len(lines) + 2)
    running = 0
    for number in range(1, len(lines) + 1):
        running += depth[number]
        in_setup[number] = running > 0
    text_has_freeze = False
    text_has_tied = False
    prose = _docstring_lines(tree, index, len(lines))
    for number, line in enumerate(lines, start=1):
        if "." in line:
            # prose, and the dotted module paths of imports (`from transformers.models.bert import ...`), read
            # no attribute
            reads = set(_DOTTED_READ.findall(line)) if not prose[number] and not line.lstrip().startswith(
                ("from ", "import ")) else set()
            own = _SELF_READ.findall(line)
            store = _SUBMODULE_STORE.match(line) if in_setup[number] else None
            stored = store.group(1) if store else None
            # `self.x` also matched the generic pattern when preceded by other text: drop exact self reads
            for name in set(own) | ({stored} if stored else set()):
                if line.count("." + name) == line.count("self." + name) + (name == stored):
                    reads.discard(name)
            facts.external_reads.update(reads)
            if "(" in line and not in_setup[number]:
                calls = set(_DOTTED_CALL.findall(line))
                for name in _SELF_CALL.findall(line):
                    if line.count("." + name) == line.count("self." + name):
                        calls.discard(name)
                facts.external_calls.update(calls)
        if "requires_grad" in line or "freeze" in line.lower():
            text_has_freeze = True
        if "_tied_weights" in line:
            text_has_tied = True
    classes = _class_statements(tree) if text_has_freeze or text_has_tied else []
    if text_has_freeze:
        _collect_freezing(tree, facts, lines, classes)
    if text_has_tied:
        _collect_tied(classes, facts)
    return facts


def _class_statements(tree: ast.Module) -> List[ast.ClassDef]:
    """Every class statement of the file, nested ones too, without walking expressions: a statement sits only
    in the statement lists of other statements (a walk of the whole tree cost two walks per transformers
    file, one for the tied weights and one for freezing)."""
    found: List[ast.ClassDef] = []
    blocks: List[ast.AST] = list(tree.body)
    while blocks:
        node = blocks.pop()
        if isinstance(node, ast.ClassDef):
            found.append(node)
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                blocks.extend(block)
    return found


def _docstring_lines(tree: ast.Module, index: Optional[FileIndex], count: int) -> List[bool]:
    """Lines inside the docstrings of the module, its classes and functions: prose such as "DETAIL names
    `encoder.head.bias`" reads no attribute."""
    prose = [False] * (count + 2)
    owners: List[ast.AST] = [tree]
    if index is not None:
        owners += list(index.functions.values())
        for info in index.classes.values():
            owners.append(info.node)
            owners += list(info.methods.values())
    for owner in owners:
        body = getattr(owner, "body", None)
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            for number in range(first.lineno, min(first.end_lineno or first.lineno, count) + 1):
                prose[number] = True
    return prose


def _setup_line_ranges(index: FileIndex) -> List[Tuple[int, int]]:
    """Lines of functions that set a model up (``__init__``, ``init_weights``, ``freeze_...``)."""
    functions = list(index.functions.values())
    for info in index.classes.values():
        functions += list(info.methods.values())
    return [(f.lineno, f.end_lineno or f.lineno) for f in functions
            if any(word in f.name.lower() for word in _SETUP_WORDS)]


def _collect_tied(classes: List[ast.ClassDef], facts: FileFacts) -> None:
    # transformers ties these parameters at load time: "lm_head.decoder.bias" -> "lm_head.bias"
    for cls in classes:
        for node in cls.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id in _TIED_WEIGHTS_NAMES for t in targets):
                    for item in walk(node.value):
                        if isinstance(item, ast.Constant) and isinstance(item.value, str):
                            facts.tied_names.update(item.value.split("."))


def _mentions_freezing(node: ast.AST, lines: Sequence[str]) -> bool:
    first, last = getattr(node, "lineno", 1), getattr(node, "end_lineno", None) or len(lines)
    return any("requires_grad" in line or "freeze" in line.lower() for line in lines[first - 1:last])


def _collect_freezing(tree: ast.Module, facts: FileFacts, lines: Sequence[str], classes: List[ast.ClassDef]) -> None:
    """`x.requires_grad_(False)`, `p.requires_grad = False` loops, `freeze(self.x)` anywhere in the file."""

    def freeze(target: ast.AST, cls: Optional[str]) -> None:
        while isinstance(target, ast.Subscript):
            target = target.value
        chain = dotted_name(target)
        if chain is None:
            return
        parts = chain.split(".")
        if parts == ["self"]:
            if cls:
                facts.frozen_classes.add(cls)
            return
        if parts[0] == "self" and cls:
            facts.frozen_attrs.add((cls, parts[1]))  # self.teacher: this class's teacher only
            facts.frozen_names.update(parts[2:])  # self.encoder.layer: whatever class holds `layer`
            return
        facts.frozen_names.update(parts[1:])  # model.x / model.x.weight: each may be frozen (partly)

    # module-level code without the classes, then each class on its own (self.x means that class's x);
    # only the statements whose lines mention freezing are walked
    scopes: List[Tuple[ast.AST, Optional[str]]] = [
        (stmt, None) for stmt in tree.body if not isinstance(stmt, ast.ClassDef) and _mentions_freezing(stmt, lines)]
    for cls in classes:
        scopes += [(stmt, cls.name) for stmt in cls.body
                   if not isinstance(stmt, ast.ClassDef) and _mentions_freezing(stmt, lines)]
    for scope, cls in scopes:
        for node in walk(scope):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "requires_grad_":
                    arg = node.args[0] if node.args else next(
                        (k.value for k in node.keywords if k.arg == "requires_grad"), None)
                    if _is_false(arg):
                        freeze(func.value, cls)
                callee = (dotted_name(func) or "").rsplit(".", 1)[-1].lower()
                if "freeze" in callee and "unfreeze" not in callee:
                    for arg in node.args:
                        freeze(arg, cls)
            elif isinstance(node, ast.Assign) and _is_false(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
                        freeze(target.value, cls)
            elif isinstance(node, ast.Assign) and _frozen_parameter(node.value):
                # self.prior.weight = nn.Parameter(w, requires_grad=False), in whatever method does it
                for target in node.targets:
                    if isinstance(target, ast.Attribute):
                        if isinstance(target.value, ast.Name) and target.value.id == "self":
                            if cls:
                                facts.frozen_attrs.add((cls, target.attr))
                        else:
                            freeze(target.value, cls)
            elif isinstance(node, ast.For):
                # for p in self.x.parameters(): p.requires_grad = False
                it = node.iter
                if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in (
                        "parameters", "named_parameters") and any(_sets_requires_grad_false(s) for s in node.body):
                    freeze(it.func.value, cls)


def _frozen_parameter(value: ast.expr) -> bool:
    """`nn.Parameter(w, requires_grad=False)` / `Parameter(w, False)`."""
    if not isinstance(value, ast.Call) or (dotted_name(value.func) or "").rsplit(".", 1)[-1] != "Parameter":
        return False
    flag = next((k.value for k in value.keywords if k.arg == "requires_grad"), None)
    return _is_false(flag if flag is not None else (value.args[1] if len(value.args) > 1 else None))


def _sets_requires_grad_false(stmt: ast.stmt) -> bool:
    for node in walk(stmt):
        if isinstance(node, ast.Assign) and _is_false(node.value):
            if any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "requires_grad_" and node.args and _is_false(node.args[0]):
                return True
    return False


class InitCollector:
    """Walks ``__init__`` (and the self-methods and base ``__init__``s it calls) of one class."""

    def __init__(self, index: FileIndex, cls: ClassInfo, mro: List[ClassInfo], mro_complete: bool = True) -> None:
        self.index = index
        self.cls = cls
        self.mro = mro
        self.mro_complete = mro_complete
        self._flag_assignments: Set[str] = set()
        self._returned_cache: Dict[Tuple[str, int], Built] = {}
        self.facts = InitFacts()
        self._visited: Set[Tuple[str, int]] = set()
        # `self.k_in_proj["soft"] = self.k_proj_soft`: the attributes each container entry holds last
        self._entries: Dict[Tuple[str, str], Set[str]] = {}
        # `self.layers = nn.ModuleList()`: a container built empty, a module once something is added
        self._empty: Dict[str, Tuple[ClassInfo, ast.stmt, Optional[str], str]] = {}
        # init_state.py: the argument value each parameter of the function being walked holds (a token), the
        # attributes that store one (`self.x = name`) with their statement, and the keys put into containers
        self._tokens: Dict[str, str] = {}
        self._held: Dict[str, Tuple[str, ClassInfo, ast.stmt, Optional[str]]] = {}
        self._stored: Dict[str, int] = {}
        self._keys: Dict[str, Set[str]] = {}
        # unroll.py: names bound to a constant in the loop iteration being walked (`i_layer`, `layer_name`)
        self._consts: Dict[str, object] = {}
        self._literals: Dict[str, tuple] = {}
        # a list literal grown in an unrolled loop (`self.res_layers.append(layer_name)`): its final value is known
        # when every in-place change of it is such an append, evaluated (the calls, by identity)
        self._evaluated: Dict[str, Set[int]] = {}
        # while walking the first __init__ (what a bare call runs): its parameters' defaults and itself
        self._entry: Optional[Tuple[Dict[str, Optional[str]], FunctionNode]] = None
        self._walked: List[FunctionNode] = []
        # functions defined in the function being walked (`def create_skips(...)` in __init__), and what each module
        # attribute handed to a followed function ends in (handed.py): (holder, tests) per end
        self._nested: Dict[str, FunctionNode] = {}
        self._handed: Dict[str, List[Tuple[str, FrozenSet[Cond]]]] = {}
        self._unrolling = 0  # inside a loop unrolled in the function being walked
        self._loops = 0  # inside a loop walked once

    def collect(self) -> InitFacts:
        init = self._lookup("__init__", 0)
        if init is not None:
            owner, func = init
            self._walk_function(owner, func, {})
        elif not self.mro_complete:
            self.facts.reads_unknown_init = True
        for held in self._entries.values():
            self.facts.shared.update(held)  # reachable through the container entry: not judged on its own
        self._handed_ends()
        self._init_state()
        return self.facts

    def _init_state(self) -> None:
        """What `__init__` leaves in `self.x` and in containers' keys, unless another method changes it."""
        if not self._literals and (not self._held or not self._keys):
            return
        written: Set[str] = set()
        grown: Set[str] = set()  # `self.names = []` then `self.names.append(n)` in __init__ itself: not that literal
        for info in self.mro:
            for func in list(info.methods.values()) + list(info.properties.values()):
                if (info.module.filename, func.lineno) not in self._visited:
                    written.update(info.fact(("init_state.written", id(func)),
                                             lambda: init_state.written_attributes(func)))
                elif self._literals:
                    grown.update(info.fact(("init_state.mutated", id(func)),
                                           lambda: init_state.written_attributes(func, in_place_only=True)))
        if "*" in written:
            return
        changed = written | {name for name in grown if not self._growth_evaluated(name)}
        self.facts.literals = {name: value for name, value in self._literals.items()
                               if self._stored.get(name) == 1 and name not in changed}
        if not self._held or not self._keys:
            return
        self.facts.held = {name: held[0] for name, held in self._held.items()
                           if self._stored.get(name) == 1 and name not in written}
        self.facts.keys = {name: frozenset(keys) for name, keys in self._keys.items() if name not in written}

    def _handed_ends(self) -> None:
        """A handed module is judged by its holders' uses when each holder is trainable state judged itself;
        otherwise (or when it is also shared some other way) it stays shared, never judged."""
        for name, ends in self._handed.items():
            if name in self.facts.shared or name not in self.facts.attrs:
                continue
            if all(holder in self.facts.attrs for holder, _ in ends):
                self.facts.handed[name] = tuple(sorted(set(ends), key=repr))
            else:
                self.facts.shared.add(name)

    def _growth_evaluated(self, name: str) -> bool:
        """Every in-place change of ``self.<name>`` in the walked methods is an append that an unrolled loop
        evaluated: the literal it was left holding is its value."""
        evaluated = self._evaluated.get(name)
        if not evaluated or name not in self._literals:
            return False
        return all(id(node) in evaluated for func in self._walked for node in init_state.in_place_writes(func, name))

    # ---- method lookup through the readable MRO ----
    def _lookup(self, name: str, start: int) -> Optional[Tuple[ClassInfo, FunctionNode]]:
        for info in self.mro[start:]:
            if name in info.methods:
                return info, info.methods[name]
        return None

    def _walk_function(self, owner: ClassInfo, func: FunctionNode, arg_flags: Dict[str, str]) -> None:
        key = (owner.module.filename, func.lineno)
        if key in self._visited or len(self._visited) > 200:
            return
        self._visited.add(key)
        self._walked.append(func)
        defaults = _param_defaults(func)
        local: Dict[str, Built] = {}
        saved, saved_consts, saved_nested = self._tokens, self._consts, self._nested
        self._nested = {}
        # each parameter holds the value its caller passed (arg_flags), else a value of its own
        self._tokens = {name: arg_flags.get(name) or f"{owner.module.filename}:{func.lineno}:{name}"
                        for name in defaults}
        self._consts = {}
        # the __init__ a bare call runs first gets the defaults it does not rebind; a base __init__ or a helper
        # may be passed anything
        outer = (self._unrolling, self._loops, self._entry)
        self._unrolling, self._loops = 0, 0
        self._entry = (defaults, func) if len(self._walked) == 1 else None
        self._walk_block(owner, func.body, defaults, local, None)
        self._tokens, self._consts, self._nested = saved, saved_consts, saved_nested
        self._unrolling, self._loops, self._entry = outer

    def _walk_block(
        self,
        owner: ClassInfo,
        body: List[ast.stmt],
        defaults: Dict[str, Optional[str]],
        local: Dict[str, Built],
        under: Optional[str],
    ) -> None:
        for stmt in body:
            self._walk_stmt(owner, stmt, defaults, local, under)

    def _walk_stmt(
        self,
        owner: ClassInfo,
        stmt: ast.stmt,
        defaults: Dict[str, Optional[str]],
        local: Dict[str, Built],
        under: Optional[str],
    ) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._nested[stmt.name] = stmt  # followed where a module is handed to it (handed.py)
            return
        if isinstance(stmt, ast.If):
            key = self._flag_key(stmt.test, defaults) or "?"
            cond = under or key
            self._walk_block(owner, stmt.body, defaults, local, cond)
            self._walk_block(owner, stmt.orelse, defaults, local, under or "?")
            return
        if isinstance(stmt, ast.For) and self._unrolled(owner, stmt, defaults, local, under):
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            before = {name: id(built) for name, built in local.items()}
            self._loops += 1
            self._walk_block(owner, stmt.body, defaults, local, under)
            self._walk_block(owner, stmt.orelse, defaults, local, under)
            self._loops -= 1
            for name, built in local.items():
                if before.get(name) != id(built):
                    built.length = None  # built in a loop: how many items is not known
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            self._walk_block(owner, stmt.body, defaults, local, under)
            return
        if isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody):
                self._walk_block(owner, block, defaults, local, under)
            for handler in stmt.handlers:
                self._walk_block(owner, handler.body, defaults, local, "?")
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            if value is None:
                return
            for target in targets:
                self._assign(owner, stmt, target, value, defaults, local, under)
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            evaluated = _eval_mode_target(stmt.value)
            if evaluated:
                self.facts.eval_mode.add(evaluated)  # `self.model.eval()` while building: kept for inference
            self._call_stmt(owner, stmt, stmt.value, defaults, local, under)
        elif isinstance(stmt, ast.Delete):
            # `del self.cls_token` removes what a base __init__ built (nn.Module.__delattr__)
            for target in stmt.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and (
                        target.value.id == "self"):
                    self.facts.attrs.pop(target.attr, None)

    def _assign(
        self,
        owner: ClassInfo,
        stmt: ast.stmt,
        target: ast.expr,
        value: ast.expr,
        defaults: Dict[str, Optional[str]],
        local: Dict[str, Built],
        under: Optional[str],
    ) -> None:
        if isinstance(target, ast.Name):
            local[target.id] = self.classify(value, defaults, local)
            known = unroll.const_of(value, self._consts)  # `layer_name = f"norm{i_layer}"` in an unrolled loop
            if known is unroll.UNKNOWN:
                self._consts.pop(target.id, None)
            else:
                self._consts[target.id] = known
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) and not any(
                    isinstance(e, ast.Starred) for e in target.elts + value.elts):
                for elt, part in zip(target.elts, value.elts):  # a, b = x, y
                    self._assign(owner, stmt, elt, part, defaults, local, under)
                return
            for elt in target.elts:
                if isinstance(elt, ast.Name):
                    local.pop(elt.id, None)
            return
        if isinstance(target, ast.Attribute) and _self_chain_root(target.value):
            holder = _held_store(target, value)
            if holder is not None:
                # self.net1.bias = self.bias: registers the model's own attribute in net1 as well; neither a use of
                # net1 nor of bias in the training step (the judgement follows it through net1's uses)
                self.facts.held_in.setdefault(holder[1], set()).add(holder[0])
                return
            # self.decoder.weight = self.embed.weight: weight tying shares both sides
            if _mentions_self(value, owner.module.lines):
                self.facts.shared.update(_shared_reads(value))
                root = target.value
                while isinstance(root, ast.Attribute) and isinstance(root.value, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Attribute):
                    self.facts.shared.add(root.attr)
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) and isinstance(
                target.value.value, ast.Name) and target.value.value.id == "self":
            container = target.value.attr
            if isinstance(target.slice, ast.Constant):
                # a later `self.k_in_proj["soft"] = self.k_in_proj["monotonic"]` (a subclass) replaces the entry
                self._entries[(container, repr(target.slice.value))] = _shared_reads(value) - {container}
            self._fill(container, self.classify(value, defaults, local))  # self.heads[task] = ...
            self._note_keys(container, [target.slice])
            return
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            return
        if target.value.id != "self":
            return
        name = target.attr
        self._empty.pop(name, None)
        self._stored[name] = self._stored.get(name, 0) + 1
        held_literal = unroll.literal_tuple(value, {})
        if held_literal is not None:
            self._literals[name] = held_literal  # `self.out_indices = [0, 2, 4, 6]`
        else:
            self._literals.pop(name, None)
        if isinstance(value, ast.Name) and value.id in self._tokens:
            self._held[name] = (self._tokens[value.id], owner, stmt, under)  # `self.original = module`
        keys = init_state.dict_keys(value)
        if keys is not None:
            self._note_keys(name, keys)
        followed = self._follow_handed(owner, name, value) if isinstance(value, ast.Call) else set()
        if _mentions_self(value, owner.module.lines) and self._deepcopy_source(value) is None:
            # a deep copy shares nothing with its source; a module followed into a function is judged by its holders
            self.facts.shared.update(_shared_reads(value) - followed)
        self._note_flag(name, value, defaults)
        built_under = under
        if isinstance(value, ast.IfExp):
            built_under = under or self._flag_key(value.test, defaults) or "?"
        built = self.classify(value, defaults, local)
        if built.kind in ("classref", "classrefs"):
            built = Built("none")  # self.block = BasicBlock holds a class, not parameters
        if built.kind == "none" and any(name in {h for h, _ in self._handed.get(a, ())} for a in followed):
            built = Built("module_class", dotted_name(value.func) or "")  # type: ignore[attr-defined]
        if built.kind == "none" and self._is_empty_container(value):
            self._empty[name] = (owner, stmt, built_under, dotted_name(value.func) or "")  # type: ignore[attr-defined]
        if built.kind == "none" and isinstance(value, ast.Name) and value.id not in local and under is None and (
                self._own_init_param(owner, value.id)):
            self.facts.params[name] = (value.id, stmt.lineno, stmt.col_offset)
        else:
            self.facts.params.pop(name, None)
        if built.kind == "none":
            if name in self.facts.attrs and (not _is_none(value) or under is None):
                # reassigned to something we do not know: stop judging it; or set to None on every path (a
                # subclass dropping its base's head): no parameters are left under the name (nn.Module.__setattr__).
                # Under a condition, `None` is the other branch of a conditional build and changes nothing.
                del self.facts.attrs[name]
            return
        previous = self.facts.attrs.get(name)
        if previous is not None and previous.built_under is None and built_under is not None:
            built_under = None  # built unconditionally earlier
        self.facts.attrs[name] = TrainableAttr(
            name, stmt.lineno, stmt.col_offset, owner.name, built, built_under, owner.module.filename
        )

    def _call_stmt(
        self,
        owner: ClassInfo,
        stmt: ast.stmt,
        call: ast.Call,
        defaults: Dict[str, Optional[str]],
        local: Dict[str, Built],
        under: Optional[str],
    ) -> None:
        func = call.func
        callee = dotted_name(func) or ""
        # super().__init__(...) / Base.__init__(self, ...)
        if isinstance(func, ast.Attribute) and func.attr == "__init__":
            start = self._super_start(func.value, owner)
            if start is None:
                return
            found = self._lookup("__init__", start)
            if found is not None:
                self._walk_function(found[0], found[1], {})
            else:
                self.facts.reads_unknown_init = not self.mro_complete
            return
        if callee.startswith("self.") and callee.count(".") == 1:
            method = callee.split(".")[1]
            if method in ("register_parameter", "add_module", "register_module") and len(call.args) >= 2:
                name = unroll.const_of(call.args[0], self._consts)  # a literal, or f"norm{i}" unrolled
                if isinstance(name, str):
                    self._assign(owner, stmt, ast.Attribute(ast.Name("self"), name), call.args[1],
                                 defaults, local, under)
                else:
                    self.facts.dynamic_attrs = True
                return
            found = self._lookup(method, 0)
            if found is not None:
                self._walk_function(found[0], found[1], self._passed_tokens(found[1], call))
            return
        if callee == "setattr" and len(call.args) >= 3:
            obj, name_node, value = call.args[:3]
            if isinstance(obj, ast.Name) and obj.id == "self":
                name = unroll.const_of(name_node, self._consts)
                if isinstance(name, str):
                    self._assign(owner, stmt, ast.Attribute(ast.Name("self"), name), value,
                                 defaults, local, under)
                else:
                    self.facts.dynamic_attrs = True
            return
        if isinstance(func, ast.Attribute) and func.attr in _GROWING and (
                isinstance(func.value, ast.Name) or _self_chain_root(func.value)):
            # `layers.append(self.head)`, `self.blocks.add_module("head", self.head)`: the module is held by that
            # container too (it gets its gradient where the container runs): shared, like `Block(self.head)`
            for arg in list(call.args) + [k.value for k in call.keywords]:
                if _mentions_self(arg, owner.module.lines) and self._deepcopy_source(arg) is None:
                    self.facts.shared.update(_shared_reads(arg))
        # local list building for containers: layers.append(Block()) / layers.extend([...])
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in (
            "append",
            "extend",
            "insert",
        ):
            var = func.value.id
            if var in local and call.args:
                item = call.args[-1]
                built = self.classify(item, defaults, local)
                merged = _merge_contents(local[var], built)
                if func.attr == "extend":
                    merged.length = None
                local[var] = merged
            return
        grown = _self_list_append(call)
        if grown in self._literals and self._unrolling and not self._loops and under is None:
            # (in a loop walked once, a branch or a called method, it may run any number of times: not evaluated)
            value = unroll.const_of(call.args[0], self._consts)  # `self.res_layers.append(layer_name)`, unrolled
            held = self._literals[grown]
            if value is not unroll.UNKNOWN and len(held) < unroll.MAX_UNROLL:
                self._literals[grown] = held + (value,)
                self._evaluated.setdefault(grown, set()).add(id(call))
                return
        # self.layers.append(Block()) / self.features.add_module("x", m)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
            holder = func.value
            if isinstance(holder.value, ast.Name) and holder.value.id == "self" and func.attr in (
                "append",
                "extend",
                "add_module",
                "insert",
                "update",
            ):
                if holder.attr in self._empty and call.args:
                    self._fill(holder.attr, self.classify(call.args[-1], defaults, local))
                if func.attr == "update" and len(call.args) == 1:
                    self._note_keys(holder.attr, init_state.dict_keys(call.args[0]) or [ast.Constant(None)])
                attr = self.facts.attrs.get(holder.attr)
                if attr is not None and attr.built.kind == "container":
                    attr.built.length = None  # grown after construction: its size is no longer known
                    attr.built.keys = None

    def _follow_handed(self, owner: ClassInfo, name: str, call: ast.Call) -> Set[str]:
        """`self.<name> = create_skips(..., self.heads, ...)` with a function of the file (defined in the method
        being walked, a method of the class, a module-level function): the module attributes handed to it whose
        every end handed.py finds (returned: held by `self.<name>`; stored on self; dropped), recorded in
        `_handed`. The attributes it returns are the others: they stay shared (never judged), as before."""
        target = self._followable(owner, call.func)
        if target is None:
            return set()
        func, first, recursive = target
        reads: Dict[str, int] = {}
        for node in walk(call):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                reads[node.attr] = reads.get(node.attr, 0) + 1
        params = [a.arg for a in func.args.posonlyargs + func.args.args][first:]
        passed: List[Tuple[str, ast.expr]] = []
        for param, arg in zip(params, call.args):
            if isinstance(arg, ast.Starred):
                break  # the positions after it are not known
            passed.append((param, arg))
        passed += [(k.arg, k.value) for k in call.keywords if k.arg]
        found: Set[str] = set()
        for param, arg in passed:
            attr = _handed_attr(arg)
            if attr is None or attr not in self.facts.attrs or reads.get(attr) != 1 or (
                    reaches_self(func, attr, recursive)):
                continue
            ends = follow(func, param, recursive, lambda node: self._holds(owner, node), first)
            if ends is None:
                continue
            held = self._handed.setdefault(attr, [])
            held += [(name if end.kind == "returned" else end.attr, end.conds) for end in ends]
            found.add(attr)
        return found

    def _followable(self, owner: ClassInfo, func: ast.expr
                    ) -> Optional[Tuple[FunctionNode, int, Callable[[ast.expr], bool]]]:
        """The function a call in `__init__` runs, if this file defines it: (function, parameters bound before the
        call's arguments, a test for a call of that same function)."""
        if isinstance(func, ast.Name):
            node = self._nested.get(func.id) or owner.module.functions.get(func.id)
            if node is None or node.decorator_list:
                return None
            name = func.id
            return node, 0, lambda f: isinstance(f, ast.Name) and f.id == name
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            found = self._lookup(func.attr, 0)
            if found is None:
                return None
            method = found[1]
            decorators = [dotted_name(d) for d in method.decorator_list]
            if any(d != "staticmethod" for d in decorators):
                return None
            attr = func.attr
            return method, 0 if decorators else 1, lambda f: isinstance(f, ast.Attribute) and (
                f.attr == attr and isinstance(f.value, ast.Name) and f.value.id == "self")
        return None

    def _holds(self, owner: ClassInfo, call: ast.Call) -> bool:
        """The call builds something that keeps what it is given: a module class of the project, a torch
        container."""
        qual = owner.module.qualify(call.func) or ""
        if not qual:
            return False
        layer = torch_nn_layer(qual)
        if layer:
            return layer in CONTAINERS
        target = owner.module.local_class(qual)
        return target is not None and bool(target.module.module_kind(target))

    def _own_init_param(self, owner: ClassInfo, name: str) -> bool:
        """``name`` is a required parameter of the collected class's own ``__init__``, as passed (not reassigned):
        an optional one (``downsample=None``) is often not given, and then holds no module at all."""
        init = self.cls.methods.get("__init__")
        if owner is not self.cls or init is None or self._tokens.get(name) != (
                f"{owner.module.filename}:{init.lineno}:{name}"):
            return False
        args = init.args
        positional = args.posonlyargs + args.args
        required = [a.arg for a in positional[:len(positional) - len(args.defaults)]]
        required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
        return name in required

    def _unrolled(self, owner: ClassInfo, stmt: ast.For, defaults: Dict[str, Optional[str]],
                  local: Dict[str, Built], under: Optional[str]) -> bool:
        """A loop over a small literal that registers attributes under computed names (``add_module(f"norm{i}",
        ...)``): walked once per value, each name known (unroll.py). False: walk it as any loop."""
        text = "".join(owner.module.lines[stmt.lineno - 1:stmt.end_lineno or stmt.lineno])
        if stmt.orelse or not ("add_module" in text or "setattr" in text or "register_" in text) or (
                not _registers_computed_names(stmt)):
            return False
        values = unroll.literal_items(stmt.iter, self._consts, self._literals)
        if values is None and self._entry is not None and self._grows_literal(stmt):
            # `for i in range(num_stages)` growing `self.res_layers`: with the default bound, the list is known
            values = unroll.literal_items(stmt.iter, {**_int_defaults(*self._entry), **self._consts}, self._literals)
        bindings = [unroll.bind(stmt.target, value) for value in values or ()]
        if values is None or any(b is None for b in bindings):
            return False
        saved = self._consts
        self._unrolling += 1
        for bound in bindings:
            self._consts = {**saved, **(bound or {})}
            self._walk_block(owner, stmt.body, defaults, local, under)
        self._consts = saved
        self._unrolling -= 1
        return True

    def _grows_literal(self, stmt: ast.For) -> bool:
        """The loop appends to a list ``self.<name>`` that holds a literal so far (``self.res_layers = []``)."""
        return any(isinstance(node, ast.Call) and _self_list_append(node) in self._literals for node in walk(stmt))

    def _super_start(self, node: ast.expr, owner: ClassInfo) -> Optional[int]:
        """Where the MRO search starts for super().__init__ / Base.__init__(self)."""
        positions = [i for i, info in enumerate(self.mro) if info is owner]
        here = positions[0] if positions else 0
        if isinstance(node, ast.Call) and dotted_name(node.func) == "super":
            if node.args:
                named = dotted_name(node.args[0])
                for i, info in enumerate(self.mro):
                    if info.name == named:
                        return i + 1
            return here + 1
        base = owner.module.qualify(node)
        if base:
            target = owner.module.local_class(base)
            if target is not None:
                for i, info in enumerate(self.mro):
                    if info is target:
                        return i
        return None

    # ---- flags ----
    def _flag_key(self, test: ast.expr, defaults: Dict[str, Optional[str]]) -> Optional[str]:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._flag_key(test.operand, defaults)
            return f"not {inner}" if inner else None
        if isinstance(test, ast.Name) and test.id in defaults:
            return test.id
        if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
            flag = self.facts.flags.get(test.attr)
            return flag.key if flag else f"self.{test.attr}"
        return None

    def _note_flag(self, name: str, value: ast.expr, defaults: Dict[str, Optional[str]]) -> None:
        if name in self._flag_assignments:
            if name in self.facts.flags:
                self.facts.flags[name] = Flag(self.facts.flags[name].key, None)  # set twice: no one default
            return
        self._flag_assignments.add(name)
        if isinstance(value, ast.Name) and value.id in defaults:
            self.facts.flags[name] = Flag(value.id, defaults[value.id])
        elif isinstance(value, ast.Constant) and isinstance(value.value, (bool, int, type(None))):
            self.facts.flags[name] = Flag(f"self.{name}", repr(value.value))
        elif name in self.facts.flags:
            self.facts.flags[name] = Flag(f"self.{name}", None)

    # ---- what an expression builds ----
    def classify(self, value: ast.expr, defaults: Dict[str, Optional[str]], local: Dict[str, Built]) -> Built:
        if isinstance(value, ast.IfExp):
            a = self.classify(value.body, defaults, local)
            b = self.classify(value.orelse, defaults, local)
            if "classref" in (a.kind, b.kind):
                return a if a.kind == "classref" else b
            decided = defaults_eval.truth_of(value.test, _literal_binding(defaults))
            if decided is not None and (a if decided else b).kind == "none":
                return Built("none")  # `Linear(..) if num_classes > 0 else Identity()`, num_classes=0: no parameters
            return a if a.kind in TRAINABLE_KINDS or b.kind == "none" else b
        if isinstance(value, ast.Name):
            if value.id in local:
                return local[value.id]
            return self._class_reference(value)
        if isinstance(value, ast.Attribute):
            return self._class_reference(value)
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            held = local.get(value.value.id)
            if held is not None and held.kind == "classrefs" and held.items:
                index = value.slice
                if isinstance(index, ast.Constant) and isinstance(index.value, int) and (
                        -len(held.items) <= index.value < len(held.items)):
                    return held.items[index.value]
            return Built("none")
        if isinstance(value, (ast.List, ast.Tuple)) and value.elts:
            refs = [self.classify(elt, defaults, local) for elt in value.elts]
            if all(r.kind == "classref" for r in refs):
                return Built("classrefs", items=tuple(refs))
        if isinstance(value, (ast.List, ast.Tuple)):
            contents = Built("none", length=0)
            for elt in value.elts:
                contents = _merge_contents(contents, self.classify(elt, defaults, local))
            contents.length = len(value.elts) if not any(isinstance(e, ast.Starred) for e in value.elts) else None
            return contents
        if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
            inner = self.classify(value.elt, defaults, local)
            return Built(inner.kind, inner.ctor, inner.frozen, length=_comprehension_length(value))
        if isinstance(value, ast.Dict):
            contents = Built("none")
            for item in value.values:
                contents = _merge_contents(contents, self.classify(item, defaults, local))
            keys = [k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            contents.length = None
            contents.keys = tuple(keys) if len(keys) == len(value.keys) else None
            return contents
        if isinstance(value, ast.DictComp):
            inner = self.classify(value.value, defaults, local)
            return Built(inner.kind, inner.ctor, inner.frozen)
        if not isinstance(value, ast.Call):
            return Built("none")
        source = self._deepcopy_source(value)
        if source is not None:
            return self._copied(source, defaults, local)
        func = value.func
        if isinstance(func, ast.Name) and func.id in local and local[func.id].kind == "classref":
            ref = local[func.id].ref
            if ref is not None:  # conv_block(3, 32): build the class the local holds
                return self.classify(ast.copy_location(ast.Call(ref, value.args, value.keywords), value),
                                     defaults, {})
        if (dotted_name(func) or "").endswith("partial") and value.args:
            held = self.classify(value.args[0], defaults, local)
            if held.kind == "classref":
                return held  # functools.partial(nn.BatchNorm2d, eps=1e-3)
        # chained calls on a module: nn.Linear(...).to(device) / .requires_grad_(False) / .cuda()
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = self.classify(func.value, defaults, local)
            if inner.kind != "none" and func.attr in _MODULE_RETURNING_METHODS:
                if func.attr == "requires_grad_":
                    arg = value.args[0] if value.args else next(
                        (k.value for k in value.keywords if k.arg == "requires_grad"), None)
                    inner.frozen = _is_false(arg)
                return inner
        callee_text = dotted_name(func) or ""
        qual = self.cls.module.qualify(func) or ""
        if not qual:
            return Built("none")
        if qual in _PASS_THROUGH_CALLS and len(value.args) == 1 and not value.keywords:
            return self.classify(value.args[0], defaults, local)  # nn.Sequential(OrderedDict([...]))
        if qual in PARAMETER_CLASSES or qual == "torch.nn.parameter.Parameter":
            frozen = any(k.arg == "requires_grad" and _is_false(k.value) for k in value.keywords) or (
                len(value.args) >= 2 and _is_false(value.args[1])
            )
            return Built("parameter", callee_text, frozen)
        layer = torch_nn_layer(qual)
        if layer:
            if layer in CONTAINERS:
                contents = Built("none")
                items: List[ast.expr] = []
                for arg in value.args:
                    items.append(arg.value if isinstance(arg, ast.Starred) else arg)
                self._copied_arguments(items)
                for item in items:
                    contents = _merge_contents(contents, self.classify(item, defaults, local))
                length: Optional[int] = None
                keys: Optional[Tuple[str, ...]] = None
                if layer == "Sequential":
                    starred = any(isinstance(a, ast.Starred) for a in value.args)
                    if not starred:
                        length = len(value.args)
                    elif len(items) == 1:
                        length = contents.length
                elif len(items) == 1:
                    single = self.classify(items[0], defaults, local)
                    length, keys = single.length, single.keys
                elif not items:
                    length = 0
                if contents.kind == "none" and not items:
                    return Built("none")
                kind = "container" if contents.kind in TRAINABLE_KINDS or contents.kind == "maybe" else "none"
                if contents.kind == "maybe" and not contents.ctor:
                    kind = "container"
                if kind == "none":
                    return Built("none")
                return Built("container", callee_text, contents.frozen, length, keys)
            if layer in PARAMETERLESS_LAYERS or layer in ("Module",):
                return Built("none")
            if layer in CONDITIONAL_PARAMETERS:
                keyword, position, default = CONDITIONAL_PARAMETERS[layer]
                flag = next((k.value for k in value.keywords if k.arg == keyword), None)
                if flag is None and len(value.args) > position:
                    flag = value.args[position]
                if flag is None:
                    return Built("layer", callee_text) if default else Built("none")
                if isinstance(flag, ast.Constant):
                    return Built("layer", callee_text) if flag.value else Built("none")
                return Built("maybe", callee_text)
            if layer == "Embedding" or layer == "EmbeddingBag":
                return Built("layer", callee_text)
            if layer in PARAMETER_LAYERS:
                return Built("layer", callee_text)
            if qual.endswith(".from_pretrained") and ".Embedding" in qual:
                freeze = next((k.value for k in value.keywords if k.arg == "freeze"), None)
                if freeze is None and len(value.args) > 1:
                    freeze = value.args[1]
                frozen = freeze is None or not (isinstance(freeze, ast.Constant) and freeze.value is False)
                return Built("layer", callee_text, frozen=frozen)
            return Built("maybe", callee_text)
        target = self.cls.module.local_class(qual)
        if target is None:
            target = self._built_by_class_method(qual)  # `VisionTower._from_config(config.vision_config)`
        if target is not None:
            if target.module.module_kind(target):
                if not self._class_has_parameters(target):
                    return Built("none")
                return Built("module_class", callee_text)
            return Built("none")
        if qual.startswith(KNOWN_MODEL_FACTORY_PREFIXES) and _model_package_helper(qual):
            # `timm.models.layers.to_2tuple`: a helper of the model zoo's layers package, not a model factory
            return Built("maybe", callee_text) if qual.rsplit(".", 1)[-1][:1].isupper() else Built("none")
        if qual.startswith(KNOWN_MODEL_FACTORY_PREFIXES) or (
            qual.startswith("transformers.") and qual.endswith(TRANSFORMERS_MODEL_SUFFIXES)
            and "Model" in qual and "Tokenizer" not in qual and "Config" not in qual
            and "Processor" not in qual
        ):
            return Built("model", callee_text)
        if callee_text.startswith("self.") and callee_text.count(".") == 1:
            found = self._lookup(callee_text[5:], 0)
            if found is not None:
                return self._returned(found[0], found[1])
        if isinstance(func, ast.Name) and func.id in self.cls.module.functions:
            returned = self._returned(self.cls, self.cls.module.functions[func.id])
            if returned.kind != "maybe" or returned.ctor != func.id:
                return returned
        return Built("maybe", callee_text) if looks_like_module_factory(callee_text, qual) else Built("none")

    def _is_empty_container(self, value: ast.expr) -> bool:
        """`nn.ModuleList()`, `nn.ModuleDict({})`, `nn.Sequential()`: a module container with nothing yet."""
        if not isinstance(value, ast.Call) or value.keywords or len(value.args) > 1:
            return False
        if torch_nn_layer(self.cls.module.qualify(value.func) or "") not in CONTAINERS:
            return False
        return not value.args or isinstance(value.args[0], (ast.List, ast.Tuple, ast.Dict)) and not any(
            getattr(value.args[0], "elts", None) or getattr(value.args[0], "keys", None) or [])

    def _fill(self, name: str, item: Built) -> None:
        """Something was added to a container built empty: once it holds a module it is trainable state
        (reported on the line that built it)."""
        pending = self._empty.get(name)
        if pending is None or item.kind not in TRAINABLE_KINDS and item.kind != "maybe":
            return
        owner, stmt, under, ctor = pending
        attr = self.facts.attrs.get(name)
        if attr is None:
            self.facts.attrs[name] = TrainableAttr(name, stmt.lineno, stmt.col_offset, owner.name,
                                                   Built("container", ctor, item.frozen), under, owner.module.filename)
        else:
            attr.built.frozen = attr.built.frozen and item.frozen

    def _deepcopy_source(self, value: ast.expr) -> Optional[ast.expr]:
        """`x` in `copy.deepcopy(x)` (EMA, momentum, teacher and target networks)."""
        if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords and (
                self.cls.module.qualify(value.func) == "copy.deepcopy"):
            return value.args[0]
        return None

    def _copied(self, source: ast.expr, defaults: Dict[str, Optional[str]], local: Dict[str, Built]) -> Built:
        """A deep copy is a new, separate module of the same kind as its source (frozen if that was)."""
        if isinstance(source, ast.Attribute) and isinstance(source.value, ast.Name) and source.value.id == "self":
            held = self.facts.attrs.get(source.attr)
            original = held.built if held is not None else Built("none")
        elif isinstance(source, ast.Name) and source.id in self._tokens and source.id not in local:
            token = self._tokens[source.id]
            held = next((self.facts.attrs.get(n) for n, h in self._held.items() if h[0] == token), None)
            original = held.built if held is not None else Built("none")
        else:
            original = self.classify(source, defaults, local)
        if original.kind not in TRAINABLE_KINDS:
            return Built("none")
        return Built(original.kind, original.ctor, original.frozen, original.length, original.keys)

    def _passed_tokens(self, func: FunctionNode, call: ast.Call) -> Dict[str, str]:
        """`self.update(adapter_name)`: the callee's parameters that receive an argument value of the caller."""
        params = [a.arg for a in func.args.posonlyargs + func.args.args][1:]
        passed = {}
        for param, arg in zip(params, call.args):
            if isinstance(arg, ast.Name) and arg.id in self._tokens:
                passed[param] = self._tokens[arg.id]
        for keyword in call.keywords:
            if keyword.arg and isinstance(keyword.value, ast.Name) and keyword.value.id in self._tokens:
                passed[keyword.arg] = self._tokens[keyword.value.id]
        return passed

    def _note_keys(self, container: str, keys: List[ast.expr]) -> None:
        """Keys put into `self.<container>`: the argument values among them by token, anything else as "?"."""
        for key in keys:
            token = self._tokens.get(key.id) if isinstance(key, ast.Name) else None
            self._keys.setdefault(container, set()).add(token or "?")

    def _copied_arguments(self, items: List[ast.expr]) -> None:
        """A deep copy of an argument put into a module container proves the argument is a module: the
        attribute that stores it (`self.original = module`) is trainable state (init_state.py)."""
        for item in items:
            for node in walk(item):
                source = self._deepcopy_source(node) if isinstance(node, ast.Call) else None
                if isinstance(source, ast.Attribute) and isinstance(source.value, ast.Name) and (
                        source.value.id == "self") and source.attr in self._held:
                    token = self._held[source.attr][0]
                elif isinstance(source, ast.Name) and source.id in self._tokens:
                    token = self._tokens[source.id]
                else:
                    continue
                for name, (held, owner, stmt, under) in self._held.items():
                    if held == token and name not in self.facts.attrs:
                        self.facts.attrs[name] = TrainableAttr(name, stmt.lineno, stmt.col_offset, owner.name,
                                                               Built("model", handed=True), under,
                                                               owner.module.filename)

    def _class_reference(self, node: ast.expr) -> Built:
        """`nn.BatchNorm2d` or `BasicConv2d` used as a value: a class that builds a module when called."""
        qual = self.cls.module.qualify(node) or ""
        layer = torch_nn_layer(qual)
        if layer and layer not in CONTAINERS and (layer in PARAMETER_LAYERS or layer in CONDITIONAL_PARAMETERS):
            return Built("classref", dotted_name(node) or layer, ref=node)
        target = self.cls.module.local_class(qual) if qual else None
        if target is not None and target.module.module_kind(target):
            return Built("classref", dotted_name(node) or target.name, ref=node)
        return Built("none")

    def _returned(self, owner: ClassInfo, func: FunctionNode) -> Built:
        """What a builder method such as torchvision's ``_make_layer`` returns."""
        key = (owner.module.filename, func.lineno)
        if key in self._returned_cache:
            return self._returned_cache[key]
        self._returned_cache[key] = Built("maybe", func.name)  # recursion: unknown
        self._returned_cache[key] = built = self._compute_returned(owner, func)
        return built

    def _compute_returned(self, owner: ClassInfo, func: FunctionNode) -> Built:
        local: Dict[str, Built] = {}
        defaults = _param_defaults(func)
        result = Built("none")
        returns = 0
        for node in walk(func):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                local[node.targets[0].id] = self.classify(node.value, defaults, local)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                call = node.value
                if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and (
                    call.func.attr in ("append", "extend") and call.func.value.id in local and call.args
                ):
                    local[call.func.value.id] = _merge_contents(
                        local[call.func.value.id], self.classify(call.args[-1], defaults, local))
            elif isinstance(node, ast.Return) and node.value is not None:
                returns += 1
                built = self.classify(node.value, defaults, local)
                if built.kind in TRAINABLE_KINDS:
                    return built
                if built.kind == "maybe":
                    result = built
        # every return known to build nothing trainable (`return nn.CrossEntropyLoss()`): nothing
        return result if returns else Built("maybe", func.name)

    def _built_by_class_method(self, qual: str) -> Optional[ClassInfo]:
        """The project's module class whose alternative constructor is called (``Klass.from_config(cfg)``,
        ``Klass._from_config(cfg)``, ``Klass.from_pretrained(path)``): by convention these classmethods build
        an instance of the class itself (HF's ``PreTrainedModel`` defines them so)."""
        head, _, method = qual.rpartition(".")
        if method not in _CLASS_CONSTRUCTORS or not head:
            return None
        target = self.cls.module.local_class(head)
        if target is None or not target.module.module_kind(target):
            return None
        return target

    def _class_has_parameters(self, target: ClassInfo) -> bool:
        """True unless the class is known to own no trainable state (a custom activation, say)."""
        key = (target.module.filename, target.name)
        cache = target.module.has_parameters_cache
        if target.name in cache:
            return cache[target.name]
        if key in _HAS_PARAMETERS_IN_PROGRESS or len(_HAS_PARAMETERS_IN_PROGRESS) > 16:
            return True  # a class that contains itself (DLA trees), or a very deep chain
        cache[target.name] = result = self._compute_has_parameters(target, key)
        return result

    @staticmethod
    def _compute_has_parameters(target: ClassInfo, key: Tuple[str, str]) -> bool:
        mro, complete = target.module.mro(target)
        if not complete:
            return True
        _HAS_PARAMETERS_IN_PROGRESS.add(key)
        try:
            facts = InitCollector(target.module, target, mro, complete).collect()
        finally:
            _HAS_PARAMETERS_IN_PROGRESS.discard(key)
        if facts.dynamic_attrs or facts.reads_unknown_init:
            return True
        return any(a.built.kind != "none" for a in facts.attrs.values())


# methods that put what they are given into a list or a module container
_GROWING = ("append", "extend", "insert", "add_module", "register_module", "update")

_PASS_THROUGH_CALLS = {"collections.OrderedDict", "OrderedDict", "dict", "list", "tuple"}

_HAS_PARAMETERS_IN_PROGRESS: Set[Tuple[str, str]] = set()


def _comprehension_length(node: ast.expr) -> Optional[int]:
    """`[Block() for _ in range(3)]` has 3 items; anything else is not known."""
    generators = getattr(node, "generators", [])
    if len(generators) != 1 or generators[0].ifs:
        return None
    it = generators[0].iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 1:
        arg = it.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
            return arg.value
    return None


def _merge_contents(a: Built, b: Built) -> Built:
    order = {"none": 0, "maybe": 1, "layer": 2, "parameter": 2, "container": 2, "module_class": 2, "model": 2}
    best = a if order.get(a.kind, 0) >= order.get(b.kind, 0) else b
    merged = Built(best.kind, best.ctor, a.frozen and b.frozen if a.kind != "none" else b.frozen)
    merged.length = (a.length or 0) + 1 if a.length is not None else None
    return merged


def _mentions_self(node: ast.expr, lines: Sequence[str]) -> bool:
    """A cheap text check before walking an expression for `self` reads."""
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    if first == last and first < len(lines):
        return "self" in lines[first][node.col_offset:node.end_col_offset]
    return any("self" in line for line in lines[first:last + 1])


def _held_store(target: ast.Attribute, value: ast.expr) -> Optional[Tuple[str, str]]:
    """``self.net1.bias = self.bias`` -> ("net1", "bias"): an attribute of ``self`` itself stored into an attribute
    of a direct submodule. Not ``self.head.weight = self.embed.weight`` (tying two modules' parameters)."""
    if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self"):
        return None
    holder = target.value
    if isinstance(holder, ast.Attribute) and isinstance(holder.value, ast.Name) and holder.value.id == "self":
        return holder.attr, value.attr
    return None


def _shared_reads(value: ast.expr) -> Set[str]:
    """Attributes whose module or parameters go into another attribute: ``Block(shared=self.cpe)``,
    ``self.decoder.weight = self.embed.weight``; not ``nn.Linear(self.fc1.out_features, 2)``."""
    shared: Set[str] = set()
    parents: Dict[int, ast.AST] = {}
    for node in walk(value):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in walk(value):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            parent = parents.get(id(node))
            if not isinstance(parent, ast.Attribute) or "weight" in parent.attr or parent.attr == "bias":
                if not (isinstance(parent, ast.Call) and (parent.func is node or _is_deepcopy(parent) or (
                        dotted_name(parent.func) == "len"))):
                    # a deep copy (`ModuleDict({k: copy.deepcopy(self.m)})`) shares nothing; nor does its length
                    shared.add(node.attr)
    return shared


def _handed_attr(arg: ast.expr) -> Optional[str]:
    """``heads`` for ``self.heads`` or an item or slice of it (``self.upsamples[::-1]``)."""
    while isinstance(arg, ast.Subscript):
        arg = arg.value
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
        return arg.attr
    return None


def _is_deepcopy(call: ast.Call) -> bool:
    return (dotted_name(call.func) or "").split(".")[-1] == "deepcopy" and len(call.args) == 1


def _self_chain_root(node: ast.expr) -> bool:
    """True for self.a / self.a.b (an attribute chain rooted at self, at least one attribute deep)."""
    if not isinstance(node, ast.Attribute):
        return False
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "self"


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


_REGISTERING = ("add_module", "register_module", "register_parameter")


def _registers_computed_names(loop: ast.For) -> bool:
    """The loop body calls ``self.add_module``/``register_module``/``register_parameter`` or ``setattr(self, ...)``
    with a name that is not a literal, and never leaves the loop early."""
    found = False
    for node in walk(loop):
        if isinstance(node, (ast.Break, ast.Return, ast.Yield, ast.YieldFrom)):
            return False
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _REGISTERING and isinstance(
                func.value, ast.Name) and func.value.id == "self":
            found = found or not isinstance(node.args[0], ast.Constant)
        elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2 and isinstance(
                node.args[0], ast.Name) and node.args[0].id == "self":
            found = found or not isinstance(node.args[1], ast.Constant)
    return found


def _self_list_append(call: ast.Call) -> str:
    """``name`` for a call ``self.<name>.append(<one value>)``, else ""."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "append" and len(call.args) == 1 and not call.keywords and (
            isinstance(func.value, ast.Attribute) and isinstance(func.value.value, ast.Name)
            and func.value.value.id == "self"):
        return func.value.attr
    return ""


def _int_defaults(defaults: Dict[str, Optional[str]], func: FunctionNode) -> Dict[str, object]:
    """The parameters whose default is an int literal (``num_stages=4``) that the function never rebinds,
    bound to it."""
    rebound = {node.id for node in walk(func) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    out: Dict[str, object] = {}
    for name, text in defaults.items():
        if text is not None and text.lstrip("-").isdigit() and name not in rebound:
            out[name] = int(text)
    return out


def _param_defaults(func: FunctionNode) -> Dict[str, Optional[str]]:
    """Parameter name -> source text of its default (None when it has no literal default)."""
    args = func.args
    defaults: Dict[str, Optional[str]] = {a.arg: None for a in args.posonlyargs + args.args + args.kwonlyargs}
    defaults.update({name: _literal_text(node) for name, node in defaults_eval.parameter_defaults(func).items()})
    defaults.pop("self", None)
    return defaults


def _literal_binding(defaults: Dict[str, Optional[str]]) -> Dict[str, object]:
    """The parameters with a literal default, bound to its value (what a test is judged with)."""
    binding: Dict[str, object] = {}
    for name, text in defaults.items():
        value = defaults_eval.literal(text)
        if value is not defaults_eval.UNKNOWN:
            binding[name] = value
    return binding


def _literal_text(node: ast.expr) -> Optional[str]:
    if isinstance(node, ast.Constant):
        return repr(node.value)
    return None


def falsy_default(flag: Flag) -> bool:
    return flag.default in _FALSY


_FACTORY_NOUNS = {"layer", "block", "norm", "module", "model", "encoder", "decoder", "head", "net", "backbone",
                  "neck", "embed", "embedding", "conv", "attn", "attention", "mlp", "classifier", "stem", "branch"}
_FACTORY_VERBS = {"build", "create"}
_PREDICATE_PREFIXES = ("use_", "is_", "has_", "should_", "can_", "num_", "with_")
_NOT_MODULE_ROOTS = {"collections", "typing", "pathlib", "dataclasses", "enum", "functools", "itertools",
                     "numpy", "re", "math", "os", "sys", "logging", "warnings", "copy", "json"}


_HELPER_PACKAGES = {"layers", "helpers", "utils", "_utils", "_builder", "_manipulate", "_features", "_registry"}


def _model_package_helper(qual: str) -> bool:
    """A name from a model zoo's helper subpackage (`timm.models.layers.to_2tuple`, `torchvision.models._utils`):
    layers and helpers live there, model factories do not."""
    return bool(set(qual.split(".")[:-1]) & _HELPER_PACKAGES)


def _eval_mode_target(call: ast.Call) -> str:
    """"x" for `self.x.eval()`, "self" for `self.eval()`, "" otherwise."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "eval" and not call.args):
        return ""
    target = func.value
    if isinstance(target, ast.Name) and target.id == "self":
        return "self"
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return target.attr
    return ""


def looks_like_module_factory(callee: str, qualname: str = "") -> bool:
    """A call the linter cannot resolve that probably returns a module: a class-like name
    (``Block(...)``, ``BoxCoder(...)``) or a builder (``build_neck(cfg)``, ``norm_layer(dim)``).
    Builtins, the standard library and helpers such as ``_make_divisible`` are not."""
    last = callee.rsplit(".", 1)[-1]
    if not last or last in vars(builtins) or qualname.split(".")[0] in _NOT_MODULE_ROOTS:
        return False
    if last[:1].isupper() and not last.isupper():
        return True
    if last.lower().lstrip("_").startswith(_PREDICATE_PREFIXES):
        return False  # use_fused_attn(), is_fast_norm(): flags, not modules
    tokens = set(last.lower().strip("_").split("_"))
    return bool(tokens & _FACTORY_NOUNS) or bool(tokens & _FACTORY_VERBS)
