"""Typed formulas f(x, y) as surfaces, parsed by a whitelist grammar — never ``eval``.

Grammar (recursive descent; ``**`` binds tighter than unary minus, and is
right-associative, as in Python: -x**2 = -(x²), 2**3**2 = 2⁹):

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom ("**" unary)?
    atom   := number | name | name "(" expr ("," expr)* ")" | "(" expr ")"

Names: the variables x and y, the constants pi and e, and the functions in
FUNCTIONS (each with a fixed number of arguments). Anything else — an
attribute, a string, a lambda, an unknown name, a character outside the
grammar — is a ``FormulaError`` whose ``.position`` is the offending
character's index. Limits keep a hostile text cheap: its length, its nesting
depth, its size in nodes, its *cost* (below), and the size of numbers and of
constant powers (9**9**9 is refused, not computed).

Cost: compiling every new formula anew (its map with gradient and Hessian,
Newton's critical points, the optimizer runner) took 1.3–3.9 s and ~10 MB of
executables per formula at these limits, and compile time grows faster than the
formula (200 chained divisions took 218 s, softplus nested 40 deep 228 s). So a
formula is not compiled: ``program`` turns its tree into instructions that one
shared, once-compiled interpreter evaluates as data, derivatives included
(``surfaces.interpreter``). The limits stay, now bounding what each evaluation
costs (every instruction is one step of the interpreter's loop): each operation
is weighed (COST: + − × 1, ÷ 2, ** 3, a function 3, the composite softplus /
sigmoid 4), the sum is bounded by MAX_COST, nesting by MAX_DEPTH, size by
MAX_NODES (which also bounds the interpreter's program length). ``compose``
builds the same tree as a function composed of jax.numpy closures: the direct
path, kept as the tests' oracle for the interpreter.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from surfaces.interpreter import as_program, assemble, formula_loss
from surfaces.surface import Surface

MAX_LENGTH = 400
MAX_DEPTH = 12
MAX_NODES = 100
MAX_COST = 48  # the sum of COST over the formula's operations (see the module doc)
COST = {"+": 1, "-": 1, "*": 1, "neg": 1, "/": 2, "**": 3, "call": 3, "softplus": 4, "sigmoid": 4}
MAX_NUMBER = 1e12  # a literal or a folded constant larger than this is refused
DEFAULT_DOMAIN = ((-3.0, 3.0), (-3.0, 3.0))
PREFIX = "formula:"  # surfaces.get(PREFIX + …) builds a custom surface (see ``surface_name``)

FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "sin": (1, jnp.sin), "cos": (1, jnp.cos), "tan": (1, jnp.tan), "exp": (1, jnp.exp), "log": (1, jnp.log),
    "sqrt": (1, jnp.sqrt), "abs": (1, jnp.abs), "tanh": (1, jnp.tanh), "sigmoid": (1, jax.nn.sigmoid),
    "relu": (1, jax.nn.relu), "softplus": (1, jax.nn.softplus), "min": (2, jnp.minimum), "max": (2, jnp.maximum),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")
_TOKEN = re.compile(r"(?:(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<name>[A-Za-z][A-Za-z0-9]*)"
                    r"|(?P<op>\*\*|[-+*/(),]))", re.ASCII)


class FormulaError(ValueError):
    """A formula that cannot be used; ``position`` is the index of the offending character in the text."""

    def __init__(self, template: str, position: int, **values):
        # The template and its values stay apart so an interface can translate
        # the template (``i18n.tr(err.template, **err.values)``).
        self.template, self.values = template, values
        self.message = template.format(**values)
        self.position = position
        super().__init__(f"{self.message} (at position {position})")


class Node(NamedTuple):
    kind: str  # "num" | "var" | "neg" | "op" | "call"
    value: object  # the number, the variable or function name, or the operator
    args: tuple = ()
    position: int = 0


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, i = [], 0
    while i < len(text):
        if text[i] in " \t\n":
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            char = text[i]
            if char == "^":
                raise FormulaError("'^' is not allowed here (use ** for powers)", i)
            raise FormulaError("{char} is not allowed here", i, char=repr(char))
        kind = m.lastgroup
        start = m.start(kind)
        out.append((kind, m.group(kind), start))
        i = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.nodes = 0
        self.cost = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text))

    def take(self, value: str | None = None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            if tok[0] == "end":
                raise FormulaError("expected {token}, found the end of the formula", tok[2], token=repr(value))
            raise FormulaError("expected {token}, found {found}", tok[2], token=repr(value), found=repr(tok[1]))
        self.i += 1
        return tok

    def node(self, *args) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError("the formula is too large (more than {limit} parts)", args[-1], limit=MAX_NODES)
        kind, value = args[0], args[1]
        self.cost += COST.get(value, COST["call"]) if kind == "call" else COST.get(value if kind == "op" else kind, 0)
        if self.cost > MAX_COST:
            raise FormulaError("the formula is too costly to evaluate here (cost over {limit}: each + − * counts 1, "
                               "/ 2, ** 3, a function 3 or 4); use fewer operations", args[-1], limit=MAX_COST)
        return Node(*args)

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaError("nested more than {limit} levels deep", self.peek()[2], limit=MAX_DEPTH)
        left = self.term(depth)
        while self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            left = self.node("op", op, (left, self.term(depth)), pos)
        return left

    def term(self, depth: int) -> Node:
        left = self.unary(depth)
        while self.peek()[1] in ("*", "/"):
            _, op, pos = self.take()
            left = self.node("op", op, (left, self.unary(depth)), pos)
        return left

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaError("nested more than {limit} levels deep", self.peek()[2], limit=MAX_DEPTH)
        if self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            inner = self.unary(depth + 1)
            return inner if op == "+" else self.node("neg", "-", (inner,), pos)
        return self.power(depth)

    def power(self, depth: int) -> Node:
        base = self.atom(depth)
        if self.peek()[1] == "**":
            _, _, pos = self.take()
            return self.node("op", "**", (base, self.unary(depth + 1)), pos)
        return base

    def atom(self, depth: int) -> Node:
        kind, value, pos = self.take()
        if kind == "number":
            v = float(value)
            if not math.isfinite(v) or abs(v) > MAX_NUMBER:
                raise FormulaError("the number {number} is too large (limit {limit:g})", pos, number=value[:20],
                                   limit=MAX_NUMBER)
            return self.node("num", v, (), pos)
        if kind == "name":
            if value in VARIABLES:
                return self.node("var", value, (), pos)
            if value in CONSTANTS:
                return self.node("num", CONSTANTS[value], (), pos)
            if value in FUNCTIONS:
                arity = FUNCTIONS[value][0]
                self.take("(")
                args = [self.expr(depth + 1)]
                while self.peek()[1] == ",":
                    self.take(",")
                    args.append(self.expr(depth + 1))
                self.take(")")
                if len(args) != arity:
                    raise FormulaError("{name} takes {arity} argument(s), got {count}", pos, name=value, arity=arity,
                                       count=len(args))
                return self.node("call", value, tuple(args), pos)
            allowed = ", ".join([*VARIABLES, *CONSTANTS, *FUNCTIONS])
            raise FormulaError("unknown name {name}; allowed: {allowed}", pos, name=repr(value[:20]), allowed=allowed)
        if value == "(":
            inner = self.expr(depth + 1)
            self.take(")")
            return inner
        if kind == "end":
            raise FormulaError("expected a number, x, y, a function or '(', found the end of the formula", pos)
        raise FormulaError("expected a number, x, y, a function or '(', found {found}", pos, found=repr(value))


def _fold(node: Node) -> Node:
    """Fold constant subtrees into numbers, refusing any that overflow (9**9**9) or are not finite."""
    if node.kind in ("num", "var"):
        return node
    args = tuple(_fold(a) for a in node.args)
    node = node._replace(args=args)
    if not all(a.kind == "num" for a in args):
        return node
    vals = [a.value for a in args]
    try:
        if node.kind == "neg":
            v = -vals[0]
        elif node.kind == "op":
            a, b = vals
            v = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                 "/": lambda: a / b if b != 0 else math.nan, "**": lambda: math.pow(a, b)}[node.value]()
        else:
            return node  # functions are left to JAX (they may be undefined at a constant: log(-1))
    except (OverflowError, ValueError, ZeroDivisionError):
        v = math.inf
    if isinstance(v, complex) or not math.isfinite(v) or abs(v) > MAX_NUMBER:
        raise FormulaError("this constant part is too large or undefined (limit {limit:g})", node.position,
                       limit=MAX_NUMBER)
    return Node("num", float(v), (), node.position)


def parse(text: str) -> Node:
    """The formula's syntax tree (constants folded), or a FormulaError saying what is wrong and where."""
    if not isinstance(text, str):
        raise FormulaError("a formula must be text", 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError("the formula is {length:,} characters long; the limit is {limit}", MAX_LENGTH,
                           length=len(text), limit=MAX_LENGTH)
    if not text.strip():
        raise FormulaError("the formula is empty", 0)
    parser = _Parser(text)
    tree = parser.expr(0)
    kind, value, pos = parser.peek()
    if kind != "end":
        raise FormulaError("unexpected {token} after a complete formula", pos, token=repr(value))
    return _fold(tree)


_BINARY = {"+": jnp.add, "-": jnp.subtract, "*": jnp.multiply, "/": jnp.divide, "**": jnp.power}


def compose(node: Node) -> Callable:
    """The tree as a function (x, y) -> value, composed of closures over jax.numpy (compiled per formula).

    The direct path: the interpreter (``program``) must agree with it, values and derivatives.
    """
    if node.kind == "num":
        value = node.value
        return lambda x, y: jnp.full_like(x, value)
    if node.kind == "var":
        return (lambda x, y: x) if node.value == "x" else (lambda x, y: y)
    parts = [compose(a) for a in node.args]
    if node.kind == "neg":
        inner = parts[0]
        return lambda x, y: -inner(x, y)
    if node.kind == "op":
        fn, (a, b) = _BINARY[node.value], parts
        return lambda x, y: fn(a(x, y), b(x, y))
    fn = FUNCTIONS[node.value][1]
    return lambda x, y: fn(*(p(x, y) for p in parts))


def program(node: Node) -> tuple:
    """The tree as interpreter instructions in post-order (``surfaces.interpreter.assemble``): data, not code."""
    instructions: list[tuple[str, int, int, float]] = []

    def emit(n: Node) -> int:
        if n.kind == "num":
            instructions.append(("const", 0, 0, n.value))
        elif n.kind == "var":
            instructions.append((n.value, 0, 0, 0.0))
        else:
            registers = [emit(a) for a in n.args]
            instructions.append(("neg" if n.kind == "neg" else n.value, registers[0], registers[-1], 0.0))
        return len(instructions) - 1

    emit(node)
    return assemble(instructions)


# Outside a compiled function (a notebook's ``s.loss(p)``): the interpreter compiled once, the program as data.
_eager_loss = jax.jit(formula_loss)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}


def _precedence(node: Node) -> int:
    return _PRECEDENCE["neg"] if node.kind == "neg" else _PRECEDENCE.get(node.value, 5) if node.kind == "op" else 5


def to_latex(node: Node) -> str:
    """A LaTeX rendering of the tree (for the formula shown above a map), with only the parentheses it needs."""
    def paren(n: Node, needed: bool) -> str:
        return rf"\left({to_latex(n)}\right)" if needed else to_latex(n)

    if node.kind == "num":
        v = node.value
        return r"\pi" if v == math.pi else ("e" if v == math.e else f"{v:g}")
    if node.kind == "var":
        return node.value
    if node.kind == "neg":
        return "-" + paren(node.args[0], _precedence(node.args[0]) < 3)
    if node.kind == "call":
        inner = ", ".join(to_latex(a) for a in node.args)
        return rf"\operatorname{{{node.value}}}\left({inner}\right)"
    a, b = node.args
    p = _PRECEDENCE[node.value]
    if node.value == "/":
        return rf"\frac{{{to_latex(a)}}}{{{to_latex(b)}}}"
    if node.value == "**":
        return rf"{paren(a, _precedence(a) <= 4)}^{{{to_latex(b)}}}"
    left = paren(a, _precedence(a) < p)
    right = paren(b, _precedence(b) < p or (_precedence(b) == p and node.value == "-"))
    symbol = r"\cdot" if node.value == "*" else node.value
    return f"{left} {symbol} {right}"


def _check_domain(domain) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in domain)
    except (TypeError, ValueError):
        raise FormulaError("the domain must be ((xmin, xmax), (ymin, ymax))", 0) from None
    for lo, hi in ((x0, x1), (y0, y1)):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and abs(lo) <= 1e6 and abs(hi) <= 1e6):
            raise FormulaError("each domain range must be finite, within ±10⁶, with min < max", 0)
        if hi - lo < 1e-4 * max(1.0, abs(lo), abs(hi)):
            # Maps and runs compute in float32 (7 digits): a narrower range has too few distinct points to draw.
            raise FormulaError("each domain range must be wider than 10⁻⁴ of its largest bound (and than 10⁻⁴)", 0)
    return (x0, x1), (y0, y1)


@functools.lru_cache(maxsize=64)
def _surface(text: str, domain) -> Surface:
    tree = parse(text)
    code = program(tree)
    prog = as_program(code)
    (x0, x1), (y0, y1) = domain
    cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return Surface(
        name=surface_name(text, domain),
        title=f"f(x, y) = {text.strip()}",
        loss=functools.partial(_eager_loss, prog),
        formula="L(x, y) = " + to_latex(tree),
        domain=domain,
        starts=((cx - 0.6 * wx, cy + 0.5 * wy), (cx + 0.7 * wx, cy - 0.6 * wy), (cx - 0.2 * wx, cy - 0.8 * wy)),
        text="A surface you typed (parsed by a whitelist grammar; points where it is not finite are left blank).",
        program=code,
    )


def from_formula(text: str, domain=None) -> Surface:
    """A surface record like the built-in ones from a typed f(x, y); FormulaError if the text is not usable.

    The same (text, domain) returns the same record (cached); a new formula
    compiles nothing (its ``program`` is data for the shared interpreter,
    ``surfaces.interpreter``); ``domain`` defaults to DEFAULT_DOMAIN.
    """
    return _surface(text.strip() if isinstance(text, str) else text, _check_domain(domain or DEFAULT_DOMAIN))


def surface_name(text: str, domain) -> str:
    """The registry-style name of a custom surface, usable with ``surfaces.get`` and in caches.

    The bounds are written exactly (``repr`` of a float reads back to the same
    float), so two domains that differ in the 7th digit are two surfaces.
    """
    (x0, x1), (y0, y1) = domain
    return f"{PREFIX}{float(x0)!r},{float(x1)!r},{float(y0)!r},{float(y1)!r}:{text.strip()}"


def from_name(name: str) -> Surface:
    """The inverse of ``surface_name``."""
    try:
        bounds, text = name[len(PREFIX):].split(":", 1)
        x0, x1, y0, y1 = (float(v) for v in bounds.split(","))
    except ValueError:
        raise FormulaError("not a custom surface name", 0) from None
    return from_formula(text, ((x0, x1), (y0, y1)))
