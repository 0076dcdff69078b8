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


def test_every_bound_on_hostile_input_is_on_the_limits_page() -> None:
    """A setting named like a bound (``max_*``, ``*_timeout``, ``*_budget``, ``*_max_*``) must be marked as a limit
    (``_limit`` in settings.py), so ``docs/limits.md`` lists it with its default; the page lists nothing else."""
    from crashcart.settings import Settings

    text = (DOCS / "limits.md").read_text()
    exempt = {"queue_publish_timeout", "s3_connect_timeout", "s3_read_timeout", "s3_max_attempts"}  # our own calls
    for name, field in Settings.model_fields.items():
        marked = bool((field.json_schema_extra or {}).get("limit"))  # type: ignore[union-attr]
        named_like_a_bound = name.startswith("max_") or "_max_" in name or name.endswith(("_timeout", "_budget"))
        if named_like_a_bound and name not in exempt:
            assert marked, f"{name} looks like a limit: mark it with _limit(...) in settings.py"
        assert (f"`CRASHCART_{name.upper()}`" in text) == marked, name
