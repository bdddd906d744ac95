"""One text scan of a package, shared by the readers that need names from all of its files.

Three judges ask about the whole package the linted file belongs to (the top package directory, or the
file's own directory when it is not in a package): ``project_calls`` (method names called on objects,
``model.get_normalized_probs(``; does the package train with transformers' Trainer), ``eval_only`` (which files
write ``Name(`` for a class) and ``inference_only`` (the classes the package defines, and the files naming each).
Each used to read every file of the package for its own index; transformers' 2,900 files (53 MB) cost about
3 s of CPU, paid by the first linted file with a finding. Now one read of the package builds what all three
need (``scan``), once per package and process, bounded in files and bytes.

The files naming each defined class (``naming``) need the set of defined classes before the files are read
for their words, so they take a second read, made only when a class with a finding asks: keeping every
file's words between the two reads would hold about 120 MB for transformers.

The same read maps the package's imports (``importers``): which files of the package may load a file when
the project-wide resolution (project.py) follows their names. The cache of other files' trees uses it to let
go first of the files no file still to be linted can reach (``project.start_file``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Collection, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from .index import _TRAINING_MARKERS as index_markers
from .project import package_root, register_cache, register_loaders

_MAX_FILES = 5000
_MAX_BYTES = 64_000_000
_SKIP_DIRS = {".git", "__pycache__", ".tox", ".venv", "venv", "node_modules", "build", "dist", ".eggs"}

# `.name(` on anything but `self` (calls a class makes on itself are followed by the flow analysis itself).
# The look-behind comes after the dot, so that the regex engine looks only at dots (four times faster).
_CALL = re.compile(rb"\.(?<!\bself\.)\s*([A-Za-z_]\w*)\s*\(")
_HF_TRAINER = re.compile(rb"\bTrainingArguments\b|\bSeq2SeqTrainer\b|transformers import[^\n]*\bTrainer\b")
# `ClassName(` (class names are capitalised by convention), matched in the reversed text: `(` first lets the
# regex engine jump from one parenthesis to the next instead of trying a word boundary at every byte.
_CALLED_NAME_REVERSED = re.compile(rb"\(\s*(\w*[A-Z])(?!\w)")
# `class Name` at the start of a line (checked by hand: a `^` under re.M is tried at every byte)
_CLASS_KEYWORD = re.compile(rb"class[ \t]+([A-Za-z_]\w*)")
# `from .x import a, b` and `import a.b as c` (checked by hand to start a line, indented or not: imports inside
# functions count; so do import lines of code shown in docstrings, which only makes the map larger)
_FROM_IMPORT = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n;#]*)")
_IMPORTED = rb"[\w.]+(?:[ \t]+as[ \t]+\w+)?"
_IMPORT = re.compile(rb"import[ \t]+(" + _IMPORTED + rb"(?:[ \t]*,[ \t]*" + _IMPORTED + rb")*)")
# names a file binds, for following star imports by name: its classes, `def X` at a line start (checked by hand)
# and the names its imports bind
_DEF_KEYWORD = re.compile(rb"def[ \t]+([A-Za-z_]\w*)")
_COMMENT = re.compile(rb"#[^\n]*")
_TRAINING_MARKERS = tuple(marker.encode() for marker in index_markers)
_MODULE_BLOCKS = (b"if ", b"if(", b"else", b"elif ", b"try", b"except", b"finally")
_MAX_LINES_BACK = 5000  # lines read back to find the block an indented import is in
_MAX_STAR_DEPTH = 4  # as project.py's re-export depth
_MAX_SITES = 40  # construction sites of one class read by eval_only.py (more and it reads none)
_DIGITS = b"0123456789"
# every byte that is not a word byte (ASCII letters, digits, `_`) becomes a space: split() then gives the words
_WORDS_ONLY = bytes(c if chr(c).isascii() and (chr(c).isalnum() or c == ord("_")) else ord(" ")
                    for c in range(256))


@dataclass
class PackageText:
    """What one read of a package's files found."""

    method_calls: FrozenSet[str]  # every `.name(` called (not on self), over-approximated from the text
    hf_trainer: bool  # the package mentions transformers' Trainer/TrainingArguments
    constructed: Dict[str, List[str]]  # capitalised `Name(` -> the files writing it
    defined: FrozenSet[bytes]  # names of the classes the package defines (`class Name` at a line start)
    complete: bool  # every file was read (under the bounds in files and bytes)
    naming: Optional[Dict[str, List[str]]] = field(default=None)  # defined class -> files naming it (lazy)
    # file -> the files of the package that may load it through their imports (resolved to paths), and the files
    # whose own analysis may read it as a construction site; None when the scan is not complete
    importers: Optional[Dict[str, Tuple[str, ...]]] = field(default=None)
    readers: Optional[Dict[str, Tuple[str, ...]]] = field(default=None)


_SCANS: Dict[str, PackageText] = {}


_SCOPES: Dict[Tuple[str, bool], str] = {}  # (directory, is __init__.py) -> package_scope of a file there


def clear_cache() -> None:
    _SCANS.clear()
    _SCOPES.clear()


register_cache(clear_cache, "all")  # small per package, costly to rebuild: kept across files


def package_scope(filename: str) -> str:
    """The directory whose files are scanned: the top package of the file, else its own directory."""
    root, module = package_root(filename)
    if module and "." in module or os.path.basename(filename) == "__init__.py":
        top = module.split(".")[0] if module else ""
        return os.path.join(root, top) if top else os.path.dirname(os.path.abspath(filename))
    return os.path.dirname(os.path.abspath(filename))


def package_texts(scope: str) -> Iterator[Tuple[str, bytes]]:
    """(path, bytes) of the `.py` files under ``scope`` (recursively when it is a package), bounded in
    files and bytes."""
    files = 0
    budget = _MAX_BYTES
    recursive = os.path.isfile(os.path.join(scope, "__init__.py"))
    for directory, subdirs, filenames in os.walk(scope):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS) if recursive else []
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            files += 1
            if files > _MAX_FILES or budget <= 0:
                return
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as fh:
                    data = fh.read(min(budget, 4_000_000))
            except OSError:
                continue
            budget -= len(data)
            yield path, data


def scan(scope: str) -> PackageText:
    """The package's text index, built by one read of its files, once per process."""
    found = _SCANS.get(scope)
    if found is None:
        found = _SCANS[scope] = _scan(scope)
    return found


def _scan(scope: str) -> PackageText:
    calls: Set[bytes] = set()
    hf_trainer = False
    constructed: Dict[str, List[str]] = {}
    defined: Set[bytes] = set()
    imports: Dict[str, List[Tuple[int, str, Tuple[str, ...]]]] = {}
    bound: Dict[str, bytes] = {}  # file -> the names it binds, joined by spaces (one object a file, dropped below)
    defined_in: Dict[str, List[str]] = {}  # class name -> the files defining it (dropped below)
    files = 0
    size = 0
    for path, data in package_texts(scope):
        files += 1
        size += len(data)
        classes = list(_class_names(data))
        imports[path], bound[path] = _imports_of(data, classes)
        calls.update(_CALL.findall(data))
        if not hf_trainer and (b"Trainer" in data or b"TrainingArguments" in data):
            hf_trainer = _HF_TRAINER.search(data) is not None
        for called in set(_CALLED_NAME_REVERSED.findall(data[::-1])):
            constructed.setdefault(called[::-1].decode("ascii", "replace"), []).append(path)
        for name in classes:
            defined.add(name)
            defined_in.setdefault(name.decode("ascii", "replace"), []).append(path)
    complete = files < _MAX_FILES and size < _MAX_BYTES
    importers = readers = None
    if complete:
        loaders, readers = _import_map(scope, imports, bound)
        _add_construction_sites(readers, constructed, defined_in)
        importers, readers = _frozen(loaders), _frozen(readers)
    return PackageText(frozenset(name.decode("ascii", "replace") for name in calls), hf_trainer, constructed,
                       frozenset(defined), complete, importers=importers, readers=readers)


def _frozen(users: Dict[str, Set[str]]) -> Dict[str, Tuple[str, ...]]:
    return {path: tuple(sorted(found)) for path, found in users.items()}


def _class_names(data: bytes) -> Iterator[bytes]:
    for match in _CLASS_KEYWORD.finditer(data):
        start = match.start()
        if not data[data.rfind(b"\n", 0, start) + 1:start].strip(b" \t"):
            yield match.group(1)


def naming(scope: str) -> Optional[Dict[str, List[str]]]:
    """Class name defined in the scope -> files whose text names it (as a whole word, as ``[A-Za-z_]\\w*``
    finds words); None when the scan was cut short by its bounds."""
    text = scan(scope)
    if not text.complete:
        return None
    if text.naming is None:
        found: Dict[str, List[str]] = {}
        for path, data in package_texts(scope):
            for name in _names_in(data, text.defined):
                found.setdefault(name.decode("ascii", "replace"), []).append(path)
        text.naming = found
    return text.naming


def _names_in(data: bytes, defined: FrozenSet[bytes]) -> Set[bytes]:
    """The names of ``defined`` that the text spells as words. A word run starting with digits (`3D`) holds
    the word after its digits (`D`), as the pattern ``[A-Za-z_]\\w*`` reads it."""
    words = set(data.translate(_WORDS_ONLY).split())
    names = set(defined.intersection(words))
    names.update(defined.intersection([word.lstrip(_DIGITS) for word in words if word[0] in _DIGITS]))
    return names


def _at_line_start(data: bytes, start: int) -> bool:
    return not data[data.rfind(b"\n", 0, start) + 1:start].strip(b" \t")


def _imports_of(data: bytes, classes: List[bytes]) -> Tuple[List[Tuple[int, str, Tuple[str, ...]]], bytes]:
    """The imports of a file's text, as (level, module, imported names; ``*`` for a star import), and the names
    it binds (classes, functions, top-level assignments, imported names), joined by spaces."""
    found: List[Tuple[int, str, Tuple[str, ...]]] = []
    names: Set[bytes] = set(classes)
    # the resolution reads imports inside functions only in files that look like training code (index.py)
    everywhere = any(marker in data for marker in _TRAINING_MARKERS)
    blocks: Dict[Tuple[int, int], bool] = {}
    for match in _FROM_IMPORT.finditer(data):
        if _at_line_start(data, match.start()) and (everywhere or _module_level(data, match.start(), blocks)):
            module = match.group(1).decode("ascii", "replace")
            level = len(module) - len(module.lstrip("."))
            imported = []
            for part in _COMMENT.sub(b"", match.group(2)).strip(b"() \t\\").replace(b"\\\n", b" ").split(b","):
                words = part.split()
                if words:
                    imported.append(words[0].decode("ascii", "replace"))
                    names.add(words[-1])
            found.append((level, module[level:], tuple(imported)))
    for match in _IMPORT.finditer(data):
        if _at_line_start(data, match.start()) and (everywhere or _module_level(data, match.start(), blocks)):
            for part in match.group(1).split(b","):
                words = part.split()
                found.append((0, words[0].decode("ascii", "replace"), ()))
                names.add(words[-1].split(b".")[0])
    names.update(match.group(1) for match in _DEF_KEYWORD.finditer(data) if _at_line_start(data, match.start()))
    return found, b" " + b" ".join(names) + b" "


def _module_level(data: bytes, start: int, blocks: Dict[Tuple[int, int], bool]) -> bool:
    """Whether the statement starting at ``start`` (a line's first word) is outside function and class bodies:
    at no indentation, or in a block under a module-level ``if``/``else``/``try``/``except`` (guarded imports,
    ``if TYPE_CHECKING:``). The lines above are read back to the first one indented less; ``blocks`` keeps
    the answer for each line start already judged at the same indentation, since a block holds many imports."""
    line_start = data.rfind(b"\n", 0, start) + 1
    indent = start - line_start
    if not indent:
        return True
    position = line_start
    seen: List[int] = []
    answer = True  # past the bound: counted (a map too large only keeps files longer)
    for _ in range(_MAX_LINES_BACK):
        if position <= 0:
            break
        if (position, indent) in blocks:
            answer = blocks[position, indent]
            break
        seen.append(position)
        previous = data.rfind(b"\n", 0, position - 1) + 1
        line = data[previous:position - 1]
        code = line.lstrip(b" \t")
        position = previous
        if code and not code.startswith(b"#") and len(line) - len(code) < indent:
            answer = len(line) == len(code) and code.startswith(_MODULE_BLOCKS)
            break
    for judged in seen:
        blocks[judged, indent] = answer
    return answer


def _import_map(scope: str, imports: Dict[str, List[Tuple[int, str, Tuple[str, ...]]]],
                bound: Dict[str, bytes]) -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
    """File -> the files of the package that may load it, by the rules project.py resolves names with: a
    relative import from the importer's directory, an absolute one from the package's root or the importer's
    directory; ``from p import m`` where ``m`` is a submodule loads ``m`` (and ``p``); a name imported from a
    module with star imports loads the files those star imports reach that bind the name or star-import
    further (as ``project._exported`` follows them), not every file they reach: transformers' package
    ``__init__`` files star-import every model file. A file's loader is one more loader of what that file
    imports in turn (its classes' bases, its aliases): ``project.start_file`` follows the map transitively."""
    known = set(imports)
    package = os.path.isfile(os.path.join(scope, "__init__.py"))
    top_root = os.path.dirname(scope) if package else scope

    files: Dict[Tuple[str, str], Optional[str]] = {}
    where: Dict[Tuple[str, int], List[str]] = {}

    def module_file(directory: str, dotted: str) -> Optional[str]:
        key = (directory, dotted)
        if key not in files:
            base = os.path.join(directory, *dotted.split(".")) if dotted else directory
            files[key] = next((candidate for candidate in (base + ".py", os.path.join(base, "__init__.py"))
                               if candidate in known), None)
        return files[key]

    def directories(importer: str, level: int) -> List[str]:
        key = (os.path.dirname(importer), level)
        if key not in where:
            directory = key[0]
            if not level:
                where[key] = [top_root, directory]
            else:
                for _ in range(level - 1):
                    directory = os.path.dirname(directory)
                where[key] = [directory]
        return where[key]

    stars: Dict[str, List[str]] = {}  # file -> the files its star imports reach
    for path, entries in imports.items():
        for level, module, names in entries:
            if names == ("*",):
                for directory in directories(path, level):
                    target = module_file(directory, module)
                    if target is not None:
                        if target != path:
                            stars.setdefault(path, []).append(target)
                        break
    through: Dict[Tuple[str, str], Tuple[str, ...]] = {}  # (module with star imports, name) -> files loaded

    def star_reached(module: str, name: str) -> Tuple[str, ...]:
        key = (module, name)
        if key not in through:
            spelled = b" " + name.encode() + b" "
            out: List[str] = []
            seen = {module}
            todo = [(module, 0)]
            while todo:
                current, depth = todo.pop()
                for target in stars.get(current, ()):
                    if target in seen:
                        continue
                    seen.add(target)
                    binds = spelled in bound.get(target, b"")
                    if binds or target in stars:
                        out.append(target)
                    if not binds and target in stars and depth < _MAX_STAR_DEPTH:
                        todo.append((target, depth + 1))
            through[key] = tuple(out)
        return through[key]

    loaders: Dict[str, Set[str]] = {}  # the loader's importers load the file too
    readers: Dict[str, Set[str]] = {}  # only the reader's own analysis loads the file
    for path, entries in imports.items():
        for level, module, names in entries:
            for directory in directories(path, level):
                target = module_file(directory, module)
                loaded: List[str] = []
                plain = False  # a name of the module itself is imported (not a submodule, not `*`)
                for name in names:
                    if name == "*":
                        continue
                    submodule = module_file(directory, f"{module}.{name}" if module else name)
                    if submodule is not None:
                        loaded.append(submodule)
                        continue
                    plain = True
                    if target is not None and target in stars and f" {name} ".encode() not in bound[target]:
                        loaded.extend(star_reached(target, name))  # the module's own names come first
                if target is None and not loaded:
                    continue
                if target is not None and target != path:
                    # a star import (its names are followed from the importer's importers, above) or a module
                    # read only for its submodules: not a way to the files the module imports
                    (loaders if plain or not names else readers).setdefault(target, set()).add(path)
                for other in loaded:
                    if other != path:
                        loaders.setdefault(other, set()).add(path)
                break
    return loaders, readers


def _add_construction_sites(loaders: Dict[str, Set[str]], constructed: Dict[str, List[str]],
                            defined_in: Dict[str, List[str]]) -> None:
    """File -> the files whose own analysis may read it as a construction site: a class with a finding has the
    files writing ``Name(`` read (eval_only.py, callsites.py, when there are few), so a file that builds a
    class another file defines may be loaded when that file is linted (only then: what imports that file
    does not read its classes' construction sites)."""
    for name, sites in constructed.items():
        if len(sites) <= _MAX_SITES:
            for owner in defined_in.get(name, ()):
                for site in sites:
                    if site != owner:
                        loaders.setdefault(site, set()).add(owner)


def _scope_of(path: str) -> str:
    key = (os.path.dirname(path), os.path.basename(path) == "__init__.py")
    scope = _SCOPES.get(key)
    if scope is None:
        scope = _SCOPES[key] = package_scope(path)
    return scope


def loaders(path: str, linting: str) -> Optional[Tuple[Collection[str], Collection[str]]]:
    """(the files of ``path``'s package that import it, the files whose own analysis may read it as a
    construction site), from the package's one text scan; project.py follows the importers further, not the
    others. None when unknown: a package no linted file has needed scanned (the scan of the package of
    ``linting``, the file being linted, is made here), or a scan cut short by its bounds."""
    scope = _scope_of(path)
    text = _SCANS.get(scope)
    if text is None and scope == _scope_of(linting):
        text = scan(scope)
    if text is None or text.importers is None or text.readers is None:
        return None
    return text.importers.get(path, ()), text.readers.get(path, ())


register_loaders(loaders)
