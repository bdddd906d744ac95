"""Other files of the project: find the file a name is imported from, parse it once, hand out its classes.

flake8 gives a plugin one file at a time. A launch site (``Trainer(model=Net(), ...)``) or a model class
often refers to a class defined in another file of the same project (``from .models import Net``,
``from pkg.models import Net``). This module maps such a qualified name to a file, relative to the linted
file (relative imports) or to the project's roots (absolute imports: the top of the package the file is
in, the current working directory and its ``src/``), parses that file with ``ast`` once per process
(cached by path, mtime and size; under ``flake8 --jobs`` each worker has its own cache) and returns the
:class:`~flake8_ddp_unused.index.ClassInfo`.
"""
from __future__ import annotations

import ast
import os
import sys
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Set, Tuple

from . import bodies
from .index import ClassInfo, FileIndex, dotted_name, source_lines

if TYPE_CHECKING:
    from .settings import Settings

# Packages that are never part of the user's project: do not even look at the disk for them.
_EXTERNAL_ROOTS = frozenset({
    "torch", "torchvision", "torchaudio", "numpy", "np", "transformers", "lightning", "pytorch_lightning",
    "accelerate", "fastNLP", "mmengine", "mmcv", "mmdet", "detectron2", "timm", "typing", "abc", "os", "sys",
    "math", "random", "functools", "collections", "dataclasses", "builtins", "object", "einops", "scipy",
})
# Installed packages that never hold model classes worth reading (or are far too large to read).
_NEVER_INSTALLED = frozenset({"torch", "numpy", "np", "scipy", "typing", "abc", "os", "sys", "math", "random",
                              "functools", "collections", "dataclasses", "builtins", "object", "warnings",
                              "itertools", "copy", "enum", "re", "logging", "pathlib"}) | frozenset(
    getattr(sys, "stdlib_module_names", ()))
_MAX_FILE_BYTES = 2_000_000
_MAX_REEXPORT_DEPTH = 4

# path -> (mtime_ns, size, index or None). One entry per file per process, least recently used first.
_FILES: Dict[str, Tuple[int, int, Optional[FileIndex]]] = {}
_LOADED_WITH: Dict[str, Optional["Settings"]] = {}  # path -> the settings its index resolves other files with
_USED_BY: Dict[str, int] = {}  # path -> how many linted files used it (the cap keeps the most used)
_USED_NOW: Set[str] = set()  # paths the file being linted used
# path -> the `def` nodes of its tree whose bodies may be dropped past the cap, and its module-level assignments
# whose long values may (bodies.py)
_LAZY_DEFS: Dict[str, List[ast.stmt]] = {}
_STRING_LINES: Dict[str, int] = {}  # path -> lines of its docstrings outside function bodies
# (directory, dotted module) -> file path or None
_LOCATIONS: Dict[Tuple[str, str], Optional[str]] = {}
# dotted module -> file path or None, found on sys.path (installed third-party packages)
_INSTALLED: Dict[str, Optional[str]] = {}
# files read from installed packages: their own absolute imports are looked up on sys.path too
_INSTALLED_FILES: Set[str] = set()


# lines of other files whose ast trees are kept between linted files (~1.1 KB a line). 12,500 since the long
# module-level values go past it too: more files stay, and what is computed on their classes weighs outside
# the cap (transformers models/ -j2 peak memory went 288 -> 295 MB at 15,000).
_MAX_CACHED_LINES = 12_500
# A kept line without its tree (its body dropped) weighs 1/16 of one with it (~65 B of text); a line of a
# docstring outside function bodies 1/8 (its text twice: the file's lines and the string constant).
_TEXT_SHARE, _STRING_SHARE = 16, 8
_LOADED_LINES = [0]  # lines of other files parsed in this process so far (never decreases)


# Caches that the layers above build on the files kept here, each with its lifetime: "file" caches go before
# each linted file, "trees" caches with the cached trees, "all" caches only with clear_cache(). Their owners
# register them, so that this layer, which everything imports, imports nothing above it.
_CACHES: Dict[str, List[Callable[[], None]]] = {"file": [], "trees": [], "all": []}


def register_cache(clear: Callable[[], None], lifetime: str) -> None:
    if clear not in _CACHES[lifetime]:
        _CACHES[lifetime].append(clear)


def _clear(lifetime: str) -> None:
    for clear in _CACHES[lifetime]:
        clear()


def start_file() -> None:
    """Called before each linted file: the libcst trees of other files (the heaviest part, ~25 KB a line) and
    the analyses built on them are dropped, so that memory does not grow over a run and each file's parse
    budget is its own (the same findings whatever was linted before, under any --jobs); past a budget of
    cached lines, the least recently used files go (``_keep_recent``)."""
    _clear("file")
    for path in _USED_NOW:
        _USED_BY[path] = _USED_BY.get(path, 0) + 1
    _USED_NOW.clear()
    cached = 0
    for path, (_, _, index) in _FILES.items():
        if index is not None:
            index.method_parse_cache.clear()
            index.parsed_lines = 0
            cached += _weight(path, index)
    if cached > _MAX_CACHED_LINES:
        _keep_recent(cached)


def _weight(path: str, index: FileIndex) -> int:
    """A kept file's share of the cap, in lines of code with their trees (~1.1 KB each)."""
    dropped = bodies.dropped_lines(_LAZY_DEFS.get(path, ()))  # type: ignore[arg-type]
    strings = _STRING_LINES.get(path, 0)
    return len(index.lines) - dropped - strings + dropped // _TEXT_SHARE + strings // _STRING_SHARE


def _keep_recent(cached: int) -> None:
    """Past the cap of cached lines, the files fewest linted files used (then the least recently used) first
    lose the function bodies and long module-level values no later file has read back (``bodies.drop``: what
    later files read of them is their classes, signatures and the facts already computed on them; transformers'
    auto mappings are thousands of lines of values), and only if that is not enough they
    go whole. The files most linted files need (a package's base model and configuration files) stay, so
    that each is parsed once per process instead of again after every drop (all files went, before:
    transformers' models/ parsed its shared files again for most linted files). The files kept keep their
    trees and what was read of each alone, not their answers: a fresh index drops what was derived from
    other files (resolved classes, MROs, summaries, analyses), which may point into the files that went."""
    _clear("trees")
    recency = {path: position for position, path in enumerate(_FILES)}
    order = sorted(_FILES, key=lambda p: (_USED_BY.get(p, 0), recency[p]))
    for parsed_back in (False, True):  # the bodies never read again first
        for path in order:
            if cached <= _MAX_CACHED_LINES:
                break
            index = _FILES[path][2]
            defs = _LAZY_DEFS.get(path)
            if index is not None and defs:
                before = _weight(path, index)
                bodies.drop(defs, index.tree, parsed_back)  # type: ignore[arg-type]
                cached -= before - _weight(path, index)
    for path in order:
        if cached <= _MAX_CACHED_LINES:
            break
        _, _, index = _FILES.pop(path)
        _LOADED_WITH.pop(path, None)
        if index is not None:
            cached -= _weight(path, index)
            release(index)
        _LAZY_DEFS.pop(path, None)
        _STRING_LINES.pop(path, None)
    _LOCATIONS.clear()
    _INSTALLED.clear()
    for path, (mtime, size, index) in list(_FILES.items()):
        if index is not None:
            fresh = index.refreshed()
            release(index)
            _FILES[path] = (mtime, size, fresh)
            attach(fresh, _LOADED_WITH.get(path))


def release(*objects: object) -> None:
    """Break the reference cycles of objects nothing uses any more (an index and its classes, an analysis
    and its reports), so that reference counting frees their trees at once. Left to the cycle collector,
    each file's trees wait for a full collection, which walks every object alive: on timm that doubled
    the plugin's share of garbage-collection time, and the garbage adds to the run's peak memory."""
    for obj in objects:
        if obj is not None:
            obj.__dict__.clear()


def _drop_trees() -> None:
    """Every cached file and what is built on it. The packages' text indexes (a set of names per package,
    small) stay: rebuilding one reads the whole package again (about 1 s for diffusers)."""
    _clear("trees")  # summaries and analyses hold classes of the files cached here
    _FILES.clear()
    _LOADED_WITH.clear()
    _LAZY_DEFS.clear()
    _STRING_LINES.clear()
    _USED_BY.clear()
    _USED_NOW.clear()
    _LOCATIONS.clear()
    _INSTALLED.clear()
    _INSTALLED_FILES.clear()


def clear_cache() -> None:
    _drop_trees()
    _clear("all")


def package_root(path: str) -> Tuple[str, str]:
    """(root directory, module name) of a file: walk up while the directory is a package."""
    path = os.path.abspath(path)
    directory, base = os.path.split(path)
    stem = os.path.splitext(base)[0]
    parts: List[str] = [] if stem == "__init__" else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
        if not package:
            break
    return directory, ".".join(parts)


def project_roots(path: str) -> List[str]:
    """Directories absolute imports are looked up from, best first."""
    roots: List[str] = []
    root, _ = package_root(path)
    cwd = os.getcwd()
    for candidate in (root, os.path.dirname(os.path.abspath(path)), cwd, os.path.join(cwd, "src")):
        if candidate not in roots and os.path.isdir(candidate):
            roots.append(candidate)
    return roots


def _module_file(directory: str, dotted: str) -> Optional[str]:
    """``a.b`` under ``directory``: ``a/b.py`` or ``a/b/__init__.py``."""
    key = (directory, dotted)
    if key in _LOCATIONS:
        return _LOCATIONS[key]
    found: Optional[str] = None
    base = os.path.join(directory, *dotted.split(".")) if dotted else directory
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            found = candidate
            break
    _LOCATIONS[key] = found
    return found


def find_installed(module: str) -> Optional[str]:
    """The source file of an installed module (``torchvision.models`` -> ``.../torchvision/models/__init__.py``),
    found by looking at the ``sys.path`` entries on disk: nothing is imported, no finder is asked."""
    if module in _INSTALLED:
        return _INSTALLED[module]
    found: Optional[str] = None
    top = module.split(".")[0]
    if top and top not in _NEVER_INSTALLED:
        for entry in sys.path:
            entry = os.path.abspath(entry or os.curdir)
            if not os.path.isdir(os.path.join(entry, top)):
                continue  # also skips zip files and eggs
            found = _module_file(entry, module)
            if found is not None:
                break
    if found is not None:
        _INSTALLED_FILES.add(os.path.abspath(found))
    _INSTALLED[module] = found
    return found


def is_installed_file(path: str) -> bool:
    return os.path.abspath(path) in _INSTALLED_FILES


def load_index(path: str, settings: Optional["Settings"] = None) -> Optional[FileIndex]:
    """The :class:`FileIndex` of another file, parsed once per process (keyed by path, mtime, size)."""
    path = os.path.abspath(path)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    _USED_NOW.add(path)
    cached = _FILES.pop(path, None)
    if cached is not None and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
        _FILES[path] = cached  # now the most recently used (the cap of cached lines drops the least recent)
        return cached[2]
    index: Optional[FileIndex] = None
    _LAZY_DEFS.pop(path, None)
    _STRING_LINES.pop(path, None)
    if stat.st_size <= _MAX_FILE_BYTES:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            tree = ast.parse(data, filename=path)
            lines = source_lines(data.decode("utf-8", errors="replace"))
            bases = settings.module_bases if settings is not None else ()
            index = FileIndex(tree, lines, path, "", bases)
            if bodies.lines_reparse_alike(data):
                index.namedtuple_fields("")  # read from the module's values before they may be dropped
                _LAZY_DEFS[path] = bodies.make_lazy(tree, lines, [info.node for info in index.classes.values()])
                _STRING_LINES[path] = bodies.string_lines(tree)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            index = None
    _FILES[path] = (stat.st_mtime_ns, stat.st_size, index)
    _LOADED_WITH[path] = settings
    if index is not None:
        _LOADED_LINES[0] += len(index.lines)
        attach(index, settings)
    return index


def kept_lines() -> Tuple[int, int]:
    """(lines of other files parsed so far in this process, lines of them kept now): how much long-lived
    state the cache has built, for a front end that tunes the cycle collector (plugin.py)."""
    return (_LOADED_LINES[0] + bodies.RESTORED["lines"],
            sum(len(index.lines) for _, _, index in _FILES.values() if index is not None))


def split_qualname(qualname: str) -> Tuple[int, str, str]:
    """``..pkg.models.Net`` -> (2, "pkg.models", "Net")."""
    level = len(qualname) - len(qualname.lstrip("."))
    rest = qualname[level:]
    module, _, name = rest.rpartition(".")
    return level, module, name


def find_module(importer: str, level: int, module: str, installed: bool = False) -> Optional[str]:
    """The file a module name refers to, seen from the file ``importer``.

    With ``installed`` (a launch site resolving its model; code read from an installed package), an
    absolute import that is not a file of the project is looked up in the installed packages."""
    if level:
        directory = os.path.dirname(os.path.abspath(importer))
        for _ in range(level - 1):
            directory = os.path.dirname(directory)
        found = _module_file(directory, module)
        if found is not None and is_installed_file(importer):
            _INSTALLED_FILES.add(os.path.abspath(found))
        return found
    if not module:
        return None
    installed = installed or is_installed_file(importer)
    if module.split(".")[0] not in _EXTERNAL_ROOTS:
        for root in project_roots(importer):
            found = _module_file(root, module)
            if found is not None:
                return found
    return find_installed(module) if installed else None


def _may_export(path: str, name: str) -> bool:
    """Whether a file can define or re-export ``name``: it spells the name or star-imports another file.
    A byte search, so that following a package's star imports (transformers' ``models/__init__.py`` has
    hundreds) does not parse every file it reaches."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError:
        return False
    return name.encode() in data or b"import *" in data


def _plain_submodule(package: FileIndex, name: str, settings: Optional["Settings"]) -> bool:
    """``name`` is a submodule of the package that does not itself define ``name`` (torchvision's
    ``models.googlenet`` is a module whose star import re-exports the function ``googlenet`` over it)."""
    path = _module_file(os.path.dirname(package.filename), name)
    if path is None:
        return False
    module = load_index(path, settings)
    return module is not None and name not in module.classes and name not in module.functions and (
        name not in module.aliases)


def _exported(other: FileIndex, name: str, settings: Optional["Settings"], installed: bool,
              depth: int, visited: Optional[Set[str]] = None) -> Optional[Tuple[FileIndex, str]]:
    """Where ``name`` of module ``other`` comes from: (file, qualified name to look up there).

    Plain names first; then ``from .googlenet import *`` re-exports, honouring their ``__all__``
    (names starting with ``_`` are not exported by a star import without one). Each file is searched once
    per question (``visited``), so the cost is at most one read of each file the star imports reach."""
    if name in other.classes or name in other.functions:
        return other, name
    if name in other.aliases:
        return other, other.aliases[name]
    if depth > _MAX_REEXPORT_DEPTH:
        return None
    if os.path.basename(other.filename) == "__init__.py" and _plain_submodule(other, name, settings):
        return None  # `from . import initialization`: a submodule, not a name the star imports define
    visited = set() if visited is None else visited
    for base in other.star_imports:
        level = len(base) - len(base.lstrip("."))
        path = find_module(other.filename, level, base[level:], installed)
        if path is None or path in visited:
            continue
        visited.add(path)
        source = load_index(path, settings) if _may_export(path, name) else None
        if source is None or source is other:
            continue
        public = source.all_names
        if public is not None and name not in public and not _registered(source, name):
            continue  # not in __all__ (timm's @register_model adds its functions to __all__ at import)
        if public is None and name.startswith("_"):
            continue
        found = _exported(source, name, settings, installed, depth + 1, visited)
        if found is not None:
            return found
    return None


def _registered(index: FileIndex, name: str) -> bool:
    """A function decorated with ``@register_model`` (timm, torchvision): exported by its registry."""
    func = index.functions.get(name)
    if func is None:
        return False
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (dotted_name(target) or "").rsplit(".", 1)[-1] == "register_model":
            return True
    return False


def _definition(importer: FileIndex, qualname: str, settings: Optional["Settings"], installed: bool,
                depth: int) -> Optional[Tuple[FileIndex, str]]:
    """The file that defines (or re-exports) the name ``qualname`` and its local name there."""
    if depth > _MAX_REEXPORT_DEPTH or importer.filename.startswith("<"):
        return None
    level, module, name = split_qualname(qualname)
    if not name or (not level and not module):
        return None
    path = find_module(importer.filename, level, module, installed)
    if path is None or os.path.abspath(path) == os.path.abspath(importer.filename):
        return None
    other = load_index(path, settings)
    if other is None:
        return None
    found = _exported(other, name, settings, installed or is_installed_file(path), 0)
    if found is None:
        return None
    where, local = found
    if local in where.classes or local in where.functions:
        return where, local
    return _definition(where, local, settings, installed, depth + 1)  # an alias: follow the import


def resolve_class(importer: FileIndex, qualname: str, settings: Optional["Settings"] = None,
                  depth: int = 0, installed: bool = False) -> Optional[ClassInfo]:
    """The class a qualified name (as ``FileIndex.qualify`` spells it) refers to in another project file
    (with ``installed``: or in an installed package)."""
    found = _definition(importer, qualname, settings, installed, depth)
    if found is None:
        return None
    return found[0].classes.get(found[1])


def attach(index: FileIndex, settings: Optional["Settings"] = None) -> None:
    """Let ``index.local_class`` see classes of the other files of the project."""
    if index.filename.startswith("<") or index.resolve_external is not None:
        return
    installed = is_installed_file(index.filename)
    index.resolve_external = lambda qualname: resolve_class(index, qualname, settings, installed=installed)


def resolve_function(importer: FileIndex, qualname: str, settings: Optional["Settings"] = None,
                     depth: int = 0, installed: bool = False) -> Optional[Tuple[FileIndex, ast.AST]]:
    """A top-level function of another project file (a model factory ``build_model()``), or with
    ``installed`` of an installed package (``torchvision.models.googlenet``)."""
    found = _definition(importer, qualname, settings, installed, depth)
    if found is None or found[1] not in found[0].functions:
        return None
    return found[0], found[0].functions[found[1]]
