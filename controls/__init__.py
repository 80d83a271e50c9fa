"""What a page uses to read its widgets and draw around its content, in three parts that read alone.

- ``controls.url``: URL (query-string) state — which widgets live in the
  link, the link's refused values (``UrlCheck``), the share link.
- ``controls.widgets``: widgets built from the registries (numbers,
  choices, surfaces, points, an optimizer's panel, the lecture-example button).
- ``controls.chrome``: what every page draws around them — the entry
  point's language and presentation switches, a page's prologue
  (``page_start``), prose, charts, divergence warnings, export.

Pages write ``controls.x`` for any of them.
"""
from controls.chrome import (
    PRESENT_SCALE,
    PageStart,
    app_settings,
    caption,
    chart,
    defined_starts,
    divergence_summary,
    divergence_warnings,
    experiment,
    explained,
    export_panel,
    forget_stale_widgets,
    heavy_run,
    page_header,
    page_start,
    presenting,
    prose,
    section,
    section_anchor,
    settings,
    settings_row,
    stop_unless_defined,
    top_anchors,
)
from controls.render_once import Recipe
from controls.url import UrlCheck, bound, escape_markdown, keep_in_url, refusal_note, share_link, url_text
from controls.widgets import (
    CUSTOM,
    CUSTOM_EXAMPLE,
    VIEWS,
    choice_select,
    float_input,
    format_number,
    int_input,
    int_slider,
    is_typed,
    log_choices,
    multi_select,
    number_widget,
    optimizer_panel,
    point_from_click,
    point_input,
    preset_button,
    start_input,
    surface_key,
    surface_point_key,
    surface_select,
    surface_text,
    surface_title,
    switch,
    text_field,
    view_select,
)

__all__ = [
    "CUSTOM", "caption", "explained", "section_anchor", "settings", "top_anchors", "defined_starts", "stop_unless_defined", "escape_markdown", "int_slider", "is_typed", "surface_text", "surface_title", "text_field", "url_text",
    "CUSTOM_EXAMPLE", "PRESENT_SCALE", "VIEWS", "PageStart", "UrlCheck", "app_settings", "bound", "chart",
    "choice_select", "divergence_summary", "divergence_warnings", "experiment", "export_panel", "float_input", "forget_stale_widgets", "format_number",
    "int_input",
    "keep_in_url", "log_choices", "multi_select", "number_widget", "optimizer_panel", "page_header", "page_start",
    "point_from_click", "point_input", "start_input", "preset_button", "presenting", "prose", "refusal_note", "section",
    "share_link", "surface_key", "surface_point_key", "surface_select", "switch", "view_select",
]
