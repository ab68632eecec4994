"""The import graph: the engine never imports the app (nor Streamlit), pages are imported by nobody,
and the modules imported at load time form no cycle (parsed from the source, nothing imported)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """Project modules that ``path`` imports (``top_level_only``: at load time, not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m.split(".")[0] in ("engine", "explorer")}


SOURCES = {module_name(p): p for folder in ("engine", "explorer") for p in (ROOT / folder).rglob("*.py")}


def test_the_engine_never_imports_the_app():
    for name, path in SOURCES.items():
        if name.startswith("engine"):
            assert not any(m.startswith("explorer") for m in imports(path, False)), name
            assert "import streamlit" not in path.read_text(encoding="utf-8"), name


def test_no_module_imports_a_page():
    for name, path in SOURCES.items():
        assert not any(m.startswith("explorer.pages") for m in imports(path, False)), name


def test_load_time_imports_form_no_cycle():
    graph = {name: {m for m in imports(path, True) if m in SOURCES and m != name} for name, path in SOURCES.items()}
    assert {"engine.diffusion.noise", "engine.diffusion.step"} <= graph["engine.diffusion.sample"]     # the parse sees relative imports
    state: dict[str, int] = {}

    def visit(node, chain):
        if state.get(node) == 1:
            raise AssertionError("import cycle: " + " -> ".join(chain + [node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph[node]:
            visit(nxt, chain + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


# The layers, lowest first: a module imports only from its own layer or lower ones.
LAYERS = (
    ("engine.text", "engine.store"),           # words and files
    ("engine.diffusion",),                     # the maths of the process and the reverse step
    ("engine.models",),                        # denoisers, training, checkpoints
    ("engine.measures",),                      # measurements and their torch-free readers
    ("engine.runs",),                          # sweeps and the zoo
    ("engine.cli", "engine.__main__", "engine"),
    ("explorer", "explorer.data", "explorer.state", "explorer.style", "explorer.budget", "explorer.priority",
     "explorer.trajectory"),                   # the app's core: state, caches, one run's logic
    ("explorer.figures",),                     # pure figure builders
    ("explorer.widgets",),
    ("explorer.views", "explorer.whatif"),     # page parts
    ("explorer.warmup", "explorer.pages"),
)
# Imports against the layers, each done inside the function that needs it, with the reason.
UPWARD = {
    ("engine.store.markers", "engine.measures.registry"):
        "which measure/ tables of a checkpoint are ours: the registry names them",
    ("engine.store.markers", "engine.runs.zoo"):
        "a folder is one of our sweeps when its index (read by the zoo) lists our checkpoints",
}


def layer(module: str) -> tuple[int, str]:
    """(rank, prefix) of a module: the longest prefix named in LAYERS."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        for rank, names in enumerate(LAYERS):
            if prefix in names:
                return rank, prefix
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def test_no_import_goes_up_a_layer():
    found = set()
    for name, path in SOURCES.items():
        rank = layer(name)[0]
        targets = imports(path, False) & SOURCES.keys()
        for target in targets:
            if any(other.startswith(target + ".") for other in targets):
                continue  # `from engine.measures import registry` names the package only on the way
            if layer(target)[0] > rank:
                found.add((name, target))
    assert found == set(UPWARD), sorted(found - set(UPWARD))


def test_upward_imports_happen_only_inside_functions():
    for name, target in UPWARD:
        assert target not in imports(SOURCES[name], True), (name, target)


def test_every_public_name_of_the_engine_resolves():
    """``engine``'s lazy export table names a module that defines each name (the README's API)."""
    import engine

    assert engine.__all__
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
