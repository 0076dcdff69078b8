from pathlib import Path

import pytest

from crashcart.docgen import PAGES

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_docs_are_current(name: str) -> None:
    path = DOCS / name
    assert path.exists(), f"{path} is missing: run `make docs`"
    assert path.read_text() == PAGES[name](), f"{path} is out of date: run `make docs`"


def test_every_setting_and_metric_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    from crashcart.settings import Settings

    for name in Settings.model_fields:
        assert f"`CRASHCART_{name.upper()}`" in text
    metrics = (DOCS / "metrics.md").read_text()
    from crashcart.metrics import REGISTRY

    for name in REGISTRY:
        assert f"`{name}`" in metrics
