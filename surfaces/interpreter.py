"""One compiled program that evaluates every typed formula: the formula is data, not code.

A typed f(x, y) (``surfaces.formula``) is turned into a ``Program``: a list of
instructions in post-order, instruction i computing register r_i from the
registers of its arguments,

    r_i = op_i(r_{a_i}, r_{b_i})      (a leaf: the constant c_i, x or y),

and f(x, y) = r_root. The instructions are arrays of a fixed length (one of
``PROGRAM_SIZES``, padded with constants), so XLA compiles the interpreter —
a ``lax.scan`` over the instructions with a ``lax.switch`` on the opcode — once
per length and process, and a new formula costs no compile and keeps no
executable (compiling each formula anew took 1.3–3.9 s and ~10 MB per formula,
see ``bench/bench_formula_cost.py`` and ``bench/bench_formula_memory.py``).

Derivatives are carried forward with the values (second-order forward mode,
"jets"): each register holds (r, ∂r/∂x, ∂r/∂y, ∂²r/∂x², ∂²r/∂x∂y, ∂²r/∂y²), and an
instruction r = f(u, w) applies the chain rule

    ∇r  = f_u ∇u + f_w ∇w,
    ∇²r = f_u ∇²u + f_w ∇²w + f_uu ∇u∇uᵀ + f_uw (∇u∇wᵀ + ∇w∇uᵀ) + f_ww ∇w∇wᵀ,

with the local partials f_u … f_ww of each operation taken from JAX's own
derivative rules (``jax.jvp`` of the very jax.numpy function the compiled path
used), so values, gradients and Hessians agree with ``jax.grad`` and
``jax.hessian`` of the composed function (tests/test_formula.py checks it).
Each register knows which variables it depends on (fixed by the formula, so
data of the program), and a term through an argument that does not depend on x
is left out of every x-derivative, as reverse mode never sends a cotangent
there. Without it, a constant's term would put NaN·0 = NaN into the gradient
(∂(x**2)/∂2 = log(x)·x², NaN at x < 0) and so would a term in y of sqrt(x) + y
at x < 0 (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008,
ch. 13: Taylor propagation; ch. 3: forward and reverse mode).

``formula_loss`` is f(p) for one point p = (x, y), usable like any surface's
loss: ``jax.grad`` and ``jax.hessian`` use the jets through ``jax.custom_jvp``
(nothing is differentiated through the scan), and ``jax.vmap`` is turned into
one scan over a batch laid out points-last (``jax.custom_batching.custom_vmap``),
so the registers are contiguous rows rather than a strided column per point.
``surface_jit`` is ``jax.jit`` for functions of a surface record that compiles
once for all typed formulas: the record's program travels as an array argument.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap

from surfaces.compiled_sizes import smallest_size
from surfaces.surface import Surface

# The operations, in opcode order: (name, number of arguments, jax.numpy function). The leaves come first.
OPERATIONS: tuple[tuple[str, int, Callable | None], ...] = (
    ("const", 0, None), ("x", 0, None), ("y", 0, None),
    ("neg", 1, jnp.negative), ("sin", 1, jnp.sin), ("cos", 1, jnp.cos), ("tan", 1, jnp.tan), ("exp", 1, jnp.exp),
    ("log", 1, jnp.log), ("sqrt", 1, jnp.sqrt), ("abs", 1, jnp.abs), ("tanh", 1, jnp.tanh),
    ("sigmoid", 1, jax.nn.sigmoid), ("relu", 1, jax.nn.relu), ("softplus", 1, jax.nn.softplus),
    ("+", 2, jnp.add), ("-", 2, jnp.subtract), ("*", 2, jnp.multiply), ("/", 2, jnp.divide), ("**", 2, jnp.power),
    ("min", 2, jnp.minimum), ("max", 2, jnp.maximum),
)
OPCODE = {name: i for i, (name, _, _) in enumerate(OPERATIONS)}
# Which second partials (f_uu, f_uw, f_ww) an operation has at all. JAX's rules give the others as symbolic
# zeros (x + y has no ∂²/∂u∂w), so a term through them never appears in jax.hessian; here they are dropped
# too, or 0 · ∇u∇wᵀ would be NaN where ∇w is infinite (y**3 + x**0.5 at x = 0).
_CURVED = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus"}
SECOND_PARTIALS = tuple((name in _CURVED or name == "**", name in ("*", "/", "**"), name in ("/", "**"))
                        for name, _, _ in OPERATIONS)
LEAVES = 3  # const, x, y: not functions of registers
# Program lengths compiled: a formula runs in the shortest that holds it. Each length is one more compile
# per function (once per process, then from the persistent cache); a short formula in a 100-slot program
# would pay for 100 instructions at every evaluation.
PROGRAM_SIZES = (16, 40, 100)
JET = 6  # r, r_x, r_y, r_xx, r_xy, r_yy
_WIDTH = (1, 3, 6)  # registers' width for derivative order 0, 1, 2


class Program(NamedTuple):
    """A formula as instructions (arrays of one of PROGRAM_SIZES; see the module doc).

    op: opcodes (OPCODE); a, b: argument registers (b = a for one argument); value: the constant of a
    "const" leaf; root: the register holding f. first (size, 2, 2) and second (size, 3, 6): which terms
    of the chain rule exist (see ``assemble``) — first[i, j, v]: f_j ∂_v(argument j); second[i, k, ·] for
    the Hessian entry k (xx, xy, yy): f_u ∇²u, f_uu ∇u∇uᵀ, f_w ∇²w, f_ww ∇w∇wᵀ, and f_uw's two cross terms.
    """

    op: np.ndarray
    a: np.ndarray
    b: np.ndarray
    value: np.ndarray
    first: np.ndarray
    second: np.ndarray
    root: np.ndarray


def program_size(length: int) -> int:
    """The shortest compiled program length that holds ``length`` instructions."""
    return smallest_size(length, PROGRAM_SIZES, "a program's instruction count")


_ENTRIES = ((0, 0), (0, 1), (1, 1))  # the Hessian entries xx, xy, yy as pairs of variables


def assemble(instructions: list[tuple[str, int, int, float]]) -> tuple:
    """A hashable program (tuples, see ``as_program``) from (operation, a, b, constant) in post-order.

    The last instruction is f; every argument register must come before its instruction. Which chain-rule
    terms exist is decided here, from the formula's structure, as JAX's symbolic zeros decide it for the
    composed function: a register's derivative by x exists only if it depends on x, its second derivative
    ∂²/∂v∂t only if some term of it exists (a partial the operation has, through arguments that have the
    derivatives it multiplies). A term that does not exist is left out, not multiplied by 0, which would
    turn an infinite factor into NaN (∂(x**2)/∂2 = log(x)·x² at x < 0; 1/0 · ∂²x/∂x² for x/0).
    """
    n = len(instructions)
    size = program_size(n)
    uses: list[tuple[bool, bool]] = []  # per register: ∂/∂x, ∂/∂y exist
    curved: list[tuple[bool, bool, bool]] = []  # per register: ∂²/∂x², ∂²/∂x∂y, ∂²/∂y² exist
    op, a, b, value, first, second = [], [], [], [], [], []
    none2, none3 = (False, False), (False, False, False)
    for i, (name, ia, ib, c) in enumerate(instructions):
        code = OPCODE[name]
        arity = OPERATIONS[code][1]
        if arity and not (0 <= ia < i and 0 <= ib < i):
            raise ValueError(f"instruction {i} reads a register not computed before it")
        ia, ib = (ia, ib if arity == 2 else ia) if arity else (0, 0)
        op.append(code), a.append(ia), b.append(ib), value.append(float(c) if name == "const" else 0.0)
        ua, ub = (uses[ia] if arity else none2), (uses[ib] if arity == 2 else none2)
        ca, cb = (curved[ia] if arity else none3), (curved[ib] if arity == 2 else none3)
        has_uu, has_uw, has_ww = SECOND_PARTIALS[code]
        first.append((ua, ub))
        terms = tuple((ca[k], has_uu and ua[v] and ua[t], cb[k], has_ww and ub[v] and ub[t],
                       has_uw and ua[v] and ub[t], has_uw and ua[t] and ub[v]) for k, (v, t) in enumerate(_ENTRIES))
        second.append(terms)
        leaf = {"x": (True, False), "y": (False, True)}.get(name, none2)
        uses.append((leaf[0] or ua[0] or ub[0], leaf[1] or ua[1] or ub[1]))
        curved.append(tuple(any(entry) for entry in terms))
    pad = size - n  # constants 0 that nothing reads
    return (tuple(op) + (OPCODE["const"],) * pad, tuple(a) + (0,) * pad, tuple(b) + (0,) * pad,
            tuple(value) + (0.0,) * pad, tuple(first) + ((none2, none2),) * pad,
            tuple(second) + (((False,) * 6,) * 3,) * pad, n - 1)


def as_program(code: tuple) -> Program:
    """The arrays of an ``assemble``d program (what the compiled functions receive as data)."""
    op, a, b, value, first, second, root = code
    return Program(np.asarray(op, np.int32), np.asarray(a, np.int32), np.asarray(b, np.int32),
                   np.asarray(value, np.float32), np.asarray(first, bool).reshape(-1, 2, 2),
                   np.asarray(second, bool).reshape(-1, 3, 6), np.int32(root))


# --------------------------------------------------------------------------- the interpreter
def _partial(f: Callable, index: int) -> Callable:
    """∂f/∂(argument ``index``) by JAX's own JVP rule, elementwise."""
    def df(*args):
        # The other arguments are closed over, not given zero tangents: JAX then skips their terms
        # (a zero tangent would still compute ∂(u**w)/∂w = log(u)·u**w, NaN at u < 0, times 0).
        def along(v):
            return f(*args[:index], v, *args[index + 1:])
        return jax.jvp(along, (args[index],), (jnp.ones_like(args[index]),))[1]
    return df


def _local_partials(f: Callable, arity: int, order: int) -> Callable:
    """(u, w) -> [f, f_u, f_w, f_uu, f_uw, f_ww][:_WIDTH[order]] (a missing argument's partials are 0)."""
    def partials(u, w):
        args = (u, w)[:arity]
        zero = jnp.zeros_like(u)
        out = [f(*args)]
        if order >= 1:
            out += [_partial(f, 0)(*args), _partial(f, 1)(*args) if arity == 2 else zero]
        if order >= 2:
            out += [_partial(_partial(f, 0), 0)(*args),
                    _partial(_partial(f, 0), 1)(*args) if arity == 2 else zero,
                    _partial(_partial(f, 1), 1)(*args) if arity == 2 else zero]
        return tuple(out)
    return partials


@functools.cache
def _branches(order: int) -> tuple[Callable, ...]:
    """One ``lax.switch`` branch per operation (the leaves share a branch of zeros, replaced afterwards)."""
    leaf = lambda u, w: tuple(jnp.zeros_like(u) for _ in range(_WIDTH[order]))  # noqa: E731
    return (leaf,) + tuple(_local_partials(f, arity, order) for _, arity, f in OPERATIONS[LEAVES:])


def _interpret(prog: Program, points, order: int):
    """Jets of f at ``points`` (2, N), points last: (_WIDTH[order], N)."""
    width = _WIDTH[order]
    x, y = points[0], points[1]
    one, zero = jnp.ones_like(x), jnp.zeros_like(x)
    x_jet = jnp.stack([x, one, zero, zero, zero, zero][:width])
    y_jet = jnp.stack([y, zero, one, zero, zero, zero][:width])
    branches = _branches(order)

    def step(registers, instruction):
        i, op, a, b, value, first, second = instruction
        u, w = registers[a], registers[b]  # (width, N) each
        parts = jax.lax.switch(jnp.maximum(op - (LEAVES - 1), 0), branches, u[0], w[0])

        def term(exists, value):  # where, not multiplication: a term that does not exist may be inf · 0
            return jnp.where(exists, value, 0.0)

        jet = [parts[0]]
        if order >= 1:
            f_u, f_w = parts[1], parts[2]
            for v in (0, 1):  # ∂/∂x, ∂/∂y
                jet.append(term(first[0, v], f_u * u[1 + v]) + term(first[1, v], f_w * w[1 + v]))
        if order >= 2:
            f_uu, f_uw, f_ww = parts[3], parts[4], parts[5]
            for k, (v, t) in enumerate(_ENTRIES):
                e = second[k]
                jet.append(term(e[0], f_u * u[3 + k]) + term(e[1], f_uu * u[1 + v] * u[1 + t])
                           + term(e[2], f_w * w[3 + k]) + term(e[3], f_ww * w[1 + v] * w[1 + t])
                           + term(e[4], f_uw * u[1 + v] * w[1 + t]) + term(e[5], f_uw * u[1 + t] * w[1 + v]))
        jet = jnp.stack(jet)
        const_jet = jnp.zeros_like(jet).at[0].set(value)
        jet = jnp.where(op == OPCODE["const"], const_jet,
                        jnp.where(op == OPCODE["x"], x_jet, jnp.where(op == OPCODE["y"], y_jet, jet)))
        return registers.at[i].set(jet), None

    size = prog.op.shape[0]
    registers = jnp.zeros((size, width, points.shape[1]), points.dtype)
    registers, _ = jax.lax.scan(step, registers, (jnp.arange(size), *prog[:6]))
    return registers[prog.root]


@functools.cache
def _rows(order: int) -> Callable:
    """(prog, P (N, 2)) -> jets (N, width), batched by reshaping any vmapped axis into N."""
    @custom_vmap
    def rows(prog, points):
        return _interpret(prog, points.T, order).T

    @rows.def_vmap
    def rows_vmap(axis_size, in_batched, prog, points):
        prog_batched, points_batched = in_batched
        if any(jax.tree.leaves(prog_batched)):  # several programs at once: one after the other
            points = points if points_batched else jnp.broadcast_to(points, (axis_size, *points.shape))
            prog = jax.tree.map(lambda v, bt: v if bt else jnp.broadcast_to(v, (axis_size, *v.shape)), prog,
                                prog_batched)
            return jax.lax.map(lambda args: rows(*args), (prog, points)), True
        if not points_batched:
            return rows(prog, points), False
        n = points.shape[1]
        return rows(prog, points.reshape(axis_size * n, 2)).reshape(axis_size, n, -1), True

    return rows


def jets(prog: Program, points, order: int = 2):
    """(f, f_x, f_y, f_xx, f_xy, f_yy)[:1|3|6] at each row of ``points`` (N, 2): (N, width)."""
    return _rows(order)(prog, points)


@jax.custom_jvp
def _value_and_gradient(prog: Program, p):
    j = _rows(1)(prog, p[None])[0]
    return j[0], j[1:3]


@_value_and_gradient.defjvp
def _value_and_gradient_jvp(primals, tangents):
    prog, p = primals
    t = tangents[1]
    j = _rows(2)(prog, p[None])[0]
    gradient = j[1:3]
    hessian = jnp.stack([j[3:5], j[4:6]])
    return (j[0], gradient), (gradient @ t, hessian @ t)


@jax.custom_jvp
def formula_loss(prog: Program, p):
    """f(p) for one point p = (x, y) of shape (2,); differentiable twice (jets), vmappable (one batched scan)."""
    return _rows(0)(prog, p[None])[0, 0]


@formula_loss.defjvp
def _formula_loss_jvp(primals, tangents):
    prog, p = primals
    value, gradient = _value_and_gradient(prog, p)
    return value, gradient @ tangents[1]


# --------------------------------------------------------------------------- compiled once for all formulas
@functools.cache
def interpreter_surface(size: int) -> Surface:
    """The stand-in record a ``surface_jit`` function is compiled with for every typed formula of ``size`` instructions.

    Only its ``loss`` is meaningful inside the function (bound to the formula's program there).
    """
    return Surface(name=f"formula-interpreter-{size}", title="", loss=None, formula="", domain=((0.0, 1.0), (0.0, 1.0)),
                   starts=(), text="")


def split(surface: Surface) -> tuple[Surface, Program | None]:
    """(the static record, the program as data): a built-in surface is its own static record, with no program."""
    if surface.program is None:
        return surface, None
    return interpreter_surface(len(surface.program[0])), as_program(surface.program)


def bind(static: Surface, prog: Program | None) -> Surface:
    """The record a ``surface_jit`` function sees: the interpreter's loss bound to the traced program."""
    if prog is None:
        return static
    return static._replace(loss=functools.partial(formula_loss, prog))


def surface_jit(fun: Callable | None = None, *, static_argnames: tuple[str, ...] = ()) -> Callable:
    """``jax.jit`` for ``fun(surface, ...)`` (surface: a record) that compiles once for all typed formulas.

    A surface is a static argument (its loss is code); a typed formula's record
    would be a new static value for every formula, hence a new compile. Here the
    record is split (``split``): built-in surfaces stay static, a typed formula
    becomes the shared interpreter's record plus its program as traced arrays.
    ``static_argnames`` name the other static parameters. The wrapper has
    ``clear_cache`` and ``_cache_size`` like a jitted function (``runtime.trim_compile_caches``).
    """
    if fun is None:
        return functools.partial(surface_jit, static_argnames=static_argnames)
    signature = inspect.signature(fun)
    names = list(signature.parameters)
    static = (0,) + tuple(i + 1 for i, name in enumerate(names) if i and name in static_argnames)

    def inner(static_surface, prog, *args):
        return fun(bind(static_surface, prog), *args)

    inner.__name__, inner.__qualname__ = fun.__name__, fun.__qualname__  # compile logs name the function
    compiled = jax.jit(inner, static_argnums=static)

    @functools.wraps(fun)
    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        surface, *rest = bound.args
        static_surface, prog = split(surface)
        return compiled(static_surface, prog, *rest)

    call.clear_cache = compiled.clear_cache
    call._cache_size = compiled._cache_size
    call.lower = lambda *args, **kwargs: compiled.lower(*_split_args(signature, args, kwargs))
    return call


def _split_args(signature, args, kwargs):
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    surface, *rest = bound.args
    return (*split(surface), *rest)
