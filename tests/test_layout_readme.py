"""The README's Layout lists every module of the project, one line each, and nothing that is gone."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("engine", "explorer", "benchmarks", "scripts")  # engine and explorer with their subpackages


def layout_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout\n\n```\n", 1)[1].split("```", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip() and line.split()[0].endswith(".py")]


def test_every_module_has_one_line_in_the_readme_layout():
    listed = layout_lines()
    modules = sorted(str(p.relative_to(ROOT)) for folder in FOLDERS
                     for p in (ROOT / folder).glob("**/*.py" if folder in ("engine", "explorer") else "*.py"))
    assert sorted(listed) == modules
    assert len(listed) == len(set(listed))
