"""The model classes of one file: collects the facts of every module class and asks the rules."""
from __future__ import annotations

import ast
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from . import project
from .callers import omitted_argument_findings
from .eval_only import built_only_for_eval
from .flow import _SELF_ESCAPES
from .index import MAX_MRO, ClassInfo, FileIndex
from .inference_only import never_trained, offers_training
from .init_facts import TRAINABLE_KINDS, InitCollector, TrainableAttr, file_facts
from .other_entries import rescuer
from .project_calls import called_method_names, trains_with_hf_trainer
from .rules import LIVE, UNDECIDED, ClassFacts, Finding, Verdict, findings_for, judge_attribute
from .settings import Settings
from .skips import Skip, one_per_chain
from .summaries import ModelFlow, bind_handed_modules, partial_findings
from .train_freeze import late_freeze_findings
from .values import STATIC, WHOLE, FlowResult, Guard, Use

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Code that reaches submodules without naming them: with it in a class's methods, a name that is never
# written is no evidence of a submodule that is never used.
_UNNAMED_ACCESS = frozenset(_SELF_ESCAPES | {"getattr", "vars", "setattr", "__getattribute__"})

DEFAULT_ENTRY_POINTS = ("forward",)


@dataclass
class ClassReport:
    """Everything known about one module class: launch-site checks reuse it for the model passed in."""

    info: ClassInfo
    facts: Optional[ClassFacts]
    findings: List[Finding] = field(default_factory=list)  # reported on this class's own lines
    analysis: Optional["FileAnalysis"] = None

    @property
    def culprits(self) -> List[Finding]:
        """The class's own findings and those of the submodules it builds, named from this class
        (`self.encoder.pooler`): what a launch of this model would wait for."""
        return self._culprits(self.info.name, "self", set())

    def _culprits(self, outer: str, prefix: str, seen: set) -> List[Finding]:
        key = (self.info.module.filename, self.info.name)
        if key in seen or len(seen) > 32:
            return []
        seen.add(key)
        found = [replace(f, cls=outer, attr=prefix + f.attr[len("self"):]) for f in self.findings]
        if self.facts is None or self.analysis is None:
            return found
        for attr in self.facts.init.attrs.values():
            if attr.built.kind != "module_class" or attr.frozen:
                continue
            sub = self.analysis.submodule_report(self.info, attr.built.ctor)
            if sub is not None:
                found += sub._culprits(outer, f"{prefix}.{attr.name}", seen)
        return found


def file_framework(index: FileIndex) -> str:
    roots = {value.split(".")[0] for value in index.aliases.values()}
    if "fastNLP" in roots:
        return "fastnlp"
    if "accelerate" in roots and _uses_accelerator(index):
        return "accelerate"
    if roots & {"lightning", "pytorch_lightning"}:
        return "lightning"
    if "fairseq" in roots:
        return "fairseq"  # code written for fairseq trains with fairseq-train, which owns the DDP flag
    return "torch"


_ACCELERATE_ENTRIES = ("Accelerator", "DistributedDataParallelKwargs")


def _uses_accelerator(index: FileIndex) -> bool:
    """The file trains with accelerate (names its ``Accelerator`` or its DDP kwargs), not merely imports a helper
    of it (peft's ``accelerate.hooks``): only then is accelerate's spelling of the flag the hint to give."""
    if any(value.split(".")[0] == "accelerate" and value.rsplit(".", 1)[-1] in _ACCELERATE_ENTRIES
           for value in index.aliases.values()):
        return True
    modules = [name for name, value in index.aliases.items() if value == "accelerate"]  # `import accelerate`
    text = "".join(index.lines)
    return any(f"{name}.{entry}" in text for name in modules for entry in _ACCELERATE_ENTRIES)


def entry_point(index: FileIndex, info: ClassInfo, kind: str, mro: List[ClassInfo],
                settings: Settings) -> Optional[str]:
    names: List[str] = list(settings.entry_points)
    if kind == "lightning":
        names.append("training_step")
    names += ["train_step", "forward"]
    for name in names:
        for owner in mro:
            func = owner.methods.get(name)
            if func is not None:
                return None if _is_abstract(func) else name
    return None


def _is_abstract(func: ast.AST) -> bool:
    body = list(getattr(func, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if not body:
        return True
    if len(body) == 1:
        stmt = body[0]
        if isinstance(stmt, ast.Pass):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
            return True
        if isinstance(stmt, ast.Raise):
            return True
    return False


class FileAnalysis:
    """Analysis of one file; class reports are computed once and shared with launch-site checks."""

    def __init__(self, index: FileIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.file = file_facts(index.tree, index.lines, index)
        self.framework = file_framework(index)
        self._reports: Dict[str, ClassReport] = {}
        self._ran = False
        self._verdicts: Dict[str, Dict[Tuple[str, str], Verdict]] = {}
        self.skipped: List[Skip] = []  # what this file's analysis gave up on (see skips.py)
        self._words: Dict[str, Counter] = {}  # file name -> how often each identifier is written in it

    def class_facts(self, info: ClassInfo, kind: str) -> Optional[ClassFacts]:
        mro, complete = self.index.mro(info)
        entry = entry_point(self.index, info, kind, mro, self.settings)
        if entry is None:
            return None
        if len(mro) > MAX_MRO:
            if info.module is self.index:
                self.skipped.append(Skip(self.index.filename, info.node.lineno, f"class {info.name}",
                                         f"it inherits through more than {MAX_MRO} classes"))
            return None
        init = InitCollector(self.index, info, mro, complete).collect()
        bind_handed_modules(info, init)  # `self.encoder = encoder`: the module the project hands over
        if not init.attrs:
            # nothing trainable to judge: skip the libcst parse of the training step
            return ClassFacts(info.name, kind, entry, init, FlowResult(entry=entry), self.file, self.framework)
        flow = ModelFlow(self.index, info, mro, init, complete).run(entry)
        framework = {"lightning": "lightning", "hf": "hf"}.get(kind, self.framework)
        if framework == "hf" and not trains_with_hf_trainer(self.index.filename):
            framework = self.framework  # a PreTrainedModel the project trains without transformers' Trainer
        if entry == "train_step" and framework == "torch":
            framework = "fastnlp"
        facts = ClassFacts(info.name, kind, entry, init, flow, self.file, framework)
        for name in sorted(self._external_entries(mro, entry)):
            facts.extra_flows.append(ModelFlow(self.index, info, mro, init, complete).run(name))
        optional = frozenset(name for name, attr in init.attrs.items() if attr.built_under is not None)
        facts.rescued = rescuer(mro, entry, called_method_names(self.index.filename),
                                lambda name: ModelFlow(self.index, info, mro, init, complete).run(name),
                                optional)
        return facts

    def _external_entries(self, mro: List[ClassInfo], entry: str) -> set:
        names = set()
        for owner in mro:
            for name in owner.methods:
                if name in self.file.external_calls and name != entry and not name.startswith("__"):
                    names.add(name)
        return names

    def verdicts(self, facts: ClassFacts, mro: Sequence[ClassInfo] = ()) -> Dict[str, Verdict]:
        if facts.flow.silent:
            return self.plain_verdicts(facts, mro) if facts.flow.limit else {}
        by_attr: Dict[str, List[Use]] = {}
        for use in facts.flow.uses:
            by_attr.setdefault(use.attr, []).append(use)
        verdicts = {}
        for name, attr in facts.init.attrs.items():
            uses = by_attr.get(name, [])
            if name in facts.init.held_in or name in facts.init.handed:
                held = self._held_uses(attr, facts, by_attr)
                if held is None:
                    continue
                uses = uses + held
            elif self._never_judged(attr, facts):
                continue
            verdict = judge_attribute(attr, uses, facts)
            if verdict.status not in (LIVE, UNDECIDED) and self._live_elsewhere(attr, facts):
                verdict = Verdict(UNDECIDED)
            elif verdict.status not in (LIVE, UNDECIDED, "batch") and facts.rescued and facts.rescued(name):
                verdict = Verdict(UNDECIDED)  # another public method hands out its gradient (loss code may call it)
            elif verdict.status == "unused" and attr.built_under is not None and facts.flow.unsupported:
                verdict = Verdict(UNDECIDED)  # built only for a configuration whose forward raises NotImplementedError
            verdicts[name] = verdict
        return verdicts

    def _held_uses(self, attr: TrainableAttr, facts: ClassFacts, by_attr: Dict[str, List[Use]]
                   ) -> Optional[List[Use]]:
        """`self.net1.bias = self.bias`: the parameter runs wherever net1 runs, so net1's uses are its uses too
        (whole: net1's forward reads all of it). None when a holder is not judged itself (frozen, read from
        outside, unknown): then neither is the parameter."""
        init = facts.init
        if self._never_judged(attr, replace(facts, init=replace(init, held_in={}, handed={}))):
            return None
        uses: List[Use] = []
        for holder in sorted(init.held_in.get(attr.name, ())):
            owner = init.attrs.get(holder)
            if owner is None or self._never_judged(owner, facts):
                return None
            uses += [replace(use, index=WHOLE, part=None) for use in by_attr.get(holder, [])]
        # handed to a function that keeps it in a holder only under flag tests (handed.py): the holder's uses,
        # under those tests too
        for holder, conds in init.handed.get(attr.name, ()):
            owner = init.attrs.get(holder)
            if owner is None or self._never_judged(owner, facts):
                return None
            tests = tuple(Guard(STATIC, text, flag, polarity) for flag, polarity, text in sorted(conds))
            uses += [replace(use, index=WHOLE, part=None, guards=tests + use.guards)
                     for use in by_attr.get(holder, [])]
        return uses

    @staticmethod
    def _live_elsewhere(attr: TrainableAttr, facts: ClassFacts) -> bool:
        for flow in facts.extra_flows:
            if flow.silent:
                return True
            other = replace(facts, flow=flow, extra_flows=[])
            uses = [use for use in flow.uses if use.attr == attr.name]
            if judge_attribute(attr, uses, other).status in (LIVE, UNDECIDED):
                return True
        return False

    def plain_verdicts(self, facts: ClassFacts, mro: Sequence[ClassInfo]) -> Dict[str, Verdict]:
        """The flow analysis stopped at a limit, but a plain fact still holds: trainable state whose name is
        written exactly once in all the code of the class's hierarchy (its own `self.x = ...`) is never used.
        Anything else about the class stays undecided."""
        if not mro or facts.init.dynamic_attrs or facts.init.reads_unknown_init:
            return {}
        files = {info.module.filename: info.module for info in mro}
        files[self.index.filename] = self.index
        words: Counter = Counter()
        for name, index in files.items():
            if name not in self._words:
                self._words[name] = Counter(_WORD.findall("".join(index.lines)))
            words.update(self._words[name])
        for info in mro:
            for method, func in list(info.methods.items()) + list(info.properties.items()):
                if method == "__init__":
                    continue
                body = info.module.lines[func.lineno - 1:func.end_lineno or func.lineno]
                if _UNNAMED_ACCESS & set(_WORD.findall("".join(body))):
                    return {}
        verdicts = {}
        for name, attr in facts.init.attrs.items():
            if attr.built.kind in TRAINABLE_KINDS and words[name] == 1 and not self._never_judged(attr, facts):
                verdicts[name] = Verdict("unused")
        return verdicts

    def _frozen_in_family(self, attr: TrainableAttr, facts: ClassFacts) -> bool:
        """Frozen through `self.x` in the analysed class, the class that builds it, or a relative."""
        frozen_by = {cls for cls, name in self.file.frozen_attrs if name == attr.name}
        if not frozen_by:
            return False
        if frozen_by & {facts.name, attr.owner}:
            return True
        for name in frozen_by:
            info = self.index.classes.get(name)
            if info is not None and attr.owner in {c.name for c in self.index.mro(info)[0]}:
                return True  # a subclass freezes what its base builds
        return False

    def _never_judged(self, attr: TrainableAttr, facts: ClassFacts) -> bool:
        return (
            attr.frozen
            or self._frozen_in_family(attr, facts)
            or attr.name in self.file.frozen_names
            or facts.name in self.file.frozen_classes
            or attr.owner in self.file.frozen_classes
            or attr.name in self.file.external_reads
            or attr.name in facts.init.shared
            or attr.name in self.file.tied_names
            or bool({attr.name, "self"} & facts.init.eval_mode)
            or attr.name in facts.init.held_in  # judged with its holders' uses (verdicts), by nothing else
            or attr.name in facts.init.handed
        )

    def run(self) -> List[Finding]:
        self._ran = True
        classes = list(self.index.module_classes())
        per_class: List[Tuple[ClassInfo, ClassFacts, Dict[str, Verdict]]] = []
        for info, kind in classes:
            facts = self.class_facts(info, kind)
            if facts is None:
                continue
            per_class.append((info, facts, self.verdicts(facts, self.index.mro(info)[0])))
            self._record_limits(info, facts)
        # The classes that get trained are the most derived ones: an attribute is reported when a leaf
        # of the file's class hierarchy leaves it without gradient. A base that is only subclassed is not
        # judged by its own forward (its subclasses override it); each class's report, which launch
        # sites use for the model they start, still holds that class's own verdicts.
        bases = {(c.module.filename, c.name) for info, _, _ in per_class for c in self.index.mro(info)[0][1:]}
        findings: Dict[Tuple[int, str, str], Finding] = {}
        named_by_builder: Dict[Tuple[int, str, str], Finding] = {}
        verdicts_by_class = {info.name: verdicts for info, _, verdicts in per_class}
        children = {info.name: (info, facts, verdicts) for info, facts, verdicts in per_class
                    if info.module is self.index}
        decided: set = set()  # (class, attribute): its optional argument is decided by its owners' calls
        omitted = {info.name: omitted_argument_findings(info, facts, children, self.file.external_reads, decided)
                   for info, facts, _ in per_class}
        # frozen by train() after the DDP wrap (DDP103): a fact of the class's methods, not of its training step;
        # reported on the class's own lines only, not handed to launch sites as culprits (the finding usually holds
        # under a configuration test that the launch's message would not state)
        late = {info.name: late_freeze_findings(facts, self.index.mro(info)[0], self.file)
                for info, facts, _ in per_class}
        for info, facts, verdicts in per_class:
            own: List[Finding] = []
            here: List[Finding] = []  # about `self.x = ...` lines of this file (a base may live elsewhere)
            for name, verdict in verdicts.items():
                if verdict.status in (LIVE, UNDECIDED):
                    continue
                attr = facts.init.attrs[name]
                found = findings_for(facts, attr, verdict)
                own += found
                if attr.file == self.index.filename:
                    here += [self._on_subclass(info, attr, f, verdicts_by_class) for f in found]
            partial = partial_findings(facts, {n for n, v in verdicts.items() if v.status == LIVE},
                                       self.file.frozen_names, self.index.mro(info)[0])
            own += partial
            here += [f for f in partial if facts.init.attrs[f.attr_name].file == self.index.filename]
            own += omitted[info.name]  # a child's submodule needing an argument this class never passes
            here += [f for f in omitted[info.name] if facts.init.attrs[f.attr_name].file == self.index.filename]
            here = [f for f in here if not (f.code == "DDP901" and (info.name, f.attr_name) in decided)]
            self._reports[info.name] = ClassReport(info, facts, own, self)
            is_base = (info.module.filename, info.name) in bases
            if is_base:
                # a base's own forward is overridden by what gets trained, but an attribute it builds that is
                # dead in it and in every subclass is its own finding: the message names the class that builds it
                here = [f for f in here if facts.init.attrs[f.attr_name].owner == info.name
                        and _dead_in_all(f.attr_name, verdicts_by_class)]
            if facts.flow.silent and not facts.flow.limit:
                here = []  # the training step could not be judged
            here += [f for f in late[info.name] if facts.init.attrs[f.attr_name].file == self.index.filename
                     and (not is_base or _late_in_all(info, f, per_class, late))]
            if not here:
                continue
            if not offers_training(info) and built_only_for_eval(info.name, self.index.filename):
                continue  # every construction site in the project puts it in eval mode: never trained
            if never_trained(info, self.settings):
                continue  # every use in the project runs it without gradients (inference_only.py)
            for finding in here:
                (named_by_builder if is_base else findings).setdefault(
                    (finding.line, finding.code, finding.attr), finding)
        # the same finding, made from a subclass, names the base that builds the attribute
        findings.update({key: f for key, f in named_by_builder.items() if key in findings})
        self.skipped = one_per_chain(self.skipped, self._local_bases)
        return sorted(findings.values(), key=lambda f: (f.line, f.col, f.code))

    def _local_bases(self, name: str) -> List[str]:
        """The bases of a class of this file that are classes of this file too."""
        info = self.index.classes.get(name)
        if info is None:
            return []
        found = [self.index.local_class(base) for base in info.base_names if base]
        return [base.name for base in found if base is not None and base.module is self.index]

    @staticmethod
    def _on_subclass(info: ClassInfo, attr: TrainableAttr, finding: Finding,
                     verdicts_by_class: Dict[str, Dict[str, Verdict]]) -> Finding:
        """A finding about what a base builds but only this subclass leaves without gradient goes where
        `# noqa` silences this subclass alone: its `__init__` (or its class line), not the base's line."""
        if attr.owner == info.name:
            return finding
        live_elsewhere = any(verdicts.get(attr.name, Verdict(UNDECIDED)).status in (LIVE, UNDECIDED)
                             for name, verdicts in verdicts_by_class.items()
                             if name != info.name and (name == attr.owner or attr.name in verdicts))
        if not live_elsewhere:
            return finding  # dead in the base and its other subclasses too: the base's line is the place
        node = info.methods.get("__init__") or info.node
        line = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return replace(finding, line=line, col=node.col_offset)

    def _record_limits(self, info: ClassInfo, facts: ClassFacts) -> None:
        """A class of this file whose training step (or another method called from outside) was not
        analysed to the end is recorded, with the reason."""
        if info.module is not self.index:
            return
        for flow in [facts.flow] + facts.extra_flows:
            if flow.limit:
                reason = flow.limit if flow is facts.flow else f"{flow.entry}(): {flow.limit}"
                self.skipped.append(Skip(self.index.filename, info.node.lineno, f"class {info.name}", reason))

    def report(self, class_name: str) -> Optional[ClassReport]:
        if not self._ran:
            self.run()
        return self._reports.get(class_name)

    def submodule_report(self, owner: ClassInfo, ctor: str) -> Optional[ClassReport]:
        """The report of the class that ``ctor`` (as written in ``owner``'s file) builds."""
        target = owner.module.local_class(owner.module.qualify_dotted(ctor))
        if target is None:
            return None
        if target.module is self.index:
            return self.report(target.name)
        return analysis_for(target.module, self.settings).report(target.name)


# (path, settings) -> the analysis of another file of the project, built on demand (a child class defined
# there, launch-site evidence) and kept while one linted file is checked.
_ANALYSES: Dict[Tuple[str, object], FileAnalysis] = {}


def analysis_for(index: FileIndex, settings: Settings) -> FileAnalysis:
    """The (cached) analysis of another file of the project, parsed once per process."""
    key = (os.path.abspath(index.filename), settings)
    analysis = _ANALYSES.get(key)
    if analysis is None or analysis.index is not index:
        analysis = FileAnalysis(index, settings)
        _ANALYSES[key] = analysis
    return analysis


def _release_analyses() -> None:
    project.release(*_ANALYSES.values())
    _ANALYSES.clear()


project.register_cache(_release_analyses, "file")
project.register_cache(_ANALYSES.clear, "trees")


def _dead_in_all(attr_name: str, verdicts_by_class: Dict[str, Dict[str, "Verdict"]]) -> bool:
    """No analysed class of the file that has this attribute uses it or leaves it undecided."""
    return all(verdicts[attr_name].status not in (LIVE, UNDECIDED)
               for verdicts in verdicts_by_class.values() if attr_name in verdicts)


def _late_in_all(base: ClassInfo, finding: Finding,
                 per_class: Sequence[Tuple[ClassInfo, ClassFacts, Dict[str, Verdict]]],
                 late: Dict[str, List[Finding]]) -> bool:
    """Every analysed subclass of a base freezes the attribute in train() only too (DDP103 on a base)."""
    return all(any(f.attr_name == finding.attr_name for f in late[info.name])
               for info, _, _ in per_class
               if info is not base and any(c is base for c in info.module.mro(info)[0][1:]))
