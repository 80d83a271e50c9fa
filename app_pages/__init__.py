"""The lab's pages and the lecture's sections: one record each, read by everything that lists them.

The entry point builds its navigation from ``PAGES``; Home lists ``SECTIONS``
(each links to its page, at the section's anchor); the teacher's guide walks
``SECTIONS`` in lecture order; every page-wide test and bench script is
parametrized from ``PAGES``. Plain Python, no Streamlit: tests and bench
scripts import it without starting a page.

Adding a page: its script in this folder, one ``PageRecord`` in ``PAGES``
(and its sections in ``SECTIONS``), its Chinese strings in ``i18n/zh.py``, and
its own test module. Titles are English keys, shown through ``i18n.tr``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from i18n import mark


@dataclass(frozen=True)
class PageRecord:
    """One page: ``name`` is its script's stem (``app_pages/<name>.py``), ``slug`` its URL path ("" for Home)."""

    name: str
    slug: str
    title: str
    icon: str
    summary: str = ""  # one line: what a student finds there (Home's table for pages that cover many sections)
    lecture_example: str = ""  # the key of its "Lecture example" button ("" where it has none)
    animates: bool = False  # its first map has Play / Pause (an animated Plotly figure)

    @property
    def file(self) -> str:
        return f"app_pages/{self.name}.py"


@dataclass(frozen=True)
class Section:
    """One stop of the lecture: ``number`` as in the lecture (1.1 … 2.5), shown on ``page`` at ``anchor``.

    ``query``: what the link adds to open the right figure (e.g. an experiment that starts running).
    A lecture section may have more than one stop (2.3: bursts and schedules; the composed optimizer).
    """

    number: str
    title: str
    page: str  # a PageRecord.name
    label: str  # what the link to it says
    anchor: str  # the element id on the page: stable, lower-case, what a link's #fragment names
    query: dict = field(default_factory=dict)


PAGES: tuple[PageRecord, ...] = (
    PageRecord("home", "", mark("Home"), ":material/home:"),
    PageRecord("teachers_guide", "teachers_guide", mark("Teacher's guide"), ":material/school:",
               lecture_example="g_preset"),
    PageRecord("playground", "playground", mark("Playground"), ":material/sports_score:",
               summary=mark("Playground: race up to six optimizers"), lecture_example="pg_preset", animates=True),
    PageRecord("critical_points", "critical_points", mark("Critical points"), ":material/my_location:",
               lecture_example="cp_preset", animates=True),
    PageRecord("momentum", "momentum", mark("Momentum"), ":material/sports_baseball:",
               lecture_example="m_preset", animates=True),
    PageRecord("batch_size", "batch_size", mark("Batch size"), ":material/stacks:",
               lecture_example="b_preset", animates=True),
    PageRecord("adaptive_lr", "adaptive_learning_rate", mark("Adaptive learning rate"), ":material/tune:",
               lecture_example="a_preset", animates=True),
    PageRecord("schedules", "schedules", mark("Schedules and warm-up"), ":material/schedule:",
               lecture_example="s_preset", animates=True),
    PageRecord("classification", "classification_loss", mark("Classification loss"), ":material/category:",
               lecture_example="c_preset", animates=True),
    PageRecord("normalization", "normalization", mark("Normalization"), ":material/balance:",
               lecture_example="n_preset", animates=True),
    PageRecord("network_lab", "network_lab", mark("Network lab"), ":material/hub:",
               summary=mark("Network lab: train an MLP on real data, slice and probe it"),
               lecture_example="nl_preset", animates=True),
)

SECTIONS: tuple[Section, ...] = (
    Section("1.1", mark("1.1 Critical points: minimum, maximum, saddle (Hessian eigenvalues, Taylor view)"),
            "critical_points", mark("Critical points: classified, with H and its Taylor surface"), "lecture-1-1"),
    Section("1.2", mark("1.2 The lecture's example L = (1 − w₁w₂)²: a saddle at the origin"), "critical_points",
            mark("Critical points, *Lecture example* preset"), "lecture-1-2"),
    Section("1.3", mark("1.3 Escaping a saddle along an eigenvector"), "critical_points",
            mark("Critical points: three ways out of a saddle"), "lecture-1-3"),
    Section("1.4", mark("1.4 The lecture’s key figure: training loss against the minimum ratio"), "critical_points",
            mark("Run the minimum-ratio experiment (about 10–20 s)"), "lecture-1-4", {"cp_ratio": "1"}),
    Section("1.5", mark("1.5 Batch size: noisy updates, time per epoch, sharp vs flat minima"), "batch_size",
            mark("Batch size: mini-batch surfaces, SGD, timings"), "lecture-1-5"),
    Section("1.6", mark("1.6 Momentum: rolling over small hills and plateaus"), "momentum",
            mark("Momentum: a step taken apart, a ball on a curve"), "lecture-1-6"),
    Section("2.1", mark("2.1 Training stuck ≠ small gradient; one learning rate cannot fit all directions"),
            "adaptive_lr", mark("Adaptive learning rate: loss vs gradient norm, η = 10⁻² and 10⁻⁷"), "lecture-2-1"),
    Section("2.2", mark("2.2 Adaptive learning rates: Adagrad, RMSProp (lecture and library forms), Adam"),
            "adaptive_lr", mark("Adaptive learning rate: σ per parameter beside the path"), "lecture-2-2"),
    Section("2.3", mark("2.3 Adagrad's bursts, learning-rate schedules and warm-up (incl. the Transformer's)"),
            "schedules", mark("Schedules and warm-up: bursts, a schedule designer"), "lecture-2-3"),
    Section("2.3", mark("2.3 The summary θ ← θ − (ηᵗ/σᵗ) ⊙ mᵗ, every piece switchable"), "schedules",
            mark("Schedules and warm-up: build an optimizer, race it"), "lecture-2-3-summary"),
    Section("2.4", mark("2.4 Softmax; MSE vs cross-entropy change the surface"), "classification",
            mark("Classification loss: softmax calculator, the two surfaces"), "lecture-2-4"),
    Section("2.5", mark("2.5 Feature normalization and batch normalization"), "normalization",
            mark("Normalization: condition numbers, BN on the digits"), "lecture-2-5"),
)

# Pages that cover many sections at once: Home lists them after the sections, with the sections they serve.
OVERVIEWS: dict[str, str] = {
    "network_lab": mark("1.4, 1.5, 2.5 on real networks: landscapes, Hessian spectra, saddles vs minima, "
                        "small vs large batch"),
    "playground": mark("Every surface, optimizer and schedule together"),
}


def page(name: str) -> PageRecord:
    """The record of ``app_pages/<name>.py``; KeyError for an unknown name."""
    for record in PAGES:
        if record.name == name:
            return record
    raise KeyError(name)


def names() -> list[str]:
    """Every page's script stem, Home first, in the navigation's order."""
    return [record.name for record in PAGES]


def section(anchor: str) -> Section:
    """The section shown at ``anchor``; KeyError for an unknown anchor."""
    for record in SECTIONS:
        if record.anchor == anchor:
            return record
    raise KeyError(anchor)


def link_query(s: Section) -> dict:
    """The query of a link that opens section ``s``: its own query, and ``section`` naming its anchor."""
    return {**s.query, "section": s.anchor}


def sections_of(name: str) -> list[Section]:
    """The sections page ``name`` shows, in lecture order."""
    return [s for s in SECTIONS if s.page == name]


def imported_modules() -> tuple[str, ...]:
    """The top-level modules every registered page's script imports, read from their source (nothing is run).

    The server imports them before it freezes what lives for good (``memory_budget.freeze_startup_objects``):
    a module a page would first import later would otherwise sit in the collector's old generation.
    """
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found: dict[str, None] = {}
    for record in PAGES:
        for node in ast.walk(ast.parse((root / record.file).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(dict.fromkeys(alias.name.split(".")[0] for alias in node.names))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.update(dict.fromkeys([node.module.split(".")[0]]))
    return tuple(name for name in found if name != "__future__")
