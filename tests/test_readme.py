"""The README's two set-up commands stay true: CI runs exactly the README's test command, and the
app command names files that exist."""
import re
from pathlib import Path

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


def test_torch_is_pinned():
    reqs = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.13.0" in reqs
