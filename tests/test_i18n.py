"""English and Simplified Chinese: every text key exists in both, and every page renders in both.

English text is its own key (``i18n``), so "exists in English" means it is
written in the code: a literal ``tr("...")``, ``mark("...")``, a
``FormulaError("...")`` template or a ``HyperParam`` label, or a registry's text (surface titles,
optimizer labels, hyperparameter labels, ...), which the interface shows
through ``tr``. The Chinese catalog must hold each of them with the same
``{fields}``, and nothing else. Then each page runs in Chinese with the
catalog watching (``i18n.MISSING``): no key may be asked for that it lacks,
and no long English phrase may reach the screen by another road.

Run as a script, it prints the keys the catalog lacks, ready to translate.
"""
from __future__ import annotations

import ast
import json
import pathlib
import re

import plotly.graph_objects as go
import pytest
from conftest import PAGE_NAMES, charts, ok, open_link, plain

import i18n
from i18n import zh

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ["app.py", "controls/*.py", "compute.py", "app_pages/*.py", "figures/*.py", "surfaces/formula.py"]
CALLS = {"tr": (0,), "tr_n": (0, 1), "mark": (0,), "FormulaError": (0,), "HyperParam": (1,)}  # which arguments are text


def code_keys() -> dict[str, str]:
    """Literal text arguments of ``tr``/``tr_n``/``mark``/``FormulaError``/``HyperParam`` calls in the interface's code -> where."""
    keys = {}
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", None))
                if not (isinstance(node, ast.Call) and name in CALLS):
                    continue
                for arg in [node.args[i] for i in CALLS[name] if i < len(node.args)]:
                    # tr("a" if c else "b") asks for both
                    for text in (arg.body, arg.orelse) if isinstance(arg, ast.IfExp) else (arg,):
                        if isinstance(text, ast.Constant) and isinstance(text.value, str):
                            keys.setdefault(text.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return keys


def registry_keys() -> dict[str, str]:
    """Every registry text the interface shows (through ``tr``) -> which registry."""
    import networks
    import optimizers
    import surfaces

    keys = {}

    def add(text: str, where: str) -> None:
        if text:
            keys.setdefault(text, where)

    for name in surfaces.names():
        record = surfaces.get(name)
        add(record.title, f"surface {name}")
        add(record.text, f"surface {name}")
    for kind in (*surfaces.KINDS, "not critical"):
        add(kind, "critical point kind")
    params = []
    for name in optimizers.names():
        spec = optimizers.get(name)
        add(spec.label, f"optimizer {name}")
        add(spec.text, f"optimizer {name}")
        params += spec.params
    for name in optimizers.schedule_names():
        spec = optimizers.get_schedule(name)
        add(spec.label, f"schedule {name}")
        params += spec.params
    for p in params:
        add(p.label, f"parameter {p.name}")
        for choice in p.choices:
            add(choice, f"parameter {p.name}")
    for name, (title, _) in networks.datasets.CLASSIFICATION.items():
        add(title, f"dataset {name}")
    for m in range(3):
        for sigma in range(4):
            for bias in range(2):
                for schedule in ("constant", "inverse_sqrt"):
                    add(optimizers.composed_equivalent(m, sigma, bias, schedule)[1], "composed_equivalent")
    for name, label in optimizers.escape.ESCAPE_METHODS:
        add(label, f"escape method {name}")
    for label, *_ in networks.WARMUP_VARIANTS:
        add(label, "warm-up study variant")
    return keys


def all_keys() -> dict[str, str]:
    return {**registry_keys(), **code_keys()}


def test_every_key_has_a_chinese_text_with_the_same_fields():
    keys = all_keys()
    missing = sorted(k for k in keys if k not in zh.TEXTS)
    assert not missing, f"{len(missing)} keys lack a Chinese text, e.g. {[(k, keys[k]) for k in missing[:5]]}"
    differ = [k for k in keys if i18n.fields(k) != i18n.fields(zh.TEXTS[k])]
    assert not differ, f"translations whose {{fields}} differ from the English: {differ[:5]}"
    # A name may stay as it is (Adam, Beale, d_model); two English words may not.
    untranslated = [k for k in keys if zh.TEXTS[k] == k and re.search(r"[A-Za-z]{3,}\W+[A-Za-z]{3,}", k)]
    assert not untranslated, f"Chinese texts that are the English text: {untranslated[:5]}"


def test_the_catalog_holds_no_key_the_code_no_longer_uses():
    unused = sorted(set(zh.TEXTS) - set(all_keys()))
    assert not unused, f"{len(unused)} Chinese texts nobody asks for, e.g. {unused[:5]}"


def test_the_chinese_labels_the_review_found_cut_off_fit_where_they_were_cut():
    """Screenshots at 1280 px: Normalization's gap table (half the page, four columns) showed its last header as
    "第 580 步的差距，p = 0.", the Network lab's trace metric (a fifth of the page) as "迹（Hutchinson，40 个探…",
    and Adaptive LR's σ charts (the narrower of two columns) their legend entry for the RMSProp forms that
    coincide only up to "from step" in English and to "RMSProp（课程：σ⁰ = |" in Chinese. These texts, filled as
    the pages fill them, are now narrower than what was visible."""
    import optimizers
    from controls.chrome import text_width

    coincide = "{name} = lecture form from step {step}"  # Adaptive LR's legend of the library RMSProp from that step
    assert {"gap at step {step}, p = {p:g}", "trace (Hutchinson)", coincide} <= set(zh.TEXTS)  # what the pages ask
    library = optimizers.get("rmsprop_zero").label
    shown = {}
    try:
        for language in ("en", "zh"):
            i18n.use_language(language)
            shown[i18n.tr(coincide, name=i18n.tr(library), step=199)] = {
                "en": "RMSProp (library: average from 0) — on top of RMSProp (lecture: σ⁰ = |g⁰|) from step",
                "zh": "RMSProp（函数库：平均从 0 开始）——从第 199 步起与 RMSProp（课程：σ⁰ = |"}[language]
        shown[i18n.tr("gap at step {step}, p = {p:g}", step=580, p=0.999)] = "第 580 步的差距，p = 0."
        shown[i18n.tr("trace (Hutchinson)")] = "迹（Hutchinson，40 个探…"
    finally:
        i18n.use_language("en")
    for text, visible in shown.items():
        assert text_width(text) < text_width(visible), text



def test_the_chinese_texts_leave_no_english_term_the_review_found():
    """"3 × 3 Hessian" (Critical points) and "digits" (Schedules §4) were left in English on Chinese pages, and a
    raw "μ_B" showed its underscore in a Normalization caption (both languages: the caption writes $\\mu_B$)."""
    left = [v for v in zh.TEXTS.values() if re.search(r"(?<!Py)Hessian|\bdigits\b", v)]
    assert not left, left[:3]
    (caption,) = [k for k in all_keys() if k.startswith("The two modes differ by at most")]
    assert "μ_B" not in caption.replace("$\\mu_B$", "") and "μ_B" not in zh.TEXTS[caption].replace("$\\mu_B$", "")


def test_tr_fills_fields_in_either_language_and_falls_back_to_english():
    try:
        i18n.use_language("zh")
        assert i18n.tr("Steps") == zh.TEXTS["Steps"]
        assert "12" in i18n.tr("**{label}** diverged at step {step}: its curves stop there. Try a smaller η.",
                               label="Adam", step=12)
        before = set(i18n.MISSING)
        assert i18n.tr("a text nobody translated {n}", n=3) == "a text nobody translated 3"
        assert i18n.MISSING - before == {"a text nobody translated {n}"}
        assert i18n.use_language("xx") == "en" and i18n.tr("Steps") == "Steps"
    finally:
        i18n.MISSING.discard("a text nobody translated {n}")
        i18n.use_language("en")


# Text on screen that reads as an English phrase: three words of letters in a row.
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}[ ,]+[A-Za-z]{3,}\b")
# ... except names that stay as they are in Chinese text (people, libraries, code, formula parts).
KEPT = re.compile(r"Li et al|Santurkar et al|Robbins.Monro|Vaswani et al|Kingma|Hinton|PyTorch|scikit|"
                  r"sin cos tan exp log sqrt abs|tanh sigmoid relu softplus|Error-surface lab|简体中文|"
                  r"`[^`]*`|\$[^$]*\$|https?://\S+|x\*\*2[^)]*|f\(x, y\)|Language · 语言")


def screen_texts(at) -> list[str]:
    """The text of every element an AppTest run drew that a student reads (not formulas or code)."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "metric", "button", "toggle", "selectbox", "number_input", "slider", "select_slider",
                 "multiselect", "text_input", "radio", "checkbox", "expander", "tabs", "dataframe"):
        for el in getattr(at, kind, []):
            for attr in ("value", "label", "body", "help"):
                v = getattr(el, attr, None) if kind != "dataframe" or attr == "value" else None
                if isinstance(v, str):
                    texts.append(v)
            if kind == "dataframe":
                texts += [str(c) for c in el.value.columns]
                texts += [str(v) for v in el.value.astype(str).to_numpy().ravel()[:200]]
            options = getattr(el, "options", None)
            if options:
                texts += [str(o) for o in options]
    for fig in charts(at):
        texts += figure_texts(fig)
    return texts


def figure_texts(fig: dict) -> list[str]:
    """Titles, axis titles, trace names, hover templates, annotations and button labels of a Plotly figure."""
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("text", "name", "hovertemplate", "label", "prefix", "title"):
            found.append(re.sub(r"%\{[^}]*\}|<[^>]*>", " ", node))

    walk({"data": fig.get("data"), "layout": fig.get("layout")})
    return found


def english_phrases(texts) -> list[str]:
    found = []
    for t in texts:
        bare = KEPT.sub(" ", t)
        m = ENGLISH_PHRASE.search(bare)
        if m:
            found.append(f"{m.group(0)!r} in {t[:80]!r}")
    return found


if __name__ == "__main__":  # print the missing keys as catalog lines
    keys = all_keys()
    for k, where in keys.items():
        if k not in zh.TEXTS:
            print(f"    # {where}\n    {k!r}: {k!r},")


PAGES = PAGE_NAMES


def run_page(name: str, language: str):
    """The app as a student opens it from a link with ``?lang=``, through the entry point."""
    return ok(open_link(name, {"lang": language}, timeout=300))


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_chinese_without_a_missing_key(name):
    i18n.MISSING.clear()
    at = run_page(name, "zh")
    assert not i18n.MISSING, f"asked for but not in the Chinese catalog: {sorted(i18n.MISSING)[:5]}"
    texts = screen_texts(at)
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value), at.title[0].value
    leaks = english_phrases(texts)
    assert not leaks, f"English on the Chinese page: {leaks[:8]}"
    assert at.session_state["lang"] == "zh" and at.query_params["lang"] in ("zh", ["zh"])


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_english_without_chinese(name):
    at = run_page(name, "en")
    texts = screen_texts(at)
    assert not [t for t in texts if re.search(r"[\u4e00-\u9fff]", t) and "语言" not in t and "简体中文" not in t]
    # Every figure the page sends passes plotly.py's validation (figures.PrebuiltFigure skips it when built).
    for spec in (json.loads(e.proto.spec) for e in at.get("plotly_chart")):
        spec["layout"].pop("template", None)  # Streamlit's theme placeholders
        go.Figure(spec)


def test_an_unknown_language_in_a_link_falls_back_to_english_with_a_note():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["lang"] = "xx"
    at.run()
    at.switch_page("app_pages/momentum.py").run()
    assert not at.exception and at.title[0].value == "Momentum"
    assert any("lang=xx" in plain(w.value) and "en, zh" in plain(w.value) for w in at.warning), [w.value for w in at.warning]


def test_the_language_switch_changes_the_page_and_the_link():
    at = run_page("home", "en")
    at.selectbox(key="lang").set_value("zh").run()
    assert at.title[0].value == zh.TEXTS["Error-surface lab"] and at.query_params["lang"] in ("zh", ["zh"])
    at.selectbox(key="lang").set_value("en").run()
    assert at.title[0].value == "Error-surface lab" and "lang" not in at.query_params


def test_presentation_mode_folds_the_explanations_and_keeps_the_figures():
    plain = run_page("playground", "en")
    at = run_page("playground", "en")
    at.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] in ("1", ["1"])
    labels = [e.label for e in at.expander]
    # The page's introduction and its first section's explanation fold into buttons of the slim row under the
    # title (the first figure comes right after it); later explanations and captions into expanders.
    popovers = [p.proto.popover.label for p in at.get("popover")]
    assert {"About this page", "Explanation"} <= set(popovers) and "About this page" not in labels
    assert "About this figure" in labels  # a long caption, folded
    assert len(at.get("plotly_chart")) == len(plain.get("plotly_chart"))
    fonts = [fig["layout"].get("font", {}).get("size") for fig in charts(at)]
    assert all(f and f >= 18 for f in fonts), fonts


def test_the_chinese_adaptive_page_says_small_eta_and_ends_the_surface_heading_with_a_chinese_stop():
    """"极小 η" read as "minimum η" beside 极小值 (minimum): the page says 很小的 η. The surface heading's stop comes
    from the catalog ("**{title}.**"): "（…）**。", not an English ". " after the wide bracket."""
    texts = screen_texts(run_page("adaptive_lr", "zh"))
    joined = "\n".join(texts)
    assert "很小的 η" in joined and "极小 η" not in joined
    title = i18n.zh.TEXTS["Walled plateau (steep walls that flatten out)"]
    # The stop outside the bold: "。**一" would not close the bold (CommonMark: ** after punctuation needs a space or
    # punctuation after it), and the student saw the asterisks.
    assert f"**{title}**。" in joined and f"{title}.**" not in joined and f"{title}。**" not in joined
