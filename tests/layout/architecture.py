"""docs/architecture.md, made from the modules' docstrings (the first paragraph of each), so
that the page lists every module and says of each what the module says of itself.

    .venv/bin/python -m tests.layout.architecture    # writes the page again

tests/layout/test_modules.py fails when the page differs from what this makes.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "logistic"

GROUPS = (
    ("domain", "Pure rules: plain Python and attrs, no framework or driver."),
    (
        "ports",
        "Protocols, each stating its promise; every port has one contract suite run against "
        "each of its adapters (`tests/integration/test_*_contract.py`).",
    ),
    ("services", "Use cases: they take ports and know no adapter."),
    (
        "adapters",
        "The ports on real back ends (SQL through SQLAlchemy Core, Redis, S3 through boto3, "
        "files) and in memory.",
    ),
    (
        "entrypoints",
        "HTTP (Flask behind granian), the scheduler, the dispatcher and the CLI (click): they "
        "reach adapters only through the container.",
    ),
    ("container", "The composition root: the only code that reads settings and names adapters."),
)

INTRO = """# Architecture

For those who carry the code on: where each thing lives. A hexagonal library plus
adapters; layers, outermost first: entrypoints → container → adapters → services → ports →
domain, kept by the import-linter contracts in `pyproject.toml` (run by `make test`). One
noun per module, named by its file; no module over 400 lines; no module uses another's
private names. `tests/layout` checks all three, and that this page is what
`python -m tests.layout.architecture` makes of the modules' docstrings.
"""

OUTSIDE = """## Outside the package

| path | what it is |
|---|---|
| `src/logistic/settings.py` | the `LOGISTIC_*` variables, parsed once (README: Configuration) |
| `migrations/` | Alembic, one schema on SQLite and MariaDB: [upgrading.md](upgrading.md) |
| `bench/` | the benchmark and `bench.versus`: [performance.md](performance.md) |
| `deploy/` | nginx, systemd units, PM2, env template, Prometheus rules and scrape, Grafana |
| `tests/unit/` | no process, network or disk (an audit hook refuses them) |
| `tests/integration/` | real back ends and servers: contract suites, real processes, browsers |
| `tests/layout/` | the README and docs, module sizes, private names, this page |
"""


def summary(path: Path) -> str:
    """The first paragraph of the module's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return " ".join(doc.strip().split("\n\n")[0].split()).replace("|", "\\|")


def listed(group: str) -> list[Path]:
    """The modules of a group; a package's `__init__` only where it holds code of its own."""
    return [
        path
        for path in sorted((PACKAGE / group).rglob("*.py"))
        if path.name != "__init__.py" or group == "container"
    ]


def render() -> str:
    parts = [INTRO]
    for group, about in GROUPS:
        rows = [
            f"| `{path.relative_to(PACKAGE).as_posix()}` | {summary(path)} |"
            for path in listed(group)
        ]
        parts.append(
            "\n".join(
                [f"## {group}/", "", about, "", "| module | what it is |", "|---|---|", *rows]
            )
            + "\n"
        )
    parts.append(OUTSIDE)
    return "\n".join(parts)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
