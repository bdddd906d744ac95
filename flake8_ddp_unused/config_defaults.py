"""A configuration decides: the literal defaults of configuration objects, and conditions on them evaluated there.

A module often reads its switches from a configuration object instead of its own constructor arguments:
``self.config.layerdrop`` (HF ``PretrainedConfig`` subclasses), ``cfg.use_aux`` (dataclass configs), ``args.x``
(argparse). This module reads, without importing anything:

- the defaults of configuration classes: literal class-level fields (dataclasses), ``__init__`` parameters with a
  literal default that ``__init__`` stores on ``self`` (``self.layerdrop = layerdrop``), ``kwargs.pop("x", 0.1)``;
  bases are followed through the project and installed packages;
- the defaults of the argparse parsers of the module's file (``parser.add_argument("--layerdrop", default=0.1)``).

The flow analysis asks a ``ConfigScope`` (one per analysed class) for the value of ``self.config.x``,
``getattr(self.config, "x", d)`` or a flag ``self.x = config.x`` stored in ``__init__``, and gets a value that
carries a marker in its origin. A condition on such values is evaluated at the defaults:

- decided (``self.config.position_embedding_type == "absolute"`` with the default ``"relative_key"``): a STATIC
  guard on a synthetic flag whose default is the condition's truth, so the rules treat it like a constructor flag
  (a module built always and used only under a condition false by default is DDP102);
- a uniform draw compared with a rate (``torch.rand([]) < self.config.layerdrop``): never taken when the default
  rate is 0, changing from batch to batch otherwise; the guard then notes the configuration (``layerdrop=0.1``).

Only literal defaults are used, and a value is known only when every place that could define it agrees; anything
else stays unknown, and unknown conditions keep the linter silent, as before.
"""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from . import defaults_eval, project
from .index import ClassInfo, FileIndex, FunctionNode, walk
from .init_facts import Flag
from .values import ALWAYS, BATCH, NEVER, OPTIONAL, UNKNOWN, Guard

MISSING: Any = defaults_eval.UNKNOWN  # no known default

# Markers put in a value's origin (see flow.Val): the rest of the analysis treats them as unknown origins.
OBJ, VAL, TEST, NOTE = "cfgobj:", "cfgval:", "cfgtest:", "cfgnote:"
UNIFORM = "uniform01"  # a fresh draw from U[0, 1): torch.rand, random.random(), numpy.random.uniform(0, 1)
CONFIG_DETAIL = "config:"  # Guard.detail of a condition decided at the defaults: "config:layerdrop=0.0"

# parameter names that hold a configuration object when they carry no annotation
_CONFIG_PARAMS = {"config", "cfg", "conf", "args", "opt", "opts", "hparams", "hp", "model_config", "model_cfg"}
_MAX_BASES = 6
_UNIFORM_CALLS = {"torch.rand", "torch.rand_like", "random.random", "numpy.random.rand", "numpy.random.random",
                  "numpy.random.random_sample", "np.random.rand", "np.random.random", "np.random.random_sample"}
_UNIFORM_RANGE_CALLS = {"numpy.random.uniform", "np.random.uniform", "random.uniform"}

Resolver = Callable[[FileIndex, str], Optional[ClassInfo]]


def uniform_origin(qual: str, args: Sequence[Any]) -> FrozenSet[str]:
    """The extra origin of a random call that draws from U[0, 1) (``args`` are libcst call arguments)."""
    if qual in _UNIFORM_CALLS:
        return frozenset({UNIFORM})
    if qual in _UNIFORM_RANGE_CALLS:
        values = [_cst_literal(a.value) for a in args if a.keyword is None and not a.star]
        if not args or values[:2] == [0, 1] and len(args) == 2:
            return frozenset({UNIFORM})
    return frozenset()


# ---------------------------------------------------------------------------------------------
# Reading defaults (ast, nothing imported)
# ---------------------------------------------------------------------------------------------
def _literal(node: Optional[ast.AST]) -> Any:
    value = defaults_eval.literal(node)
    return value if value is not MISSING and _is_plain(value) else MISSING


def _is_plain(value: Any) -> bool:
    if isinstance(value, (tuple, list, frozenset, set)):
        return len(value) <= 64 and all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _field_default(node: ast.AST) -> Any:
    """``0.1`` or ``field(default=0.1)`` / ``dataclasses.field(default=0.1)``."""
    if isinstance(node, ast.Call) and _call_name(node).rsplit(".", 1)[-1] == "field":
        for kw in node.keywords:
            if kw.arg == "default":
                return _literal(kw.value)
        return MISSING
    return _literal(node)


def _call_name(node: ast.Call) -> str:
    parts: List[str] = []
    func: ast.AST = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _param_defaults(func: FunctionNode) -> Dict[str, Any]:
    args = func.args
    out: Dict[str, Any] = {a.arg: MISSING for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)}
    out.update({name: _literal(node) for name, node in defaults_eval.parameter_defaults(func).items()})
    return out


def _self_target(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _assignments(func: FunctionNode) -> Iterable[Tuple[str, ast.AST, bool]]:
    """(attribute, value, top-level statement of the body) for every ``self.x = value`` of a method."""
    top = set(map(id, func.body))
    for node in walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = _self_target(node.targets[0])
            if name is not None:
                yield name, node.value, id(node) in top
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            name = _self_target(node.target)
            if name is not None:
                yield name, node.value, id(node) in top
        elif isinstance(node, ast.AugAssign):
            name = _self_target(node.target)
            if name is not None:
                yield name, node.value, False


def _class_assignments(owner: ClassInfo) -> Tuple[List[Tuple[str, ast.AST, bool]], List[str]]:
    """A class's own ``self.x = value`` of ``__init__``, and the names its other methods assign, in order
    (read once per class: each subclass's configuration scope reads its bases' from here)."""
    init = owner.methods.get("__init__")
    init_assignments = list(_assignments(init)) if init is not None else []
    later = [name for method in owner.methods.values() if method is not init
             for name, _, _ in _assignments(method)]
    return init_assignments, later


class _Defaults:
    """name -> literal default, MISSING where two places disagree or the value is not a literal."""

    def __init__(self) -> None:
        self.values: Dict[str, Any] = {}

    def put(self, name: str, value: Any) -> None:
        if name in self.values and not _same(self.values[name], value):
            value = MISSING
        self.values[name] = value


def _same(a: Any, b: Any) -> bool:
    return a is not MISSING and b is not MISSING and type(a) is type(b) and a == b


def own_defaults(node: ast.ClassDef) -> Dict[str, Any]:
    """The literal defaults one configuration class defines itself (MISSING where it defines a name without one)."""
    found = _Defaults()
    methods: List[FunctionNode] = []
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            found.put(stmt.target.id, _field_default(stmt.value))
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            found.put(stmt.targets[0].id, _literal(stmt.value))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(stmt)
    for method in methods:
        params = _param_defaults(method) if method.name == "__init__" else {}
        for name, value, top in _assignments(method):
            if method.name != "__init__" or not top:
                found.put(name, MISSING)  # set again elsewhere, or only on some paths: no single default
            elif isinstance(value, ast.Name) and value.id in params:
                found.put(name, params[value.id])
            elif isinstance(value, ast.Call) and _call_name(value).rsplit(".", 1)[-1] in ("pop", "get") and len(
                    value.args) == 2 and isinstance(value.args[0], ast.Constant) and value.args[0].value == name:
                found.put(name, _literal(value.args[1]))  # kwargs.pop("x", 0.1)
            else:
                found.put(name, _literal(value))
    return found.values


def argparse_defaults(tree: ast.AST) -> Dict[str, Any]:
    """dest -> literal default of every ``add_argument`` call of a file (argparse's own defaults included)."""
    found = _Defaults()
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            continue
        flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        dest = _literal(keywords["dest"]) if "dest" in keywords else None
        if not isinstance(dest, str):
            longs = [f for f in flags if f.startswith("--")]
            names = longs or [f for f in flags if not f.startswith("-")] or flags
            if not names:
                continue
            dest = names[0].lstrip("-").replace("-", "_")
        action = _literal(keywords.get("action"))
        if "default" in keywords:
            value = _literal(keywords["default"])
        elif action == "store_true":
            value = False
        elif action == "store_false":
            value = True
        elif "action" in keywords and action not in ("store", MISSING):
            value = MISSING
        else:
            value = None
        found.put(dest, value)
    return found.values


def _file_argparse_defaults(module: FileIndex) -> Dict[str, Any]:
    """argparse_defaults of a whole file, read once per file (a copy: callers may not change the cache)."""
    cache = module.__dict__.get("_argparse_defaults")
    if cache is None:
        cache = module.__dict__["_argparse_defaults"] = argparse_defaults(module.tree)
    return dict(cache)


# ---------------------------------------------------------------------------------------------
# Where a class's configuration comes from
# ---------------------------------------------------------------------------------------------
class Source:
    """One configuration object a module reads: the candidate classes (or argparse parsers) that may define it."""

    def __init__(self, label: str, candidates: List[Dict[str, Any]]) -> None:
        self.label = label
        self.candidates = candidates

    def get(self, name: str) -> Any:
        """The default of ``name``: known when every candidate that defines it agrees."""
        values = [c[name] for c in self.candidates if name in c]
        if not values or any(v is MISSING for v in values):
            return MISSING
        first = values[0]
        return first if all(_same(first, v) for v in values[1:]) else MISSING


class ConfigScope:
    """The configuration objects one module class reads, and the values and tests the flow derived from them."""

    def __init__(self, index: FileIndex, cls: ClassInfo, mro: Sequence[ClassInfo], resolve: Resolver) -> None:
        self.index = index
        self.resolve = resolve
        self.sources: List[Source] = []
        self.self_sources: Dict[str, int] = {}  # self.<name> -> source holding the configuration object
        self.self_values: Dict[str, Tuple[str, Any]] = {}  # self.<name> -> (label, default) read from one
        self.values: List[Tuple[str, Any]] = []  # VAL markers: (label "layerdrop=0.1", value)
        self.tests: List[Tuple[str, bool]] = []  # TEST markers: (label, truth at the defaults)
        self._class_cache: Dict[str, Optional[Dict[str, Any]]] = {}
        self._read(cls, mro)

    # ---- reading the module class ----
    def _read(self, cls: ClassInfo, mro: Sequence[ClassInfo]) -> None:
        declared = self._declared_config_class(mro)
        seen: Dict[str, List[Tuple[str, Any]]] = {}
        for owner in mro:
            init = owner.methods.get("__init__")
            if init is None:
                continue
            params = self._config_params(owner, init, declared)
            init_assignments, later = owner.fact("config_defaults.assignments", lambda: _class_assignments(owner))
            for name, value, top in init_assignments:
                if isinstance(value, ast.Name) and value.id in params and top:
                    seen.setdefault(name, []).append(("obj", params[value.id]))
                    continue
                held = self._read_member(value, params)
                seen.setdefault(name, []).append(("val", held if top else None))
            for name in later:
                seen.setdefault(name, []).append(("val", None))  # reassigned after __init__
        for name, entries in seen.items():
            kind, held = entries[0]
            if all(k == "obj" for k, _ in entries):
                self.self_sources[name] = held  # `self.config = config` in a class and its bases: the subclass's
            elif len(entries) == 1 and held is not None and held[1] is not MISSING:
                self.self_values[name] = held

    def _declared_config_class(self, mro: Sequence[ClassInfo]) -> Optional[Dict[str, Any]]:
        """``config_class = BertConfig`` of HF PreTrainedModel subclasses."""
        for owner in mro:
            for stmt in owner.node.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                        and stmt.targets[0].id == "config_class"):
                    qual = owner.module.qualify(stmt.value)
                    return self.class_defaults(owner.module, qual) if qual else None
        return None

    def _config_params(self, owner: ClassInfo, init: FunctionNode,
                       declared: Optional[Dict[str, Any]]) -> Dict[str, int]:
        """__init__ parameter name -> source, for the parameters that hold a configuration object."""
        out: Dict[str, int] = {}
        args = list(init.args.posonlyargs) + list(init.args.args)[1:] + list(init.args.kwonlyargs)
        for arg in args:
            candidates: List[Dict[str, Any]] = []
            if arg.annotation is not None:
                qual = owner.module.qualify(_unquoted(arg.annotation))
                found = self.class_defaults(owner.module, qual) if qual else None
                if found is not None:
                    candidates = [found]
            elif arg.arg in _CONFIG_PARAMS:
                candidates = [declared] if declared is not None else self._file_config_classes(owner.module)
                if arg.arg in ("args", "opt", "opts"):
                    parsed = _file_argparse_defaults(owner.module)
                    if parsed:
                        candidates = candidates + [parsed]
            if candidates:
                self.sources.append(Source(arg.arg, candidates))
                out[arg.arg] = len(self.sources) - 1
        return out

    def _file_config_classes(self, module: FileIndex) -> List[Dict[str, Any]]:
        """Configuration classes defined in or imported by the file (``*Config``/``*Cfg``), for parameters that
        carry no annotation: a name is known only where all of them that define it agree."""
        names = [n for n in list(module.classes) + list(module.aliases) if n.endswith(("Config", "Cfg"))
                 and not n.startswith(("Pretrained", "PreTrained", "Auto", "Base"))]  # bases stand for any config
        found = []
        for name in sorted(set(names))[:8]:
            defaults = self.class_defaults(module, module.qualify_dotted(name))
            if defaults is not None:
                found.append(defaults)
        return found

    def class_defaults(self, module: FileIndex, qual: str, depth: int = 0) -> Optional[Dict[str, Any]]:
        """The defaults of a configuration class, bases first (None when the class cannot be read)."""
        key = f"{id(module)}:{qual}"
        if key in self._class_cache:
            return self._class_cache[key]
        self._class_cache[key] = None  # cycles
        info = self.resolve(module, qual)
        if info is None:
            return None
        merged: Dict[str, Any] = {}
        if depth < _MAX_BASES:
            for base in info.base_names:
                if base:
                    inherited = self.class_defaults(info.module, base, depth + 1)
                    if inherited:
                        merged.update(inherited)
        merged.update(info.fact("config_defaults.own", lambda: own_defaults(info.node)))  # each class read once
        self._class_cache[key] = merged
        return merged

    def _read_member(self, value: ast.AST, params: Dict[str, int]) -> Optional[Tuple[str, Any]]:
        """``config.x`` or ``getattr(config, "x", d)`` of an __init__ parameter holding a configuration."""
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in params:
            return self._labelled(value.attr, self.sources[params[value.value.id]].get(value.attr))
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "getattr"
                and len(value.args) in (2, 3) and isinstance(value.args[0], ast.Name)
                and value.args[0].id in params and isinstance(value.args[1], ast.Constant)
                and isinstance(value.args[1].value, str)):
            name = value.args[1].value
            got = self.sources[params[value.args[0].id]].get(name)
            if got is MISSING and len(value.args) == 3 and not self._defines(params[value.args[0].id], name):
                got = _literal(value.args[2])
            return self._labelled(name, got)
        return None

    def _defines(self, source: int, name: str) -> bool:
        return any(name in c for c in self.sources[source].candidates)

    @staticmethod
    def _labelled(name: str, value: Any) -> Tuple[str, Any]:
        return f"{name}={value!r}", value

    # ---- answers to the flow analysis (origins of flow.Val) ----
    def self_attribute(self, name: str) -> Optional[FrozenSet[str]]:
        """The origin of ``self.<name>`` when it holds a configuration object or a value read from one."""
        if name in self.self_sources:
            return frozenset({f"{OBJ}{self.self_sources[name]}"})
        if name in self.self_values:
            return self._value(*self.self_values[name])
        return None

    def member(self, origin: FrozenSet[str], name: str) -> Optional[FrozenSet[str]]:
        """The origin of ``<configuration>.<name>``, None when the base is no configuration object."""
        objs = [o for o in origin if o.startswith(OBJ)]
        if len(objs) != 1 or not origin <= set(objs):
            return None
        source = self.sources[int(objs[0][len(OBJ):])]
        value = source.get(name)
        if value is MISSING:
            return frozenset({"unknown"})
        return self._value(f"{name}={value!r}", value)

    def getattr_default(self, origin: FrozenSet[str], name: str, default: Any) -> Optional[FrozenSet[str]]:
        objs = [o for o in origin if o.startswith(OBJ)]
        if len(objs) != 1 or not origin <= set(objs):
            return None
        source_index = int(objs[0][len(OBJ):])
        value = self.sources[source_index].get(name)
        if value is MISSING and not self._defines(source_index, name):
            value = default
        if value is MISSING:
            return frozenset({"unknown"})
        return self._value(f"{name}={value!r}", value)

    def _value(self, label: str, value: Any) -> FrozenSet[str]:
        self.values.append((label, value))
        return frozenset({f"{VAL}{len(self.values) - 1}"})

    def known(self, origin: FrozenSet[str]) -> Any:
        """The default a value stands for: a configuration value alone (constants aside)."""
        vals = [o for o in origin if o.startswith(VAL)]
        if len(vals) == 1 and origin == {vals[0]}:  # `after ^ self.flag`, `rate or 0`: not the value itself
            return self.values[int(vals[0][len(VAL):])][1]
        return MISSING

    def compare(self, op: str, left: Tuple[FrozenSet[str], Any], right: Tuple[FrozenSet[str], Any]
                ) -> Optional[FrozenSet[str]]:
        """The origin of a comparison decided at the defaults, or None. Each side is (origin, literal or
        MISSING); one side at least must be a configuration value."""
        sides = []
        labels = []
        for origin, literal in (left, right):
            if literal is not MISSING:
                sides.append(literal)
                continue
            if origin == {"random", UNIFORM}:
                sides.append(_UNIFORM_DRAW)
                continue
            value = self.known(origin)
            if value is MISSING:
                return None
            sides.append(value)
            labels.append(self._label_of(origin))
        if not labels:
            return None
        truth = _evaluate(op, sides[0], sides[1])
        if truth is None:
            if _UNIFORM_DRAW in sides and not all(_is_number(v) for v in sides if v is not _UNIFORM_DRAW):
                return frozenset({"unknown"})  # a rate that is no number at the defaults (None): not judged
            return None
        self.tests.append((", ".join(labels), truth))
        return frozenset({f"{TEST}{len(self.tests) - 1}"})

    def _label_of(self, origin: FrozenSet[str]) -> str:
        return next(self.values[int(o[len(VAL):])][0] for o in origin if o.startswith(VAL))

    def notes(self, origin: FrozenSet[str]) -> List[str]:
        labels = [self.values[int(o[len(VAL):])][0] for o in origin if o.startswith(VAL)]
        labels += [o[len(NOTE):] for o in origin if o.startswith(NOTE)]
        return sorted(set(labels))

    def guard(self, origin: FrozenSet[str], text: str, plain: Callable[..., Any]) -> Any:
        """The guard a condition whose value involves configuration markers puts on what it protects."""
        tests = [o for o in origin if o.startswith(TEST)]
        rest = {o for o in origin if not o.startswith((OBJ, VAL, TEST, NOTE)) and o != UNIFORM}
        truth: Optional[bool] = None
        label = ""
        if rest <= {"const"} and not any(o.startswith(OBJ) for o in origin):
            if len(tests) == 1 and not any(o.startswith(VAL) for o in origin):
                label, truth = self.tests[int(tests[0][len(TEST):])]
            elif not tests:
                value = self.known(origin)
                if value is not MISSING:
                    label, truth = self._label_of(origin), bool(value)
        if truth is not None:  # the rules judge a never-taken one like a constructor flag that is off (DDP102)
            return Guard(ALWAYS if truth else NEVER, text, CONFIG_DETAIL + label)
        if tests or any(o.startswith(OBJ) for o in origin):
            return Guard(UNKNOWN, text)
        if any(o.startswith(VAL) for o in origin) and not rest <= {"const", "random"}:
            return Guard(UNKNOWN, text)  # a configuration value beside data (`ids.max() >= self.n_tasks`): as before
        guard = plain(frozenset(rest | {"const"}), text)
        notes = self.notes(origin)
        if notes and guard.kind in (BATCH, OPTIONAL):
            guard = replace(guard, note=", ".join(notes))
        return guard


_UNIFORM_DRAW: Any = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _evaluate(op: str, left: Any, right: Any) -> Optional[bool]:
    """``left op right`` at the defaults; a uniform draw from [0, 1) is decided only where every draw agrees."""
    if left is _UNIFORM_DRAW and right is _UNIFORM_DRAW:
        return None
    if left is _UNIFORM_DRAW or right is _UNIFORM_DRAW:
        if right is _UNIFORM_DRAW:
            left, right = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if isinstance(right, bool) or not isinstance(right, (int, float)):
            return None
        # draw in [0, 1): `draw < p` never holds for p <= 0 and always for p >= 1; `draw > 0` is taken as always
        if op in ("<", "<="):
            return False if right <= 0 and not (op == "<=" and right == 0) else (True if right >= 1 else None)
        if op in (">", ">="):
            return True if right <= 0 else (False if right >= 1 else None)
        return None
    return defaults_eval.compare(op, left, right)


def decided_static(flag: Flag, polarity: bool) -> Optional[bool]:
    """Whether code under a constructor flag with a literal bool default runs with that default
    (``not self.use_ckpt`` with ``use_ckpt=False`` does); None for other defaults."""
    if flag.default not in ("True", "False"):
        return None
    return (flag.default == "True") == polarity


def _unquoted(node: ast.AST) -> ast.AST:
    """``config: "BertConfig"`` annotations written as strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node
    return node


def _cst_literal(node: Any) -> Any:
    import libcst as cst

    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    return MISSING


def cst_literal(node: Any) -> Any:
    """The literal value of a libcst expression (numbers, strings, True/False/None, tuples of them)."""
    import libcst as cst

    if isinstance(node, (cst.Integer, cst.Float)):
        return _cst_literal(node)
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = cst_literal(node.expression)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else MISSING
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        items = [cst_literal(e.value) for e in node.elements]
        return MISSING if any(i is MISSING for i in items) else tuple(items)
    return MISSING


def comparison_operator(op: Any) -> str:
    import libcst as cst

    names = {cst.Equal: "==", cst.NotEqual: "!=", cst.LessThan: "<", cst.GreaterThan: ">",
             cst.LessThanEqual: "<=", cst.GreaterThanEqual: ">=", cst.In: "in", cst.NotIn: "not in",
             cst.Is: "is", cst.IsNot: "is not"}
    return names.get(type(op), "")


MARKERS = (OBJ, VAL, TEST, NOTE)


def resolve_class(module: FileIndex, qual: str) -> Optional[ClassInfo]:
    """A configuration class of the file, the project or an installed package (read from source, never imported)."""
    found = module.local_class(qual)
    if found is not None or module.filename.startswith("<"):
        return found
    # once per file and name: every configuration scope of the file asks again, and a name that is not
    # found searches the star imports of a whole installed package (transformers: 1,500 files read)
    cache = module.__dict__.setdefault("_installed_classes", {})
    if qual not in cache:
        cache[qual] = project.resolve_class(module, qual, installed=True)
    return cache[qual]
