"""The README's two set-up commands stay true: CI runs exactly the README's test command, and the
app command names files that exist; the scripts it names run as written."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up")[1].split("\n## ")[0]
    app_cmd, test_cmd = bash_blocks(setup)
    assert "\n" not in app_cmd and "\n" not in test_cmd, "each set-up command is one pasteable line"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in ci_lines
    assert "pytest" in test_cmd and "requirements.txt" in test_cmd
    assert "streamlit run streamlit_app.py" in app_cmd and (ROOT / "streamlit_app.py").exists()


def test_ci_builds_its_own_virtual_environment_first():
    """A package the requirements forget fails CI as it would a new user: .ci/run creates a venv of its
    own (``python3 -m venv``, without the system's site-packages) and puts its bin first on PATH before
    the README's test command runs, so that command's ``pip`` and ``python`` are the venv's."""
    readme = (ROOT / "README.md").read_text()
    test_cmd = bash_blocks(readme.split("## Set-up")[1].split("\n## ")[0])[1]
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines()]
    venv = next(i for i, line in enumerate(lines) if re.search(r"\bpython3? -m venv\b", line) and not line.startswith("#"))
    path = next(i for i, line in enumerate(lines) if re.match(r'export .*\bPATH="\$venv/bin:\$PATH"', line))
    assert venv < path < lines.index(test_cmd)
    assert "system-site-packages" not in ci
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0   # the script parses


def test_torch_is_pinned():
    reqs = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.13.0" in reqs


@pytest.mark.slow  # one interpreter per script, each importing torch
def test_every_script_starts_from_any_directory(tmp_path):
    """`python benchmarks/X.py` / `python scripts/X.py`, as the README writes them, find the engine
    without an installed package or PYTHONPATH (their --help runs after every import)."""
    scripts = sorted((ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    assert len(scripts) >= 4
    for script in scripts:
        out = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "usage:" in out.stdout, f"{script.name}: {out.stderr[-500:]}"


@pytest.mark.slow  # every registered measurement, twice, on a tiny model (the projection imports umap)
def test_the_readme_python_api_example_runs_unchanged(zoo, tmp_path):
    """The README's Python API block, as written, on the tiny zoo's N = 8 checkpoint instead of the
    shipped N = 16 (the only change; the shipped model's measurements take minutes): a script that runs
    it from a fresh interpreter exits 0."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    shipped = '"assets/zoo/grammar/n00016"'
    assert shipped in blocks[0]
    script = tmp_path / "api.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                      + blocks[0].replace(shipped, repr(str(zoo / "grammar" / "n00008")))
                      + "\nprint('ran', type(ev).__name__, traj.x_hat.shape)\n")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ran " in out.stdout
