"""Date rules of the English school year that need no database.

The age rule: a pupil's national curriculum (NC) year is their age on
31 August at the start of the academic year, minus 4. Nursery is -1 and
Reception 0, matching academies.models.NURSERY and RECEPTION.
"""

import datetime
from dataclasses import dataclass

# Order of the half terms in a year; the key names the field in validation
# messages and the label is how schools write it.
HALF_TERMS: tuple[tuple[str, str, int, str], ...] = (
    ("autumn_1", "autumn", 1, "Autumn 1"),
    ("autumn_2", "autumn", 2, "Autumn 2"),
    ("spring_1", "spring", 1, "Spring 1"),
    ("spring_2", "spring", 2, "Spring 2"),
    ("summer_1", "summer", 1, "Summer 1"),
    ("summer_2", "summer", 2, "Summer 2"),
)


@dataclass(frozen=True)
class HalfTermDates:
    start: datetime.date
    end: datetime.date


def age_on(date_of_birth: datetime.date, day: datetime.date) -> int:
    """Return the age in whole years on `day`; someone born on 29 February
    turns a year older on 1 March in a common year."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


def nc_year_for(date_of_birth: datetime.date, academic_year_start_year: int) -> int:
    """Return the NC year for a pupil of this birth date in the academic year
    starting in September of `academic_year_start_year`.

    The result is not range-checked: a child too young for Nursery gives -2
    or less, and an adult gives 14 or more.
    """
    return age_on(date_of_birth, datetime.date(academic_year_start_year, 8, 31)) - 4


def date_of_birth_range(
    nc_year: int, academic_year_start_year: int
) -> tuple[datetime.date, datetime.date]:
    """Return the first and last birth dates of the cohort in `nc_year`."""
    last_year_of_birth = academic_year_start_year - nc_year - 4
    return (
        datetime.date(last_year_of_birth - 1, 9, 1),
        datetime.date(last_year_of_birth, 8, 31),
    )


def easter_sunday(year: int) -> datetime.date:
    """Return Easter Sunday in the Gregorian calendar (the anonymous
    Gregorian algorithm, also known as Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def _first_weekday_on_or_after(day: datetime.date, weekday: int) -> datetime.date:
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7)


def _last_weekday_on_or_before(day: datetime.date, weekday: int) -> datetime.date:
    return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)


def _weekday_on_or_before(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _weekday_on_or_after(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


MONDAY, FRIDAY = 0, 4


def default_half_terms(start_year: int) -> list[HalfTermDates]:
    """Return typical English half-term dates for the year starting in
    September of `start_year`, in the order of HALF_TERMS.

    Each local authority or trust sets its own term dates, and these follow
    the common pattern. October half term is the last week of October, and
    Christmas starts after the Friday on or before 20 December. February
    half term is the third week of February, with two weeks round Easter.
    May half term is the week of the spring bank holiday (the last Monday
    in May), and the year ends on or just before 22 July.
    """
    one_week = datetime.timedelta(days=7)
    three_days = datetime.timedelta(days=3)

    october_break = _last_weekday_on_or_before(datetime.date(start_year, 10, 31), MONDAY)
    christmas_end = _last_weekday_on_or_before(datetime.date(start_year, 12, 20), FRIDAY)
    spring_start = _first_weekday_on_or_after(datetime.date(start_year + 1, 1, 2), MONDAY)
    february_break = _first_weekday_on_or_after(datetime.date(start_year + 1, 2, 1), MONDAY)
    february_break += 2 * one_week
    good_friday = easter_sunday(start_year + 1) - datetime.timedelta(days=2)
    easter_monday = good_friday + datetime.timedelta(days=3)
    may_break = _last_weekday_on_or_before(datetime.date(start_year + 1, 5, 31), MONDAY)

    return [
        HalfTermDates(
            _weekday_on_or_after(datetime.date(start_year, 9, 1)), october_break - three_days
        ),
        HalfTermDates(october_break + one_week, christmas_end),
        HalfTermDates(spring_start, february_break - three_days),
        HalfTermDates(february_break + one_week, good_friday - one_week),
        HalfTermDates(easter_monday + one_week, may_break - three_days),
        HalfTermDates(
            may_break + one_week, _weekday_on_or_before(datetime.date(start_year + 1, 7, 22))
        ),
    ]


def early_may_bank_holiday(year: int) -> datetime.date:
    """Return the early May bank holiday in England (the first Monday in May).

    NOTE: the date moved in 2020 (to Friday 8 May) and in 1995; this rule
    ignores such one-off changes.
    """
    return _first_weekday_on_or_after(datetime.date(year, 5, 1), MONDAY)


def weekdays_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Return Monday to Friday dates from `start` to `end` inclusive."""
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days
