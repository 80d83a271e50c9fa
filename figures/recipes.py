"""A figure as a recipe (its builder and arguments) and the digest of everything that changes its bytes.

``controls.render_once`` shares one rendering per page state between sessions: the key must be known *before*
the figure is built (a content hash of a built figure costs about what sharing it saves), so a page hands over a
:class:`Recipe` and :func:`state_key` digests the builder (name and code) and its arguments by value; :func:`render`
fits and serializes a built figure exactly as Streamlit's ``st.plotly_chart`` does. No Streamlit here.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from figures.style import for_display

# Builds per builder name, for tests and the bench: a shared state adds one build, however many sessions ask.
BUILDS: collections.Counter = collections.Counter()


class Unkeyable(TypeError):
    """An argument has no value form to digest: the chart is built for its session alone."""


class Recipe:
    """A figure builder and its arguments, built only when no session has built the same state before.

    ``Recipe(figures.contour_figure, grid, sets, height=480)``; arguments may be
    recipes themselves (``Recipe(figures.add_critical_curves, Recipe(...), curves)``).
    """

    __slots__ = ("args", "builder", "kwargs")

    def __init__(self, builder: Callable, *args, **kwargs):
        self.builder, self.args, self.kwargs = builder, args, kwargs

    def build(self):
        """The figure: nested recipes built first, then the builder called (counted in ``BUILDS``)."""
        args = [a.build() if isinstance(a, Recipe) else a for a in self.args]
        kwargs = {k: v.build() if isinstance(v, Recipe) else v for k, v in self.kwargs.items()}
        BUILDS[self.builder.__qualname__] += 1
        return self.builder(*args, **kwargs)

    __call__ = build  # where a function that builds the figure is asked for (controls.export_panel)


def _feed(h, value, depth: int = 0) -> None:
    """Feed ``value``'s type and value into the hash ``h``, unambiguously (type tags and lengths before contents)."""
    if depth > 50:
        raise Unkeyable("nested too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        h.update(f"{type(value).__name__}:{value!r};".encode())  # repr: 0.1 and 0.1000001 differ, -0.0 and 0.0 too
    elif isinstance(value, np.ndarray):
        h.update(f"nd:{value.dtype.str}:{value.shape};".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Recipe):
        _feed_callable(h, value.builder)
        _feed(h, value.args, depth + 1)
        _feed(h, value.kwargs, depth + 1)
    elif isinstance(value, (tuple, list)):
        # A NamedTuple's type name and fields count: two records with the same numbers are different arguments.
        h.update(f"{type(value).__qualname__}{getattr(value, '_fields', '')}[{len(value)};".encode())
        for v in value:
            _feed(h, v, depth + 1)
    elif isinstance(value, dict):
        h.update(f"dict{len(value)};".encode())
        for k in sorted(value, key=repr):
            _feed(h, k, depth + 1)
            _feed(h, value[k], depth + 1)
    elif isinstance(value, (set, frozenset)):
        _feed(h, sorted(value, key=repr), depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc:{type(value).__module__}.{type(value).__qualname__};".encode())
        for f in dataclasses.fields(value):
            _feed(h, f.name, depth + 1)
            _feed(h, getattr(value, f.name), depth + 1)
    elif callable(value) and hasattr(value, "__code__"):
        _feed_callable(h, value)
    else:
        raise Unkeyable(f"cannot digest a {type(value).__name__}")


def _feed_callable(h, fn) -> None:
    if getattr(fn, "__closure__", None):
        raise Unkeyable(f"{fn.__qualname__} closes over values")  # what it closes over is not in the key
    code = getattr(fn, "__code__", None)
    # The code's own hash: a builder edited and reloaded in a development server is another key.
    h.update(f"fn:{fn.__module__}.{fn.__qualname__}:{hash(code) if code else ''};".encode())


def state_key(recipe: Recipe, scale: float, dark: bool, language: str, max_height: float | None = None) -> str:
    """The hex digest of everything that changes the chart's bytes (raises :class:`Unkeyable`)."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, (float(scale), bool(dark), str(language), None if max_height is None else float(max_height)))
    _feed(h, recipe)
    return h.hexdigest()


class Rendered(NamedTuple):
    """One chart's serialized figure, as ``st.plotly_chart`` would send it, and what the element needs besides."""

    spec: str  # plotly.io.to_json of the fitted figure: the PlotlyChart proto's ``spec``
    width: Any  # the figure's layout width and height (None when unset): Streamlit's "content" sizes
    height: Any
    trace_types: frozenset  # e.g. {"contour", "scatter"}: whether the page needs the 3-D camera script


def render(fig, scale: float, dark: bool, max_height: float | None = None) -> Rendered:
    """Fit ``fig`` to the display (in place) and serialize it exactly as Streamlit's plotly_chart does."""
    import plotly.io

    fig = for_display(fig, scale=scale, dark=dark, max_height=max_height)
    # Streamlit: return_figure_from_figure_or_data -> fig.to_dict(), then plotly.io.to_json(dict, validate=False).
    as_dict = fig.to_dict()
    spec = plotly.io.to_json(as_dict, validate=False)
    layout = as_dict.get("layout", {})
    return Rendered(spec, layout.get("width"), layout.get("height"),
                    frozenset(t.get("type", "scatter") for t in as_dict.get("data", ())))
