"""Business days, Europe/Amsterdam daylight saving time and vectorised timestamp formatting.

Times are handled as ``int64`` seconds since 1970-01-01: *UTC* seconds for instants and *naive* seconds
for local wall-clock values (a local wall-clock value written as if it were UTC). The EU rule is fixed:
summer time (UTC+2) runs from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC,
standard time is UTC+1. No time zone database is needed.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

DAY_SECONDS = 86_400
HOUR = 3_600
STANDARD_OFFSET = 3_600
SUMMER_OFFSET = 7_200
_EPOCH_DATE = date(1970, 1, 1)


def epoch_seconds(d: date) -> int:
    """Seconds from 1970-01-01 to midnight of ``d`` (naive: the same for UTC and wall-clock values)."""
    return (d - _EPOCH_DATE).days * DAY_SECONDS


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of ``month`` (March or October, months with 31 days)."""
    last = date(year, month, 31)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def summer_time_utc(year: int) -> tuple[int, int]:
    """UTC seconds of the start (inclusive) and end (exclusive) of summer time in ``year``."""
    return (
        epoch_seconds(last_sunday(year, 3)) + HOUR,
        epoch_seconds(last_sunday(year, 10)) + HOUR,
    )


class Clock:
    """The generator's calendar: ``days`` business days from ``start`` (day index 0)."""

    def __init__(self, start: date, days: int) -> None:
        self.start = start
        self.days = days
        self.dates = [start + timedelta(days=i) for i in range(days + 1)]
        years = range(start.year - 1, self.dates[-1].year + 2)
        self._summer = np.array([summer_time_utc(y) for y in years], dtype=np.int64)
        naive_midnights = np.array([epoch_seconds(d) for d in self.dates], dtype=np.int64)
        # UTC instants of local midnight; entry ``days`` is the end of the last business day.
        self.midnight_utc = self.local_to_utc(naive_midnights)
        self.naive_midnight = naive_midnights
        self.weekday = np.array([d.weekday() for d in self.dates[:-1]], dtype=np.int8)
        self.day_of_year = np.array([d.timetuple().tm_yday for d in self.dates[:-1]], dtype=np.int16)
        self.iso_week = np.array([d.isocalendar().week for d in self.dates[:-1]], dtype=np.int16)

    def stamp(self, day: int) -> str:
        """``YYYYMMDD`` of a business day, as used in landing file names."""
        return self.dates[day].strftime("%Y%m%d")

    def utc_offset(self, utc: np.ndarray) -> np.ndarray:
        """Europe/Amsterdam offset from UTC in seconds at the given UTC instants."""
        offset = np.full(utc.shape, STANDARD_OFFSET, dtype=np.int64)
        for begin, end in self._summer:
            offset[(utc >= begin) & (utc < end)] = SUMMER_OFFSET
        return offset

    def to_local(self, utc: np.ndarray) -> np.ndarray:
        """Naive wall-clock seconds of UTC instants (the autumn hour 02:00-03:00 occurs twice)."""
        return utc + self.utc_offset(utc)

    def local_to_utc(self, naive: np.ndarray) -> np.ndarray:
        """UTC of wall-clock values the way the contract reads them.

        An ambiguous autumn time is its first (summer time) occurrence; a non-existent spring time is read
        as if the clock had already moved (02:30 -> 03:30 summer time).
        """
        as_summer = naive - SUMMER_OFFSET
        return np.where(self.utc_offset(as_summer) == SUMMER_OFFSET, as_summer, naive - STANDARD_OFFSET)

    def day_of(self, utc: np.ndarray) -> np.ndarray:
        """Business day index of UTC instants (-1 before the range, ``days`` or more after it)."""
        return np.searchsorted(self.midnight_utc, utc, side="right").astype(np.int64) - 1

    def at(self, day: int | np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """UTC instants ``seconds`` after local midnight of ``day``, kept inside that business day."""
        begin = self.midnight_utc[day]
        end = self.midnight_utc[np.asarray(day) + 1]
        return np.minimum(begin + seconds, end - 1)


def sample_seconds(rng: np.random.Generator, n: int, hourly_weights: np.ndarray) -> np.ndarray:
    """Seconds after midnight for ``n`` events following a 24-value hourly profile."""
    hours = rng.choice(24, size=n, p=hourly_weights / hourly_weights.sum())
    return hours.astype(np.int64) * HOUR + rng.integers(0, HOUR, size=n)


def _iso(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]"), unit="s")


def format_utc(utc: np.ndarray, suffix: str = "Z") -> list[str]:
    """ISO 8601 UTC strings (``2026-07-20T08:15:00Z``; ``suffix="+00:00"`` for the offset form)."""
    return np.strings.add(_iso(utc), suffix).tolist()


def format_local(naive: np.ndarray) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` strings of naive wall-clock seconds."""
    return [s.replace("T", " ") for s in _iso(naive).tolist()]


def format_date(days_since_epoch: np.ndarray, day_first: bool = False) -> list[str]:
    """``YYYY-MM-DD`` (or ``DD-MM-YYYY``) strings of dates given as days since 1970-01-01."""
    unique, inverse = np.unique(np.asarray(days_since_epoch, dtype=np.int64), return_inverse=True)
    iso = np.datetime_as_string(unique.astype("datetime64[D]")).tolist()
    text = [f"{s[8:10]}-{s[5:7]}-{s[0:4]}" for s in iso] if day_first else iso
    return [text[i] for i in inverse.tolist()]


# Hourly activity profiles (local hours 0..23), relative weights.
PROFILE_WEB = np.array([3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 8, 9, 9, 8, 8, 8, 9, 10, 12, 14, 13, 10, 6], float)
PROFILE_STORE_WEEKDAY = np.array([0] * 9 + [5, 8, 10, 12, 11, 10, 10, 11, 12, 10, 7, 4] + [0] * 3, float)
PROFILE_STORE_SUNDAY = np.array([0] * 12 + [8, 10, 11, 11, 10, 8] + [0] * 6, float)
PROFILE_PHONE = np.array([0] * 8 + [10, 14, 13, 12, 10, 10, 11, 10, 9, 8, 6, 5, 4] + [0] * 3, float)
PROFILE_CHAT = np.array(
    [2, 2, 2, 1, 1, 1, 2, 4, 8, 10, 10, 10, 10, 10, 10, 10, 9, 9, 9, 10, 10, 9, 6, 4], float
)
