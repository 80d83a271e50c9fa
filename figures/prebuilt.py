"""The one module that leans on plotly.py's internals: a figure built from ready dicts, serialized in one walk.

plotly.py validates every value it is given and deep-copies the figure to serialize it; for the lab's figures
(typed arrays built here, animation frames as plain dicts) both were a large share of a page's build. This
module skips them with parts of plotly.py that are not its public API: ``go.Figure(_validate=False)``, a
figure's ``_data`` / ``_layout`` / ``_frame_objs``, a frame's ``_props``, and ``_plotly_utils.utils``' array
tests and typed-array encoder. ``requirements.txt`` allows a range of plotly versions, so
``tests/test_prebuilt.py`` checks each of these against plotly.py's own results: an upgrade that changes one
fails there, not on a student's page.
"""
from __future__ import annotations

import copy

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec


class PrebuiltFigure(go.Figure):
    """A ``go.Figure`` whose layout and animation frames are kept as ready dicts.

    plotly.py validates every frame trace when frames are assigned (for 100
    frames x 7 traces, most of a Playground rerun when measured) although we build
    them ourselves from typed arrays, and ``update_layout`` validates every
    key of a nested layout (a third of a figure's build time; with 40 students
    on one server, a third of its Python time). This figure keeps both aside
    and merges them in ``to_dict()``, which Streamlit, ``fig.show()``,
    ``to_json`` and ``write_html`` all go through. ``fig.frames`` stays empty
    and ``fig.layout`` holds only what was added later (annotations, ...):
    read the whole figure from ``fig.to_dict()``.
    """

    def __init__(self, *args, raw_frames=(), raw_layout=None, **kwargs):
        # The traces are go objects, validated when they were made: go.Figure validates each one again (a
        # measurable share of a race map's build and of a busy server's Python time). What is added later is not
        # validated either.
        super().__init__(*args, _validate=False, **kwargs)
        self._raw_frames = list(raw_frames)
        self._raw_layout = dict(raw_layout or {})

    def to_dict(self):
        # plotly's to_dict deep-copies the whole figure, then walks it again to turn arrays into typed-array
        # specs; one pass that copies containers and encodes arrays gives the same dict (tested against it).
        d = {"data": _json_tree(self._data), "layout": _json_tree(self._layout)}
        frames = [frame._props for frame in self._frame_objs]
        if frames:
            d["frames"] = _json_tree(frames)
        if self._raw_frames:
            d["frames"] = self._raw_frames
        d["layout"].update(self._raw_layout)
        return d


def _json_tree(node, skip: bool = False):
    """``deepcopy`` + ``convert_to_base64`` of plotly's ``to_dict`` in one walk (keys it skips stay arrays)."""
    if isinstance(node, dict):
        return {k: _json_tree(v, skip or is_skipped_key(k)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_json_tree(v, skip) for v in node]
    if not skip and is_homogeneous_array(node):
        return to_typed_array_spec(node)
    return copy.deepcopy(node) if isinstance(node, np.ndarray) else node
