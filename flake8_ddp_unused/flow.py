"""Uses of trainable attributes along the training step, with their guards and data flow.

The entry method (``forward``, ``training_step``, ``train_step``) and every method it reaches are parsed
with libcst, method by method (only those, so the cost stays far below a whole-file parse), and
interpreted abstractly: each read of ``self.x`` becomes a :class:`Use` carrying the guards around it,
whether autograd was on, and a taint that follows the value through locals, containers, calls and
returns. The entry's result (or its ``loss`` entry) tells which uses reach the loss.
These are facts; ``rules.py`` judges them.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

import libcst as cst

from . import config_defaults, init_state, init_values, project, unroll
from .index import ClassInfo, FileIndex, FunctionNode, walk
from .init_facts import _MODULE_RETURNING_METHODS, InitFacts
from .nullness import NoneLinks, tensor_function
from .values import (ALWAYS, BATCH, BUILT, EMPTY, NEVER, OPTIONAL, STATIC, UNKNOWN, WHOLE, FlowResult, GiveUp, Guard,
                     Index, Limit, Taint, Use, Val, _flat_taint, _join_taints, detach, flatten, join)

NONE_VAL = Val(origin=frozenset({"const"}), truth=False)  # `None` as written (by identity: not `False`)

# ---------------------------------------------------------------------------------------------
# Knowledge about calls
# ---------------------------------------------------------------------------------------------
_NO_GRAD_CONTEXTS = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                     "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode"}
_DETACHING_METHODS = {"detach", "detach_", "item", "numpy", "tolist", "argmax", "argmin", "argsort", "long",
                      "int", "bool", "byte", "short", "nonzero", "eq", "ne", "gt", "lt", "ge", "le"}
_DETACHING_FUNCTIONS = {"torch.argmax", "torch.argmin", "torch.argsort", "torch.nonzero"}
_SHAPE_ATTRS = {"shape", "ndim", "dtype", "device", "is_cuda", "requires_grad", "is_sparse", "layout"}
_SHAPE_METHODS = {"size", "dim", "numel", "nelement", "ndimension", "get_device", "is_floating_point",
                  "is_contiguous", "stride"}
_SHAPE_FUNCTIONS = {"len", "isinstance", "hasattr", "callable", "type", "id", "issubclass"}
# Builtins whose result depends only on their arguments (not a global state we cannot see).
_PURE_BUILTINS = {"all", "any", "min", "max", "sum", "abs", "round", "bool", "int", "float", "pow", "divmod"}
# Results whose size depends on the data (`(labels > 0).nonzero()`, `x[mask]`): their length is a
# data value, so a test on it changes from batch to batch.
_DYNAMIC_SHAPE_METHODS = {"nonzero", "unique", "unique_consecutive", "masked_select", "argwhere"}
_DYNAMIC_SHAPE_FUNCTIONS = {"torch.nonzero", "torch.unique", "torch.unique_consecutive", "torch.masked_select",
                            "torch.argwhere"}
_PER_BATCH_ORIGINS = frozenset({"data", "random", "task"})
# Markers carried in a value's origin that say nothing about what the value changes with.
_DYNSHAPE, _MASK, _DYNSIZE, _EACH = "dynshape", "mask", "dynsize", "each"
_POSITION = "position"  # the counter of `for i, x in enumerate(...)`
_MARKERS = frozenset({_DYNSHAPE, _MASK, _EACH})
# Results that no longer have the selection's length: Python values and whole reductions.
_SIZE_DROPPING_METHODS = {"item", "tolist", "numpy", "sum", "mean", "max", "min", "prod", "any", "all", "norm"}
# Methods whose arguments give only a shape or a type: the result holds the receiver's values.
_SHAPE_ARGUMENT_METHODS = {"reshape", "view", "expand", "repeat", "permute", "transpose", "flatten", "unflatten",
                           "unsqueeze", "squeeze", "narrow", "view_as", "reshape_as", "expand_as", "to", "type",
                           "new_zeros", "new_ones", "new_full", "new_empty", "movedim", "contiguous", "split",
                           "chunk", "tile"}
_COMPARISON_METHODS = {"eq", "ne", "gt", "lt", "ge", "le", "bool", "isin", "logical_not", "logical_and",
                       "logical_or", "isnan", "isinf", "isfinite"}
_RANDOM_METHODS = {"uniform_", "bernoulli_", "random_", "normal_", "exponential_", "geometric_", "cauchy_"}
_RANDOM_PREFIXES = ("random.", "numpy.random.", "np.random.")
_RANDOM_FUNCTIONS = {"torch.rand", "torch.rand_like", "torch.randint", "torch.randint_like", "torch.randn",
                     "torch.randn_like", "torch.bernoulli", "torch.multinomial", "torch.randperm",
                     "torch.normal", "torch.poisson"}
_RANK_FUNCTIONS = {"torch.distributed.get_rank", "torch.distributed.get_world_size"}
_RANK_ATTRS = {"global_rank", "local_rank", "rank", "is_global_zero"}
_FALSE_IN_TRAINING = {"torch.jit.is_scripting", "torch.jit.is_tracing", "torch.onnx.is_in_onnx_export",
                      "torch.compiler.is_compiling", "torch._dynamo.is_compiling"}
# Under DistributedDataParallel neither DeepSpeed ZeRO-3 nor FSDP manages the model (transformers asks both).
_FALSE_UNDER_DDP = {"is_deepspeed_zero3_enabled", "is_fsdp_managed_module", "is_fsdp_enabled"}
# Calls whose arguments are only logged: they neither carry gradient nor lose the flow.
_LOG_SINKS = {"print", "logging.info", "logging.debug", "logging.warning", "warnings.warn", "wandb.log"}
_SELF_LOG_SINKS = {"log", "log_dict", "print", "logger"}
# nn.Module API that hands out every submodule or parameter: usage becomes undecidable.
_SELF_ESCAPES = {"children", "named_children", "modules", "named_modules", "parameters", "named_parameters",
                 "state_dict", "apply", "get_submodule", "get_parameter", "buffers", "named_buffers",
                 "_modules", "_parameters", "__dict__", "__getattr__", "_apply", "zero_grad"}
_BACKWARD_SELF_METHODS = {"manual_backward"}
# nn.Module's own methods: defined by torch, not in the class, and not a module of the instance
_MODULE_API = {"register_buffer", "register_parameter", "register_module", "add_module", "train", "eval", "to",
               "cuda", "cpu", "float", "half", "double", "bfloat16", "type", "requires_grad_",
               "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook", "get_buffer",
               "get_extra_state", "set_extra_state", "load_state_dict", "extra_repr", "_get_name"}
# Calls that hand module references on as they are (iteration helpers): the call site of what they
# return is where the modules run.
_KEEPS_REFERENCES = {"enumerate", "zip", "reversed", "list", "tuple", "iter", "next", "sorted", "getattr",
                     "filter", "itertools.chain", "itertools.islice", "itertools.zip_longest",
                     "itertools.pairwise", "typing.cast", "cast"}

_MAX_DEPTH = 8
_MAX_STEPS = 40000
_MAX_USES = 1000


def _dotted(node: cst.BaseExpression) -> Optional[str]:
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _is_self_attr(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Attribute) and _is_self(node.value):
        return node.attr.value
    return None


_CODE_MODULE = cst.Module(body=[])


_CODE_TEXTS: Dict[cst.CSTNode, str] = {}  # by identity (libcst nodes hash by id); dropped before each file


def code_of(node: cst.CSTNode) -> str:
    """The node's source on one line. Kept per node: the interpreter classifies the same test again in every
    context that inlines its method and on each pass of a loop, and libcst's code generation was a tenth of
    the CPU of transformers' slowest files."""
    text = _CODE_TEXTS.get(node)
    if text is None:
        text = _CODE_TEXTS[node] = " ".join(_CODE_MODULE.code_for_node(node).split())
    return text


project.register_cache(_CODE_TEXTS.clear, "file")


def _int_of(node: Optional[cst.BaseExpression]) -> Optional[int]:
    if node is None:
        return None
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _int_of(node.expression)  # type: ignore[arg-type]
        return -inner if inner is not None else None
    raise ValueError("not an int literal")


# ---------------------------------------------------------------------------------------------
# Parsing methods with libcst (only the methods the analysis reads)
# ---------------------------------------------------------------------------------------------
# libcst nests what ast keeps flat (`a and b and c`), is super-linear on deep nesting and its native parser
# overflows the C stack (a segfault, the whole flake8 run lost) from a few thousand levels.
MAX_EXPRESSION_DEPTH = 100


def parse_method(module: FileIndex, func: FunctionNode) -> cst.FunctionDef:
    """Parse one method's source with libcst, cached on the file's index (freed with it)."""
    first = min([func.lineno] + [d.lineno for d in func.decorator_list])
    cached = module.method_parse_cache.get(first)
    if cached is not None:
        return cached
    depth = func.__dict__.get("_cst_nesting")  # kept on the node: a base's method is parsed for every file
    if depth is None:
        depth = func.__dict__["_cst_nesting"] = cst_nesting(func)
    if depth > MAX_EXPRESSION_DEPTH:
        raise Limit(f"{func.name}() nests expressions {depth} deep, limit {MAX_EXPRESSION_DEPTH}")
    last = func.end_lineno or func.lineno
    _spend_parse_budget(module, func.name, last - first + 1)
    segment = "".join(_formfeed_free(line) for line in module.lines[first - 1:last])
    if not segment.endswith("\n"):
        segment += "\n"
    # An indented block parses under any header; "if 1:" keeps the method's own indentation.
    try:
        wrapper = _parse_unvalidated("if 1:\n" + segment)
    except (cst.ParserSyntaxError, RecursionError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Limit(f"libcst cannot parse {func.name}(): {first_line}") from None
    statement = wrapper.body[0]
    assert isinstance(statement, cst.If)
    node = statement.body.body[0]  # type: ignore[union-attr]
    if not isinstance(node, cst.FunctionDef):
        raise GiveUp("method did not parse as a function")
    module.method_parse_cache[first] = node
    return node


_VALIDATE = cst.CSTNode.__post_init__


def _skip_validation(self: cst.CSTNode) -> None:
    return None


def _parse_unvalidated(source: str) -> cst.Module:
    """``cst.parse_module`` without the checks each node's constructor runs (``CSTNode.__post_init__``): they
    guard trees built by hand, and the parser's own trees pass them by construction. They were about a sixth
    of the parse's CPU, and parsing the methods is the largest single cost of the analysis (timm)."""
    cst.CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
    try:
        return cst.parse_module(source)
    finally:
        cst.CSTNode.__post_init__ = _VALIDATE  # type: ignore[method-assign]


# libcst holds ~25 KB and spends ~0.2 ms per line it parses: the lines parsed are the memory and time budget.
MAX_METHOD_LINES = 5000
PARSE_BUDGET_LINES = 20000  # per file, on top of the file's own length


def _spend_parse_budget(module: FileIndex, name: str, lines: int) -> None:
    if lines > MAX_METHOD_LINES:
        raise Limit(f"{name}() has {lines} lines, limit {MAX_METHOD_LINES}")
    budget = PARSE_BUDGET_LINES + len(module.lines)
    if module.parsed_lines + lines > budget:
        raise Limit(f"the file's budget of {budget} re-parsed lines is spent")
    module.parsed_lines += lines


def _formfeed_free(line: str) -> str:
    """CPython's tokenizer restarts the indentation column at a form feed; libcst does not. Drop the
    indentation up to the last form feed so that both read the same block structure."""
    if "\f" not in line:
        return line
    stripped = line.lstrip(" \t\f")
    indent = line[:len(line) - len(stripped)]
    return indent[indent.rfind("\f") + 1:] + stripped if "\f" in indent else line


def cst_nesting(node: ast.AST) -> int:
    """The deepest nesting of expressions as libcst builds them, measured on the ast (iteratively): a
    boolean or comparison chain is flat in ast but libcst nests one level per operand. Stops counting
    once past the limit."""
    deepest = 0
    stack: List[Tuple[ast.AST, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_EXPRESSION_DEPTH:
                break
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.expr):
                extra = len(child.values) - 1 if isinstance(child, ast.BoolOp) else (
                    len(child.ops) - 1 if isinstance(child, ast.Compare) else 0)
                stack.append((child, depth + 1 + extra))
            else:
                stack.append((child, depth))
    return deepest


# ---------------------------------------------------------------------------------------------
# The interpreter
# ---------------------------------------------------------------------------------------------
@dataclass
class Frame:
    owner: ClassInfo  # the class defining the method being interpreted (for super())
    method: str
    guards: Tuple[Guard, ...]
    no_grad: bool
    depth: int
    returns: List[Val] = field(default_factory=list)
    return_guards: List[Tuple[Guard, ...]] = field(default_factory=list)  # the guards of each `return`
    stack: Tuple[str, ...] = ()


FALLS, EXITS, JUMPS = "falls", "exits", "jumps"  # a block runs on / returns or raises / continue or break


def _assigned_in(cls: ast.ClassDef) -> Tuple[FrozenSet[str], List[Tuple[FrozenSet[str], FrozenSet[str]]]]:
    """One class's own assignments, read once per class (``FlowAnalyzer._assigned_in_class`` joins them over
    the MRO): the names assigned (``self.<name> = ...``, class-level names, "*" for ``setattr``), and per
    assignment that may store a bound method (``self.f = self.m``) its attribute targets and the ``self``
    attributes it may hold."""
    assigned: set = set()
    holders: List[Tuple[FrozenSet[str], FrozenSet[str]]] = []
    for node in walk(cls):
        targets: List[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
            held = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
            self_held = frozenset(v.attr for v in held if isinstance(v, ast.Attribute)
                                  and isinstance(v.value, ast.Name) and v.value.id == "self")
            if self_held:
                holders.append((frozenset(t.attr for t in targets if isinstance(t, ast.Attribute)), self_held))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                parts: Iterable[ast.AST] = (target, target.value)  # `self.x`, `x`: what the walk finds, unwalked
            else:
                parts = (target,) if isinstance(target, ast.Name) else walk(target)
            for part in parts:
                if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "self":
                    assigned.add(part.attr)
                elif isinstance(part, ast.Name):
                    assigned.add(part.id)  # class-level names (and locals: harmless)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            assigned.add("*")
    return frozenset(assigned), holders


class FlowAnalyzer:
    judged_at_defaults = True  # the class as its own constructor's defaults build it (not an instance built by a
    # caller with other arguments: summaries.InstanceFlow)

    def __init__(self, index: FileIndex, cls: ClassInfo, mro: List[ClassInfo], init: InitFacts,
                 mro_complete: bool) -> None:
        self.index = index
        self.cls = cls
        self.mro = mro
        self.init = init
        self.mro_complete = mro_complete
        self.uses: List[Use] = []
        self.escaped: set = set()
        self.stored: set = set()  # use ids whose value was stored on self (`self.samples = f(self.logits)`)
        self.unsupported = False
        self.entry_args: Dict[str, Val] = {}  # the entry's arguments as bound (identity: not reassigned)
        self._assigned: Optional[set] = None
        self._bound_holders: set = set()  # self attributes assigned a bound method somewhere
        self.consumed: set = set()  # references whose use was recorded again at a call site
        self.entry_returns: List[Tuple[Val, Tuple[Guard, ...]]] = []
        self.backward: Taint = {}
        self.steps = 0
        self.parts: Dict[int, Tuple[object, object]] = {}  # use id -> (child summary, part), see summaries.py
        self.partial_call: Tuple[Optional[cst.CSTNode], bool] = (None, False)  # a call whose result is
        # used in part (indexed, read by attribute, assigned) or returned
        self.unrolling = 0  # inside an unrolled loop (unroll.py): loop variables hold known values
        self._past: List[Tuple[Val, int]] = []  # loop counters known to be past every listed position
        self._last_items: Dict[str, Tuple[Val, object, str]] = {}  # loop name -> (the last item, its summary,
        # the container): `block(...)` in the peeled last iteration of `for block in self.blocks`

    def _config_scope(self) -> config_defaults.ConfigScope:
        """The configuration objects the class reads and their literal defaults (config_defaults.py)."""
        scope = self.__dict__.get("_config")
        if scope is None:
            scope = self.__dict__["_config"] = config_defaults.ConfigScope(
                self.index, self.cls, self.mro, config_defaults.resolve_class)
        return scope

    # ---- lookup ----
    def lookup(self, name: str, start: int = 0) -> Optional[Tuple[ClassInfo, FunctionNode, bool]]:
        for info in self.mro[start:]:
            if name in info.methods:
                return info, info.methods[name], False
            if name in info.properties:
                return info, info.properties[name], True
        return None

    def _assigned_in_class(self, name: str) -> bool:
        """`self.<name> = ...` (or a class-level `<name> = ...`) somewhere in the readable classes."""
        if self._assigned is None:
            self._assigned = set()
            methods = {name for info in self.mro for name in info.methods}
            for info in self.mro:
                assigned, holders = info.fact("flow.assigned", lambda: _assigned_in(info.node))
                self._assigned.update(assigned)
                for targets, held in holders:
                    if not held.isdisjoint(methods):
                        self._bound_holders.update(targets)
        return name in self._assigned or "*" in self._assigned

    def _mro_position(self, owner: ClassInfo) -> int:
        for i, info in enumerate(self.mro):
            if info is owner:
                return i
        return 0

    # ---- entry ----
    def run(self, entry: str) -> FlowResult:
        found = self.lookup(entry)
        result = FlowResult(entry=entry)
        if found is None:
            result.silent = "no entry point"
            return result
        owner, func, _ = found
        if _decorated_no_grad(owner, func):
            result.silent = "the entry point runs without autograd: an inference-only module"
            return result
        try:
            returned = self.call_method(owner, func, entry, None, [], {}, guards=(), no_grad=False, depth=0,
                                        stack=())
        except GiveUp as why:
            result.silent = str(why) or "undecidable"
            if isinstance(why, Limit):
                result.limit = result.silent
            return result
        except RecursionError:
            result.silent = result.limit = f"{entry}() nests too deep for the interpreter"
            return result
        result.uses = [use for use in self.uses if use.id not in self.consumed]
        result.escaped = self.escaped
        result.stored = self.stored
        result.unsupported = self.unsupported
        result.returned = returned
        result.parts = self.parts
        chosen, narrowed = self._loss_part(returned)
        result.result = _join_taints([_flat_taint(chosen), self.backward])
        result.loss_key = narrowed
        result.backward = dict(self.backward)
        result.paths = [(_flat_taint(self._loss_part(value)[0]), guards)
                        for value, guards in self.entry_returns]
        return result

    def _loss_part(self, val: Val) -> Tuple[Val, bool]:
        keys = dict(val.keys or ())
        if "loss" in keys:
            return keys["loss"], True
        return val, False

    # ---- calls ----
    def call_method(self, owner: ClassInfo, func: FunctionNode, name: str, this: Optional[Val],
                    args: Sequence[Val], kwargs: Dict[str, Val], guards: Tuple[Guard, ...], no_grad: bool,
                    depth: int, stack: Tuple[str, ...]) -> Val:
        key = f"{owner.module.filename}:{owner.name}.{name}"
        if key in stack:  # recursion: its uses are those of the call being run; what it returns, its inputs
            return join(*args, *kwargs.values())
        if depth > _MAX_DEPTH:  # not run, its uses would be missing: a wrong "unused" (a super() chain)
            raise Limit(f"calls nest more than {_MAX_DEPTH} deep")
        node = parse_method(owner.module, func)
        decorators = {(_dotted(d.decorator.func) if isinstance(d.decorator, cst.Call) else _dotted(d.decorator))
                      for d in node.decorators}
        qualified = {owner.module.qualify_dotted(d) for d in decorators if d}
        if qualified & _NO_GRAD_CONTEXTS:
            no_grad = True
        frame = Frame(owner, name, guards, no_grad, depth, stack=stack + (key,))
        env: Dict[str, Val] = {}
        self._bind_params(node.params, args, kwargs, env, entry=(depth == 0),
                          skip_self=("staticmethod" not in decorators))
        self.exec_block(node.body, env, frame)
        if depth == 0:
            self.entry_returns = list(zip(frame.returns, frame.return_guards))
        if not frame.returns:
            return EMPTY
        return join(*frame.returns)

    def _bind_params(self, params: cst.Parameters, args: Sequence[Val], kwargs: Dict[str, Val],
                     env: Dict[str, Val], entry: bool, skip_self: bool = True) -> None:
        positional = list(params.posonly_params) + list(params.params)
        if skip_self and positional:
            positional = positional[1:]
        for i, param in enumerate(positional):
            name = param.name.value
            if i < len(args):
                env[name] = args[i]
            elif name in kwargs:
                env[name] = kwargs[name]
            else:
                env[name] = self._param_origin(param) if entry else self._default_value(param)
            if entry:
                self.entry_args[name] = env[name]
        for param in params.kwonly_params:
            name = param.name.value
            if name not in kwargs:
                env[name] = self._param_origin(param) if entry else self._default_value(param)
            else:
                env[name] = kwargs[name]
            if entry:
                self.entry_args[name] = env[name]
        extra = list(args[len(positional):]) + [v for k, v in kwargs.items() if k not in env]
        if isinstance(params.star_arg, cst.Param):
            env[params.star_arg.name.value] = join(*args[len(positional):]) if args[len(positional):] else Val(
                origin=frozenset({"data"}))
        if params.star_kwarg is not None:
            env[params.star_kwarg.name.value] = join(*extra) if extra else Val(origin=frozenset({"data"}))

    @classmethod
    def _default_value(cls, param: cst.Param) -> Val:
        """A helper called without this argument gets its default: a literal is a constant
        (`forward_head(x)` runs with `pre_logits=False`)."""
        truth = _literal_truth(param.default) if param.default is not None else None
        if truth is None:
            return cls._param_origin(param)
        return Val(origin=frozenset({"const"}), truth=truth)

    @staticmethod
    def _param_origin(param: cst.Param) -> Val:
        default = param.default
        annotation = code_of(param.annotation.annotation) if param.annotation else ""
        if default is None:
            kind = "task" if annotation in ("str", "Optional[str]") else "data"
        elif isinstance(default, cst.Name) and default.value == "None":
            kind = "task" if annotation in ("str", "Optional[str]") else "optional"
        elif isinstance(default, cst.Name) and default.value in ("True", "False"):
            kind = "optional"
        elif isinstance(default, (cst.SimpleString, cst.ConcatenatedString)):
            kind = "task"
        else:
            kind = "unknown"
        return Val(origin=frozenset({kind}))

    # ---- statements ----
    def exec_block(self, body: Union[cst.BaseSuite, Sequence[cst.CSTNode]], env: Dict[str, Val],
                   frame: Frame) -> str:
        statements: Sequence[cst.CSTNode]
        if isinstance(body, cst.IndentedBlock):
            statements = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            statements = body.body
        else:
            statements = body  # type: ignore[assignment]
        guards_before = frame.guards
        status = FALLS
        for stmt in statements:
            status = self.exec_stmt(stmt, env, frame)
            if status != FALLS:
                break
        frame.guards = guards_before
        return status

    def exec_stmt(self, stmt: cst.CSTNode, env: Dict[str, Val], frame: Frame) -> str:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise Limit(f"its training step runs more than {_MAX_STEPS} statements")
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                status = self.exec_small(small, env, frame)
                if status != FALLS:
                    return status
            return FALLS
        if isinstance(stmt, cst.If):
            return self.exec_if(stmt, env, frame)
        if isinstance(stmt, (cst.For, cst.While)):
            return self.exec_loop(stmt, env, frame)
        if isinstance(stmt, cst.With):
            return self.exec_with(stmt, env, frame)
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            return self.exec_try(stmt, env, frame)
        if isinstance(stmt, cst.FunctionDef):
            env[stmt.name.value] = Val(func=stmt)
            return FALLS
        if isinstance(stmt, cst.ClassDef):
            return FALLS
        if isinstance(stmt, cst.Match):
            saved = frame.guards
            frame.guards = saved + (Guard(UNKNOWN, "match"),)
            for case in stmt.cases:
                self.exec_block(case.body, env, frame)
            frame.guards = saved
            return FALLS
        return FALLS

    def exec_small(self, small: cst.BaseSmallStatement, env: Dict[str, Val], frame: Frame) -> str:
        if isinstance(small, cst.Return):
            self.partial_call = (small.value, True)
            value = self.eval(small.value, env, frame) if small.value else EMPTY
            frame.returns.append(value)
            frame.return_guards.append(frame.guards)
            return EXITS
        if isinstance(small, cst.Raise):
            if small.exc is not None:
                self.eval(small.exc, env, frame)
                raised = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
                if frame.guards and _dotted(raised) == "NotImplementedError":
                    self.unsupported = True
            return EXITS
        if isinstance(small, (cst.Continue, cst.Break)):
            return JUMPS
        if isinstance(small, cst.Assign):
            self.partial_call = (small.value, False)  # `out = self.bert(x)`: its parts may be read later
            value = self.eval(small.value, env, frame)
            target = small.targets[0].target if len(small.targets) == 1 else None
            if isinstance(target, cst.Name) and env.get(target.value) is NONE_VAL and value.present is None and (
                    self._surely_set(small.value, frame)):
                value = replace(value, present=())  # never None, where it was (see exec_if: `x = None; if c: ...`)
            for target in small.targets:
                self.assign(target.target, value, env, frame)
            return FALLS
        if isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.partial_call = (small.value, False)
                self.assign(small.target, self.eval(small.value, env, frame), env, frame)
            return FALLS
        if isinstance(small, cst.AugAssign):
            value = self.eval(small.value, env, frame)
            current = self.eval(small.target, env, frame)
            self.assign(small.target, join(flatten(current), flatten(value)), env, frame)
            return FALLS
        if isinstance(small, cst.Expr):
            self.exec_expression_statement(small.value, env, frame)
            return FALLS
        if isinstance(small, cst.Assert):
            self.eval(small.test, env, frame, test=True)
            return FALLS
        if isinstance(small, (cst.Global, cst.Nonlocal)):
            return FALLS
        return FALLS

    def exec_expression_statement(self, expr: cst.BaseExpression, env: Dict[str, Val], frame: Frame) -> None:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            receiver = expr.func.value
            method = expr.func.attr.value
            if method == "backward":
                self.backward = _join_taints([self.backward, _flat_taint(self.eval(receiver, env, frame))])
                return
            if _is_self(receiver) and method in _BACKWARD_SELF_METHODS and expr.args:
                val = self.eval(expr.args[0].value, env, frame)
                self.backward = _join_taints([self.backward, _flat_taint(val)])
                return
            if isinstance(receiver, cst.Name) and receiver.value in env and not _is_self(receiver):
                # lst.append(h), out.add_(h), d.update(...): the local now holds the arguments' values
                args = [self.eval(a.value, env, frame) for a in expr.args]
                held = env[receiver.value]
                if self.unrolling and method == "append" and len(args) == 1 and not expr.args[0].star and (
                        held.items is not None and held.keys is None and not held.tail and not held.taint):
                    env[receiver.value] = replace(held, items=held.items + (args[0],))  # one item per iteration
                    return
                env[receiver.value] = join(env[receiver.value], *[flatten(a) for a in args])
                return
        value = self.eval(expr, env, frame)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and (
                expr.func.attr.value in _MODULE_RETURNING_METHODS):
            # `self.teacher.eval()`, `layer.to(device)` as a statement: the module changes mode, nothing runs
            self.consumed.update(uid for uid, _ in value.taint if self.uses[uid].ref)
            return
        if isinstance(expr, cst.Call) and not self._is_sink(expr):
            # the call's result is discarded: what went in may be kept somewhere we cannot see
            self._escape(value)

    def _is_sink(self, call: cst.Call) -> bool:
        name = _dotted(call.func) or ""
        if name in _LOG_SINKS or name.startswith(("logger.", "logging.", "log.")):
            return True
        if isinstance(call.func, cst.Attribute) and _is_self(call.func.value):
            if call.func.attr.value in _SELF_LOG_SINKS:
                return True
            if self.lookup(call.func.attr.value) is not None:
                return True  # a self method we interpret: its effects were followed
        return False

    def _escape(self, val: Val) -> None:
        # a detached value (`self.last = h.item()`) carries no gradient wherever it goes; a module
        # reference may still be called there
        self.escaped.update(uid for uid, detached in _flat_taint(val).items() if not detached or self.uses[uid].ref)

    def assign(self, target: cst.BaseExpression, value: Val, env: Dict[str, Val], frame: Frame) -> None:
        if isinstance(target, cst.Name):
            # control dependence: `to_drop = True` under `if torch.rand(()) < p:` makes to_drop random
            implied = guard_origins(frame.guards)
            env[target.value] = replace(value, origin=value.origin | implied) if implied else value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e for e in target.elements]
            if value.items is not None and not value.tail and len(value.items) == len(elements) and not any(
                    isinstance(e, cst.StarredElement) for e in elements):
                for element, part in zip(elements, value.items):
                    self.assign(element.value, part, env, frame)
            else:
                whole = flatten(value)
                length, linked = value.present_items or (0, ())  # parts None exactly when an argument is
                present = dict(linked) if length == len(elements) else {}
                for i, element in enumerate(elements):
                    self.assign(element.value, replace(whole, present=present[i]) if i in present else whole, env,
                                frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, env, frame)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            base = target.value
            while isinstance(base, (cst.Attribute, cst.Subscript)):
                base = base.value
            stored = self._store_key(target, value, env, frame)
            if stored is not None:
                env[target.value.value] = stored  # type: ignore[attr-defined]
            elif isinstance(base, cst.Name) and base.value in env and not _is_self(base):
                index_vals = []
                if isinstance(target, cst.Subscript):
                    for element in target.slice:
                        if isinstance(element.slice, cst.Index):
                            index_vals.append(detach(self.eval(element.slice.value, env, frame)))
                # storing into a tensor does not change its size: no data-dependent shape comes with it
                stored = [replace(v, origin=v.origin - {_DYNSHAPE}) for v in [flatten(value)] + index_vals]
                env[base.value] = join(env[base.value], *stored)
            else:
                self._escape(value)  # stored on self or on something unknown
                if _is_self(base):
                    self.stored.update(_flat_taint(value).keys())  # a cache that forward may read later
        else:
            self._escape(value)

    @staticmethod
    def _store_key(target: cst.BaseExpression, value: Val, env: Dict[str, Val], frame: Frame) -> Optional[Val]:
        """`out["h"] = v` on a local dict with known keys replaces that entry: what it held before is
        overwritten (a dead store does not reach the result), and `out["loss"]` stays apart."""
        if not (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and len(target.slice) == 1):
            return None
        held = env.get(target.value.value)
        part = target.slice[0].slice
        if held is None or held.keys is None or not isinstance(part, cst.Index) or not isinstance(
                part.value, cst.SimpleString):
            return None
        key = str(part.value.evaluated_value)
        implied = guard_origins(frame.guards)
        if implied:
            value = replace(value, origin=value.origin | implied)
        return replace(held, keys=tuple({**dict(held.keys), key: value}.items()))

    def exec_if(self, stmt: cst.If, env: Dict[str, Val], frame: Frame, chain: Optional[str] = None) -> str:
        guards = self.classify_test(stmt.test, env, frame)
        mode = _mode_of(stmt.test)
        if chain is not None and mode == chain and stmt.orelse is None and frame.guards:
            # the last test of `if m == "a": ... elif m == "b": ...`: a dispatch over the supported modes, whose
            # last branch runs for every mode the earlier tests rejected (other values are never trained)
            guards = ()
            frame.guards = frame.guards[:-1] + (replace(frame.guards[-1], text=code_of(stmt.test)),)
        saved = frame.guards
        body_env = dict(env)
        frame.guards = saved + guards
        body_status = self.exec_block(stmt.body, body_env, frame)
        else_env = dict(env)
        otherwise = negate(guards) if guards else Guard(NEVER, "no mode matched", "constant")
        frame.guards = saved + (otherwise,)
        else_status = FALLS
        if stmt.orelse is not None:
            if isinstance(stmt.orelse, cst.If):
                else_status = self.exec_if(stmt.orelse, else_env, frame, chain=mode if chain in (None, mode) else "")
            else:
                else_status = self.exec_block(stmt.orelse.body, else_env, frame)
        frame.guards = saved
        branches = [body_env] if else_status != FALLS else (
            [else_env] if body_status != FALLS else [body_env, else_env])
        if self.unrolling and len(branches) == 2:  # in an unrolled iteration, a side that cannot run passes nothing on
            if any(g.kind == NEVER for g in guards):
                branches = [else_env]
            elif otherwise.kind == NEVER:
                branches = [body_env]
        before = {name: value for name, value in env.items() if value is NONE_VAL}
        self._merge_env(env, branches)
        if before and len(branches) == 2:
            self._present_under(env, before, (body_env, guards), (else_env, (otherwise,)))
        if body_status != FALLS and else_status != FALLS:
            return EXITS if EXITS in (body_status, else_status) and body_status == else_status else JUMPS
        # A side that raises is no training iteration at all: the rest of the block runs on every iteration
        # that trains (`if unsupported: raise ...` is not a per-batch guard).
        if body_status != FALLS and not _ends_in_raise(stmt.body):
            frame.guards = saved + (otherwise,)  # the rest of this block runs only when the test failed
        elif else_status != FALLS and body_status == FALLS and not (
                isinstance(stmt.orelse, cst.Else) and _ends_in_raise(stmt.orelse.body)):
            frame.guards = saved + guards
        return FALLS

    @staticmethod
    def _present_under(env: Dict[str, Val], before: Dict[str, Val], *sides: Tuple[Dict[str, Val], Tuple[Guard, ...]]
                       ) -> None:
        """``x = None`` then ``if c: x = <never None>``: after the test, ``x`` is not None exactly when ``c``
        held (a later ``if x is not None`` is that test; with a guard decided at the defaults, decided too)."""
        for name in before:
            values = [side[0].get(name) for side in sides]
            for (_, guards), value, other in zip(sides, values, reversed(values)):
                if value is not None and value.present == () and other is NONE_VAL and guards:
                    env[name] = replace(env[name], present=guards)

    def _surely_set(self, node: cst.BaseExpression, frame: Frame) -> bool:
        """An expression that is never None: arithmetic, a comparison, a slice, a literal, a torch function."""
        if isinstance(node, (cst.BinaryOperation, cst.Comparison, cst.Integer, cst.Float, cst.SimpleString,
                             cst.Tuple, cst.List, cst.Dict)):
            return True
        if isinstance(node, cst.Subscript):
            return any(isinstance(element.slice, cst.Slice) for element in node.slice)
        if isinstance(node, cst.Call):
            name = _dotted(node.func)
            return bool(name) and tensor_function(frame.owner.module.qualify_dotted(name))
        return False

    @staticmethod
    def _merge_env(env: Dict[str, Val], branches: List[Dict[str, Val]]) -> None:
        names = set().union(*(b.keys() for b in branches)) if branches else set()
        for name in names:
            values = [b[name] for b in branches if name in b]
            if len(values) < len(branches) and name in env:
                values.append(env[name])
            env[name] = NONE_VAL if all(v is NONE_VAL for v in values) else join(*values)  # still `None` as written

    def exec_loop(self, stmt: Union[cst.For, cst.While], env: Dict[str, Val], frame: Frame) -> str:
        if isinstance(stmt, cst.For) and not self.unrolling:
            peeled = self._peel_last_item(stmt, env, frame)
            if peeled is not None:
                return peeled
        saved = frame.guards
        iterable = EMPTY
        plan: Optional[Tuple[List[Dict[str, Val]], int]] = None
        if isinstance(stmt, cst.For):
            iterable = self.eval(stmt.iter, env, frame)
            guards: Tuple[Guard, ...] = ()
            if "random" in iterable.origin:
                guards = (Guard(BATCH, code_of(stmt.iter), "random"),)
            plan = self._unroll_plan(stmt, env) if _reads_computed_names_in(frame) else None
        else:
            guards = self.classify_test(stmt.test, env, frame)
            guards = tuple(g if g.kind != BATCH else g for g in guards)
        frame.guards = saved + guards
        past: Optional[Val] = None
        if plan is not None:
            self.unrolling += 1
            past = self._run_unrolled(stmt, plan, iterable, env, frame, saved + guards)  # type: ignore[arg-type]
            if past is None:  # a literal: every iteration was run
                self.unrolling -= 1
                frame.guards = saved
                return FALLS
        for _ in range(2):  # twice, so values carried around the loop reach their uses
            body_env = dict(env)
            if isinstance(stmt, cst.For):
                self.assign(stmt.target, _each(self._element_of(iterable)), body_env, frame)
                counter = _enumerate_counter(stmt)
                if counter is not None:  # `for i, layer in enumerate(self.layers)`: `i` is a position
                    body_env[counter] = past if past is not None else Val(origin=frozenset({_POSITION}))
            self.exec_block(stmt.body, body_env, frame)
            frame.guards = saved + guards
            self._merge_env(env, [body_env, dict(env)])
        if past is not None:
            self._past.pop()
            self.unrolling -= 1
        frame.guards = saved
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, env, frame)
        return FALLS

    def _peel_last_item(self, stmt: cst.For, env: Dict[str, Val], frame: Frame) -> Optional[str]:
        """``for block in self.blocks: text, image = block(text, image)``: the items before the last feed the
        next iteration whatever part they return, but only the parts of the last item's output that are used
        after the loop reach anything. So the loop runs as usual over ``self.blocks[:-1]`` (each call uses its
        item whole), then once more for ``self.blocks[-1]``, whose call is one use per part of its summary
        (``item_summary``): a part dropped after the loop (the text stream) leaves the last item's parameters
        that feed only it without gradient. None: an ordinary loop (no summary, a jump in the body, the name
        used otherwise than called once)."""
        iterated = _peelable_items(stmt)
        if iterated is None:
            return None
        attr, name = iterated
        held = self.init.attrs.get(attr)
        if held is None or held.built.kind != "container" or held.frozen:
            return None
        call = _sole_call_of(stmt.body, name)
        summary = self.item_summary(attr, call) if call is not None else None
        if summary is None:
            return None
        saved = frame.guards
        before = dict(env)
        for _ in range(2):  # the items before the last, as an ordinary loop
            body_env = dict(env)
            body_env[name] = self.new_use(attr, (None, -1, None), frame, stmt.iter)
            self.exec_block(stmt.body, body_env, frame)
            frame.guards = saved
            self._merge_env(env, [body_env, dict(env)])
        body_env = dict(env)
        last = body_env[name] = self.new_use(attr, -1, frame, stmt.iter)
        self._last_items[name] = (last, summary, attr)
        try:
            self.exec_block(stmt.body, body_env, frame)
        finally:
            del self._last_items[name]
        frame.guards = saved
        env.clear()  # after the loop: what the last iteration left, or (no item at all) what came before
        env.update(body_env)
        self._merge_env(env, [body_env, before])
        return FALLS

    def item_summary(self, attr: str, node: cst.Call) -> Optional[object]:  # noqa: ARG002
        """What one item of the container ``self.<attr>`` returns, part by part, when called as ``node``, or
        None (summaries.ModelFlow overrides it)."""
        return None

    def _unroll_plan(self, stmt: cst.For, env: Dict[str, Val]) -> Optional[Tuple[List[Dict[str, Val]], int]]:
        """A loop whose body reads ``getattr(self, <computed name>)`` over known values (unroll.py): the bindings
        of each iteration, and -1 when they are all of them (a literal), else the first position not listed
        (``for idx, block in enumerate(self.network)`` tested with ``idx in self.out_indices``: the positions up to
        the largest listed one are run one by one, the others never pass the test). None: an ordinary loop."""
        text = _CODE_MODULE.code_for_node(stmt)
        if "getattr(self" not in text.replace(" ", ""):
            return None
        try:
            loop = ast.parse(text).body[0]
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if not isinstance(loop, ast.For) or loop.orelse or not _reads_computed_names(loop):
            return None
        consts = _env_constants(env)
        values = unroll.literal_items(loop.iter, consts, self.init.literals)
        if values is not None:
            bindings = [unroll.bind(loop.target, value) for value in values]
            if any(b is None for b in bindings):
                return None
            return [{k: _constant(v) for k, v in (b or {}).items()} for b in bindings], -1
        counter = _enumerate_counter(stmt)
        if counter is None:
            return None
        listed: List[int] = []
        for node in ast.walk(loop):  # `idx in self.out_indices`: the positions that pass
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(
                    node.ops[0], (ast.In, ast.NotIn)) and isinstance(node.left, ast.Name) and node.left.id == counter:
                held = self._literal_collection(node.comparators[0], consts)
                if held is None or not all(isinstance(v, int) and v >= 0 for v in held):
                    return None
                listed.extend(held)  # type: ignore[arg-type]
        if not listed or max(listed) >= unroll.MAX_UNROLL:
            return None
        past = max(listed) + 1
        return [{counter: Val(origin=frozenset({_POSITION}), number=p)} for p in range(past)], past

    def _literal_collection(self, node: ast.expr, consts: Dict[str, object]) -> Optional[tuple]:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return self.init.literals.get(node.attr)
        return unroll.literal_tuple(node, consts)

    def _run_unrolled(self, stmt: cst.For, plan: Tuple[List[Dict[str, Val]], int], iterable: Val,
                      env: Dict[str, Val], frame: Frame, guards: Tuple[Guard, ...]) -> Optional[Val]:
        """Run the body once per planned iteration, in order. For a literal, that is the whole loop (None is
        returned). Otherwise the sequence may end sooner: every value may be one of an earlier iteration,
        except lists grown item by item, which keep their items with an unknown rest; the counter to run the
        remaining iterations with (past every listed position) is returned."""
        bindings, past = plan
        counter = _enumerate_counter(stmt)
        states = [dict(env)]
        for bound in bindings:
            body_env = dict(env)
            if counter is not None and past >= 0:
                self.assign(stmt.target, _each(self._element_of(iterable)), body_env, frame)
            body_env.update(bound)
            self.exec_block(stmt.body, body_env, frame)
            frame.guards = guards
            env.clear()
            env.update(body_env)
            states.append(dict(env))
        if past < 0:
            return None
        for name in list(env):
            values = [state[name] for state in states if name in state]
            last = values[-1]
            if last.items is not None and all(v.items is not None and v.items == last.items[:len(v.items)]
                                              for v in values):
                env[name] = replace(last, tail=True)  # `outs.append(...)` per listed position
            else:
                env[name] = join(*values)
        marker = Val(origin=frozenset({_POSITION}))
        self._past.append((marker, past))
        return marker

    @staticmethod
    def _element_of(val: Val) -> Val:
        if val.items:
            return join(*val.items)
        return flatten(val)

    def exec_with(self, stmt: cst.With, env: Dict[str, Val], frame: Frame) -> str:
        saved_grad = frame.no_grad
        for item in stmt.items:
            ctx = item.item
            name = _dotted(ctx.func) if isinstance(ctx, cst.Call) else _dotted(ctx)
            qual = frame.owner.module.qualify_dotted(name) if name else ""
            if qual in _NO_GRAD_CONTEXTS:
                frame.no_grad = True
            elif qual in ("torch.enable_grad", "torch.autograd.enable_grad"):
                frame.no_grad = False
            elif qual in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and isinstance(ctx, cst.Call):
                if ctx.args:
                    arg = ctx.args[0].value
                    if isinstance(arg, cst.Name) and arg.value == "False":
                        frame.no_grad = True
                    elif isinstance(arg, cst.Name) and arg.value == "True" or _is_self_attr(arg) == "training":
                        frame.no_grad = False
                    else:
                        frame.guards = frame.guards + (Guard(UNKNOWN, code_of(ctx)),)
            else:
                value = self.eval(ctx, env, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value, env, frame)
        saved_guards = frame.guards
        status = self.exec_block(stmt.body, env, frame)
        frame.no_grad = saved_grad
        frame.guards = saved_guards
        return status

    def exec_try(self, stmt: Union[cst.Try, cst.TryStar], env: Dict[str, Val], frame: Frame) -> str:
        status = self.exec_block(stmt.body, env, frame)
        saved = frame.guards
        for handler in stmt.handlers:
            text = code_of(handler.type) if handler.type is not None else ""
            frame.guards = saved + (Guard(BATCH, f"an exception is caught (except {text})".replace(" )", ")"),
                                          "exception", key=f"except:{id(handler)}"),)
            handler_env = dict(env)
            self.exec_block(handler.body, handler_env, frame)
            self._merge_env(env, [handler_env, dict(env)])
        frame.guards = saved
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, env, frame)
        if stmt.finalbody is not None:
            self.exec_block(stmt.finalbody.body, env, frame)
        return status if not stmt.handlers else FALLS

    # ---- conditions ----
    def classify_test(self, test: cst.BaseExpression, env: Dict[str, Val], frame: Frame) -> Tuple[Guard, ...]:
        """The guards a condition puts on the code it protects (a conjunction)."""
        guards = self._classify_test(test, env, frame)
        if len(guards) == 1 and guards[0].kind == UNKNOWN and not guards[0].detail and self.mro_complete and (
                self.judged_at_defaults):
            decided = init_values.test_at_defaults(self.cls, self.mro, code_of(test),
                                                   frozenset(self.init.attrs) | frozenset(self.init.flags))
            if decided is not None:  # `len(self.stat_exog_list)`, the list built from a constructor default
                guards = (Guard(ALWAYS if decided[0] else NEVER, guards[0].text,
                                config_defaults.CONFIG_DETAIL + decided[1]),)
        if len(guards) == 1 and not guards[0].key:
            guards = (replace(guards[0], key=code_of(test)),)
        return guards

    def _classify_test(self, test: cst.BaseExpression, env: Dict[str, Val], frame: Frame) -> Tuple[Guard, ...]:
        if isinstance(test, cst.BooleanOperation):
            if isinstance(test.operator, cst.And):
                left = self.classify_test(test.left, env, frame)
                saved = frame.guards
                frame.guards = saved + left  # the right side runs only when the left held
                right = self.classify_test(test.right, env, frame)
                frame.guards = saved
                return left + right
            left = self.classify_test(test.left, env, frame)
            right = self.classify_test(test.right, env, frame)
            return (disjoin(conjoin(left, code_of(test.left)), conjoin(right, code_of(test.right)),
                            code_of(test)),)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return (negate(self.classify_test(test.expression, env, frame)),)
        text = code_of(test)
        if _past_first_position(test, env):
            return (Guard(UNKNOWN, text, _POSITION),)  # true for every element but the first (see conjoin)
        if isinstance(test, cst.Name) and test.value in env and env[test.value].truth is not None:
            truth = env[test.value].truth
            return (Guard(ALWAYS if truth else NEVER, text, "constant"),)
        if isinstance(test, cst.Name) and test.value in self.entry_args and env.get(test.value) is (
                self.entry_args[test.value]):
            # `if do_classifier_free_guidance:` on an argument as given: a switch its caller sets (a tensor
            # argument has no truth value), not a value of the batch
            return (Guard(OPTIONAL, text),)
        attr = _is_self_attr(test)
        if attr == "training":
            return (Guard(ALWAYS, text),)
        if attr is not None:
            held = self._config_scope().self_attribute(attr) if attr not in self.init.attrs else None
            if held is not None:  # a switch read from a configuration in __init__
                return (self._guard_from_origin(held, text),)
            return (self._self_flag_guard(attr, text, True),)
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            comparison = test.comparisons[0]
            op = comparison.operator
            right = comparison.comparator
            left_attr = _is_self_attr(test.left)
            decided = self._known_membership(test, env) if self.unrolling else None
            if decided is not None:
                return (decided,)
            decided = _init_membership(test, self.init)
            if decided is not None:
                return (decided,)
            if isinstance(right, cst.Name) and right.value == "None" and isinstance(op, (cst.Is, cst.IsNot)):
                positive = isinstance(op, cst.IsNot)
                if left_attr is not None:
                    self.eval(test.left, env, frame, test=True)
                    return (self._self_flag_guard(left_attr, text, positive),)
                value = self.eval(test.left, env, frame, test=True)
                if value.present is not None:  # None exactly when what the parent passed to a child is (nullness.py)
                    if not value.present:  # a child's output that is never None
                        return (Guard(ALWAYS if positive else NEVER, text, "constant"),)
                    linked = tuple(replace(g, text=text + g.text) for g in value.present)
                    return linked if positive else (replace(negate(linked), text=text + value.present[0].text),)
                decided = self._config_scope().compare("is not" if positive else "is",
                                                       (value.origin, config_defaults.MISSING), (frozenset(), None))
                if decided is not None:  # `self.config.x is not None` at the configuration's defaults
                    return (self._guard_from_origin(decided, text),)
                return (self._presence_guard(value.origin, text),)
            if left_attr == "training" and isinstance(right, cst.Name) and right.value in ("True", "False"):
                truthy = (right.value == "True") == isinstance(op, (cst.Is, cst.Equal))
                return (Guard(ALWAYS if truthy else NEVER, text),)
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and len(test.args) == 1 and (
                _presence_predicate(frame.owner.module, test.func.value)):
            # `exists(x)` with `def exists(val): return val is not None`: a presence check
            value = self.eval(test.args[0].value, env, frame, test=True)
            return (self._presence_guard(value.origin, text),)
        value = self.eval(test, env, frame, test=True)
        guard = self._guard_from_origin(value.origin, text)
        if guard.kind == BATCH and guard.detail == "data values" and _compares_to_string(test):
            guard = replace(guard, detail="task or mode argument")
        return (guard,)

    def _known_membership(self, test: cst.Comparison, env: Dict[str, Val]) -> Optional[Guard]:
        """``idx in self.out_indices``, ``i == 2`` on an unrolled loop's variable: decided (unroll.py)."""
        op = test.comparisons[0].operator
        if not isinstance(test.left, cst.Name) or not isinstance(op, (cst.In, cst.NotIn, cst.Equal, cst.NotEqual)):
            return None
        held = env.get(test.left.value)
        right = unroll.parse_expr(code_of(test.comparisons[0].comparator))
        if held is None or right is None:
            return None
        consts = _env_constants(env)
        if isinstance(op, (cst.In, cst.NotIn)):
            values = self._literal_collection(right, consts)
        else:
            one = unroll.const_of(right, consts)
            values = None if one is unroll.UNKNOWN else (one,)
        if values is None:
            return None
        known = held.number if held.number is not None else held.text
        if known is not None:
            found = known in values
        elif any(held is marker for marker, _ in self._past) and all(isinstance(v, int) for v in values):
            found = any(v >= bound for marker, bound in self._past if held is marker for v in values)  # type: ignore
            if found:
                return None
        else:
            return None
        truth = found == isinstance(op, (cst.In, cst.Equal))
        return Guard(ALWAYS if truth else NEVER, code_of(test), "constant")

    def _self_flag_guard(self, attr: str, text: str, positive: bool) -> Guard:
        if attr in self.init.attrs:
            return Guard(BUILT, text, attr, positive)
        if attr in _RANK_ATTRS:
            return Guard(BATCH, text, "rank")
        flag = self.init.flags.get(attr)
        if flag is not None:
            return Guard(STATIC, text, attr, positive)
        return Guard(UNKNOWN, text)

    def _presence_guard(self, origin: FrozenSet[str], text: str) -> Guard:
        """`x is None` asks whether an argument was given, not what the data holds: that is usually the
        same in every training iteration, so it is the opt-in OPTIONAL kind, never BATCH."""
        guard = self._guard_from_origin(origin, text)
        if guard.kind == BATCH and guard.detail in ("data values", "task or mode argument"):
            return Guard(OPTIONAL, text)
        return guard

    def _guard_from_origin(self, origin: FrozenSet[str], text: str) -> Guard:
        origin = origin - _MARKERS
        if any(o.startswith(config_defaults.MARKERS) for o in origin):
            return self._config_scope().guard(origin, text, self._guard_from_origin)
        if not origin or origin <= {"const"}:
            return Guard(UNKNOWN, text)
        if origin & {"shape", _DYNSIZE, "unknown", "selfattr", "global"} or origin <= {"module", "const"}:
            return Guard(UNKNOWN, text)
        if "false_in_training" in origin:
            return Guard(NEVER, text) if origin <= {"false_in_training", "const"} else Guard(UNKNOWN, text)
        if "random" in origin:
            return Guard(BATCH, text, "random")
        if "rank" in origin:
            return Guard(BATCH, text, "rank")
        if "data" in origin:
            return Guard(BATCH, text, "data values")
        if "task" in origin:
            return Guard(BATCH, text, "task or mode argument")
        if "optional" in origin:
            return Guard(OPTIONAL, text)
        statics = [o for o in origin if o.startswith("static:")]
        if len(statics) == 1 and origin <= set(statics) | {"const"}:
            return Guard(UNKNOWN, text)  # a comparison on a flag: its values are not known
        return Guard(UNKNOWN, text)

    # ---- expressions ----
    def eval(self, node: cst.BaseExpression, env: Dict[str, Val], frame: Frame, test: bool = False) -> Val:
        """The abstract value of an expression; records the uses it contains."""
        return self._eval(node, env, frame, test)

    def _eval(self, node: cst.BaseExpression, env: Dict[str, Val], frame: Frame, test: bool) -> Val:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise Limit(f"its training step runs more than {_MAX_STEPS} statements")
        if isinstance(node, cst.Name):
            if node.value == "self":
                return Val(origin=frozenset({"self"}))
            if node.value in env:
                return env[node.value]
            if node.value == "None":
                return NONE_VAL
            if node.value in ("True", "False"):
                return Val(origin=frozenset({"const"}), truth=node.value == "True")
            return Val(origin=frozenset({"global"}))
        if isinstance(node, cst.SimpleString):
            text = node.evaluated_value
            return Val(origin=frozenset({"const"}), text=text if isinstance(text, str) else None)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.ConcatenatedString)):
            return Val(origin=frozenset({"const"}))
        if isinstance(node, cst.FormattedString):
            return flatten(join(*[self._eval(p.expression, env, frame, test) for p in node.parts
                                  if isinstance(p, cst.FormattedStringExpression)]))
        if isinstance(node, cst.Attribute):
            return self.eval_attribute(node, env, frame, test)
        if isinstance(node, cst.Call):
            return self.eval_call(node, env, frame, test)
        if isinstance(node, cst.Subscript):
            return self.eval_subscript(node, env, frame, test)
        if isinstance(node, (cst.Tuple, cst.List)):
            parts = [self._eval(e.value, env, frame, test) for e in node.elements]
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                return _starred_tuple(node.elements, parts)
            return Val(origin=frozenset().union(*(p.origin for p in parts)) if parts else frozenset({"const"}),
                       items=tuple(parts))
        if isinstance(node, cst.Set):
            return flatten(join(*[self._eval(e.value, env, frame, test) for e in node.elements]))
        if isinstance(node, cst.Dict):
            keys: List[Tuple[str, Val]] = []
            structured = True
            loose: List[Val] = []
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    value = self._eval(element.value, env, frame, test)
                    if isinstance(element.key, cst.SimpleString):
                        keys.append((str(element.key.evaluated_value), value))
                    else:
                        self._eval(element.key, env, frame, test)
                        structured = False
                        loose.append(value)
                else:
                    structured = False
                    loose.append(self._eval(element.value, env, frame, test))
            if structured:
                return Val(keys=tuple(keys))
            return flatten(join(*(v for _, v in keys), *loose))
        if isinstance(node, cst.BinaryOperation):
            left = self._eval(node.left, env, frame, test)
            right = self._eval(node.right, env, frame, test)
            if isinstance(node.operator, cst.Add) and left.items is not None and (
                    isinstance(node.left, cst.Tuple) or not left.tail):
                # `(sequence_output, pooled_output) + encoder_outputs[1:]`, `outputs + (attentions,)`: the
                # known items stay apart
                if right.items is not None and not right.tail:
                    return Val(origin=left.origin | right.origin, items=left.items + right.items)
                if right.items is not None and not left.tail:  # a known prefix, then right's unknown rest
                    return Val(right.taint, left.origin | right.origin, left.items + right.items, tail=True)
                return Val(_flat_taint_items(right), left.origin | right.origin, left.items, tail=True)
            value = flatten(join(left, right))
            return value if isinstance(node.operator, (cst.BitAnd, cst.BitOr, cst.BitXor)) else _not_mask(value)
        if isinstance(node, cst.UnaryOperation):
            inner = self._eval(node.expression, env, frame, test)
            if isinstance(node.operator, cst.Not) and any(o.startswith(config_defaults.MARKERS) for o in inner.origin):
                return Val(origin=frozenset({"unknown"}))  # `x = not self.config.y`: not judged
            if isinstance(node.operator, cst.Not):
                return _not_mask(detach(inner))
            return flatten(inner) if isinstance(node.operator, cst.BitInvert) else _not_mask(flatten(inner))
        if isinstance(node, cst.BooleanOperation):
            left = self._eval(node.left, env, frame, test)
            right = self._eval(node.right, env, frame, test)
            if isinstance(node.operator, cst.And):
                # `self.training and i > 0 and (p < self.config.layerdrop)`: in training, for every layer but
                # the first, the value is the last test's (a random draw)
                if _true_in_training(node.left, left):
                    return right
                if _true_in_training(node.right, right):
                    return left
            return flatten(join(left, right))
        if isinstance(node, cst.Comparison):
            parts = [self._eval(node.left, env, frame, test)]
            parts += [self._eval(c.comparator, env, frame, test) for c in node.comparisons]
            decided = self._config_comparison(node, parts)
            if decided is not None:
                return decided
            value = detach(join(*parts))
            return replace(value, origin=value.origin | {_MASK})  # `x[labels > 0]` selects by it
        if isinstance(node, cst.IfExp):
            guards = self.classify_test(node.test, env, frame)
            saved = frame.guards
            frame.guards = saved + guards
            body = self._eval(node.body, env, frame, test)
            frame.guards = saved + (negate(guards),)
            orelse = self._eval(node.orelse, env, frame, test)
            frame.guards = saved
            if any(v.bound is not None or v.func is not None for v in (body, orelse)):
                raise GiveUp("a method chosen at run time")  # `fn = self.a if c else self.b`: not followed
            value = join(body, orelse)
            return replace(value, origin=value.origin | guard_origins(guards))  # the value depends on the test
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.eval_comprehension(node, env, frame, test)
        if isinstance(node, cst.Lambda):
            return Val(func=node)
        if isinstance(node, cst.NamedExpr):  # `if (h := self.head(x)) is not None`: the bound value is used
            value = self._eval(node.value, env, frame, False)
            self.assign(node.target, value, env, frame)
            return value
        if isinstance(node, (cst.Await, cst.Yield)):
            inner = getattr(node, "expression", None) or getattr(node, "value", None)
            if isinstance(inner, cst.BaseExpression):
                value = self._eval(inner, env, frame, test)
                if isinstance(node, cst.Yield):
                    frame.returns.append(value)
                return value
            return EMPTY
        if isinstance(node, cst.StarredElement):
            return self._eval(node.value, env, frame, test)
        if isinstance(node, cst.Ellipsis):
            return Val(origin=frozenset({"const"}))
        return Val(origin=frozenset({"unknown"}))

    def _config_comparison(self, node: cst.Comparison, parts: Sequence[Val]) -> Optional[Val]:
        """A comparison decided at the configuration's defaults (`self.config.x == "absolute"`)."""
        if len(node.comparisons) != 1:
            return None
        op = config_defaults.comparison_operator(node.comparisons[0].operator)
        left = (parts[0].origin, config_defaults.cst_literal(node.left))
        right = (parts[1].origin, config_defaults.cst_literal(node.comparisons[0].comparator))
        held = self._config_scope().compare(op, left, right) if op else None
        return None if held is None else Val(origin=held)

    def _attribute_name(self, node: cst.Call, env: Dict[str, Val], frame: Frame) -> Optional[str]:
        """The attribute ``getattr(self, name, ...)`` reads, when written as a literal or held by a name bound
        to a known string (``name = getattr(self, "_input_embed_layer", "embed_tokens")``)."""
        if len(node.args) < 2:
            return None
        arg = node.args[1].value
        if isinstance(arg, cst.SimpleString):
            text = arg.evaluated_value
            return text if isinstance(text, str) else None
        if isinstance(arg, cst.Name) and arg.value in env:
            return env[arg.value].text
        if self.unrolling:  # f"norm{idx}" with idx an unrolled loop's value
            parsed = unroll.parse_expr(code_of(arg))
            known = unroll.const_of(parsed, _env_constants(env)) if parsed is not None else unroll.UNKNOWN
            return known if isinstance(known, str) else None
        return None

    def _class_constant(self, node: cst.Call, attr: str) -> Optional[Val]:
        """``getattr(self, "attr", "default")`` of a non-module attribute: a string constant, as a class body of
        the hierarchy writes it (``_input_embed_layer = "patch_embed"``), else the literal default when no readable
        class defines or assigns it anywhere. None when unknown."""
        if self._written_on_self(attr):
            return None  # `self.attr = ...` somewhere: the instance's value may differ
        for info in self.mro:
            for stmt in info.node.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and any(
                        isinstance(t, ast.Name) and t.id == attr
                        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
                    value = stmt.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        return Val(origin=frozenset({"const"}), text=value.value)
                    return None
        self._assigned_in_class(attr)  # the names assigned anywhere in the classes (a nested class-level one too)
        if len(node.args) < 3 or not self.mro_complete or attr in (self._assigned or ()) or any(
                attr in info.methods or attr in info.properties for info in self.mro):
            return None
        default = node.args[2].value
        if isinstance(default, cst.SimpleString) and isinstance(default.evaluated_value, str):
            return Val(origin=frozenset({"const"}), text=default.evaluated_value)
        return None

    def _written_on_self(self, attr: str) -> bool:
        """``self.<attr> = ...`` or ``setattr(self, "<attr>", ...)`` in the text of the readable classes (asked only
        for getattr of a non-module attribute with a literal name; read once per class and attribute). A
        ``setattr(self, name, ...)`` with a computed name is not counted: HF's ``set_input_embeddings`` writes the
        layer the constant names, not the constant."""
        name = re.escape(attr)
        # two patterns that each start with a literal, the word boundary checked behind it (one alternation
        # starting with `\b` was tried at every character of the class's text: 0.75 s of CPU on transformers'
        # ten slowest files)
        assigned = re.compile(rf"self\.{name}\s*(?:[-+*/|&]?=[^=]|:)")
        by_name = re.compile(rf"setattr\((?<!\wsetattr\()\s*self\s*,\s*['\"]{name}['\"]")

        def written(info: ClassInfo) -> bool:
            text = "".join(info.module.lines[info.node.lineno - 1:info.node.end_lineno])
            return assigned.search(text) is not None or by_name.search(text) is not None

        return any(info.fact(("flow.written_on_self", attr), lambda info=info: written(info)) for info in self.mro)

    def _config_getattr(self, node: cst.Call, name: str) -> Optional[Val]:
        """`getattr(self.config, "x", default)`: the configuration's default, else the getattr default."""
        if name != "getattr" or len(node.args) not in (2, 3) or not isinstance(node.args[1].value, cst.SimpleString):
            return None
        holder = _is_self_attr(node.args[0].value)
        scope = self._config_scope()
        if holder is None or holder not in scope.self_sources:
            return None
        default = config_defaults.cst_literal(node.args[2].value) if len(node.args) == 3 else config_defaults.MISSING
        held = scope.getattr_default(scope.self_attribute(holder) or frozenset(),
                                     str(node.args[1].value.evaluated_value), default)
        return None if held is None else Val(origin=held)

    def new_use(self, attr: str, index: Index, frame: Frame, node: cst.CSTNode, test_only: bool = False,
                ref: bool = True) -> Val:
        if len(self.uses) >= _MAX_USES:
            raise Limit(f"its training step uses submodules more than {_MAX_USES} times")
        use = Use(len(self.uses), attr, index, frame.guards, frame.no_grad, frame.method, test_only, ref)
        self.uses.append(use)
        if test_only:
            return Val(origin=frozenset({f"selfmod:{attr}"}))
        return Val(((use.id, frame.no_grad),), frozenset({"module"}))

    # Children's summaries. The interpreter alone knows nothing of what a child module returns: a call of
    # ``self.child`` uses the child whole. ``summaries.ModelFlow`` overrides these hooks with the child's
    # summary, part by part; keeping them here as no-ops keeps the interpreter below the summaries layer.
    def child_summary(self, attr: str, node: cst.Call, frame: Frame) -> Optional[object]:  # noqa: ARG002
        """What a summarised child returns, part by part, or None: use it whole."""
        return None

    def call_through(self, attr: str, node: cst.Call, args: List[Val], frame: Frame) -> Optional[Val]:  # noqa: ARG002
        """``self.pooler(mask, outputs)`` handed a value with parts: what the child's forward keeps of them,
        or None: everything passed is used."""
        return None

    def child_method_summary(self, attr: str, method: str, node: cst.Call) -> Optional[object]:  # noqa: ARG002
        """What another method of a summarised child returns and which of its parameters it runs, or None."""
        return None

    def child_none_links(self, attr: str) -> Optional[NoneLinks]:  # noqa: ARG002
        """When parts of what ``self.<attr>(...)`` returns are None, by its arguments (summaries.py)."""
        return None

    def _none_parts(self, attr: str, node: cst.Call, args: List[Val], result: Val, frame: Frame) -> Val:
        """``s_inp, k_inp = self.embedding(x, stat_exog=s)``: a part that the child returns as None exactly when
        an argument is None is present exactly when what the parent passed is (``present``): the parent's
        ``if s_inp is not None`` is then judged as a test on ``s`` (nullness.py)."""
        if not _tests_none(frame.owner, frame.method) or any(arg.star for arg in node.args):
            return result  # nothing in this method asks whether a value is None
        links = self.child_none_links(attr)
        if links is None:
            return result
        passed: Dict[str, int] = {}
        for i, arg in enumerate(node.args):
            if arg.keyword is not None:
                passed[arg.keyword.value] = i
            elif i < len(links.params):
                passed[links.params[i]] = i
            else:
                return result
        found: Dict[Optional[int], Tuple[Guard, ...]] = {part: () for part in links.never}  # always there
        for part, param in links.parts:
            if param not in passed:
                continue  # its default: not judged here
            i = passed[param]
            value, arg = args[i], code_of(node.args[i].value)
            if value.present:  # the caller's own test decides whether it passes a value (`_present_under`)
                found[part] = tuple(replace(g, text=f", i.e. {g.text}") for g in value.present)
            else:  # messages read "used only when s_inp is not None (None from self.embedding(...) when ...)"
                found[part] = tuple(replace(g, text=f" (None from self.{attr}(...) when {arg} is None)")
                                    for g in self._none_test(value, arg))
        if not found:
            return result
        if None in found:
            return replace(result, present=found[None])
        if result.items is not None and not result.tail and len(result.items) == links.length:
            items = tuple(replace(item, present=found[i]) if i in found else item
                          for i, item in enumerate(result.items))
            return replace(result, items=items)
        linked = tuple((i, g) for i, g in found.items() if i is not None)
        return replace(result, present_items=(links.length or 0, linked))

    def _none_test(self, value: Val, text: str) -> Tuple[Guard, ...]:
        """The guards of ``<text> is not None`` for a value as evaluated."""
        if value.present is not None and not value.present:
            return (Guard(ALWAYS, f"{text} is not None", "constant"),)
        test = f"{text} is not None"
        decided = self._config_scope().compare("is not", (value.origin, config_defaults.MISSING), (frozenset(), None))
        if decided is not None:
            return (self._guard_from_origin(decided, test),)
        return (self._presence_guard(value.origin, test),)

    def child_output(self, attr: str, summary: object, frame: Frame, node: cst.CSTNode, args: List[Val],
                     index: Index = WHOLE) -> Val:
        """The value of a call of a summarised child (only reached when a hook above gave a summary)."""
        raise NotImplementedError

    def eval_attribute(self, node: cst.Attribute, env: Dict[str, Val], frame: Frame, test: bool) -> Val:
        name = node.attr.value
        if _is_self(node.value):
            return self.eval_self_attribute(name, node, frame, test)
        # `self.x.weight`, `h.data`, `x.shape`
        self.partial_call = (node.value, False)  # `self.bert(x)[0]`, `self.bert(x).logits`: used in part
        base = self._eval(node.value, env, frame, test)
        held = self._config_scope().member(base.origin, name)
        if held is not None:
            return Val(origin=held)
        if name == "shape":
            return _size_of(base, first=False)
        if name in _SHAPE_ATTRS:
            return Val(origin=frozenset({"shape"}))
        if name in ("data", "grad"):
            return detach(base)
        if not test and name.endswith(("weight", "bias")):
            base = self.call_site(base, frame)  # `layer.weight` of a module reference: its parameters, read here
        if name in _RANK_ATTRS:
            return Val(origin=frozenset({"rank"}))
        dotted = _dotted(node)
        root = dotted.split(".")[0] if dotted else ""
        if dotted and root != "self" and root not in env:
            qual = frame.owner.module.qualify_dotted(dotted)
            return Val(origin=frozenset({"global", qual}))
        keys = dict(base.keys or ())
        if name in keys:
            return keys[name]
        return flatten(base)

    def eval_self_attribute(self, name: str, node: cst.CSTNode, frame: Frame, test: bool) -> Val:
        if name == "training":
            return Val(origin=frozenset({"training"}))
        if name in _SELF_ESCAPES:
            raise GiveUp(f"self.{name}")
        if name in self.init.attrs:
            return self.new_use(name, WHOLE, frame, node, test_only=test)
        if name in _SHAPE_ATTRS and name not in self.init.flags:
            return Val(origin=frozenset({"shape"}))  # `self.dtype`, `self.device` properties: no gradient
        found = self.lookup(name)
        if found is not None:
            owner, func, is_property = found
            if is_property:
                return self.call_method(owner, func, name, None, [], {}, frame.guards, frame.no_grad,
                                        frame.depth + 1, frame.stack)
            return Val(bound=(owner, name))
        if name in _RANK_ATTRS:
            return Val(origin=frozenset({"rank"}))
        held = self._config_scope().self_attribute(name)
        if held is not None:
            return Val(origin=held)
        if name in self.init.flags:
            return Val(origin=frozenset({f"static:{name}"}))
        if not self.mro_complete or self.init.dynamic_attrs:
            # an attribute we did not see built: it may be a module from an unreadable base
            return Val(origin=frozenset({"selfattr"}))
        return Val(origin=frozenset({"selfattr"}))

    def eval_subscript(self, node: cst.Subscript, env: Dict[str, Val], frame: Frame, test: bool) -> Val:
        if _is_self(node.value):
            raise GiveUp("self[...] goes through __getitem__")  # often getattr(self, name): any attribute
        attr = _is_self_attr(node.value)
        if attr is not None and attr in self.init.attrs and self.init.attrs[attr].built.kind == "parameter":
            # `self.W[i]` indexes a tensor: the whole Parameter gets a gradient, whatever the index
            for element in node.slice:
                part = element.slice
                if isinstance(part, cst.Index):
                    self._eval(part.value, env, frame, test)
                else:
                    self._eval_slice_parts(part, env, frame)  # type: ignore[arg-type]
            return self.new_use(attr, WHOLE, frame, node, test_only=test)
        if attr is not None and attr in self.init.attrs and len(node.slice) == 1:
            element = node.slice[0].slice
            index: Index = WHOLE
            extra_guard: Tuple[Guard, ...] = ()
            if isinstance(element, cst.Slice):
                try:
                    index = (_int_of(element.lower), _int_of(element.upper), _int_of(element.step))
                except ValueError:
                    self._eval_slice_parts(element, env, frame)
                    index = WHOLE
            else:
                key = element.value
                try:
                    number = _int_of(key)
                    index = number if number is not None else WHOLE
                except ValueError:
                    if isinstance(key, cst.SimpleString):
                        index = f"key:{key.evaluated_value}"
                    else:
                        key_val = self._eval(key, env, frame, test)
                        guard = self._guard_from_origin(key_val.origin, code_of(key))
                        # a key taken from a loop over the data (`for name in x:`) may visit every entry
                        if guard.kind in (BATCH, OPTIONAL) and _EACH not in key_val.origin:
                            detail = "task or mode argument" if isinstance(key, cst.Name) else guard.detail
                            extra_guard = (Guard(guard.kind, f"the key {code_of(key)} selects the entry",
                                                 detail, key=code_of(key)),)
                        index = WHOLE
            saved = frame.guards
            frame.guards = saved + extra_guard
            value = self.new_use(attr, index, frame, node, test_only=test)
            frame.guards = saved
            return value
        self.partial_call = (node.value, False)  # `self.bert(x)[0]`, `self.bert(x).logits`: used in part
        base = self._eval(node.value, env, frame, test)
        if _DYNSIZE in base.origin:
            return self._dynamic_size_item(base, node, env, frame)
        sliced = _slice_of_items(base, node)
        if sliced is not None:
            return sliced  # `outputs[2:]`: only those items (and the unknown rest, if any)
        picked: Optional[Val] = None
        selects = False  # indexed with a mask that depends on the data: `x[labels > 0]`
        for element in node.slice:
            part = element.slice
            if isinstance(part, cst.Index):
                key = part.value
                if base.items is not None:
                    try:
                        number = _int_of(key)
                        if number is not None and (-len(base.items) if not base.tail else 0) <= number < len(
                                base.items):
                            picked = base.items[number]
                    except ValueError:
                        pass
                if base.keys is not None and isinstance(key, cst.SimpleString):
                    picked = dict(base.keys).get(str(key.evaluated_value), EMPTY)
                index_val = self._eval(key, env, frame, test)
                selects = selects or (_MASK in index_val.origin and bool(index_val.origin & _PER_BATCH_ORIGINS))
                if picked is None:
                    base = join(flatten(base), detach(Val(_flat_taint_items(index_val),
                                                          index_val.origin - {"const", _MASK})))
            else:
                self._eval_slice_parts(part, env, frame)  # type: ignore[arg-type]
        if picked is not None:
            return picked
        return _dynamic_shape(flatten(base)) if selects else flatten(base)

    def _dynamic_size_item(self, size: Val, node: cst.Subscript, env: Dict[str, Val], frame: Frame) -> Val:
        """`x.shape[0]` of a tensor whose length depends on the data is a data value; other sizes are not."""
        first = False
        for element in node.slice:
            part = element.slice
            if isinstance(part, cst.Index):
                try:
                    first = _int_of(part.value) == 0 and len(node.slice) == 1
                except ValueError:
                    self._eval(part.value, env, frame, False)
            else:
                self._eval_slice_parts(part, env, frame)  # type: ignore[arg-type]
        return Val(origin=size.origin - {_DYNSIZE}) if first else Val(origin=frozenset({"shape"}))

    def _eval_slice_parts(self, part: cst.Slice, env: Dict[str, Val], frame: Frame) -> None:
        for bound in (part.lower, part.upper, part.step):
            if isinstance(bound, cst.BaseExpression):
                self._eval(bound, env, frame, False)

    def eval_comprehension(self, node: cst.CSTNode, env: Dict[str, Val], frame: Frame, test: bool) -> Val:
        inner_env = dict(env)
        saved = frame.guards
        clause = node.for_in  # type: ignore[attr-defined]
        while clause is not None:
            iterable = self._eval(clause.iter, inner_env, frame, test)
            self.assign(clause.target, _each(self._element_of(iterable)), inner_env, frame)
            for condition in clause.ifs:
                frame.guards = frame.guards + self.classify_test(condition.test, inner_env, frame)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self._eval(node.key, inner_env, frame, test)
            value = self._eval(node.value, inner_env, frame, test)
        else:
            value = self._eval(node.elt, inner_env, frame, test)  # type: ignore[attr-defined]
        frame.guards = saved
        return flatten(value)

    # ---- calls ----
    def eval_call(self, node: cst.Call, env: Dict[str, Val], frame: Frame, test: bool) -> Val:
        func = node.func
        name = _dotted(func) or ""
        qual = frame.owner.module.qualify_dotted(name) if name else ""

        # self(...), self.method(...), self.attr(...), super().method(...)
        if _is_self(func):
            return self.inline("forward", 0, node, env, frame)
        if qual == "copy.deepcopy":
            self.eval_args(node, env, frame)
            return Val(origin=frozenset({"unknown"}))  # a separate module: neither runs nor passes on its source
        if isinstance(func, cst.Attribute):
            receiver, method = func.value, func.attr.value
            if _is_self(receiver):
                if method in _SELF_ESCAPES:
                    raise GiveUp(f"self.{method}()")
                if method in self.init.attrs:
                    assigned = self.partial_call[0] is node and not self.partial_call[1]  # `s, t = self.emb(x)`
                    summary = self.child_summary(method, node, frame)
                    if summary is not None:
                        args = self.eval_args(node, env, frame)
                        value = self.child_output(method, summary, frame, func, args)
                        return self._none_parts(method, node, args, value, frame) if assigned else value
                    use = self.new_use(method, WHOLE, frame, func, ref=False)
                    args = self.eval_args(node, env, frame)
                    through = self.call_through(method, node, args, frame)
                    value = join(use, *([through] if through is not None else args))
                    return self._none_parts(method, node, args, value, frame) if assigned else value
                found = self.lookup(method)
                if found is not None and found[2]:
                    # a property holding a module: read it, then call what it returned
                    held = self.call_method(found[0], found[1], method, None, [], {}, frame.guards,
                                            frame.no_grad, frame.depth + 1, frame.stack)
                    held = self.call_site(held, frame)
                    return flatten(join(held, *self.eval_args(node, env, frame)))
                if found is not None:
                    return self.inline(method, 0, node, env, frame)
                if method in _SELF_LOG_SINKS:
                    self.eval_args(node, env, frame)
                    return EMPTY
                if not self.mro_complete:
                    raise GiveUp(f"self.{method}() of an unreadable base")
                if method in _MODULE_API:
                    return flatten(join(*self.eval_args(node, env, frame)), frozenset({"unknown"}))
                if any(_is_self(arg.value) for arg in node.args):
                    raise GiveUp(f"self passed to self.{method}()")  # a processor/callback reads any attribute
                args = self.eval_args(node, env, frame)
                if (not self._assigned_in_class(method) and not any(info.node.decorator_list for info in self.mro)
                        and not self._runs_a_reference(args)):
                    # never set in the class (nor added by a class decorator): whoever sets it from outside may
                    # alias any built module (`model.last_linear = model.fc` in a factory). A callable handed a
                    # module to run (`self._gradient_checkpointing_func(layer.__call__, x)`) runs that module.
                    raise GiveUp(f"self.{method} is set outside the class")
                if method in self._bound_holders:
                    raise GiveUp(f"self.{method} holds a bound method")  # `self.score_fn = self.dot_score`
                through = self.call_through(method, node, args, frame)
                if through is not None:
                    return replace(through, origin=through.origin | {"unknown"})
                args = [self.call_site(arg, frame) for arg in args]
                return flatten(join(*args), frozenset({"unknown"}))
            if isinstance(receiver, cst.Call) and _dotted(receiver.func) == "super":
                start = self._super_start(receiver, frame)
                return self.inline(method, start, node, env, frame)
            base_qual = frame.owner.module.qualify_dotted(_dotted(receiver) or "") if _dotted(receiver) else ""
            base_class = frame.owner.module.local_class(base_qual) if base_qual else None
            if base_class is not None and node.args and _is_self(node.args[0].value):
                position = next((i for i, info in enumerate(self.mro) if info is base_class), None)
                if position is not None:
                    return self.inline(method, position, node, env, frame, drop_first=True)
                raise GiveUp(f"{base_qual}.{method}(self) outside the readable bases")
            if test and method == "get" and len(node.args) == 2 and _literal_truth(node.args[1].value) is not None:
                # `if kwargs.get("dur_prediction", False):` asks whether the caller passed an option
                self._eval(receiver, env, frame, test)
                return Val(origin=frozenset({"optional"}))
            if method in _SHAPE_METHODS:
                sized = self._eval(receiver, env, frame, test)
                self.eval_args(node, env, frame)
                if method in ("numel", "nelement") or method == "size" and len(node.args) == 1 and (
                        isinstance(node.args[0].value, cst.Integer) and node.args[0].value.value == "0"):
                    return _size_of(sized, first=True)
                return _size_of(sized, first=False) if method == "size" and not node.args else Val(
                    origin=frozenset({"shape"}))
            if method in _RANDOM_METHODS:
                self._eval(receiver, env, frame, test)
                return Val(origin=frozenset({"random"}))
            child = _is_self_attr(receiver)
            if child is not None and child in self.init.attrs and not test:
                summary = self.child_method_summary(child, method, node)
                if summary is not None:  # `self.encoder.forward_features(x)`: what that method runs and returns
                    return self.child_output(child, summary, frame, func, self.eval_args(node, env, frame))
            if not qual.startswith(("torch.", "numpy.", "random.", "math.")) or isinstance(receiver, cst.Name) and (
                    receiver.value in env):
                held = self._eval(receiver, env, frame, test)
                if (method in ("items", "values") and not node.args or method in _MODULE_RETURNING_METHODS) and any(
                        self.uses[uid].ref for uid, _ in held.taint):
                    self.eval_args(node, env, frame)
                    return held  # `self.heads.values()`, `self.model.eval()`: the modules run where they are called
                target = self.call_site(held, frame)
                args = self.eval_args(node, env, frame)
                if method in _DYNAMIC_SHAPE_METHODS:
                    return _dynamic_shape(_not_mask(detach(join(target, *args))))
                if method in _COMPARISON_METHODS:
                    value = detach(join(target, *args))
                    return replace(value, origin=value.origin | {_MASK})
                if method in _DETACHING_METHODS:
                    return _not_mask(_sized(detach(join(target, *args)), method, args))
                if target.bound is not None or target.func is not None:
                    return self.call_value(target, node, env, frame, args)
                if "global" in target.origin and not target.taint and not args_taint(args):
                    return Val(origin=_call_origin(qual, args))
                if method in _SHAPE_ARGUMENT_METHODS:
                    # `h.reshape(-1, x.size(-1))` holds h's values: a shape argument adds no origin
                    return flatten(join(target, *(Val(_flat_taint_items(arg)) for arg in args)))
                return _not_mask(_sized(flatten(join(target, *args)), method, args))

        # getattr(self, "name") / getattr(self, name)
        if name == "getattr" and node.args and _is_self(node.args[0].value):
            attr = self._attribute_name(node, env, frame)
            if attr is not None:
                if attr in self.init.attrs:
                    return self.new_use(attr, WHOLE, frame, node, test_only=test)
                held = self._class_constant(node, attr)
                return held if held is not None else Val(origin=frozenset({"selfattr"}))
            if self.unrolling and any(g.kind == NEVER for g in frame.guards):
                return Val(origin=frozenset({"unknown"}))  # in an iteration that never passes its test
            raise GiveUp("getattr(self, name)")
        held = self._config_getattr(node, name)
        if held is not None:
            return held
        if name in ("vars",) and node.args and _is_self(node.args[0].value):
            raise GiveUp("vars(self)")
        if name in _SHAPE_FUNCTIONS and not (name == "type" and len(node.args) == 3):  # type(n, b, d) builds a class
            sized = self.eval_args(node, env, frame, test=True)
            if name == "len" and len(sized) == 1:
                return _size_of(sized[0], first=True)
            return Val(origin=frozenset({"shape"}))
        if name == "super":
            return Val(origin=frozenset({"self"}))
        if qual in _FALSE_IN_TRAINING or name.rsplit(".", 1)[-1] in _FALSE_UNDER_DDP:
            return Val(origin=frozenset({"false_in_training"}))
        if qual in _RANDOM_FUNCTIONS or qual.startswith(_RANDOM_PREFIXES) or name.startswith(_RANDOM_PREFIXES):
            self.eval_args(node, env, frame)
            return Val(origin=frozenset({"random"}) | config_defaults.uniform_origin(qual or name, node.args))
        if qual in _RANK_FUNCTIONS:
            return Val(origin=frozenset({"rank"}))

        if isinstance(func, cst.Name) and func.value in self._last_items:
            last, summary, attr = self._last_items[func.value]
            if env.get(func.value) is last:  # the last item of a peeled loop: one use per part it returns
                self.consumed.update(uid for uid, _ in last.taint)
                return self.child_output(attr, summary, frame, func, self.eval_args(node, env, frame), index=-1)
        callable_node = isinstance(func, (cst.Name, cst.Attribute, cst.Subscript, cst.Call))
        callee = self._eval(func, env, frame, test) if callable_node else EMPTY
        callee = self.call_site(callee, frame)
        args = self.eval_args(node, env, frame)
        for arg in node.args:
            if _is_self(arg.value):
                raise GiveUp("self passed to other code")
        if callee.bound is not None or callee.func is not None:
            return self.call_value(callee, node, env, frame, args)
        record = _named_tuple_record(frame.owner.module, name, node, args)  # thirdparty: namedtuple outputs
        if record is not None:
            return record
        if _builds_record(name) and node.args and all(arg.keyword is not None for arg in node.args):
            # ModelOutput(loss=..., logits=...) / dict(loss=...): keep the parts apart, like a dict literal
            return Val(keys=tuple((arg.keyword.value, value) for arg, value in zip(node.args, args)
                                  if arg.keyword is not None))
        if name not in _KEEPS_REFERENCES and qual not in _KEEPS_REFERENCES:
            # a module reference passed to other code (`checkpoint(layer, x)`) runs there: its use is
            # here, and what comes back is a computed value, not the reference
            args = [self.call_site(arg, frame) for arg in args]
        if qual in _DYNAMIC_SHAPE_FUNCTIONS or qual == "torch.where" and len(args) == 1:
            return _dynamic_shape(_not_mask(detach(join(*args))))
        if qual in _DETACHING_FUNCTIONS:
            return _not_mask(detach(join(*args)))
        if "global" in callee.origin and not callee.taint and not args_taint(args):
            return Val(origin=_call_origin(qual, args))
        return _not_mask(flatten(join(flatten(callee, frozenset()), *args)))

    def _runs_a_reference(self, args: Sequence[Val]) -> bool:
        """A module reference among the arguments: the callee is a runner of that module (checkpointing)."""
        return any(self.uses[uid].ref and not self.uses[uid].test_only for arg in args for uid, _ in arg.taint)

    def call_site(self, callee: Val, frame: Frame) -> Val:
        """Calling a module reference (`layer(x)` in `for layer in self.layers`) uses the module here,
        under the guards in force here, not where the reference was taken."""
        extra: List[Tuple[int, bool]] = []
        for uid, detached in callee.taint:
            ref = self.uses[uid]
            if ref.ref and not ref.test_only:
                self.consumed.add(uid)
                guards = frame.guards + tuple(g for g in ref.guards if g not in frame.guards)
                use = Use(len(self.uses), ref.attr, ref.index, guards, frame.no_grad or ref.no_grad, frame.method)
                self.uses.append(use)
                extra.append((use.id, detached or frame.no_grad))
        if not extra:
            return callee
        # what the call returns depends on the module as used here; the reference itself stays behind
        # (a later `x.sum()` on the output must not use the module again, without the guards)
        kept = {(uid, detached) for uid, detached in callee.taint if uid not in self.consumed}
        return replace(callee, taint=tuple(sorted(kept | set(extra))))

    def eval_args(self, node: cst.Call, env: Dict[str, Val], frame: Frame, test: bool = False) -> List[Val]:
        values = []
        for arg in node.args:
            value = self._eval(arg.value, env, frame, test)
            if value.bound is not None or value.func is not None:
                value = self.call_value(value, None, env, frame, [])  # a callback: it runs
            values.append(value)
        return values

    def call_value(self, callee: Val, node: Optional[cst.Call], env: Dict[str, Val], frame: Frame,
                   args: List[Val]) -> Val:
        if callee.bound is not None:
            owner, method = callee.bound
            found = self.lookup(method, self._mro_position(owner))
            if found is None:
                return join(*args)
            return self.call_method(found[0], found[1], method, None, args if node is not None else
                                    [Val(origin=frozenset({"data"}))] * 4, {}, frame.guards, frame.no_grad,
                                    frame.depth + 1, frame.stack)
        function = callee.func
        inner_env = dict(env)
        if isinstance(function, cst.Lambda):
            for i, param in enumerate(function.params.params):
                inner_env[param.name.value] = args[i] if i < len(args) else Val(origin=frozenset({"data"}))
            return self._eval(function.body, inner_env, frame, False)
        if isinstance(function, cst.FunctionDef):
            key = f"nested:{id(function)}"
            if key in frame.stack:
                return join(*args)
            if frame.depth > _MAX_DEPTH:
                raise Limit(f"calls nest more than {_MAX_DEPTH} deep")
            inner = Frame(frame.owner, frame.method, frame.guards, frame.no_grad, frame.depth + 1,
                          stack=frame.stack + (key,))
            positional = list(function.params.params)
            for i, param in enumerate(positional):
                inner_env[param.name.value] = args[i] if i < len(args) else Val(origin=frozenset({"data"}))
            if isinstance(function.params.star_arg, cst.Param):
                inner_env[function.params.star_arg.name.value] = join(*args) if args else Val(
                    origin=frozenset({"data"}))
            self.exec_block(function.body, inner_env, inner)
            return join(*inner.returns) if inner.returns else EMPTY
        return join(*args)

    def inline(self, method: str, start: int, node: cst.Call, env: Dict[str, Val], frame: Frame,
               drop_first: bool = False) -> Val:
        found = self.lookup(method, start)
        args: List[Val] = []
        kwargs: Dict[str, Val] = {}
        star = False
        for i, arg in enumerate(node.args):
            if drop_first and i == 0:
                continue
            value = self._eval(arg.value, env, frame, False)
            if arg.star:
                star = True
                args.append(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        if found is None:
            if not self.mro_complete:
                raise GiveUp(f"{method}() of an unreadable base")
            return join(*args, *kwargs.values())
        owner, func, _ = found
        if star:
            args = [join(*args, *kwargs.values())] * 8
        return self.call_method(owner, func, method, None, args, kwargs, frame.guards, frame.no_grad,
                                frame.depth + 1, frame.stack)

    def _super_start(self, call: cst.Call, frame: Frame) -> int:
        if call.args:
            named = _dotted(call.args[0].value)
            for i, info in enumerate(self.mro):
                if info.name == named:
                    return i + 1
        return self._mro_position(frame.owner) + 1


def _tests_none(owner: ClassInfo, method: str) -> bool:
    """The method compares something with None (`x is None`, `x is not None`): only then may a child's None matter."""
    def look() -> bool:  # a text look at the method's lines
        func = owner.methods.get(method) or owner.properties.get(method)
        if func is None:
            return True
        text = "".join(owner.module.lines[func.lineno - 1:func.end_lineno or func.lineno])
        return " is None" in text or " is not None" in text
    return bool(owner.fact(("flow.tests_none", method), look))


def _decorated_no_grad(owner: ClassInfo, func: FunctionNode) -> bool:
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = owner.module.qualify_dotted(ast.unparse(target)) if isinstance(target, (ast.Name, ast.Attribute)) else ""
        if name in _NO_GRAD_CONTEXTS:
            return True
    return False


def _mode_of(test: cst.BaseExpression) -> Optional[str]:
    """`mode` for `mode == "a"` / `mode in ("a", "b")`: a test of one name against string literals."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    if not isinstance(test.comparisons[0].operator, (cst.Equal, cst.In)) or not _compares_to_string(test):
        return None
    if not isinstance(test.left, (cst.Name, cst.Attribute)):
        return None
    return code_of(test.left)


def _ends_in_raise(block: cst.BaseSuite) -> bool:
    """The block's last statement is a `raise`."""
    statements = getattr(block, "body", ())
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return bool(last.body) and isinstance(last.body[-1], cst.Raise)
    return isinstance(last, cst.Raise)


def _literal_truth(node: cst.BaseExpression) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return node.value == "True"
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value) != 0
    if isinstance(node, (cst.SimpleString,)):
        return bool(node.evaluated_value)
    return None


def _compares_to_string(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison):
        return False
    parts = [test.left] + [c.comparator for c in test.comparisons]
    return any(isinstance(p, (cst.SimpleString, cst.ConcatenatedString)) or (
        isinstance(p, (cst.Tuple, cst.List, cst.Set)) and p.elements and
        all(isinstance(e.value, cst.SimpleString) for e in p.elements)) for p in parts)


def _named_tuple_record(module: FileIndex, name: str, node: cst.Call, args: Sequence[Val]) -> Optional[Val]:
    """``GoogLeNetOutputs(x, aux2, aux1)`` of a module-level named tuple of the file: a record whose parts
    are reachable both by position (``out[0]``, unpacking) and by field name (``out.logits``)."""
    if not name or "." in name or not node.args or any(arg.star for arg in node.args):
        return None
    fields = module.namedtuple_fields(name)
    if not fields:
        return None
    parts: Dict[str, Val] = {}
    for i, (arg, value) in enumerate(zip(node.args, args)):
        key = arg.keyword.value if arg.keyword is not None else (fields[i] if i < len(fields) else None)
        if key not in fields:
            return None
        parts[key] = value
    items = tuple(parts.get(f, EMPTY) for f in fields)
    return Val(items=items, keys=tuple(zip(fields, items)))


def _builds_record(name: str) -> bool:
    """dict(...) and HF-style output records (``SequenceClassifierOutput``, ``CausalLMOutputWithPast``)."""
    last = name.rsplit(".", 1)[-1]
    return last == "dict" or last.endswith(("Output", "Outputs")) or "OutputWith" in last


def _peelable_items(stmt: cst.For) -> Optional[Tuple[str, str]]:
    """``for block in self.blocks`` or ``for i, block in enumerate(self.blocks)`` with ``i`` never read (a
    position read in the body could single out items): ("blocks", "block"), else None."""
    if stmt.orelse is not None:
        return None
    if isinstance(stmt.target, cst.Name):
        attr = _is_self_attr(stmt.iter)
        return (attr, stmt.target.value) if attr is not None else None
    counter = _enumerate_counter(stmt)
    item = stmt.target.elements[1].value if counter is not None else None  # type: ignore[attr-defined]
    if counter is None or not isinstance(item, cst.Name):
        return None
    attr = _is_self_attr(stmt.iter.args[0].value)  # type: ignore[attr-defined]
    if attr is None or _reads_name(stmt.body, counter):
        return None
    return attr, item.value


def _reads_name(body: cst.CSTNode, name: str) -> bool:
    stack: List[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value == name:
            return True
        stack.extend(node.children)
    return False


def _sole_call_of(body: cst.BaseSuite, name: str) -> Optional[cst.Call]:
    """The one call ``name(...)`` in a loop body that neither jumps nor returns and reads ``name`` nowhere
    else (passing the item on, or rebinding it, would make what its call returns not all it gives), or None."""
    calls: List[cst.Call] = []
    reads = 0
    stack: List[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Break, cst.Continue, cst.Return, cst.Yield, cst.FunctionDef, cst.Lambda,
                             cst.ClassDef)):
            return None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == name:
            calls.append(node)
        elif isinstance(node, cst.Name) and node.value == name:
            reads += 1
        stack.extend(node.children)
    return calls[0] if len(calls) == 1 and reads == 1 else None


def _reads_computed_names_in(frame: Frame) -> bool:
    """The method being run has a ``getattr(self, <not a literal>)`` (its loops may be unrolled); once per method."""
    owner = frame.owner
    func = owner.methods.get(frame.method) or owner.properties.get(frame.method)
    if func is None:
        return False
    return bool(owner.fact(("flow.computed_getattr", id(func)), lambda: any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
        and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == "self"
        and not isinstance(node.args[1], ast.Constant) for node in walk(func))))


def _reads_computed_names(loop: ast.For) -> bool:
    """The loop reads ``getattr(self, <not a literal>)`` and never leaves early (no break, return or yield)."""
    found = False
    for node in ast.walk(loop):
        if isinstance(node, (ast.Break, ast.Return, ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(
                node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == "self":
            found = found or not isinstance(node.args[1], ast.Constant)
    return found


def _env_constants(env: Dict[str, Val]) -> Dict[str, object]:
    """The names holding a known int or string."""
    return {name: val.number if val.number is not None else val.text for name, val in env.items()
            if val.number is not None or val.text is not None}


def _constant(value: object) -> Val:
    if isinstance(value, int):
        return Val(origin=frozenset({"const"}), number=value)
    if isinstance(value, str):
        return Val(origin=frozenset({"const"}), text=value)
    return Val(origin=frozenset({"const"}))


def _enumerate_counter(stmt: cst.For) -> Optional[str]:
    """``for i, layer in enumerate(...)`` -> "i"."""
    target, call = stmt.target, stmt.iter
    if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2 and isinstance(
            target.elements[0].value, cst.Name) and isinstance(call, cst.Call) and isinstance(
            call.func, cst.Name) and call.func.value == "enumerate" and len(call.args) == 1:
        return target.elements[0].value.value
    return None


def _past_first_position(test: cst.BaseExpression, env: Dict[str, Val]) -> bool:
    """``i > 0``, ``i >= 1``, ``i != 0`` on a loop position: true for every element but the first."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name)):
        return False
    held = env.get(test.left.value)
    if held is None or held.origin != {_POSITION}:
        return False
    comparison = test.comparisons[0]
    try:
        bound = _int_of(comparison.comparator)
    except ValueError:
        return False
    op = comparison.operator
    return (isinstance(op, (cst.GreaterThan, cst.NotEqual)) and bound == 0) or (
        isinstance(op, cst.GreaterThanEqual) and bound == 1)


def _true_in_training(node: cst.BaseExpression, value: Val) -> bool:
    """A conjunct that holds in training for every element but the first: ``self.training``, ``i > 0``."""
    if _is_self_attr(node) == "training":
        return True
    if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.And):
        return _true_in_training(node.left, value) and _true_in_training(node.right, value)
    return isinstance(node, cst.Comparison) and value.origin <= {_POSITION, "const", _MASK} and (
        _POSITION in value.origin) and _past_first_position(node, {code_of(node.left): Val(
            origin=frozenset({_POSITION}))} if isinstance(node.left, cst.Name) else {})


def _starred_tuple(elements: Sequence[cst.BaseElement], parts: Sequence[Val]) -> Val:
    """``(first, *outputs[1:])``: the items known by position up to the first unpacked value whose items
    are not all known; what follows is the unknown rest (kept whole, as the tuple's own taint)."""
    items: List[Val] = []
    rest: List[Val] = []
    for element, part in zip(elements, parts):
        if rest:
            rest.append(part)
        elif not isinstance(element, cst.StarredElement):
            items.append(part)
        elif part.items is not None:
            items.extend(part.items)
            if part.tail:
                rest.append(Val(part.taint, part.origin))
        else:
            rest.append(part)
    origin: FrozenSet[str] = frozenset().union(*(p.origin for p in parts)) if parts else frozenset()
    if not rest:
        return Val(origin=origin or frozenset({"const"}), items=tuple(items))
    return Val(_flat_taint_items(join(*rest)), origin, tuple(items), tail=True)


def _slice_of_items(base: Val, node: cst.Subscript) -> Optional[Val]:
    """``outputs[2:]``, ``outputs[1:3]`` of a tuple whose items are known: those items only. With an
    unknown rest (``tail``), an open slice keeps the rest (the tuple's own taint) and bounds must be known
    from the start; anything else (a step, a bound that is not a literal) is None: the caller flattens."""
    if base.items is None or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return None
    element = node.slice[0].slice
    try:
        lower, upper, step = _int_of(element.lower), _int_of(element.upper), _int_of(element.step)
    except ValueError:
        return None
    if step not in (None, 1):
        return None
    length = len(base.items)
    if base.tail and ((lower or 0) < 0 or (upper is not None and not 0 <= upper <= length)):
        return None
    start, stop, _ = slice(lower, upper).indices(length)
    if upper is None and base.tail:
        return Val(base.taint, base.origin, base.items[start:], tail=True)
    return Val(origin=base.origin, items=base.items[start:stop])


def _flat_taint_items(val: Val) -> Tuple[Tuple[int, bool], ...]:
    return tuple(sorted(_flat_taint(val).items()))


def args_taint(args: Sequence[Val]) -> bool:
    return any(_flat_taint(a) for a in args)


def _call_origin(qual: str, args: Sequence[Val]) -> FrozenSet[str]:
    origin: FrozenSet[str] = frozenset().union(*(a.origin for a in args)) if args else frozenset()
    origin -= {_MASK}
    if qual.startswith(("torch.", "F.", "numpy.", "math.")) or qual in _PURE_BUILTINS:
        return origin or frozenset({"const"})
    return origin | {"global"}


def _not_mask(val: Val) -> Val:
    """The value of an arithmetic operation or a call: no longer a boolean mask."""
    return replace(val, origin=val.origin - {_MASK}) if _MASK in val.origin else val


def _presence_predicate(module: FileIndex, name: str) -> bool:
    """A function of the file that only says whether its one argument is None (`exists`, `is_none`)."""
    func = module.functions.get(name)
    if func is None or len(func.args.args) != 1 or func.args.vararg or func.args.kwarg:
        return False
    body = [stmt for stmt in func.body if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or not isinstance(body[0].value, ast.Compare):
        return False
    compare = body[0].value
    return (isinstance(compare.left, ast.Name) and compare.left.id == func.args.args[0].arg
            and len(compare.ops) == 1 and isinstance(compare.ops[0], (ast.Is, ast.IsNot))
            and isinstance(compare.comparators[0], ast.Constant) and compare.comparators[0].value is None)


def _each(val: Val) -> Val:
    """An element of a loop over the data: the loop may visit every one of them."""
    return replace(val, origin=val.origin | {_EACH}) if val.origin & _PER_BATCH_ORIGINS else val


def _sized(val: Val, method: str, args: Sequence[Val]) -> Val:
    """`sel.item()`, `sel.tolist()`, `sel.sum()`: the result no longer has the selection's length."""
    if _DYNSHAPE in val.origin and method in _SIZE_DROPPING_METHODS and not args:
        return replace(val, origin=val.origin - {_DYNSHAPE})
    return val


def _dynamic_shape(val: Val) -> Val:
    """A selection (`nonzero()`, `x[mask]`, `unique()`) whose length depends on the data when the
    selection does."""
    if val.origin & _PER_BATCH_ORIGINS:
        return replace(val, origin=val.origin | {_DYNSHAPE})
    return val


def _size_of(val: Val, first: bool) -> Val:
    """A size of a value (`len(x)`, `x.size(0)`, `x.numel()`; `x.shape` whole when not ``first``): a data
    value when the value was selected by the data, a shape otherwise."""
    if _DYNSHAPE not in val.origin:
        return Val(origin=frozenset({"shape"}))
    varying = val.origin & _PER_BATCH_ORIGINS
    return Val(origin=varying if first else varying | {_DYNSIZE})


# ---------------------------------------------------------------------------------------------
# Guard algebra
# ---------------------------------------------------------------------------------------------
_DETAIL_ORIGIN = {"random": "random", "data values": "data", "task or mode argument": "task", "rank": "rank"}


def _init_membership(test: cst.Comparison, init: InitFacts) -> Optional[Guard]:
    """`self.active not in self.copies`, decided by the state `__init__` leaves (init_state.py): judged like a
    configuration's default (a never-taken side is DDP102)."""
    op = test.comparisons[0].operator
    member, container = _is_self_attr(test.left), _is_self_attr(test.comparisons[0].comparator)
    if not isinstance(op, (cst.In, cst.NotIn)) or member is None or container is None:
        return None
    if init_state.membership(init.held, init.keys, member, container) is None:
        return None
    truth = isinstance(op, cst.In)
    return Guard(ALWAYS if truth else NEVER, code_of(test), f"{config_defaults.CONFIG_DETAIL}{truth} after __init__")


def guard_origins(guards: Sequence[Guard]) -> FrozenSet[str]:
    """What a value assigned under these guards depends on, besides its own inputs."""
    origins = set()
    if any(g.kind == BATCH for g in guards):  # `i > 0 and <random>`: random (see conjoin)
        guards = [g for g in guards if not (g.kind == UNKNOWN and g.detail == _POSITION)]
    for guard in guards:
        if guard.kind == BATCH:
            origins.add(_DETAIL_ORIGIN.get(guard.detail, "unknown"))
            if guard.note:  # a value assigned under the guard keeps the configuration it was judged with
                origins.add(config_defaults.NOTE + guard.note)
        elif guard.kind == OPTIONAL:
            origins.add("optional")
        elif guard.kind in (UNKNOWN, STATIC, BUILT):
            origins.add("unknown")
    return frozenset(origins)


def conjoin(guards: Tuple[Guard, ...], text: str) -> Guard:
    """One guard standing for a conjunction (the least-known kind wins)."""
    kinds = [g for g in guards if g.kind != ALWAYS]
    if not kinds:
        return Guard(ALWAYS, text)
    never = [g for g in kinds if g.kind == NEVER]
    if never:  # keeps a configuration's default that decided it
        return Guard(NEVER, text, _config_detail(never[0]))
    if len(kinds) == 1:
        return kinds[0]
    if any(g.kind == BATCH for g in kinds):
        # `i > 0 and <random>`: a random skip of every element but the first still skips some in some batches
        kinds = [g for g in kinds if not (g.kind == UNKNOWN and g.detail == _POSITION)]
        if len(kinds) == 1:
            return Guard(BATCH, text, kinds[0].detail, note=kinds[0].note)
    for kind in (UNKNOWN, BUILT, STATIC):
        if any(g.kind == kind for g in kinds):
            return Guard(UNKNOWN, text)
    batch = [g for g in kinds if g.kind == BATCH]
    if batch:
        return Guard(BATCH, text, batch[0].detail)
    return Guard(OPTIONAL, text)


def disjoin(left: Guard, right: Guard, text: str) -> Guard:
    if ALWAYS in (left.kind, right.kind):
        return Guard(ALWAYS, text)
    for one, other in ((left, right), (right, left)):
        if one.kind == NEVER:
            # the other side decides; a message still names the whole test (`self.off or (k not in self.c)`
            # must not read as if `self.off` alone chose), except a per-batch test, named by its varying part
            return other if other.kind == BATCH else replace(other, text=text)
    if left.kind == right.kind == BATCH:
        return Guard(BATCH, text, left.detail)
    for one, other in ((left, right), (right, left)):
        if one.kind == UNKNOWN and one.detail == _POSITION and other.kind == BATCH:
            return replace(other, text=text)  # `i == 0 or <random>`: random for every element but the first
    return Guard(UNKNOWN, text)


def negate(guards: Tuple[Guard, ...]) -> Guard:
    """The guard on the other side of a test (the negation of a conjunction)."""
    if len(guards) == 1:
        g = guards[0]
        text = _negated_text(g.text)
        if g.kind == ALWAYS:
            return Guard(NEVER, text, _config_detail(g), key=g.key, polarity=not g.polarity)
        if g.kind == NEVER:
            return Guard(ALWAYS, text, _config_detail(g), key=g.key, polarity=not g.polarity)
        return replace(g, text=text, polarity=not g.polarity)
    parts = [negate((g,)) for g in guards]
    result = parts[0]
    for part in parts[1:]:
        result = disjoin(result, part, _negated_text(" and ".join(g.text for g in guards)))
    return result


def _config_detail(guard: Guard) -> str:
    """The detail a negated or conjoined always/never guard keeps: the configuration default deciding it."""
    # a literal constant stays one too: `not skip` with skip=True by default is dead code, not "eval mode"
    return guard.detail if guard.detail.startswith(config_defaults.CONFIG_DETAIL) or guard.detail == "constant" else ""


def _negated_text(text: str) -> str:
    if text.startswith("not (") and text.endswith(")"):
        return text[5:-1]
    if text.startswith("not ") and " " not in text[4:]:
        return text[4:]
    return f"not {text}" if " " not in text else f"not ({text})"
