"""What the costliest accepted typed formulas cost: the map, the critical points and one optimizer run, compiles included.

Each formula is timed in a fresh subprocess with no persistent compilation
cache (a student's new formula compiles from scratch), as the Playground
does it: ``surfaces.grid(name, 120)``, ``surfaces.critical_points(name)`` and
one 300-step Adam run. The formulas sit at the parser's limits
(``surfaces.formula.MAX_NODES``, ``MAX_DEPTH``, ``MAX_LENGTH``); the target is
≤ 2 s each. Prints one line per formula and the worst.

    .venv/bin/python bench/bench_formula_cost.py [--quick]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from surfaces import formula  # noqa: E402

TARGET_S = 2.0

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import optimizers, surfaces
text = sys.argv[1]
s = surfaces.from_formula(text)
t1 = time.perf_counter()
surfaces.grid(s.name, 120)
t2 = time.perf_counter()
surfaces.critical_points(s.name)
t3 = time.perf_counter()
optimizers.trajectories(s.name, "adam", np.array([[0.3, 0.2]], np.float32), 300, lr=0.05)
t4 = time.perf_counter()
print(json.dumps({"parse": t1 - t0, "grid": t2 - t1, "critical": t3 - t2, "run": t4 - t3}))
"""


def worst_cases() -> dict[str, str]:
    """Formulas at the limits: the longest chains and the deepest nestings the parser accepts."""
    n, depth = formula.MAX_NODES, formula.MAX_DEPTH

    def fit(build, k):  # the largest k whose formula the parser accepts
        while k > 1:
            try:
                formula.parse(build(k))
                return build(k)
            except formula.FormulaError:
                k -= 1
        return build(1)

    return {
        "x/x/…/x": fit(lambda k: "/".join(["x"] * k), n),
        "x*y*…": fit(lambda k: "*".join(["x", "y"] * k), n),
        "sin(x)/cos(y)/…": fit(lambda k: "/".join(["sin(x)", "cos(y)"] * k), n),
        "softplus(… nested)": fit(lambda k: "softplus(" * k + "x" + ")" * k, depth),
        "tanh(sin(…)) nested": fit(lambda k: "tanh(sin(" * k + "x*y" + "))" * k, depth),
        "x**(y**(…))": fit(lambda k: "**".join(["(x*y+2)"] * k), depth),
        "exp(x/(y+…)) nested": fit(lambda k: "exp(x/(y+" * k + "1" + "))" * k, depth),
        "(x+y)/(x-y)/… mixed": fit(lambda k: "/".join(["(x+y)", "(x-y)", "sqrt(x*x+1)"] * k), n),
        "max(min(…)) nested": fit(lambda k: "max(x, min(y, " * k + "x*y" + "))" * k, depth),
        "x*sin(y)+… sum": fit(lambda k: "+".join(["x*sin(y)/(1+x*x)"] * k), n),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    cases = worst_cases()
    if quick:
        cases = dict(list(cases.items())[:3])
    print(f"limits: MAX_LENGTH={formula.MAX_LENGTH}, MAX_NODES={formula.MAX_NODES}, MAX_DEPTH={formula.MAX_DEPTH}, "
          f"MAX_COST={getattr(formula, 'MAX_COST', None)}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as empty_cache:
        env = {**os.environ, "PYTHONPATH": ROOT, "ERROR_SURFACE_LAB_CACHE": empty_cache}
        for name, text in cases.items():
            out = subprocess.run([sys.executable, "-c", CHILD, text], env=env, capture_output=True, text=True,
                                 timeout=600)
            if out.returncode:
                print(f"{name:24s} failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            t = json.loads(out.stdout.strip().splitlines()[-1])
            total = t["grid"] + t["critical"] + t["run"]
            worst = max(worst, total)
            print(f"{name:24s} {len(text):4d} chars  grid {t['grid']:6.2f} s  critical {t['critical']:6.2f} s  "
                  f"run {t['run']:5.2f} s  total {total:6.2f} s")
    print(f"worst total {worst:.2f} s (target ≤ {TARGET_S:g} s)")


if __name__ == "__main__":
    main()
