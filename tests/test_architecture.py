"""Imports point one way: pages -> controls/figures/compute -> surfaces/optimizers/networks (DESIGN.md)."""
import ast
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
    files = sorted((ROOT / package).glob("*.py"))
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
