"""The teacher's guide (app_pages/teachers_guide.py): one entry per lecture section, links that open each figure
with the lecture's settings, answers folded until the teacher opens them.

The oracle for "the lecture's settings" is each lesson page's own ``LECTURE`` dict, read from the page's source
(read from the syntax tree, nothing run): the guide links to the page's button, and the test checks its values.
"""
from __future__ import annotations

import ast
import importlib
import re
import urllib.parse

import pytest
from conftest import ROOT, ok, open_link, plain, text

import app_pages
import i18n
from controls.url import GLOBAL_KEYS

guide = importlib.import_module("app_pages.teachers_guide")  # its data; the page draws only when Streamlit runs it
SECTION_PAGES = sorted({s.page for s in app_pages.SECTIONS})


def literal(node: ast.AST, names: dict | None = None):
    """The value of a literal written in source (numbers, strings, booleans, lists, tuples, dicts, a sign, or the
    name of an earlier such constant in ``names``, or an item of one): read from the syntax tree, nothing run (the project runs no
    eval/exec, tests/test_architecture.py)."""
    names = names or {}
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand, names)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [literal(e, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {literal(k, names): literal(v, names) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Subscript):  # an item of an earlier constant: STARTS["walled_plateau"][0]
        return literal(node.value, names)[literal(node.slice, names)]
    raise AssertionError(f"not a literal: {ast.unparse(node)}")


def lecture_of(name: str) -> dict:
    """The ``LECTURE`` dict of app_pages/<name>.py, read from its source."""
    tree = ast.parse((ROOT / "app_pages" / f"{name}.py").read_text(encoding="utf-8"))
    constants: dict = {}  # the page's module-level literal constants, in order (LECTURE may name one)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "LECTURE":
                return literal(node.value, constants)
            try:
                constants[node.targets[0].id] = literal(node.value, constants)
            except AssertionError:  # not a literal (a registry call, a comprehension): LECTURE cannot name it
                pass
    raise AssertionError(f"app_pages/{name}.py has no LECTURE dict")


def link_notes(at) -> list[str]:
    """The page's notes on link values it could not use, one per refused value."""
    said = [plain(w.value) for w in at.warning if "could not be used" in plain(w.value)]
    return [line[2:] for text in said for line in text.splitlines() if line.startswith("- ")]


def unexpected_notes(at, section: app_pages.Section) -> list[str]:
    """Link notes other than the one a page gives ``section=`` while it does not read it yet.

    The section anchor is read by the pages once they scroll to it (the presentation-mode work, app_pages.SECTIONS'
    anchors); until then a page names it as an unknown setting, and that note alone is allowed. A page that reads
    it (a widget's key, or a global key) must give no note at all.
    """
    reads_section = "section" in at.session_state["_url_read"] or "section" in GLOBAL_KEYS
    allowed = set() if reads_section else {
        f"section={section.anchor} ignored (this page has no such setting); using the default."}
    return [n for n in link_notes(at) if n not in allowed]


# ------------------------------------------------------------------ the guide's data
def test_every_section_has_guide_text_and_the_plan_fills_the_lecture():
    anchors = [s.anchor for s in app_pages.SECTIONS]
    missing = [a for a in anchors if a not in guide.GUIDE]
    assert not missing, f"sections without a guide entry: {missing}"
    assert set(guide.GUIDE) == set(anchors), f"guide entries for no section: {set(guide.GUIDE) - set(anchors)}"
    for anchor, stop in guide.GUIDE.items():
        assert stop.minutes > 0 and stop.question.strip() and stop.answer.strip(), anchor
    parts = guide.part_minutes()
    assert set(parts) == {"1", "2"} and all(parts.values())
    assert guide.OPENING_MINUTES + sum(parts.values()) + guide.CLOSING_MINUTES == guide.LECTURE_MINUTES == 90


def test_the_links_carry_each_pages_own_lecture_example():
    """Each link names its page's lecture-example button (``preset``), never a copy of the values it sets."""
    for s in app_pages.SECTIONS:
        query = guide.link_query(s)
        assert query == {"preset": app_pages.page(s.page).lecture_example, **s.query, "section": s.anchor}, s.anchor
        assert query["preset"] and all(isinstance(v, str) for v in query.values())


# ------------------------------------------------------------------ the page
def entries(at) -> list[dict]:
    """The guide's section entries as drawn: the page each link opens and the link's query, in order."""
    links = at.get("page_link")
    return [{"page": link.proto.page, "query": dict(urllib.parse.parse_qsl(link.proto.query_string,
                                                                          keep_blank_values=True))}
            for link in links]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_guide_opens_with_one_entry_per_section_in_order_and_the_answers_folded(language):
    i18n.MISSING.clear()
    at = ok(open_link("teachers_guide", {"lang": language}))
    assert not i18n.MISSING, sorted(i18n.MISSING)[:5]
    assert not link_notes(at)
    drawn = entries(at)
    assert len(drawn) == len(app_pages.SECTIONS)
    slugs = {r.name: r.slug for r in app_pages.PAGES}
    for entry, s in zip(drawn, app_pages.SECTIONS):
        assert entry["page"] == slugs[s.page], (s.anchor, entry["page"])
        assert entry["query"] == guide.link_query(s), s.anchor
    # Each entry's heading line: "**title** · About N min · page"
    titles = [m.value.split("** · ")[0].strip("*") for m in at.markdown if m.value.startswith("**") and "** · " in m.value]
    i18n.use_language(language)
    try:
        assert titles == [i18n.tr(s.title) for s in app_pages.SECTIONS]
        answer_label = i18n.tr("What the figure shows (open after the class has answered)")
        answers = [e for e in at.expander if e.label == answer_label]
        assert len(answers) == len(app_pages.SECTIONS)
        assert not any(e.proto.expanded for e in answers), "an answer is open before the class answered"
        shown = [m.value for e in answers for m in e.markdown]
        assert shown == [i18n.tr(guide.GUIDE[s.anchor].answer) for s in app_pages.SECTIONS]
        questions = " ".join(m.value for m in at.markdown)
        for s in app_pages.SECTIONS:
            assert i18n.tr(guide.GUIDE[s.anchor].question) in questions, s.anchor
        assert str(guide.LECTURE_MINUTES) in " ".join(h.value for h in at.subheader)
    finally:
        i18n.use_language("en")
    assert not at.session_state["g_answers"]


def test_show_every_answer_unfolds_them_for_preparing_alone():
    at = ok(open_link("teachers_guide", {"g_answers": "1"}))
    assert not [e for e in at.expander if "What the figure shows" in e.label]
    text = " ".join(m.value for m in at.markdown)
    for s in app_pages.SECTIONS:
        assert guide.GUIDE[s.anchor].answer in text, s.anchor


# ------------------------------------------------------------------ every link, opened
def assert_lecture_settings(at, section: app_pages.Section) -> None:
    """The page reached got exactly its lecture example's values (and the section's own query), with no note."""
    state = at.session_state.to_dict()
    for key, value in lecture_of(section.page).items():
        assert key in state, (section.anchor, key)
        assert state[key] == value and type(state[key]) is type(value), (section.anchor, key, value, state[key])
    if section.query.get("cp_ratio") == "1":  # 1.4: the link opens the minimum-ratio experiment running
        assert state["cp_ratio"] is True
    assert not unexpected_notes(at, section), (section.anchor, unexpected_notes(at, section))
    assert not [w.value for w in at.warning if "not used" in plain(w.value)], section.anchor


def table(at, column: str):
    """The first dataframe of the page with ``column``, as a pandas DataFrame."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def number(pattern: str, where: str) -> float:
    found = re.search(pattern, where)
    assert found, (pattern, where[:300])
    return float(found.group(1))


def saddle_escape_order(at) -> None:
    steps = {row["run"]: int(row["loss dropped clearly at step"]) for _, row in
             table(at, "loss dropped clearly at step").iterrows()}
    assert steps["Eigenvector step, then GD"] < steps["Noisy gradient descent"] < steps["Gradient descent"], steps


def batch_size_escape(at) -> None:
    said = text(at)
    assert number(r"‖∇L‖ = ([0-9.e+-]+), L = ", said) < 1e-6  # the full batch stopped at a critical point of L
    full = number(r"L = ([0-9.]+); the Hessian", said)
    left = re.search(r"([0-9]+) of ([0-9]+) mini-batch runs with B = 1 left it: .* at L = ([0-9.]+) to ([0-9.]+)\.", said)
    assert left and int(left.group(1)) >= 1 and float(left.group(4)) < full, said[:300]


def momentum_ends(at) -> None:
    rows = {row["run"]: row for _, row in table(at, "ended near").iterrows()}
    gd, momentum = rows["Gradient descent"], rows["Momentum λ = 0.9"]
    assert gd["ended near"] == "minimum at (1.33, 0)" and momentum["ended near"] == "minimum at (-1.48, 0)"
    assert float(momentum["final loss"]) < float(gd["final loss"])


def stuck_not_small(at) -> None:
    said = text(at)
    # The loss falls first, then stops falling while the gradient stays large (the section's bounce map)
    start = number(r"The loss falls from ([0-9.]+) to", said)
    assert start > 10 * number(r"The loss falls from [0-9.]+ to ([0-9.]+) or less", said)
    assert number(r"the gradient norm stays between ([0-9.]+) and", said) > 1
    assert float(at.metric[0].value) > 1 and "100,000" in at.metric[0].label  # η = 10⁻⁷, still far away


def sigma_overtakes(at) -> None:
    caption = next(c.value for c in at.caption if "Colours and dashes as in the map" in c.value)
    rules = [line for line in caption.splitlines() if line.startswith("- ")]
    # σᵧ leads, then σₓ takes over: for good, or for most of the steps once the two trade places
    assert len(rules) == 5 and all("σₓ overtakes it for good" in line or "σₓ is the larger at" in line
                                   for line in rules), rules


def bursts(at) -> None:
    counts = [int(n) for n in re.findall(r"([0-9]+) bursts?", plain(text(at)))]
    assert len(counts) >= 2 and counts[0] > 0 and counts[1] == 0, counts
    assert "at step 3,999" in text(at)  # the Transformer's η peaks at the end of its 4,000 warm-up steps


def mse_flat(at) -> None:
    said = plain(text(at))
    assert number(r"cross-entropy gradient is \*\*([0-9.e+]+) times", said) >= 1e6
    mse, ce = (float(m.value) for m in at.metric if m.label.startswith("‖∇L‖ at the start"))
    assert mse < 1e-6 < ce


def normalization_facts(at) -> None:
    scaling = {row["features"]: row for _, row in table(at, "steps to converge").iterrows()}
    raw, standard = scaling["Raw features"], scaling["Standardized features"]
    assert str(raw["steps to converge"]).startswith("diverged at step")
    assert 5e3 < float(raw["condition number λmax/λmin"]) < 2e4 and float(standard["condition number λmax/λmin"]) < 2
    assert int(str(standard["steps to converge"]).replace(",", "")) < 100
    bn = {row["η"]: row for _, row in table(at, "did not train").iterrows()}
    assert bn["2"]["did not train"] == "without BN"


# What each answer says the figure shows, checked on the page the link opens (English).
FIGURE_FACTS = {
    "lecture-1-1": lambda at: [s.value for s in at.success] == [
        "**Saddle**: eigenvalues -2 and 2. Up along one eigenvector, down along the other: step along the negative "
        "one to escape (below)."],
    "lecture-1-2": lambda at: table(at, "kind")["kind"].tolist() == ["saddle", "valley of minima"]
    and table(at, "kind")["minimum ratio"].tolist() == ["0.5", "0.5"] and table(at, "kind")["L"][0] == "1",
    "lecture-1-3": saddle_escape_order,
    "lecture-1-4": lambda at: number(r"Of 24 refined points, ([0-9]+) reach ratio 1", text(at)) <= 2,
    "lecture-1-5": batch_size_escape,
    "lecture-1-6": momentum_ends,
    "lecture-2-1": stuck_not_small,
    "lecture-2-2": sigma_overtakes,
    "lecture-2-3": bursts,
    "lecture-2-3-summary": lambda at: any("This combination is **Adam**" in s.value for s in at.success),
    "lecture-2-4": mse_flat,
    "lecture-2-5": normalization_facts,
}


@pytest.mark.parametrize("section", app_pages.SECTIONS, ids=[s.anchor for s in app_pages.SECTIONS])
def test_every_link_opened_in_a_fresh_session_gives_the_page_the_lecture_settings(section):
    at = open_link(section.page, guide.link_query(section))
    ok(at)
    assert_lecture_settings(at, section)
    assert FIGURE_FACTS[section.anchor](at) is not False, f"{section.anchor}: the figure does not show the answer"


def test_the_guide_walked_in_one_tab_opens_each_figure_with_its_settings_again():
    """A teacher follows the links one after another from the guide: a page opened a second time in the session
    (1.1 … 1.4 are all on Critical points) seeds its widgets from the new link again, and 1.4's experiment runs."""
    at = ok(open_link("teachers_guide", {}))
    for section in app_pages.sections_of("critical_points"):
        at.query_params.clear()
        for k, v in guide.link_query(section).items():
            at.query_params[k] = v
        at.switch_page(app_pages.page(section.page).file).run()
        ok(at)
        assert at.session_state["_page"] == "critical_points"
        assert_lecture_settings(at, section)
        at.query_params.clear()
        at.switch_page(app_pages.page("teachers_guide").file).run()
        ok(at)
