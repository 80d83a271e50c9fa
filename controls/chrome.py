"""Page chrome: the entry point's sidebar switches, a page's header and prologue, prose, charts, export.

What every page draws around its own content, the same way: title and
caption, the lecture-example button and the surface picker (``page_start``),
explanations that fold away in presentation mode, theme- and projector-aware
charts, divergence warnings and the export panel.
"""
from __future__ import annotations

import html
import math
import threading
import unicodedata
from pathlib import Path
from typing import NamedTuple

import streamlit as st
from streamlit.errors import StreamlitAPIException

import compute
import figures
import heavy_runs
import i18n
import surfaces
from controls import render_once
from controls import url as url_state
from controls.url import UrlCheck, keep_in_url
from controls.widgets import preset_button, surface_select
from i18n import tr

PRESENT_SCALE = 1.5  # fonts and markers in presentation mode, for the back row of a lecture hall
PRESENT_CSS = """<style>
html { font-size: 22px; }
/* The first screen is for the figure: the page starts at the window's top (the header bar, with the sidebar's
   button at the left and the menu at the right, lies transparent over the title row's margins), and the rows
   above a figure are slim. */
[data-testid="stHeader"] { background: transparent; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 3rem 3rem 3rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.55rem; }
/* Headings at a projector's size, not a poster's. */
[data-testid="stMainBlockContainer"] h1 { font-size: 1.35rem; padding: 0.1rem 0; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.3rem; padding: 0.15rem 0; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.15rem; padding: 0.15rem 0; }
/* Folded explanations and captions: one slim row each. */
[data-testid="stMainBlockContainer"] [data-testid="stExpander"] summary { padding-top: 0.2rem; padding-bottom: 0.2rem;
  font-size: 0.8rem; }
/* The title row's buttons (the page's introduction and explanation, the share panel, the room's QR code). */
[data-testid="stMainBlockContainer"] [data-testid="stPopover"] button,
[data-testid="stMainBlockContainer"] [data-testid="stButton"] button { min-height: 1.8rem; padding: 0.1rem 0.4rem; }
[data-testid="stMainBlockContainer"] [data-testid="stPopover"] button p,
[data-testid="stMainBlockContainer"] [data-testid="stButton"] button p { font-size: 0.66rem; }
</style>"""


# A browser-side fix for turned 3-D views (the file says why); it runs once per browser window.
KEEP_CAMERA_JS = f"<script>{(Path(__file__).with_name('keep_camera.js')).read_text(encoding='utf-8')}</script>"
SMALL_SCREENS_JS = (Path(__file__).with_name("small_screens.js")).read_text(encoding="utf-8")
# A link to a lecture section scrolls its page to the section's first figure (the file says how).
SECTIONS_JS = (Path(__file__).with_name("sections.js")).read_text(encoding="utf-8")
# On a projector every chart stretches to fill a box that the browser makes as tall as the screen allows (the file
# says how): the figure grows with the screen, which the server does not know. Boxes are keyed FIT_PREFIX + the
# chart's key; their height is the script's alone (a flex item's own rules would override it).
PROJECTOR_JS = (Path(__file__).with_name("projector.js")).read_text(encoding="utf-8")
FIT_PREFIX = "lab_fit_"
FIT_CSS = f'[class*="st-key-{FIT_PREFIX}"] {{ flex: 0 0 auto !important; min-height: 0 !important; }}'
# A section's anchor at the top of a page (``anchor``) takes no room: out of the column's flow, it sits at the
# column's top, where a link to it lands. A section further down has its anchor on its heading.
ANCHOR_CLASS = "lab-section-anchor"
# A step chart that follows an animated map (``chart(..., follows=...)``): its cursor moves with the map's frame in the
# browser (the file says how), told which chart follows which map by a marker that, like an anchor, takes no room.
FOLLOW_STEP_JS = (Path(__file__).with_name("follow_step.js")).read_text(encoding="utf-8")
FOLLOW_CLASS = "lab-follows"
# Both markers (a section's anchor, a follower's pair) take no room on the page.
MARKER_CSS = (f'''[data-testid="stElementContainer"]:has(.{ANCHOR_CLASS}), '''
              f'''[data-testid="stElementContainer"]:has(.{FOLLOW_CLASS}) {{ position: absolute; width: 0; height: 0; }}''')
# A phone's screen: a display formula wider than the screen scrolls in its own box (the page never scrolls
# sideways) and the chart toolbar (shown all the time on a touch screen, over the charts' titles) is hidden.
# Nothing may be added inside a chart's box: a chart's container that overflows by a few pixels becomes a
# scroller of its own, and a swipe that starts on it scrolls that box, not the page.
# Widgets whose key starts with ON_PHONES are shown on a narrow screen only (Streamlit's own breakpoint for a
# phone's layout, 640 px), where the sidebar is closed.
ON_PHONES = "on_phones_"
TOUCH_CSS = f"""@media (pointer: coarse) {{
  .katex-display {{ overflow-x: auto; overflow-y: hidden; max-width: 100%; }}
  [data-testid="stPlotlyChart"] .modebar-container {{ display: none !important; }}
}}
@media (min-width: 640px) {{ [class*="st-key-{ON_PHONES}"] {{ display: none !important; }} }}"""
# A caption longer than this folds in presentation mode: about a line in the narrower of two columns at the
# projector's type (Chinese captions of 30 Latin widths wrapped there).
CAPTION_LINE_CHARS = 28
_CAMERA_SCRIPT_SENT = "_keep_camera_sent"  # session key: keep_camera.js went out in this script run
_CHARTS_DRAWN = "_charts_drawn"  # session key: this page run has drawn a chart (the first one is the first screen's)
# Figure heights on a projector (CSS px), for a 1280 x 720 screen: the page's first figure under the title row and the
# rows above it, every other one alone on the screen when a section's link scrolls to it.
PRESENT_FIRST_HEIGHT = 520
PRESENT_MAX_HEIGHT = 600
_HEADER = threading.local()  # this script run's title row in presentation mode, until its first figure
# Toolbar buttons a reader of these charts does not need (box and lasso selection, zoom steps, autoscale): the
# toolbar appears at the chart's top right on hover, and at full length it covered a map's legend there.
MODEBAR_EXTRAS = ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": MODEBAR_EXTRAS}  # plotly.js's config for every chart
SCENE_TRACES = {"surface", "scatter3d", "mesh3d", "cone", "streamtube", "isosurface", "volume"}


def forget_stale_widgets() -> int:
    """Drop the metadata Streamlit keeps for widgets the last run no longer drew; returns how many went.

    Why: Streamlit (1.67) removes a stale widget's value at the end of a run
    but never its metadata (``WStates.widget_metadata``: serializers and the
    ``on_change``/``on_select`` callback), and an element's id changes with
    its arguments — a chart's with every new figure. So each rerun of a page
    with a clickable map, or of a widget whose options change, added an entry
    that lived as long as the session, with whatever its callback held.
    Called by the entry point first in every run, before any widget of this
    run registers: by then the last run's stale values are gone, so an id with
    no value in the old or the new widget state, and not the latest id of a
    widget key, belongs to no widget any more. Callbacks of this run's
    browser events have already run. If Streamlit's private layout moves, it
    does nothing.
    """
    try:
        from streamlit.runtime.state import get_session_state
        state = get_session_state()._state
        widgets, old, keys = state._new_widget_state, state._old_state, state._key_id_mapper
        latest = set(keys._key_id_mapping.values())  # a keyed widget's current id: its value may be under its key
        gone = lambda wid: wid not in widgets.states and wid not in old and wid not in latest  # noqa: E731
        stale = [wid for wid in widgets.widget_metadata if gone(wid)]
        for wid in stale:
            del widgets.widget_metadata[wid]
        for wid in [wid for wid in keys._id_key_mapping if gone(wid)]:  # the key's earlier ids, kept the same way
            del keys._id_key_mapping[wid]
        return len(stale)
    except (AttributeError, ImportError, RuntimeError):
        return 0


def app_settings() -> None:
    """The sidebar's language and presentation switches, kept in the URL as ``lang`` and ``present``.

    Called by the entry point before any page: it sets this session's language
    (``i18n.use_language``) so every later ``tr`` speaks it. Both keys live in
    the entry script, so they survive page switches; they are written back to
    the URL each run because switching pages clears the query string.
    """
    codes = list(i18n.LANGUAGES)
    linked = {}
    for key, valid, expected in (("lang", codes, tr("one of {names}", names=", ".join(codes))),
                                 ("present", ("0", "1"), tr("0 or 1"))):
        raws = st.query_params.get_all(key)
        if key in st.session_state or not raws:
            continue
        if len(raws) == 1 and raws[0] in valid:
            linked[key] = raws[0]
        else:
            # Refused before the page runs (the value is then dropped from the URL): the page's UrlCheck shows it.
            why = expected if len(raws) == 1 else tr("given {count} times; one value expected", count=len(raws))
            url_state.note_refused(key, raws[-1], why)
    if "lang" not in st.session_state:
        st.session_state["lang"] = linked.get("lang", i18n.DEFAULT)
    if "present" not in st.session_state:
        st.session_state["present"] = linked.get("present") == "1"
    i18n.use_language(st.session_state["lang"])
    with st.sidebar:
        st.selectbox("Language · 语言", codes, key="lang", format_func=i18n.LANGUAGES.get)
        st.toggle(tr("Presentation mode"), key="present",
                  help=tr("For a projector: larger text, figures and markers; the explanations fold away under "
                          "the figures' titles. Opening a link with it starts with the sidebar closed."))
    keep_in_url("lang", st.session_state["lang"], i18n.DEFAULT)
    keep_in_url("present", "1" if presenting() else "0", "0")
    if presenting():
        st.html(PRESENT_CSS)
    # One script element: Streamlit runs the first one of an st.html only.
    st.sidebar.html(f"<style>{TOUCH_CSS}\n{MARKER_CSS}\n{FIT_CSS}</style>"
                    f"<script>{SMALL_SCREENS_JS}\n{SECTIONS_JS}\n{PROJECTOR_JS}\n{FOLLOW_STEP_JS}</script>",
                    unsafe_allow_javascript=True)


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def section_anchor(page: str, anchor: str) -> str:
    """``anchor`` (a lecture section's, ``app_pages.SECTIONS``), checked to be one of ``page``'s; returns it.

    For ``st.header(..., anchor=...)``: a typo fails the page's own test, not a student's link.
    """
    import app_pages

    record = app_pages.section(anchor)
    if app_pages.page(record.page).slug != page and record.page != page:
        raise KeyError(f"section {anchor} is on page {record.page}, not {page}")
    return anchor


def top_anchors(page: str, *anchors: str) -> None:
    """Anchors of lecture sections that start at the top of the page (their first figure is the page's first)."""
    spans = "".join(f'<span id="{section_anchor(page, a)}" class="{ANCHOR_CLASS}"></span>' for a in anchors)
    st.html(spans)


def caption(text: str, where=None) -> None:
    """A figure's caption: as it is, or folded into a slim expander in presentation mode when longer than a line.

    Where an expander cannot go (inside another one), the caption stays as it is.
    """
    where = where if where is not None else st
    if presenting() and text_width(plain_text(text)) > CAPTION_LINE_CHARS:
        try:
            box = where.expander(tr("About this figure"), icon=":material/notes:")
        except StreamlitAPIException:
            box = None
        if box is not None:
            box.caption(text)
            return
    where.caption(text)


def explained(plain: str, precise: str, where=None) -> None:
    """A figure's caption for a first read: one plain sentence, the precise version (numbers, rules, references)
    one click away in an "In detail" expander."""
    where = where if where is not None else st
    caption(plain, where)
    with where.expander(tr("In detail"), icon=":material/notes:"):
        st.caption(precise)


def text_width(text: str) -> int:
    """Characters of ``text`` in Latin widths: a Chinese character (East Asian wide) counts two."""
    return len(text) + len([c for c in text if unicodedata.east_asian_width(c) in "WF"])


def plain_text(text: str) -> str:
    """Markdown's visible characters, roughly: no $ of maths, no ** of bold, no backslashes."""
    return text.replace("$", "").replace("**", "").replace("\\", "")


def prose(label: str | None = None):
    """Where a page's explanation goes: in place, or folded away in presentation mode (figure first).

    On a projector the page's explanation before its first figure is a button in the title's row (a popover),
    every later one a slim expander.
    """
    if presenting():
        row = getattr(_HEADER, "row", None)
        _HEADER.row = None
        if row is not None:
            return row.popover(label or tr("Explanation"), icon=":material/menu_book:")
        return st.expander(label or tr("Explanation"), icon=":material/menu_book:")
    return st.container()


def settings(label: str | None = None, where=st):
    """Where a figure's own widgets go when they stand above it: in place, or in a slim expander in presentation
    mode (the figure under them must fit the projector's first screen; the teacher opens them to change one).
    ``where``: a row (``settings_row``) that holds it beside a figure's other folded panels."""
    if presenting():
        return where.expander(label or tr("Settings"), icon=":material/tune:")
    return st.container()


def settings_row():
    """On a projector, a row for a figure's folded panels (``settings`` and its other expanders) side by side:
    stacked, each took a row of the first screen from the figure. Off a projector the panels stay stacked."""
    return st.container(horizontal=True, gap="small") if presenting() else st.container()


def section(title: str, text: str, latex: str | None = None, level: str = "header", anchor: str | None = None) -> None:
    """A page section's heading, then its explanation (formula first, if any) as ``prose``.

    ``anchor``: the lecture section that starts here (its id, which a link's ``section=`` names).
    """
    getattr(st, level)(title, anchor=section_anchor(st.session_state.get("_page", ""), anchor) if anchor else None)
    with prose():
        if latex:
            st.latex(latex)
        st.markdown(text)


def chart(fig, key: str, where=st, follows: str | None = None, **kwargs):
    """``st.plotly_chart`` for every figure: sized for a projector in presentation mode, coloured for the theme.

    ``fig``: a figure, or a ``render_once.Recipe`` (a builder and its arguments): a recipe's serialized figure is
    built once per page state and display and served to every session that asks for it (docs/design.md).
    ``follows``: the key of an animated map whose frames are named by step: this chart's step cursor
    (``figures.step_curves_figure(cursor=True)``) moves with the map's frame, in the browser (FOLLOW_STEP_JS).
    """
    theme = getattr(st.context, "theme", None)
    scale, dark = PRESENT_SCALE if presenting() else 1.0, getattr(theme, "type", None) == "dark"
    _HEADER.row = None  # an explanation after the first figure is no longer the header's
    if follows:  # the pair, for the browser's script; in the chart's own column, so a section's rerun sends it too
        where.html(f'<span class="{FOLLOW_CLASS}" data-follower="{html.escape(key)}" '
                   f'data-map="{html.escape(follows)}"></span>')
    first = not st.session_state.get(_CHARTS_DRAWN)
    st.session_state[_CHARTS_DRAWN] = True
    # A projector's first figure may be taller than the rest (for_display); off a projector there is no limit.
    max_height = (PRESENT_FIRST_HEIGHT if first else PRESENT_MAX_HEIGHT) if scale != 1.0 else None
    shown = render_once.shared(fig, scale, dark, max_height)  # None: a figure, or a recipe this session builds
    if shown is None and isinstance(fig, render_once.Recipe):
        fig = fig.build()
    types = shown.trace_types if shown else {trace.type for trace in fig.data}
    if scale != 1.0:  # on a projector the chart fills a box as tall as the screen allows (PROJECTOR_JS)
        where = where.container(key=FIT_PREFIX + key)
        kwargs.setdefault("height", "stretch")
    if types & SCENE_TRACES and not st.session_state.get(_CAMERA_SCRIPT_SENT):
        # Once a run (page_header clears the mark), in the sidebar, where an element without a height costs the
        # page no gap. A section's rerun (st.fragment) keeps the one its page's run sent.
        st.sidebar.html(KEEP_CAMERA_JS, unsafe_allow_javascript=True)
        st.session_state[_CAMERA_SCRIPT_SENT] = True
    if shown is not None:
        return render_once.plotly_chart_from_spec(where, shown, key=key, config=CHART_CONFIG, **kwargs)
    figures.for_display(fig, scale=scale, dark=dark, max_height=max_height)
    return where.plotly_chart(fig, key=key, config=CHART_CONFIG, **kwargs)


def page_header(title: str, caption: str, page: str, anchors: tuple = ()) -> tuple:
    """Title and caption; a slot under them for notes about the link's values; the page's ``UrlCheck``.

    ``anchors``: the lecture sections that start at the top of the page (``top_anchors``).
    """
    url_state.start_page(page)
    st.session_state[_CAMERA_SCRIPT_SENT] = False
    st.session_state[_CHARTS_DRAWN] = False
    _HEADER.row = None
    if anchors:
        top_anchors(page, *anchors)
    if presenting():
        # The projector's first screen is for the figure: the title, the page's introduction, the share panel and
        # the room's QR code (``UrlCheck.show`` adds those last) share one slim row.
        notes = st.container(horizontal=True, gap="small", vertical_alignment="center")
        notes.title(title, width="content")
        with notes.popover(tr("About this page"), icon=":material/menu_book:"):
            st.caption(caption)
        _HEADER.row = notes  # the page's first explanation joins the row (``prose``)
        return notes, UrlCheck(page)
    st.title(title)
    with prose(tr("About this page")):
        st.caption(caption)
    return st.container(), UrlCheck(page)


class PageStart(NamedTuple):
    """What a page's prologue hands back."""

    notes: object  # the slot under the title: ``url.show(notes)``, last on the page, lists refused link values
    url: UrlCheck
    surface: str | None  # the picked surface (a name for ``surfaces.get``); None on a page without a picker
    record: surfaces.Surface | None


def page_start(page: str, title: str, caption: str, preset: dict, preset_key: str, preset_label: str, *,
               surface: str | None = None, sidebar_note: str | None = None, anchors: tuple = ()) -> PageStart:
    """Every page's prologue: header, then in the sidebar the lecture-example button and the surface picker.

    ``preset``: widget key -> value of the lecture's example (``preset_button``);
    ``surface``: the default surface, or None for a page without a picker;
    ``sidebar_note``: a caption under them; ``anchors``: the lecture sections
    that start at the top of the page. The page adds its own sidebar widgets
    after these.
    """
    notes, url = page_header(title, caption, page, anchors)
    # On a phone the sidebar is closed and, once opened, covers the page: the same button under the title there
    # (TOUCH_CSS hides this copy on a wide screen). The sidebar's goes last: it is the page's preset key.
    preset_button(preset_label, preset, key=f"{ON_PHONES}{preset_key}")
    with st.sidebar:
        preset_button(preset_label, preset, key=preset_key)
        name = surface_select(url, default=surface) if surface else None
        if sidebar_note:
            st.caption(sidebar_note)
    return PageStart(notes, url, name, surfaces.get(name) if name else None)


def defined_starts(surface: str, starts, where=st) -> list:
    """The starts where the surface's f is finite; a warning names each one where it is not (nothing runs from there)."""
    kept = []
    for start in starts:
        value = compute.loss_at(surface, tuple(float(v) for v in start))
        if math.isfinite(value):
            kept.append(start)
        else:
            where.warning(tr("f is not defined at the start ({x:.4g}, {y:.4g}) (it gives {value}): nothing is run from "
                             "there. Pick a start where f is finite.", x=start[0], y=start[1], value=value))
    return kept


def stop_unless_defined(surface: str, start, notes, url: UrlCheck) -> None:
    """End the page here, with a warning, when f is not finite at ``start`` (its runs would be NaN from step 0)."""
    if defined_starts(surface, [start]):
        return
    url.show(notes)
    st.stop()


def divergence_warnings(runs: dict, where=st) -> None:
    """One warning per diverged run of ``runs`` (label -> ``optimizers.Trajectories``): where its curves stop."""
    for label, r in runs.items():
        for k in r.diverged_at:
            if k >= 0:
                where.warning(tr("**{label}** diverged at step {step}: its curves stop there. Try a smaller η.", label=label,
                                 step=int(k)))
                break


def divergence_summary(labels, diverged_at, where=st) -> None:
    """One warning listing every run that diverged, with its first bad step (``diverged_at``: one array per label)."""
    diverged = [(label, int(k)) for label, steps in zip(labels, diverged_at) for k in getattr(steps, "flat", (steps,))
                if k >= 0]  # one first-bad step per start (an array), or a single one
    if diverged:
        where.warning(tr("Diverged (the path stops at the first non-finite or runaway step; the others keep running): "
                         "{runs}. Try a smaller learning rate.",
                         runs="; ".join(tr("**{label}** at step {step}", label=label, step=k) for label, k in diverged)))


def heavy_run(working: str, run, *args):
    """``run(*args, progress=..., waiting=...)`` (a compute entry point whose work runs in a worker process,
    ``heavy_runs``) behind a progress bar: while the run is queued the bar says how many runs are ahead of it,
    then it shows the fraction done.

    Returns ``run``'s (result, whether it came from the cache), or None after showing why the run failed
    (an exception or a crash in its worker: the rest of the app is unaffected). When the session has gone
    (its tab closed) the script stops here.
    """
    bar = st.progress(0.0, text=working)

    def waiting(ahead: int) -> None:
        bar.progress(0.0, text=working if ahead == 0 else tr("Waiting: 1 run ahead of yours …") if ahead == 1
                     else tr("Waiting: {count} runs ahead of yours …", count=ahead))

    try:
        out = run(*args, progress=lambda f: bar.progress(f, text=f"{working} {f:.0%}"), waiting=waiting)
    except heavy_runs.RequesterGone:
        st.stop()
    except heavy_runs.RunFailed as failure:
        bar.empty()
        st.error(tr("This computation failed in its worker process ({reason}). The rest of the app is unaffected: "
                    "run it again, or change a setting.", reason=url_state.escape_markdown(str(failure))),
                 icon=":material/error:")
        return None
    bar.empty()
    return out


def experiment(button_key: str, state_key: str, working: str, run, *args):
    """One click starts ``run(*args, progress=..., waiting=...)`` (a heavy compute entry point) through
    ``heavy_run``; the result stays shown on later reruns.

    Returns ``run``'s (result, whether it came from the cache), or None before the click or after a failure.
    """
    if not (st.button(tr("Run the experiment"), key=button_key) or st.session_state.get(state_key)):
        return None
    st.session_state[state_key] = True
    out = heavy_run(working, run, *args)
    if out is None:  # failed: the next rerun does not start it again by itself; the button does
        st.session_state[state_key] = False
    return out


def export_panel(prefix: str, figure, title: str, labels=None, runs=None, grid=None, where=st) -> None:
    """Download buttons for a page's main figure (standalone HTML), its runs and its grid (CSV).

    ``figure`` may be a function that builds it. The files are made when a
    button is pressed (callables), not on every rerun.
    """
    with where.expander(tr("Export"), expanded=False, icon=":material/download:"):
        st.caption(tr("PNG: the camera button in each chart's toolbar. The HTML file keeps any animation and works "
                      "offline."))
        cols = st.columns(3)
        html = lambda: figures.figure_html(figure() if callable(figure) else figure, title)  # noqa: E731
        cols[0].download_button(tr("{title} (HTML)", title=title), html, f"{prefix}.html", "text/html", key=f"{prefix}_html",
                                on_click="ignore")
        if runs is not None:
            cols[1].download_button(tr("Trajectories (CSV)"), lambda: figures.trajectories_csv(labels, runs),
                                    f"{prefix}_trajectories.csv", "text/csv", key=f"{prefix}_csv_runs",
                                    on_click="ignore")
        if grid is not None:
            cols[2].download_button(tr("Surface grid (CSV)"), lambda: figures.grid_csv(grid), f"{prefix}_grid.csv",
                                    "text/csv", key=f"{prefix}_csv_grid", on_click="ignore")
