"""The pages' times in the site's zone (server.web.templating) and form values read in it (server.web.localtime)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from server.web import templating
from server.web.localtime import parse_local, to_local_input

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = int(dt.datetime(2025, 3, 3, 23, 30, tzinfo=dt.UTC).timestamp() * 1000)  # 07:30 on the 4th in Shanghai


@pytest.fixture
def zone() -> Iterator[None]:
    templating.use_site_zone("Asia/Shanghai")
    yield
    templating.use_site_zone("UTC")


def test_times_show_in_the_site_zone_with_its_abbreviation(zone: None) -> None:
    assert templating.stamp(T) == "2025-03-04 07:30 CST"
    assert templating.clock(T) == "07:30:00" and templating.hm(T) == "07:30" and templating.day(T) == "2025-03-04"
    assert templating.stamp(None) == "" and templating.clock(None) == ""


def test_summer_and_winter_time_say_which_they_are() -> None:
    templating.use_site_zone("Europe/Berlin")
    try:
        winter = int(dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC).timestamp() * 1000)
        summer = int(dt.datetime(2025, 7, 15, 12, tzinfo=dt.UTC).timestamp() * 1000)
        assert templating.stamp(winter) == "2025-01-15 13:00 CET"
        assert templating.stamp(summer) == "2025-07-15 14:00 CEST"
    finally:
        templating.use_site_zone("UTC")
    assert templating.stamp(winter) == "2025-01-15 12:00 UTC"


def test_a_zone_without_an_abbreviation_shows_its_offset() -> None:
    templating.use_site_zone("America/Sao_Paulo")  # tzdata names it -03
    try:
        assert templating.stamp(T).endswith(" UTC-0300")
    finally:
        templating.use_site_zone("UTC")


def test_form_values_are_read_in_the_site_zone(zone: None) -> None:
    assert parse_local("2025-03-04T07:30") == T
    assert parse_local("2025-03-04 07:30:00") == T
    assert parse_local("2025-03-04") == T - int(7.5 * 3_600_000)  # local midnight
    assert parse_local("2025-03-04T07:30", ZoneInfo("UTC")) == T + 8 * 3_600_000
    assert to_local_input(T) == "2025-03-04T07:30"
    assert parse_local(to_local_input(T)) == T


@pytest.mark.parametrize("bad", ["", "yesterday", "2025-13-01", "2025-03-04T25:00", "2025-03-04T07:30+02:00",
                                 "1741073400000"])
def test_a_bad_form_value_is_a_one_line_error(bad: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_local(bad)
    assert "\n" not in str(e.value)
