"""Teacher's guide: a 90-minute lecture on the lab's pages, stop by stop (LECTURES 1.1–2.5).

For every stop of the lecture (``app_pages.SECTIONS``, in order): the link that
opens its figure with the lecture's settings, the question to ask the class
before pressing Play, and what the figure then shows — folded, so the
projector does not give the answer away. The texts and the links' settings are
data here, keyed by section anchor; the page computes nothing.

A link carries its page's lecture example as ``preset=<key>`` (the page's
*Lecture example* button, applied when the page opens), plus
``app_pages.link_query``'s section anchor and query.
``tests/test_teachers_guide.py`` opens every link and compares the page's
widgets with the page's own ``LECTURE``.

The page draws only when Streamlit runs it (as ``__main__``), so a test can
import its data.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import app_pages
import controls
from i18n import mark, tr

PAGE = "teachers_guide"
GUIDE_PRESET = {"g_answers": False}  # the guide's "lecture example": as the projector shows it, every answer folded


@dataclass(frozen=True)
class Stop:
    """What the guide says about one section: its minutes, the question before Play, and the answer."""

    minutes: int
    question: str
    answer: str


# The 90 minutes: a few to put the class's link up, the two parts (their stops' minutes), a few to close.
OPENING_MINUTES = 3
CLOSING_MINUTES = 3
LECTURE_MINUTES = 90
PARTS = {"1": mark("Part 1: when gradient is small"), "2": mark("Part 2: when training gets stuck")}

# One entry per section anchor of app_pages.SECTIONS (the test fails for a section without one).
GUIDE: dict[str, Stop] = {
    "lecture-1-1": Stop(7, mark(
        "At θ′ = (0, 0) the gradient is zero, so gradient descent would stop here. Is it a minimum? What would you "
        "compute to tell a minimum, a maximum and a saddle point apart?"), mark(
        "Not a minimum. The gradient term of the Taylor expansion vanishes and the Hessian decides: here H = "
        "[[0, −2], [−2, 0]] with eigenvalues +2 and −2, mixed signs, so θ′ is a **saddle point** (× on the map; "
        "the blue arrow curves up, the red one down). All eigenvalues positive would make a local minimum, all "
        "negative a local maximum, a zero one a degenerate point that second order cannot classify. The Taylor "
        "window shows the quadratic lying on the surface near θ′ and parting from it farther out.")),
    "lecture-1-2": Stop(5, mark(
        "L(w₁, w₂) = (1 − w₁w₂)². Where is the loss smallest: at one point, or at many? What kind of critical "
        "points are they?"), mark(
        "On the whole curve w₁w₂ = 1 — the two magenta branches, L = 0 all along them. The loss does not change "
        "along the curve, so one eigenvalue of H is 0 there: every point is a **degenerate minimum**, and the "
        "table gives it a minimum ratio of ½ although it is a minimum. The only other critical point is the "
        "saddle at the origin, with L = 1.")),
    "lecture-1-3": Stop(6, mark(
        "Three runs start next to the saddle, almost where plain gradient descent slides into it: gradient "
        "descent, one step along H's eigenvector of λ < 0 and then gradient descent, and gradient descent with "
        "noise. Which one gets away first?"), mark(
        "The eigenvector step: along u ∝ (1, 1), the eigenvector of λ = −2, uᵀHu = λ‖u‖² < 0, so the loss falls "
        "at once. Plain gradient descent slides into the saddle and lingers there until its tiny offset has "
        "grown; the noisy run leaves sooner without any Hessian (the table gives the step at which each loss "
        "dropped). In practice H is too expensive in high dimensions: noise (small batches) and momentum do the "
        "escaping.")),
    "lecture-1-4": Stop(8, mark(
        "24 small networks are trained and each is walked on towards a point where the gradient is small (the "
        "caption says how small: these are refined points, not all critical to 10⁻³). How many of them are true "
        "local minima, with every Hessian eigenvalue positive (minimum ratio 1)?"), mark(
        "Almost none: the caption under the figure counts those that reach ratio 1 and gives the highest ratio. "
        "Where the training loss is high the points are saddles with many negative eigenvalues, and even the "
        "lowest are not quite minima. The three-parameter example above shows why: a point that is a minimum in "
        "a slice can be a saddle once every parameter counts. True local minima are rare.")),
    "lecture-1-5": Stop(9, mark(
        "Full-batch gradient descent and SGD with batches of one example start from the same point with the same "
        "η. Which one ends with the lower training loss — and why?"), mark(
        "The small batch. The full batch stops in a poor local minimum near w = 0, where its gradient is about "
        "10⁻⁸: a critical point of L. Each mini-batch has its own surface, with its critical points elsewhere — "
        "where the full batch stopped, their gradients are not zero — so the noisy B = 1 runs keep moving, cross "
        "the ridge and end in the good fit's valley (the caption counts the seeds that left). Further down: a "
        "large batch makes an epoch faster on parallel hardware, and small-batch noise tends to leave sharp "
        "minima, which generalize worse.")),
    "lecture-1-6": Stop(7, mark(
        "Gradient descent and gradient descent with momentum (λ = 0.9) start at (2.3, 1.5) with the same η. A "
        "small hill separates a shallow minimum from a deeper one. Where does each one end?"), mark(
        "Gradient descent stops in the shallow minimum near (1.33, 0). Momentum keeps λ times its last movement, "
        "rolls over the small hill and ends in the deeper minimum near (−1.48, 0) (the table gives both final "
        "losses). Move the step slider: each movement is λ·(last movement) − η·(gradient), the blue arrow plus "
        "the red one gives the green.")),
    "lecture-2-1": Stop(8, mark(
        "The loss curve has gone flat. Is the gradient small — has training reached a critical point?"), mark(
        "No. Over the last steps the loss hardly changes while the gradient norm jumps up and down (the caption "
        "gives both): the parameters bounce between the walls of the valley. Training stuck ≠ small gradient: "
        "plot ‖g‖ beside the loss. Next, on the convex elongated valley, one η cannot fit both directions: "
        "η = 10⁻² bounces across the steep one, η = 10⁻⁷ crawls along the flat one and is still far from the "
        "minimum after 100,000 steps.")),
    "lecture-2-2": Stop(8, mark(
        "Give each parameter its own step η/σᵢ, with σᵢ the size of its recent gradients. Which direction gets "
        "the smaller steps, the steep one or the flat one — and does it stay that way?"), mark(
        "The steep one: a large σ makes a small step, and the flat direction gets the large steps. Which "
        "direction is steep can change as the path reaches other ground: the σ panels and the caption show σₓ "
        "overtaking σᵧ for every rule. Adagrad's σ keeps all its history; RMSProp and Adam weigh recent "
        "gradients more, so they react quickly when the steepness changes.")),
    "lecture-2-3": Stop(7, mark(
        "The lecture's Adagrad has reached the flat floor of the valley. What happens next if η stays "
        "constant?"), mark(
        "Bursts. Along the floor the gradients are tiny, so σ of the steep direction — the root mean square of "
        "all past gradients — shrinks, the step η/σ there blows up and the path shoots out sideways; σ grows "
        "again and the path falls back. The step-length plot marks each burst ▼; with η decaying as 1/√(t+1) "
        "they die out. The schedule designer below shows the Transformer's warm-up: η grows for the first "
        "4,000 steps, then decays.")),
    "lecture-2-3-summary": Stop(5, mark(
        "θ ← θ − (ηᵗ/σᵗ) ⊙ mᵗ. Take m the exponential average of g, σ the exponential average of g² started "
        "at 0, with bias correction and a constant η. Which optimizer is that?"), mark(
        "Adam: the page names the combination and checks that its path coincides with Adam's. m gives the "
        "direction (momentum), σ the magnitude (root mean square of past gradients), ηᵗ the schedule; switch a "
        "piece off and the page names what is left.")),
    "lecture-2-4": Stop(7, mark(
        "Both runs start at y₁ = −8, y₂ = 8: the wrong class is predicted with confidence and the loss is large. "
        "With mean square error, or with cross-entropy, can gradient descent get going?"), mark(
        "Only with cross-entropy. There MSE is flat: its loss is near its largest value and its gradient below "
        "10⁻⁶, so gradient descent on MSE barely moves. Cross-entropy still slopes towards the minimum and its "
        "gradient is millions of times larger. Adam escapes the MSE plateau too, by dividing by σ, but the "
        "cleaner fix is the loss: changing the loss changes how hard optimization is.")),
    "lecture-2-5": Stop(7, mark(
        "x₁ takes values like 1, 2, … and x₂ like 100, 200, …. Gradient descent with the same η = 0.1 on the "
        "raw and on the standardized features: how does each fare?"), mark(
        "On the raw features the surface is an elongated valley (condition number near 10⁴); η = 0.1 is far "
        "above the largest stable η there, and gradient descent diverges within a few steps. Standardized (mean "
        "0, variance 1 per feature) it is a round bowl and converges in a few dozen steps (the table gives "
        "both). Inside a network batch normalization does the same for the layer outputs: on the digits at η = 2 "
        "the network with BN trains and the one without does not.")),
}


def link_query(section: app_pages.Section) -> dict[str, str]:
    """The query of the guide's link to ``section``: its page's lecture example (``preset``), then the section's
    own query and anchor (``app_pages.link_query``)."""
    preset = app_pages.page(section.page).lecture_example
    return {**({"preset": preset} if preset else {}), **app_pages.link_query(section)}


def part_minutes() -> dict[str, int]:
    """Minutes per part of the lecture ("1", "2"): the sum of its stops'."""
    totals = dict.fromkeys(PARTS, 0)
    for s in app_pages.SECTIONS:
        totals[s.number.split(".")[0]] += GUIDE[s.anchor].minutes
    return totals


def render() -> None:
    """The page: the lecture-hall note, the timing plan, then one entry per section."""
    notes, url, _, _ = controls.page_start(PAGE, tr("Teacher's guide"), tr(
        "A 90-minute lecture on this lab, section by section: the link that opens each figure with the lecture's "
        "settings, the question to ask before pressing Play, and what the figure then shows."),
        GUIDE_PRESET, "g_preset", tr("Lecture example: the answers folded, for the projector"))
    with st.sidebar:
        show_answers = controls.switch(tr("Show every answer"), "g_answers", url, help=tr(
            "For preparing the lecture alone. On the projector leave it off: each answer stays folded until you "
            "open it."))

    st.markdown(tr(
        "**In the lecture hall.** Switch on *Presentation mode* in the sidebar before you start: larger text "
        "and figures, explanations folded under the figures; it stays on as you follow the links below. To "
        "bring the class along, press *QR code for the room* on any page: students scan it and open the same "
        "figure on their phones, in normal mode and in their own language (*Share this experiment* has the "
        "link to copy)."))

    st.subheader(tr("The 90 minutes"))
    minutes = part_minutes()
    plan = [{tr("part"): tr("Opening: put the class link up (QR code)"), tr("minutes"): OPENING_MINUTES}]
    for number, title in PARTS.items():
        numbers = [s.number for s in app_pages.SECTIONS if s.number.startswith(number + ".")]
        plan.append({tr("part"): tr("{part} ({first}–{last})", part=tr(title), first=numbers[0], last=numbers[-1]),
                     tr("minutes"): minutes[number]})
    plan.append({tr("part"): tr("Closing: questions, and what to try at home"), tr("minutes"): CLOSING_MINUTES})
    st.dataframe(plan, hide_index=True)

    for section in app_pages.SECTIONS:
        stop = GUIDE[section.anchor]
        record = app_pages.page(section.page)
        with st.container(border=True, key=f"guide_{section.anchor.replace('-', '_')}"):
            # The stop's heading line: its title, then its minutes and page (not a caption: nothing here is to fold).
            st.markdown(f"**{tr(section.title)}** · "
                        + tr("About {minutes} min · {page}", minutes=stop.minutes, page=tr(record.title)))
            st.page_link(record.file, label=tr(section.label), icon=":material/play_arrow:",
                         query_params=link_query(section))
            st.markdown(tr("**Ask before pressing Play:** {question}", question=tr(stop.question)))
            if show_answers:
                st.markdown(tr("**What the figure shows:** {answer}", answer=tr(stop.answer)))
            else:
                with st.expander(tr("What the figure shows (open after the class has answered)"),
                                 icon=":material/visibility:"):
                    st.markdown(tr(stop.answer))

    url.show(notes)  # last: the share link, and a note on any link value it could not use


if __name__ == "__main__":  # Streamlit runs a page as __main__; a test imports the data above without drawing
    render()
