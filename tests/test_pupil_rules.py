import datetime

import pytest
import time_machine

from academies.calendar import age_on, date_of_birth_range, nc_year_for
from pupils.models import Enrolment, FsmPeriod, Pupil
from pupils.selectors import (
    disadvantaged_filter,
    fsm_ever6_filter,
    is_disadvantaged,
    is_fsm_ever6,
    pupil_premium_categories,
)
from tests.factories import EnrolmentFactory, PupilFactory

D = datetime.date


# Year group from age -----------------------------------------------------------


@pytest.mark.parametrize(
    ("date_of_birth", "start_year", "nc_year"),
    [
        # The cohort in Year 8 in 2025/26 was born 1 Sep 2012 to 31 Aug 2013.
        (D(2012, 9, 1), 2025, 8),
        (D(2013, 8, 31), 2025, 8),
        (D(2012, 8, 31), 2025, 9),
        (D(2013, 9, 1), 2025, 7),
        (D(2021, 9, 1), 2025, -1),
        (D(2021, 8, 31), 2025, 0),
        (D(2020, 9, 1), 2025, 0),
        (D(2008, 2, 29), 2025, 13),
        (D(2012, 2, 29), 2026, 10),
    ],
)
def test_nc_year_boundaries(date_of_birth, start_year, nc_year):
    assert nc_year_for(date_of_birth, start_year) == nc_year


@pytest.mark.parametrize("nc_year", range(-1, 14))
def test_nc_year_is_age_on_31_august_minus_4(nc_year):
    age = nc_year + 4
    date_of_birth = D(2026 - age, 3, 15)

    assert age_on(date_of_birth, D(2026, 8, 31)) == age
    assert nc_year_for(date_of_birth, 2026) == nc_year


@pytest.mark.parametrize("nc_year", range(-1, 14))
def test_date_of_birth_range_round_trip(nc_year):
    first, last = date_of_birth_range(nc_year, 2026)

    assert nc_year_for(first, 2026) == nc_year
    assert nc_year_for(last, 2026) == nc_year
    assert nc_year_for(first - datetime.timedelta(days=1), 2026) == nc_year + 1
    assert nc_year_for(last + datetime.timedelta(days=1), 2026) == nc_year - 1


def test_age_on_leap_day_birthday():
    assert age_on(D(2012, 2, 29), D(2025, 2, 28)) == 12
    assert age_on(D(2012, 2, 29), D(2025, 3, 1)) == 13
    assert age_on(D(2012, 2, 29), D(2024, 2, 29)) == 12


# FSM Ever 6 -----------------------------------------------------------------------


def _pupil_with_periods(*periods: tuple[datetime.date, datetime.date | None]) -> Pupil:
    pupil = PupilFactory()
    for start, end in periods:
        FsmPeriod.objects.create(pupil=pupil, start_date=start, end_date=end)
    return pupil


def _in_filter(pupil: Pupil, day: datetime.date) -> bool:
    return Pupil.objects.filter(fsm_ever6_filter(day), pk=pupil.pk).exists()


FSM_CASES = [
    # (periods, day, expected); day is 4 December 2026 unless given.
    pytest.param([(D(2019, 1, 7), D(2020, 12, 4))], D(2026, 12, 4), True, id="ends-6-years-before"),
    pytest.param([(D(2019, 1, 7), D(2020, 12, 3))], D(2026, 12, 4), False, id="ends-day-earlier"),
    pytest.param([(D(2015, 9, 1), None)], D(2026, 12, 4), True, id="open-since-2015"),
    pytest.param([(D(2026, 12, 4), None)], D(2026, 12, 4), True, id="starts-today"),
    pytest.param([(D(2026, 12, 5), None)], D(2026, 12, 4), False, id="starts-tomorrow"),
    pytest.param([(D(2027, 1, 4), D(2027, 7, 22))], D(2026, 12, 4), False, id="future-period"),
    pytest.param([], D(2026, 12, 4), False, id="no-periods"),
    pytest.param(
        [(D(2010, 1, 1), D(2012, 1, 1)), (D(2026, 1, 5), D(2026, 3, 1))],
        D(2026, 12, 4),
        True,
        id="old-and-recent",
    ),
    # Six years before 29 February 2024 has no 29th, so the window opens on
    # 28 February 2018.
    pytest.param([(D(2017, 9, 1), D(2018, 2, 28))], D(2024, 2, 29), True, id="leap-day-28th"),
    pytest.param([(D(2017, 9, 1), D(2018, 2, 27))], D(2024, 2, 29), False, id="leap-day-27th"),
    pytest.param([(D(2018, 2, 28), D(2018, 2, 28))], D(2024, 2, 28), True, id="one-day-period"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("periods", "day", "expected"), FSM_CASES)
def test_fsm_ever6_rule(periods, day, expected):
    pupil = _pupil_with_periods(*periods)

    assert is_fsm_ever6(pupil, day) is expected


@pytest.mark.django_db
@pytest.mark.parametrize(("periods", "day", "expected"), FSM_CASES)
def test_fsm_ever6_filter_matches_rule(periods, day, expected):
    pupil = _pupil_with_periods(*periods)

    assert _in_filter(pupil, day) is expected


@pytest.mark.django_db
def test_fsm_ever6_filter_through_enrolment():
    eligible = EnrolmentFactory(pupil=_pupil_with_periods((D(2024, 1, 8), None)))
    EnrolmentFactory(pupil=_pupil_with_periods((D(2015, 1, 5), D(2016, 1, 5))))

    enrolments = Enrolment.objects.filter(fsm_ever6_filter(D(2026, 12, 4), prefix="pupil__"))

    assert list(enrolments) == [eligible]


@pytest.mark.django_db
def test_fsm_ever6_defaults_to_today():
    pupil = _pupil_with_periods((D(2019, 1, 7), D(2020, 12, 4)))

    with time_machine.travel(datetime.datetime(2026, 12, 4, 12, tzinfo=datetime.UTC)):
        assert is_fsm_ever6(pupil)
    with time_machine.travel(datetime.datetime(2026, 12, 5, 12, tzinfo=datetime.UTC)):
        assert not is_fsm_ever6(pupil)


# Disadvantaged and pupil premium ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "fsm", "disadvantaged", "categories"),
    [
        ({}, False, False, []),
        ({}, True, True, ["FSM Ever 6"]),
        ({"looked_after": True}, False, True, ["Looked after"]),
        ({"previously_looked_after": True}, False, True, ["Previously looked after"]),
        ({"service_child": True}, False, False, ["Service child"]),
        (
            {"looked_after": True, "service_child": True},
            True,
            True,
            ["FSM Ever 6", "Looked after", "Service child"],
        ),
    ],
)
def test_disadvantaged_and_categories(fields, fsm, disadvantaged, categories):
    day = D(2026, 12, 4)
    pupil = PupilFactory(**fields)
    if fsm:
        FsmPeriod.objects.create(pupil=pupil, start_date=D(2022, 9, 1), end_date=D(2023, 7, 1))

    assert is_disadvantaged(pupil, day) is disadvantaged
    assert pupil_premium_categories(pupil, day) == categories
    in_filter = Pupil.objects.filter(disadvantaged_filter(day), pk=pupil.pk).exists()
    assert in_filter is disadvantaged
