"""Durations: an integer and a unit m, h, d or w; nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segmint.dsl.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("1h", timedelta(hours=1)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(days=14)),
        ("365d", timedelta(days=365)),
        ("0d", timedelta(0)),
    ],
)
def test_parse_duration_reads_each_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3mo", "1y", "2 months", "1year", "6M"])
def test_parse_duration_rejects_months_and_years_saying_write_days(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert "no months or years" in caught.value.message
    assert "365d" in caught.value.message


def test_parse_duration_suggests_days_for_months_and_years() -> None:
    with pytest.raises(DurationError) as months:
        parse_duration("3mo")
    with pytest.raises(DurationError) as years:
        parse_duration("2y")
    assert months.value.problems[0].suggestions == ["90d"]
    assert years.value.problems[0].suggestions == ["730d"]


@pytest.mark.parametrize("text", ["30", "d", "-1d", "1.5h", "30 d", "30D", "", "1d2h", "P30D"])
def test_parse_duration_rejects_anything_but_integer_and_unit(text: str) -> None:
    with pytest.raises(DurationError, match="write an integer and a unit m, h, d or w"):
        parse_duration(text)


def test_parse_duration_rejects_a_bare_number_suggesting_days() -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(30)
    assert caught.value.problems[0].suggestions == ["30d"]


def test_parse_duration_suggests_the_lower_case_spelling() -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration("30D")
    assert caught.value.problems[0].suggestions == ["30d"]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=1), "1d"),
        (timedelta(weeks=2), "14d"),
        (timedelta(0), "0d"),
    ],
)
def test_format_duration_uses_the_largest_exact_unit(duration: timedelta, expected: str) -> None:
    assert format_duration(duration) == expected


def test_format_duration_rejects_seconds_and_negative_durations() -> None:
    with pytest.raises(ValueError, match="whole, non-negative number of minutes"):
        format_duration(timedelta(seconds=30))
    with pytest.raises(ValueError, match="whole, non-negative number of minutes"):
        format_duration(timedelta(days=-1))
