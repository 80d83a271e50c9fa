"""The notebook snippets run as written (in a subprocess, from the repository root): the README's short one and
docs/notebook.md's whole API."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("doc, heading", [("README.md", "## Use it from a notebook"),
                                          ("docs/notebook.md", "# The notebook API")])
def test_notebook_snippet_runs(tmp_path, doc, heading):
    text = (ROOT / doc).read_text()
    section = text[text.index(heading):]
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
