"""Run the quick benches and write ``docs/performance.md`` from what they print (never typed by hand).

Each bench in ``BENCHES`` runs as it would from a shell (``.venv/bin/python bench/<script>``, a subprocess of
its own, so none of them measures another's warm caches); its output goes into the report verbatim, and a few
of its lines are read into the summary table. The report starts with the date, the commit, the machine (CPU
count and model, JAX's version and backend) and the load average when the run started and ended: this is a
shared machine, and the load average is what tells a reader how far to trust the figures.

Not run here, because they take long, need a browser, a second server or torch: ``bench_network.py``
(``requirements-bench.txt``), ``bench_page_draw.py``, ``bench_page_server.py``, ``bench_page_corners.py``,
``load_test.py``, ``soak.py``, ``bench_flood.py``, ``bench_formula_memory.py``, ``memory_owners.py``. Their
last figures are in ``docs/performance_log.md``, ``docs/memory.md`` and ``docs/deployment.md``.

Run (a few minutes on 2 cores)::

    .venv/bin/python bench/performance_report.py [--out docs/performance.md] [--only bench_runner ...]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
Row = tuple[str, str, str]  # what, measured, target


def _find(pattern: str, text: str) -> re.Match | None:
    return re.search(pattern, text, re.M)


def _runner(out: str) -> list[Row]:
    rows = []
    if m := _find(r"ours \(scan \+ vmap, one call\):\s*([\d.]+) ms", out):
        rows.append(("`run_batch`, 1,024 trajectories × 1,000 Adam steps on Himmelblau, warm", f"{m[1]} ms", "—"))
    for name, label, target in (("NumPy vectorized", "… vs NumPy vectorized over trajectories", "≥ 10×"),
                                ("optax, Python loop of jitted steps", "… vs optax stepped from a Python loop",
                                 "≥ 20×")):
        if m := _find(re.escape(name) + r":\s*([\d.]+) ms\s+ratio\s+([\d.]+)x", out):
            rows.append((label, f"{m[2]}× faster ({m[1]} ms)", target))
    return rows


def _hessian_map(out: str) -> list[Row]:
    rows = []
    times = [float(t) for t in re.findall(r"^\s+\w+\s+([\d.]+) ms\s+\(target", out, re.M)]
    if times:
        rows.append(("loss, ‖g‖ and both Hessian eigenvalues on 1000 × 1000 points, warm (4 surfaces)",
                     f"{min(times):.0f}–{max(times):.0f} ms", "≤ 200 ms"))
    if m := _find(r"closed form ([\d.]+) ms, jnp\.linalg\.eigvalsh ([\d.]+) ms \((\d+)x\)", out):
        rows.append(("closed-form 2×2 eigenvalues vs `jnp.linalg.eigvalsh`, 10⁶ Hessians",
                     f"{m[3]}× faster ({m[1]} against {m[2]} ms)", "—"))
    return rows


def _compile(out: str) -> list[Row]:
    if m := _find(r"worst cold first call: ([\d.]+) s .*worst after restart: ([\d.]+) s", out):
        return [("first call of a (surface, optimizer) pair, compile included (worst of 6)", f"{m[1]} s", "≤ 1 s"),
                ("the same after a restart (persistent compilation cache)", f"{m[2]} s", "reuse")]
    return []


def _playground(out: str) -> list[Row]:
    rows = []
    if m := _find(r"page work .*: median (\d+) ms, max (\d+) ms", out):
        rows.append(("Playground, one learning rate changed (6 optimizers × 500 steps, 5 figures, JSON), warm",
                     f"median {m[1]} ms, max {m[2]} ms", "≤ 300 ms"))
    if m := _find(r"JSON: contour map ([\d.]+) MB, 3-D surface ([\d.]+) MB", out):
        rows.append(("JSON of the animated figures, 6 optimizers × 500 steps",
                     f"2-D map {m[1]} MB, 3-D {m[2]} MB", "≤ 1.5 MB"))
    if m := _find(r"whole page script under AppTest .*: median (\d+) ms, max (\d+) ms", out):
        rows.append(("… the whole Playground script under AppTest", f"median {m[1]} ms, max {m[2]} ms", "≤ 300 ms"))
    return rows


def _study(label: str) -> Callable[[str], list[Row]]:
    def parse(out: str) -> list[Row]:
        rows = []
        if m := _find(r"empty caches:\s+([\d.]+) s for (\d+)", out):
            rows.append((f"{label}, empty caches", f"{m[1]} s", "≤ 20 s"))
        if m := _find(r"second visit, a new process \(same cache\): ([\d.]+) s, from the cache: (\w+)", out):
            rows.append(("… a second visit from a new process", f"{m[1]} s (from the cache: {m[2]})", "cached"))
        return rows
    return parse


def _formula_cost(out: str) -> list[Row]:
    rows = []
    totals = re.findall(r"^worst total ([\d.]+) s", out, re.M)
    if totals:
        rows.append(("a new typed formula at the limits (map 120², critical points, 300 Adam steps), "
                     "interpreter warm, worst of 3", f"{totals[0]} s", "≤ 2 s"))
    if len(totals) > 1:
        rows.append(("… the same formulas each compiled on its own (the old way), worst", f"{totals[1]} s", "—"))
    if m := _find(r"^empty persistent compilation cache\s.*total\s+([\d.]+) s", out):
        rows.append(("… the first formula of a fresh process, empty compile cache", f"{m[1]} s", "—"))
    return rows


def _lecture_pages(out: str) -> list[Row]:
    rows = []
    for m in re.finditer(r"^(\w+)\s+first run\s+([\d.]+) s;\s+rerun after changing \w+: median (\d+) ms, max (\d+) ms",
                         out, re.M):
        rows.append((f"{m[1]} page under AppTest: first run (empty compile cache); rerun after one change",
                     f"{m[2]} s; median {m[3]} ms, max {m[4]} ms", "rerun ≤ 300 ms"))
    return rows


@dataclass(frozen=True)
class Bench:
    script: str
    args: tuple[str, ...]
    what: str
    parse: Callable[[str], list[Row]]


BENCHES = [
    Bench("bench_runner.py", (), "the trajectory runner against NumPy and optax", _runner),
    Bench("bench_hessian_map.py", (), "grid maps with Hessian eigenvalues; closed-form 2×2 eigen", _hessian_map),
    Bench("bench_compile.py", (), "first calls, compile included, and after a restart", _compile),
    Bench("bench_playground.py", (), "one Playground interaction and its figures' size", _playground),
    Bench("bench_saddle_study.py", (), "the minimum-ratio experiment (24 refined networks)",
          _study("the minimum-ratio experiment")),
    Bench("bench_batch_gap.py", (), "the small-vs-large batch gap study", _study("the batch gap study")),
    Bench("bench_formula_cost.py", ("--quick",), "a typed formula at the parser's limits", _formula_cost),
    Bench("bench_lecture_pages.py", (), "the lecture pages under AppTest", _lecture_pages),
]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def jax_backend() -> str:
    code = "import jax; print(jax.__version__, jax.default_backend().upper(), len(jax.devices()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        return "unknown (JAX failed to start)"
    version, backend, devices = out.stdout.split()
    return f"JAX {version} on {backend} ({devices} device{'s' if devices != '1' else ''})"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def run(bench: Bench, timeout: float) -> tuple[str, float, int]:
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, os.path.join("bench", bench.script), *bench.args], cwd=ROOT,
                             capture_output=True, text=True, timeout=timeout)
        text, rc = out.stdout + (f"\n[stderr, last lines]\n{_tail(out.stderr)}" if out.returncode else ""), out.returncode
    except subprocess.TimeoutExpired as e:
        text, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
        text += f"\n[stopped after {timeout:.0f} s]"
    return text.rstrip(), time.perf_counter() - t0, rc


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def report(benches: list[Bench], timeout: float) -> str:
    started = dt.datetime.now().astimezone()
    load_start = load()
    measured = commit()  # the code the benches run, before anything changes during the run
    backend = jax_backend()
    results = []
    for bench in benches:
        print(f"running {bench.script} {' '.join(bench.args)} …", file=sys.stderr, flush=True)
        out, seconds, rc = run(bench, timeout)
        print(f"  {seconds:.0f} s, exit {rc}", file=sys.stderr, flush=True)
        results.append((bench, out, seconds, rc))
    load_end = load()
    cores = os.cpu_count()

    lines = [
        "# Performance",
        "",
        "<!-- Written by bench/performance_report.py; do not edit by hand: rerun it. -->",
        "",
        "Produced by `.venv/bin/python bench/performance_report.py`, which runs the quick benches in `bench/` "
        "and copies what they print. Rerun it to refresh this page; the slower benches (a browser, a load test, "
        "torch) are listed at the end with where their last figures are.",
        "",
        f"- **Date:** {started:%Y-%m-%d %H:%M %Z}",
        f"- **Commit:** {measured}",
        f"- **Machine:** {cores} CPU cores, {cpu_model()}; {backend}; Python {platform.python_version()}",
        f"- **Load average** (1 / 5 / 15 min) at the start: {load_start}; at the end: {load_end}. "
        f"A load above {cores} (the core count) means other work shared the machine and the times are longer "
        "than a quiet machine's.",
        "",
        "## Summary",
        "",
        "Read off the benches' own output below; targets are the issues' (— where there is none).",
        "",
        "| What | Measured | Target | Bench |",
        "|---|---|---|---|",
    ]
    for bench, out, _, rc in results:
        rows = bench.parse(out) if rc == 0 else []
        if not rows:
            status = "failed, see below" if rc else "not parsed, see below"
            rows = [(bench.what, status, "")]
        for what, measured, target in rows:
            lines.append(f"| {what} | {measured} | {target} | `{bench.script}` |")
    lines += ["", "## What each bench printed", ""]
    for bench, out, seconds, rc in results:
        command = " ".join([".venv/bin/python", f"bench/{bench.script}", *bench.args])
        lines += [f"### `{bench.script}`: {bench.what}", "",
                  f"`{command}` — {seconds:.0f} s" + (f", exit status {rc}" if rc else ""), "",
                  "```", out or "(no output)", "```", ""]
    lines += [
        "## Not run by this script",
        "",
        "- `bench_network.py` (a real network's loss slice against PyTorch, Lanczos): needs torch from "
        "`requirements-bench.txt`.",
        "- `bench_page_draw.py`, `bench_page_server.py`: pages drawn in headless Chromium, and served to a bare "
        "websocket client.",
        "- `bench_page_corners.py [--built-in]`: the pages' largest allowed runs (minutes).",
        "- `load_test.py`, `soak.py`, `bench_flood.py`: a class of sessions against a server; "
        "`bench_formula_memory.py`, `memory_owners.py`: memory over hundreds of changes.",
        "",
        "Their last figures, dated, are in [performance_log.md](performance_log.md), [memory.md](memory.md) and "
        "[deployment.md](deployment.md).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"))
    parser.add_argument("--only", nargs="*", help="bench scripts to run (default: all of BENCHES)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per bench before it is stopped")
    args = parser.parse_args()
    benches = [b for b in BENCHES if not args.only or b.script in args.only or b.script[:-3] in args.only]
    text = report(benches, args.timeout)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
