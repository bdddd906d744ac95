"""What a file defines and imports, read from the ``ast`` tree flake8 already parsed (no extra parse).

The index answers: what does a name or dotted expression refer to (``nn.Linear`` -> ``torch.nn.Linear``),
which classes are module classes, and which methods does a class have through its readable bases.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .torchnn import FRAMEWORK_CONTAINERS, FRAMEWORK_MODULE_BASES

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

TORCH_MODULE = "torch.nn.Module"
_TORCH_MODULE_SPELLINGS = {TORCH_MODULE, "torch.nn.modules.module.Module", "torch.nn.modules.Module"} | set(
    FRAMEWORK_MODULE_BASES)
# torch.nn containers: a subclass without its own forward runs every child (Sequential) or is not
# called at all (ModuleList/ModuleDict), so nothing about its own attributes can be judged.
TORCH_CONTAINERS = {
    "torch.nn.Sequential",
    "torch.nn.ModuleList",
    "torch.nn.ModuleDict",
    "torch.nn.ParameterList",
    "torch.nn.ParameterDict",
} | set(FRAMEWORK_CONTAINERS)
LIGHTNING_PREFIXES = ("lightning.", "pytorch_lightning.", "lightning.pytorch.")


@dataclass
class ClassInfo:
    name: str
    node: ast.ClassDef
    module: "FileIndex"
    base_names: List[str]  # qualified names of the bases, "" where the base is no plain name
    methods: Dict[str, FunctionNode] = field(default_factory=dict)
    properties: Dict[str, FunctionNode] = field(default_factory=dict)
    # facts that depend only on this class's own code, computed once: a subclass, a call context or another
    # level of an MRO reads them from here instead of walking the class again (that was quadratic in depth)
    own_facts: Dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def qualname(self) -> str:
        return f"{self.module.module_name}.{self.name}" if self.module.module_name else self.name

    def fact(self, key: Any, compute: Callable[[], Any]) -> Any:
        """The fact ``key`` of this class's own code, computed by ``compute`` on first use."""
        try:
            return self.own_facts[key]
        except KeyError:
            value = self.own_facts[key] = compute()
            return value


_LISTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def walk(node: ast.AST) -> Iterable[ast.AST]:
    """``ast.walk(node)``, the same nodes in the same order. Classes and functions are walked by several
    independent fact readers; their nodes are listed once and kept on the node itself (so they live as long
    as the tree), and every later walk reads that list. The list leaves out the node itself: a node that
    held itself would be a reference cycle, and trees must be freed by reference counting alone."""
    if not isinstance(node, _LISTED):
        return ast.walk(node)
    below = node.__dict__.get("_walked")
    if below is None:
        below = node.__dict__["_walked"] = _below(node)
    return chain((node,), below)


def _below(node: ast.AST) -> List[ast.AST]:
    """The nodes ``ast.walk(node)`` yields after ``node``, in the same (breadth-first) order, listed without its
    generators: the first walk of each class and function was about a tenth of the plugin's CPU on timm."""
    found: List[ast.AST] = [node]
    position = 0
    while position < len(found):
        current = found[position]
        position += 1
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                found.append(value)
            elif isinstance(value, list):
                found.extend(item for item in value if isinstance(item, ast.AST))
    del found[0]
    return found


def dotted_name(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for Name/Attribute chains, else None."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


MAX_MRO = 64  # classes in one method resolution order; deeper hierarchies are skipped (a Skip record)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def source_lines(text: str) -> List[str]:
    """The lines of a source text as Python numbers them (and flake8 hands them over): ``str.splitlines``
    also breaks at form feeds and other separators, which shifts every line after them."""
    return _LINE.findall(text)


class FileIndex:
    """Imports, classes and functions of one file."""

    def __init__(
        self,
        tree: ast.Module,
        lines: Sequence[str],
        filename: str = "<stdin>",
        module_name: str = "",
        extra_module_bases: Sequence[str] = (),
    ) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename
        self.module_name = module_name
        self.extra_module_bases = tuple(extra_module_bases)
        self.aliases: Dict[str, str] = {}
        self.classes: Dict[str, ClassInfo] = {}
        self.functions: Dict[str, FunctionNode] = {}
        self.star_imports: List[str] = []  # `from .googlenet import *`: ".googlenet", read only on demand
        self.all_names: Optional[List[str]] = None  # a literal `__all__` list, when the file has one
        # Imports inside functions (`from accelerate import Accelerator` in main()): consulted after the
        # module's own names, so a script that imports its framework where it uses it resolves the same.
        self.local_aliases: Dict[str, str] = {}
        # Other files of the project, consulted for names imported from them (set by the project).
        self.resolve_external: Optional[Callable[[str], Optional[ClassInfo]]] = None
        self.has_parameters_cache: Dict[str, bool] = {}  # class name -> owns trainable state (init_facts)
        self.module_kind_cache: Dict[str, Optional[str]] = {}  # class name -> module kind (None: no module)
        self.method_parse_cache: Dict[int, Any] = {}  # first line -> libcst FunctionDef (flow.parse_method)
        self.parsed_lines = 0  # lines of this file parsed with libcst so far (flow's parse budget)
        self._external_classes: Dict[Tuple[int, str], Optional[ClassInfo]] = {}
        self._namedtuples: Optional[Dict[str, Tuple[str, ...]]] = None  # built on first use
        self._mro_cache: Dict[str, Tuple[List["ClassInfo"], bool]] = {}
        self._read_top_level()
        self._read_nested()

    def refreshed(self) -> "FileIndex":
        """A new index of the same tree with what was read of this file alone (names, classes, each class's
        own facts), without anything derived from other files (resolved classes, MROs, module kinds) or
        cached on this index: reading the file again would walk bodies that may have been dropped."""
        fresh = FileIndex.__new__(FileIndex)
        own = ("tree", "lines", "filename", "module_name", "extra_module_bases", "aliases", "functions",
               "star_imports", "all_names", "local_aliases", "_namedtuples")
        for name in own:
            setattr(fresh, name, getattr(self, name))
        fresh.classes = {name: ClassInfo(info.name, info.node, fresh, info.base_names, info.methods,
                                         info.properties, info.own_facts) for name, info in self.classes.items()}
        fresh.resolve_external = None
        fresh.has_parameters_cache = {}
        fresh.module_kind_cache = {}
        fresh.method_parse_cache = {}
        fresh.parsed_lines = 0
        fresh._external_classes = {}
        fresh._mro_cache = {}
        return fresh

    # ---- reading -------------------------------------------------------------------------------
    def _read_top_level(self) -> None:
        for node in _top_level_statements(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = "." * (node.level or 0) + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        self.star_imports.append(base)
                        continue
                    sep = "" if base.endswith(".") else "."
                    self.aliases[alias.asname or alias.name] = f"{base}{sep}{alias.name}"
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = self._class_info(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and (
                    node.targets[0].id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple))):
                self.all_names = [e.value for e in node.value.elts
                                  if isinstance(e, ast.Constant) and isinstance(e.value, str)]

    def _read_nested(self) -> None:
        """Imports in any function, and module classes defined inside functions (a LightningModule
        written in ``main()``): read like top-level ones where the name is not taken at module level."""
        # only the top-level statements whose lines hold an indented import or class statement are walked
        text = "".join(self.lines)
        if not any(marker in text for marker in _TRAINING_MARKERS):
            return  # model libraries: names in function scopes matter to training scripts and launches
        if _NESTED_NAME.search(text) is None:
            return
        wanted: List[int] = []
        line, last = 1, 0
        for match in _NESTED_NAME.finditer(text):
            line += text.count("\n", last, match.start())
            last = match.start()
            wanted.append(line)
        nested: List[ast.ClassDef] = []
        compound = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try)
        stack: List[Tuple[ast.stmt, bool]] = [
            (node, False) for node in self.tree.body if isinstance(node, compound)
            and any(node.lineno <= n <= (node.end_lineno or node.lineno) for n in wanted)]
        while stack:
            node, inside = stack.pop()
            if inside and isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    self.local_aliases.setdefault(name, alias.name if alias.asname else name)
            elif inside and isinstance(node, ast.ImportFrom):
                base = "." * (node.level or 0) + (node.module or "")
                sep = "" if base.endswith(".") else "."
                for alias in node.names:
                    if alias.name != "*":
                        self.local_aliases.setdefault(alias.asname or alias.name, f"{base}{sep}{alias.name}")
            elif inside and isinstance(node, ast.ClassDef):
                nested.append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.extend((child, True) for child in node.body)
            elif isinstance(node, ast.ClassDef):
                stack.extend((child, inside) for child in node.body)
            else:
                for name in ("body", "orelse", "finalbody"):
                    stack.extend((child, inside) for child in getattr(node, name, ()) if isinstance(child, ast.stmt))
                for handler in getattr(node, "handlers", ()):
                    stack.extend((child, inside) for child in handler.body)
        for node in sorted(nested, key=lambda n: n.lineno):
            if node.name not in self.classes and node.name not in self.aliases and node.name not in self.functions:
                self.classes[node.name] = self._class_info(node)

    def _class_info(self, node: ast.ClassDef) -> ClassInfo:
        bases = [self.qualify(base) or "" for base in node.bases]
        info = ClassInfo(node.name, node, self, bases)
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorators = {dotted_name(d) for d in item.decorator_list}
                if "property" in decorators or "functools.cached_property" in decorators or (
                    "cached_property" in decorators
                ):
                    info.properties[item.name] = item
                elif not any(d and d.endswith((".setter", ".deleter")) for d in decorators):
                    info.methods[item.name] = item
            elif isinstance(item, ast.Assign) and len(item.targets) == 1:
                # `forward = _forward_impl` aliases a method under another name
                target, value = item.targets[0], item.value
                if isinstance(target, ast.Name) and isinstance(value, ast.Name) and value.id in info.methods:
                    info.methods[target.id] = info.methods[value.id]
        return info

    # ---- names ---------------------------------------------------------------------------------
    def qualify(self, node: ast.AST) -> Optional[str]:
        """The qualified name an expression refers to, through the import aliases and local classes."""
        name = dotted_name(node)
        return self.qualify_dotted(name) if name else None

    def qualify_dotted(self, name: str) -> str:
        head, _, rest = name.partition(".")
        if head in self.aliases:
            full = self.aliases[head]
        elif head in self.classes or head in self.functions:
            full = f"{self.module_name}.{head}" if self.module_name else head
        elif head in self.local_aliases:
            full = self.local_aliases[head]
        else:
            full = head
        return f"{full}.{rest}" if rest else full

    def local_class(self, qualname: str) -> Optional[ClassInfo]:
        """A class of this file or, through the project, of another file of the project."""
        prefix = f"{self.module_name}." if self.module_name else ""
        if qualname.startswith(prefix) and qualname[len(prefix):] in self.classes:
            return self.classes[qualname[len(prefix):]]
        if self.resolve_external is not None:
            key = (id(self.resolve_external), qualname)  # the resolver is attached once per file
            if key not in self._external_classes:
                self._external_classes[key] = self.resolve_external(qualname)
            return self._external_classes[key]
        return None

    def namedtuple_fields(self, name: str) -> Optional[Tuple[str, ...]]:
        """The field names of a module-level named tuple of this file (``namedtuple("Out", ["logits", "aux"])``,
        ``class Out(NamedTuple)``, or an alias ``_Out = Out``), computed once per file on first use."""
        if self._namedtuples is None:
            self._namedtuples = self._read_namedtuples()
        return self._namedtuples.get(name)

    def _read_namedtuples(self) -> Dict[str, Tuple[str, ...]]:
        found: Dict[str, Tuple[str, ...]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef):
                if any(self.qualify(b) in ("typing.NamedTuple", "typing_extensions.NamedTuple") for b in node.bases):
                    found[node.name] = tuple(item.target.id for item in node.body if isinstance(item, ast.AnnAssign)
                                             and isinstance(item.target, ast.Name))
                continue
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            target, value = node.targets[0].id, node.value
            if isinstance(value, ast.Name) and value.id in found:
                found[target] = found[value.id]  # _GoogLeNetOutputs = GoogLeNetOutputs
            elif isinstance(value, ast.Call) and self.qualify(value.func) in (
                    "collections.namedtuple", "typing.NamedTuple") and len(value.args) >= 2:
                fields = value.args[1]
                if isinstance(fields, ast.Constant) and isinstance(fields.value, str):
                    found[target] = tuple(fields.value.replace(",", " ").split())
                elif isinstance(fields, (ast.List, ast.Tuple)):
                    names = [e.elts[0] if isinstance(e, ast.Tuple) and e.elts else e for e in fields.elts]
                    if all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in names):
                        found[target] = tuple(n.value for n in names)  # type: ignore[union-attr]
        return found

    # ---- module classes ------------------------------------------------------------------------
    def module_kind(self, cls: ClassInfo) -> Optional[str]:
        """'module', 'lightning', 'hf' or 'container' for a module class; None for anything else.

        Depth-first over the bases, left to right, with an explicit stack: inheritance chains of any
        length and cycles through aliases are fine."""
        cache = cls.module.module_kind_cache
        if cls.name in cache:
            return cache[cls.name]
        cache[cls.name] = None  # a cycle back to this class finds nothing
        kind: Optional[str] = None
        seen = {(cls.module.filename, cls.name)}
        stack: List[Tuple[str, FileIndex]] = [(base, cls.module) for base in reversed(cls.base_names)]
        while stack:
            base, owner = stack.pop()
            kind = direct_base_kind(base, owner)
            if kind:
                break
            parent = owner.local_class(base) if base else None
            if parent is None or (parent.module.filename, parent.name) in seen:
                continue
            seen.add((parent.module.filename, parent.name))
            known = parent.module.module_kind_cache.get(parent.name, "?")
            if known != "?":
                if known:
                    kind = known
                    break
                continue
            stack.extend((b, parent.module) for b in reversed(parent.base_names))
        cache[cls.name] = kind
        return kind

    def mro(self, cls: ClassInfo) -> Tuple[List[ClassInfo], bool]:
        """Readable classes in method-resolution order, and whether every base was readable.

        A depth-first, left-to-right order with duplicates dropped (explicit stack) is exact for the single
        inheritance of model code and good enough for mixins. Computed once per class, and cut after
        MAX_MRO classes (then incomplete): every class of a deep hierarchy reads its whole MRO, so an
        unbounded one makes the cost quadratic in the depth.
        """
        cached = self._mro_cache.get(cls.name) if cls.module is self else None
        if cached is not None:
            return list(cached[0]), cached[1]
        order: List[ClassInfo] = []
        complete = True
        seen: set = set()
        stack = [cls]
        while stack:
            info = stack.pop()
            key = (info.module.filename, info.name)
            if key in seen:
                continue
            seen.add(key)
            if len(order) > MAX_MRO:
                complete = False
                break
            order.append(info)
            parents: List[ClassInfo] = []
            for base in info.base_names:
                if base in _TORCH_MODULE_SPELLINGS or base in info.module.extra_module_bases:
                    continue
                parent = info.module.local_class(base)
                if parent is None:
                    if direct_base_kind(base, info.module) in ("lightning", "hf"):
                        continue  # framework base: its methods do not touch user attributes
                    if base not in ("object", "typing.Generic", "abc.ABC") and not base.startswith("typing."):
                        complete = False
                    continue
                parents.append(parent)
            stack.extend(reversed(parents))
        if cls.module is self:
            self._mro_cache[cls.name] = (list(order), complete)
        return order, complete

    def module_classes(self) -> Iterator[Tuple[ClassInfo, str]]:
        for info in self.classes.values():
            kind = self.module_kind(info)
            if kind:
                yield info, kind


def direct_base_kind(base: str, owner: "FileIndex") -> Optional[str]:
    """The kind a base name gives by itself (torch, Lightning, transformers, fastNLP), without resolution."""
    if not base:
        return None
    if base in _TORCH_MODULE_SPELLINGS or base in owner.extra_module_bases:
        return "module"
    if base in TORCH_CONTAINERS:
        return "container"
    last = base.rsplit(".", 1)[-1]
    if base.startswith(LIGHTNING_PREFIXES) and last == "LightningModule":
        return "lightning"
    if base.startswith("transformers.") and last.endswith("PreTrainedModel"):
        return "hf"
    if base in ("fastNLP.models.BaseModel", "fastNLP.models.base_model.BaseModel"):
        return "module"
    return None


_TRAINING_MARKERS = ("backward", "DistributedDataParallel", "DDP", "Trainer", "Accelerator", "LightningModule",
                     "create_ddp_model", "find_unused_parameters")
_NESTED_NAME = re.compile(r"^[ \t]+(?:import|from|class)\s", re.M)


def _top_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside top-level if/try blocks (guarded imports)."""
    stack: List[ast.stmt] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If):
            stack.extend(reversed(node.body + node.orelse))
        elif isinstance(node, ast.Try):
            stack.extend(reversed(node.body + [s for h in node.handlers for s in h.body] + node.orelse))
