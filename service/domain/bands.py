"""Age bands: the only form in which a person's age is ever kept (referral records, reports, gap maps, demand)."""

from __future__ import annotations

from typing import Literal

AgeBand = Literal["under_18", "18_20", "21_24", "25_34", "35_54", "55_plus"]
AGE_BANDS: tuple[tuple[AgeBand, float, float], ...] = (
    ("under_18", 0.0, 18.0),
    ("18_20", 18.0, 21.0),
    ("21_24", 21.0, 25.0),
    ("25_34", 25.0, 35.0),
    ("35_54", 35.0, 55.0),
    ("55_plus", 55.0, 131.0),
)
"""The documented bands, lower bound inclusive: the youth/adult line at 18, the young-adult years (18-20 and
21-24, T2A's "maturity" to 25), then wider adult bands."""
AGE_BAND_WORDS: dict[str, str] = {
    "under_18": "Under 18",
    "18_20": "18 to 20",
    "21_24": "21 to 24",
    "25_34": "25 to 34",
    "35_54": "35 to 54",
    "55_plus": "55 and over",
}


def age_band(age: float) -> AgeBand:
    """The band an age falls in: the only form in which an age is ever kept."""
    for band, low, high in AGE_BANDS:
        if low <= age < high:
            return band
    return "55_plus"
