"""The README's notebook snippet runs as written (in a subprocess, from the repository root)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_snippet_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Use it from a notebook"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "snippet.py"
    script.write_text(code)
    # The snippet as written, in a bare environment; compiled code comes from the suite's persistent compile
    # cache (a notebook's second session has its own), which changes what runs no more than a restart does.
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"}
    if os.environ.get("ERROR_SURFACE_LAB_CACHE"):
        env["ERROR_SURFACE_LAB_CACHE"] = os.environ["ERROR_SURFACE_LAB_CACHE"]
    run = f"import optimizers, runpy; optimizers.enable_persistent_cache(); runpy.run_path({str(script)!r})"
    done = subprocess.run([sys.executable, "-c", run], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
