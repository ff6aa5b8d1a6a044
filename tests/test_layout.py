"""The engine's layout: rooms by concept, a lower room never imports a higher one, and no import circle among modules
or rooms, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

ENGINE = ROOT / "ranklens"
# Lowest first, as ranklens/__init__.py lists them; "base" is every module at the top but `caches`.
ROOMS = [
    "base",
    "corpus",
    "backends",
    "models",
    "index",
    "ranking",
    "labelling",
    "evaluation",
    "training",
    "reports",
    "speed",
    "caches",
    "cli",
]
MAX_TOP_LEVEL_MODULES = 10


def engine_modules() -> dict[str, Path]:
    modules = {}
    for path in ENGINE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str) -> list[str]:
    """Every name an import statement anywhere in the file imports (late and TYPE_CHECKING imports too): `from a
    import b` gives `a.b`, which is module `a.b` where there is one and module `a` where `b` is a name in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def import_graph() -> dict[str, set[str]]:
    modules = engine_modules()

    def owner(name: str) -> str | None:
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    graph = {}
    for module, path in modules.items():
        targets = {owner(name) for name in imported_names(path, module)}
        graph[module] = {t for t in targets if t and t not in (module, "ranklens")}
    return graph


def room_of(module: str) -> str:
    parts = module.split(".")
    if module == "ranklens.__main__":
        return "cli"
    if len(parts) == 1 or (len(parts) == 2 and not (ENGINE / parts[1]).is_dir()):
        return "caches" if module == "ranklens.caches" else "base"
    return parts[1]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_every_room_is_listed_and_says_what_it_is_for():
    assert {room_of(module) for module in engine_modules()} == set(ROOMS)
    for folder in ENGINE.iterdir():
        if folder.is_dir() and folder.name != "__pycache__":
            doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
            assert doc and len(doc.splitlines()) >= 2, f"ranklens/{folder.name}/__init__.py says what the room is for"


def test_at_most_ten_modules_sit_at_the_top_of_the_engine():
    top = [p.name for p in ENGINE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, sorted(top)


def test_no_import_circle_among_the_engines_modules():
    assert circles(import_graph()) == []


def test_no_room_imports_a_higher_room_and_so_no_circle_among_rooms():
    upward = []
    for module, targets in import_graph().items():
        for target in targets:
            if ROOMS.index(room_of(target)) > ROOMS.index(room_of(module)):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_engine_imports_no_ui():
    ui = [
        f"{module} imports {name}"
        for module, path in engine_modules().items()
        for name in imported_names(path, module)
        if name.startswith(("streamlit", "components"))
    ]
    assert ui == []
