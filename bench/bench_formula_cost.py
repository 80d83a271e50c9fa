"""What the costliest accepted typed formulas cost: the map, the critical points and one optimizer run.

As the Playground does it: ``surfaces.grid(name, 120)``, ``surfaces.critical_points(name)`` and one
300-step Adam run, for formulas at the parser's limits (``surfaces.formula.MAX_NODES``, ``MAX_DEPTH``,
``MAX_COST``). Typed formulas run on one shared interpreter (``surfaces.interpreter``), so this prints:

1. per new formula, in a process where the interpreter is already compiled (what a student waits for each
   time a formula is typed; target ≤ 2 s), and the same formulas compiled one by one as before (a record
   whose loss is ``formula.compose``'s function, in a fresh process with an empty compile cache each);
2. the one-time cost: the first formula in a fresh process with an empty persistent compilation cache, and
   after a restart (the cache on disk);
3. the price per evaluation, warm (nothing compiles): the map at 200², 1,024 Newton seeds, 10,000 Adam steps
   for the worst formula, interpreted and compiled.

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
import numpy as np
import runtime
runtime.set_up()  # as the app: the persistent compilation cache in $ERROR_SURFACE_LAB_CACHE, bounded
import optimizers, surfaces
from surfaces import formula

def record(text, compiled):
    s = surfaces.from_formula(text)
    if compiled:  # the path before the interpreter: the formula composed of jax.numpy closures, compiled per formula
        fn = formula.compose(formula.parse(text))
        s = s._replace(name=s.name + ":compiled", loss=lambda p: fn(p[0], p[1]), program=None)
    return s

def cost(text, compiled=False):
    s = record(text, compiled)
    t0 = time.perf_counter()
    surfaces.grid(s, 120)
    t1 = time.perf_counter()
    surfaces.critical_points(s)
    t2 = time.perf_counter()
    optimizers.trajectories(s, "adam", np.array([[0.3, 0.2]], np.float32), 300, lr=0.05)
    t3 = time.perf_counter()
    return {"grid": t1 - t0, "critical": t2 - t1, "run": t3 - t2}

def evaluation(text, compiled):
    # Warm (compiled before timing): the work per evaluation, without any compile.
    s = record(text, compiled)
    seeds = np.random.default_rng(0).uniform(-2, 2, (1024, 2)).astype(np.float32)
    def work():
        t0 = time.perf_counter()
        surfaces.grid(s, 200)
        t1 = time.perf_counter()
        surfaces.analysis._newton_from_seeds(s, seeds, 0.5)[0].block_until_ready()
        t2 = time.perf_counter()
        optimizers.trajectories(s, "adam", seeds[:4], 10_000, lr=0.01)
        return {"grid 200²": t1 - t0, "Newton 1,024 seeds": t2 - t1, "10,000 Adam steps × 4": time.perf_counter() - t2}
    work()
    return min((work() for _ in range(3)), key=lambda t: sum(t.values()))

mode, texts = sys.argv[1], json.loads(sys.argv[2])
if mode == "warm":  # the interpreter compiled once (a formula of each program length), then each formula new
    for padding in (0, 6, 20):  # a bowl (one minimum) in each compiled program length: 7, 31 and 87 instructions
        cost("x*x + y*y" + " + 0*x" * padding)
    print(json.dumps([cost(t) for t in texts]))
elif mode == "first":
    print(json.dumps([cost(t) for t in texts]))
elif mode == "compiled":
    print(json.dumps([cost(t, compiled=True) for t in texts]))
else:
    print(json.dumps([evaluation(texts[0], False), evaluation(texts[0], True)]))
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


def child(mode: str, texts: list[str], cache: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": ROOT, "ERROR_SURFACE_LAB_CACHE": cache}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, json.dumps(texts)], env=env, capture_output=True,
                         text=True, timeout=3000)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(name: str, text: str, t: dict) -> str:
    return (f"{name:24s} {len(text):4d} chars  grid {t['grid']:6.2f} s  critical {t['critical']:6.2f} s  "
            f"run {t['run']:5.2f} s  total {sum(t.values()):6.2f} s")


def main() -> None:
    quick = "--quick" in sys.argv
    cases = worst_cases()
    if quick:
        cases = dict(list(cases.items())[:3])
    names, texts = list(cases), list(cases.values())
    print(f"limits: MAX_LENGTH={formula.MAX_LENGTH}, MAX_NODES={formula.MAX_NODES}, MAX_DEPTH={formula.MAX_DEPTH}, "
          f"MAX_COST={formula.MAX_COST}")
    with tempfile.TemporaryDirectory() as cache:
        print("\n1. each new formula, interpreter already compiled (one process):")
        warm = child("warm", texts, os.path.join(cache, "warm"))
        for name, text, t in zip(names, texts, warm):
            print(line(name, text, t))
        worst = max(sum(t.values()) for t in warm)
        print(f"worst total {worst:.2f} s (target ≤ {TARGET_S:g} s)")
        print("\n   the same, each formula compiled on its own (fresh process, empty compile cache each):")
        compiled = []
        for i, (name, text) in enumerate(zip(names, texts)):
            compiled.append(child("compiled", [text], os.path.join(cache, f"compiled{i}"))[0])
            print(line(name, text, compiled[-1]))
        print(f"worst total {max(sum(t.values()) for t in compiled):.2f} s")

        print("\n2. one-time cost: the first formula in a fresh process")
        first = os.path.join(cache, "first")
        for label in ("empty persistent compilation cache", "after a restart (cache on disk)"):
            t = child("first", [texts[0]], first)[0]
            print(f"{label:40s} grid {t['grid']:6.2f} s  critical {t['critical']:6.2f} s  run {t['run']:5.2f} s  "
                  f"total {sum(t.values()):6.2f} s")

        worst_name = names[max(range(len(warm)), key=lambda i: sum(warm[i].values()))]
        print(f"\n3. per evaluation, warm, for {worst_name!r}: interpreted vs compiled")
        interpreted, direct = child("evaluation", [cases[worst_name]], os.path.join(cache, "evaluation"))
        for what in interpreted:
            print(f"{what:24s} interpreted {interpreted[what]:7.3f} s  compiled {direct[what]:7.3f} s  "
                  f"({interpreted[what] / max(direct[what], 1e-9):5.1f}×)")


if __name__ == "__main__":
    main()
