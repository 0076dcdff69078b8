from pathlib import Path

import pytest

from crashcart.redact import mask_url
from crashcart.settings import SettingsError, describe_settings, load_settings


def test_embedded_defaults_live_under_data_dir(tmp_path: Path) -> None:
    s = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    assert s.storage_url == (tmp_path / "storage").as_uri()
    assert s.queue_url == f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    assert s.metrics_dir == tmp_path / "metrics"


def test_environment_is_not_read_when_mapping_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRASHCART_MAX_DUMPS", "7")
    assert load_settings({}).max_dumps == 32
    assert load_settings().max_dumps == 7


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"CRASHCART_STORAGE_URL": "s3://crash.reports"}, "CRASHCART_STORAGE_URL"),
        ({"CRASHCART_STORAGE_URL": "s3://crash.reports"}, "period"),
        ({"CRASHCART_STORAGE_URL": "ftp://x"}, "unsupported scheme"),
        # str.islower/isdigit accept non-ASCII letters and digits: a bucket name is ASCII (issue #9, point 7)
        ({"CRASHCART_STORAGE_URL": "s3://café-crashes"}, "not a valid S3 bucket name"),
        ({"CRASHCART_STORAGE_URL": "s3://crashes²"}, "not a valid S3 bucket name"),
        ({"CRASHCART_STORAGE_URL": "s3://admin:pw@crashes"}, "carries no credentials"),
        ({"CRASHCART_STORAGE_URL": "file://relative/path"}, "absolute"),
        ({"CRASHCART_QUEUE_URL": "redis://x"}, "CRASHCART_QUEUE_URL"),
        ({"CRASHCART_MAX_REQUEST_SIZE": "lots"}, "CRASHCART_MAX_REQUEST_SIZE"),
        ({"CRASHCART_MAX_REQUEST_SIZE": "0"}, "greater than 0"),
        ({"CRASHCART_LOG_FORMAT": "xml"}, "CRASHCART_LOG_FORMAT"),
        ({"CRASHCART_SUBMIT_PATH": "submit"}, "start with '/'"),
        ({"CRASHCART_NO_SUCH_THING": "1"}, "CRASHCART_NO_SUCH_THING"),
    ],
)
def test_invalid_settings_fail_naming_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        load_settings(env)


def test_describe_masks_secrets() -> None:
    s = load_settings(
        {
            "CRASHCART_S3_SECRET_ACCESS_KEY": "hunter2",
            "CRASHCART_QUEUE_URL": "amqp://guest:sekrit@localhost:5672/",
        }
    )
    rows = {r["name"]: r for r in describe_settings(s)}
    assert rows["CRASHCART_S3_SECRET_ACCESS_KEY"]["value"] == "**********"
    assert "sekrit" not in rows["CRASHCART_QUEUE_URL"]["value"]
    assert "hunter2" not in repr(s)
    for row in rows.values():
        assert row["description"], f"{row['name']} has no description"
        assert row["type"]


def test_mask_url_keeps_urls_without_password() -> None:
    assert mask_url("sqlite:///x") == "sqlite:///x"
    assert mask_url("amqp://u:p@h/") == "amqp://u:****@h/"
