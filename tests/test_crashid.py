import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crashcart.crashid import (
    InvalidCrashId,
    Throttle,
    create_crash_id,
    date_key,
    date_of,
    is_crash_id,
    throttle_of,
    validate_crash_id,
)


def test_created_id_has_socorro_shape_and_date() -> None:
    when = dt.datetime(2026, 11, 26, 3, 4, 5, tzinfo=dt.UTC)
    crash_id = create_crash_id(when, Throttle.DEFER)
    assert is_crash_id(crash_id, strict=True)
    assert crash_id.endswith("1261126")
    assert crash_id[14] == "4"  # still a version-4 UUID
    assert date_of(crash_id) == dt.date(2026, 11, 26)
    assert date_key(crash_id) == "20261126"
    assert throttle_of(crash_id) is Throttle.DEFER


def test_date_is_utc_date_at_last_millisecond_of_day() -> None:
    # 23:59:59.999 UTC is still the 26th; in UTC+2 the same instant is the 27th locally.
    instant = dt.datetime(2026, 11, 26, 23, 59, 59, 999000, tzinfo=dt.UTC)
    local = instant.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert local.day == 27
    assert date_of(create_crash_id(local)) == dt.date(2026, 11, 26)
    assert date_of(create_crash_id(instant + dt.timedelta(milliseconds=1))) == dt.date(2026, 11, 27)


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        create_crash_id(dt.datetime(2026, 11, 26))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "de1bb258-cbbf-4589-a673-34f800160918x",
        "DE1BB258-CBBF-4589-A673-34F800160918",
        "de1bb258-cbbf-4589-a673-34f800161318",  # month 13
        "de1bb258-cbbf-4589-a673-34f80016091",
        "../../../etc/passwd",
    ],
)
def test_invalid_ids(value: str) -> None:
    assert not is_crash_id(value)
    with pytest.raises(InvalidCrashId):
        validate_crash_id(value)


def test_strict_requires_accept_or_defer() -> None:
    fake = "de1bb258-cbbf-4589-a673-34f803160918"
    assert is_crash_id(fake)
    assert not is_crash_id(fake, strict=True)


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=st.just(dt.UTC)),
    st.sampled_from(list(Throttle)),
)
def test_roundtrip_any_instant(when: dt.datetime, throttle: Throttle) -> None:
    crash_id = create_crash_id(when, throttle)
    assert date_of(crash_id) == when.date()
    assert throttle_of(crash_id) is throttle


@pytest.mark.parametrize("tail", ["\n", "\r", "\r\n", "\x00", " ", "\t", "\x0b", "\x0c", "\u2028", "\x85"])
def test_a_crash_id_must_be_the_whole_string(tail: str) -> None:
    """``re.match`` with ``$`` accepted ``<id>\\n`` (``$`` matches before a final newline): issue #9, point 7."""
    crash_id = create_crash_id(dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    for value in (crash_id + tail, tail + crash_id):
        assert not is_crash_id(value)
        with pytest.raises(InvalidCrashId):
            validate_crash_id(value)
        with pytest.raises(InvalidCrashId):
            date_of(value)
