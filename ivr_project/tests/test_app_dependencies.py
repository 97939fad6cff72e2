"""Apps depend one way: voiceflow uses the ledger; the ledger knows nothing of calls' HTTP."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _app_modules(app: str):
    for path in (ROOT / app).rglob("*.py"):
        if "tests" not in path.parts and "migrations" not in path.parts:
            yield path


def test_no_voiceflow_module_imports_the_dashboards_views():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if n.startswith("transactions.views")
        )
        for path in _app_modules("voiceflow")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_ledger_imports_nothing_of_voiceflow():
    names = _imports(ROOT / "transactions" / "models.py")
    assert not [n for n in names if n.split(".")[0] == "voiceflow"]
