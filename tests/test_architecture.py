"""Imports point one way: pages -> controls/figures/compute -> surfaces/optimizers/networks (docs/design.md)."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "surfaces": {"streamlit", "plotly", "controls", "compute", "figures", "app_pages"},
    "optimizers": {"streamlit", "plotly", "controls", "compute", "figures", "app_pages"},
    "networks": {"streamlit", "plotly", "controls", "compute", "figures", "app_pages"},
    "figures": {"streamlit", "jax", "controls", "compute", "app_pages"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_model_code_never_imports_the_ui(package):
    files = sorted((ROOT / package).rglob("*.py"))  # sub-packages too (networks/experiments/)
    assert files
    for f in files:
        bad = imported_roots(f) & FORBIDDEN[package]
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_eval_or_exec_anywhere():
    for f in ROOT.glob("**/*.py"):
        if ".venv" in f.parts:
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile"}, f"{f}: {node.func.id}"
            if isinstance(node, ast.Attribute):  # nor a parser that calls them (sympy's parse_expr does)
                assert node.attr not in {"parse_expr", "literal_eval"}, f"{f}: {node.attr}"
        assert "sympy" not in imported_roots(f), f"{f} imports sympy"


def _functions(package: str):
    """(file, function node) for every function defined in a package, nested ones included."""
    for f in sorted((ROOT / package).glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(), filename=str(f))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f, node


def _calls(node, names: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and (getattr(n.func, "attr", None) in names or getattr(n.func, "id", None) in names)
               for n in ast.walk(node))


def test_networks_define_one_mlp_forward_and_one_cross_entropy():
    # An MLP forward: a loop over the layers with a matrix product in it, or an activation applied.
    forwards = []
    for f, fn in _functions("networks"):
        loops_over_layers = any(
            isinstance(n, ast.For) and "layers" in ast.unparse(n.iter)
            and any(isinstance(m, ast.BinOp) and isinstance(m.op, ast.MatMult) for m in ast.walk(n))
            for n in ast.walk(fn))
        activates = "ACTIVATIONS[" in ast.unparse(fn) or _calls(fn, {"relu", "tanh", "sigmoid", "gelu"})
        if loops_over_layers or activates:
            forwards.append(f"{f.name}:{fn.name}")
    assert forwards == ["models.py:mlp_forward"], forwards
    # Cross-entropy: log-sum-exp / log-softmax appears in one function of the model packages.
    cross_entropies = [f"{f.parent.name}/{f.name}:{fn.name}" for package in ("networks", "surfaces", "optimizers")
                       for f, fn in _functions(package)
                       if fn.name != "<lambda>" and _calls(fn, {"logsumexp", "log_softmax"})]
    assert cross_entropies == ["surfaces/classification.py:cross_entropy_of_softmax"], cross_entropies
    named = [f"{f.name}:{fn.name}" for f, fn in _functions("networks") if "cross_entropy" in fn.name]
    assert named == ["models.py:cross_entropy"], named
    # Normalization's ẑ = γ(z − μ)/sqrt(σ² + ε) + β, written once.
    sqrt_of_var = [f"{f.name}:{fn.name}" for f, fn in _functions("networks")
                   if any(isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "sqrt"
                          and "var" in ast.unparse(n.args[0]) for n in ast.walk(fn))]
    assert sqrt_of_var == ["models.py:normalize"], sqrt_of_var


@pytest.mark.parametrize("package", ["surfaces", "optimizers", "networks", "controls", "figures"])
def test_no_import_cycles_inside_a_package(package):
    """Module A importing B and B importing A (even lazily, inside a function) reads as one tangled module."""
    modules = {f.stem: f for f in (ROOT / package).glob("*.py") if f.stem != "__init__"}
    imports = {}
    for name, f in modules.items():
        found = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{package}."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith(f"{package}.")}
        imports[name] = found & set(modules)

    def reaches(start, target, seen=()):
        return any(m == target or (m not in seen and reaches(m, target, (*seen, m))) for m in imports[start])

    cycles = sorted(name for name in modules if reaches(name, name))
    assert not cycles, f"{package}: import cycle through {cycles}"


# Reductions of arrays: a page that calls one computes a number the model packages should hand it.
REDUCTIONS = {"max", "min", "sum", "mean", "median", "std", "var", "prod", "ptp", "argmax", "argmin", "argsort",
              "cumsum", "cumprod", "any", "all", "dot", "nonzero", "nanmax", "nanmin", "nanmean", "nansum"}


def array_arithmetic(source: str) -> list[str]:
    """Where ``source`` reduces an array (``x.max()``, ``sum(xs)``, ``a @ b``): what a page must not do.

    Indexing (``r.loss[-1]``, ``spectrum.largest[:5]``) and the builtins ``min``/``max`` on plain numbers
    (clamping a widget's value) stay allowed.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in REDUCTIONS:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(found, key=lambda f: int(f.split(":")[0].split()[1]))


def test_the_array_arithmetic_check_finds_reductions():
    code = ("a = study.gradient_norm.max()\nb = float(bowl.random_slice.min())\nc = spectrum.sum()\n"
            "d = r.loss.mean(axis=0)\ne = sum(steps)\nf = u @ v\n")
    assert [line.split(":")[0] for line in array_arithmetic(code)] == [f"line {k}" for k in range(1, 7)]
    assert array_arithmetic("x = r.loss[-1]\ny = max(1, n)\nz = min(t, 10)\nw = s.largest[:5]\n") == []


@pytest.mark.parametrize("page", sorted((ROOT / "app_pages").glob("*.py")), ids=lambda p: p.stem)
def test_pages_only_read_widgets_call_compute_and_render(page):
    """No array maths on a page: it imports neither JAX nor NumPy and reduces no array (``array_arithmetic``),
    so every number it shows comes from ``compute`` (or the model packages) and every picture from
    ``figures``; a page only indexes results."""
    bad = imported_roots(page) & {"jax", "numpy"}
    assert not bad, f"{page.relative_to(ROOT)} imports {sorted(bad)}"
    for node in ast.walk(ast.parse(page.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "optimizers":
            assert node.attr != "runner", f"{page.name}: reaches into optimizers.runner"
    found = array_arithmetic(page.read_text())
    assert not found, f"{page.name} computes on arrays (move it into the model package or compute): {found}"


@pytest.mark.parametrize("module", sorted((ROOT / "controls").glob("*.py")), ids=lambda p: p.stem)
def test_controls_draw_widgets_and_chrome_without_computing(module):
    """Widgets and page chrome compute nothing: like a page, a control imports neither JAX nor NumPy and reduces no
    array; a number it needs (a start's loss, the share of a typed surface left blank) comes from ``compute``."""
    bad = imported_roots(module) & {"jax", "numpy", "networks"}
    assert not bad, f"{module.relative_to(ROOT)} imports {sorted(bad)}"
    found = array_arithmetic(module.read_text())
    assert not found, f"{module.name} computes on arrays (move it into compute or a model package): {found}"


# ------------------------------------------------------------------ the runtime set-up: explicit, nothing at import
RUNTIME_IMPORT = """
import json, os, sys
import jax
from jax._src import compilation_cache, lru_cache

def state():
    return {"config": {k: repr(v) for k, v in jax.config.values.items()},
            "folder": os.path.exists(os.environ["ERROR_SURFACE_LAB_CACHE"]),
            "hooks": [repr(lru_cache.LRUCache._evict_if_needed), repr(compilation_cache.get_executable_and_time),
                      repr(compilation_cache.put_executable_and_time)]}

before = state()
import runtime, caches  # the result store imports the runtime too
imported = state()
folder = runtime.set_up()
print("STATE " + json.dumps({"before": before, "imported": imported, "set_up": state(), "folder": folder,
                             "again": runtime.set_up()}))
"""


def test_importing_the_runtime_changes_nothing_and_set_up_then_does(tmp_path):
    """In a fresh process: importing ``runtime`` (and ``caches``) leaves JAX's configuration, its private
    compile-cache functions and the disk as they were; ``runtime.set_up()`` then switches the cache on."""
    folder = tmp_path / "not-yet" / "cache"
    env = dict(os.environ, ERROR_SURFACE_LAB_CACHE=str(folder), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", RUNTIME_IMPORT], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("STATE ")]
    found = json.loads(line[len("STATE "):])
    before, imported, after = found["before"], found["imported"], found["set_up"]
    changed = sorted(k for k in before["config"] if imported["config"].get(k) != before["config"][k])
    assert not changed, f"importing runtime changed JAX's configuration: {changed}"
    assert imported["hooks"] == before["hooks"], "importing runtime patched JAX's private modules"
    assert not before["folder"] and not imported["folder"], "importing runtime created the cache folder"
    assert found["folder"] == found["again"] == str(folder) and after["folder"]
    assert after["config"]["jax_compilation_cache_dir"] == repr(str(folder))
    assert after["config"]["jax_compilation_cache_max_size"] != before["config"]["jax_compilation_cache_max_size"]
    assert all(a != b for a, b in zip(after["hooks"], before["hooks"])), "set_up did not guard JAX's compile cache"


def test_the_entry_point_sets_the_runtime_up_before_any_page_runs():
    """``runtime.set_up()`` is a top-level statement of app.py, before navigation (and so before any page)."""
    body = ast.parse((ROOT / "app.py").read_text()).body
    calls = [ast.unparse(node.value) for node in body if isinstance(node, ast.Expr)]
    assert "runtime.set_up()" in calls, calls
    first_navigation = next(i for i, node in enumerate(body) if "st.navigation" in ast.unparse(node))
    set_up = next(i for i, node in enumerate(body) if ast.unparse(node) == "runtime.set_up()")
    assert set_up < first_navigation
