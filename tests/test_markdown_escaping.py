"""User and link text reaches the page as text: no link, image, code span, HTML or maths made of it."""
from __future__ import annotations

import re

import plotly.graph_objects as go
from conftest import LIVE_MARKUP, markdown_sources, no_exception, open_link, plain
from hypothesis import given, settings
from hypothesis import strategies as st

import controls
import figures

LIVE = re.compile(LIVE_MARKUP.pattern + r"|(?<!\\)\]\(http://a\.bc|(?<!\\)`")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_text_reads_back_as_itself(text):
    escaped = controls.escape_markdown(text)
    assert plain(escaped).replace("\u2060", "") == " ".join(text.split()).replace("\u2060", "")
    assert not re.search(r"(?i)(://|www\.|[^\u2060]@|^@)", plain(escaped))  # no autolink can start
    assert not re.search(r"(?<!\\)[`*_\[\]()<>$:!#|~]", escaped.replace("\\\\", ""))


def test_the_standalone_html_title_is_escaped():
    page = figures.figure_html(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])), "</title><script>alert(1)</script>")
    head = page[: page.index("</head>")]
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in head


def formula_page(formula: str):
    at = open_link("playground", {"surface": "custom", "surface_formula": formula, "steps": "20"})
    no_exception(at)
    return at


def test_a_formula_with_a_backtick_and_a_link_is_shown_escaped():
    at = formula_page("x` **[Log in](https://evil.example/login)** `y")
    assert at.error, "the formula is refused"
    for source in markdown_sources(at):
        assert not LIVE_MARKUP.search(source), source
    assert "[Log in](https://evil.example/login)" in plain(at.error[0].value).replace("\u2060", "")


def test_the_typed_formula_is_shown_as_typed_and_as_latex():
    formula = "x**2 - y**2 + 0.1*sin(5*x)"
    at = formula_page(formula)
    assert not at.error
    assert [c.value for c in at.code if c.value == f"f(x, y) = {formula}"], [c.value for c in at.code]
    assert any("x^{2}" in tex.value and r"\operatorname{sin}" in tex.value for tex in at.latex)
    assert not any(formula in m.value for m in at.markdown)  # never through Markdown (it ate the powers)


def test_logits_with_markdown_are_refused_as_text():
    at = open_link("classification", {"c_logits": "1, [login](http://a.bc), `x`"})
    no_exception(at)
    assert at.error
    for source in markdown_sources(at):
        assert not re.search(r"(?<!\\)\]\(http://a\.bc", source), source
