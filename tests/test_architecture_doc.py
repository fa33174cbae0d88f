"""docs/architecture.md stays true: its diagram is what the code makes, and its layout names every package."""

from __future__ import annotations

import pytest

from tests.support.mocks import ROOT
from tools.diagram import BEGIN, END, mermaid, with_diagram
from tools.plan import Plan

DOC = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"


def _component_parts() -> list[str]:
    """Each package and single module directly under components/ (what the layout must mention)."""
    parts = []
    for path in sorted((ROOT / "components").iterdir()):
        if path.is_dir() and (path / "__init__.py").is_file():
            parts.append(f"{path.name}/")
        elif path.suffix == ".py" and path.name != "__init__.py":
            parts.append(path.name)
    return parts


@pytest.mark.slow
def test_the_diagram_is_the_one_the_production_plan_produces(production):
    text = DOC.read_text()
    current = with_diagram(text, mermaid(Plan.from_recording(production)))
    assert current == text, "stale diagram: run python -m tools.diagram --write docs/architecture.md"


def test_the_layout_sections_name_every_package_and_module_of_components():
    assert _component_parts(), "components/ has no packages or modules"
    layout = DOC.read_text().split("## Data flow")[0]
    table = README.read_text().split("## Layout")[1].split("\n## ")[0]
    assert [part for part in _component_parts() if part not in layout] == []
    assert [part for part in _component_parts() if part not in table] == []


def test_the_readme_links_the_architecture_page():
    assert "(docs/architecture.md)" in README.read_text()


def test_a_document_without_markers_is_refused():
    with pytest.raises(ValueError, match="no <!-- diagram:begin -->"):
        with_diagram("# Architecture\n", "flowchart LR")


def test_only_the_block_between_the_markers_is_replaced():
    document = f"before\n{BEGIN}\nold\n{END}\nafter\n"
    assert with_diagram(document, "flowchart LR") == (
        f"before\n{BEGIN}\n```mermaid\nflowchart LR\n```\n{END}\nafter\n"
    )
