import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError

from academies import services
from academies.calendar import (
    HalfTermDates,
    default_half_terms,
    early_may_bank_holiday,
    easter_sunday,
)
from academies.models import Closure, Term
from tests.factories import AcademyFactory, TrustFactory
from tests.factories_seed import trust_with_year

D = datetime.date


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, D(2024, 3, 31)),
        (2025, D(2025, 4, 20)),
        (2027, D(2027, 3, 28)),
        (2038, D(2038, 4, 25)),
    ],
)
def test_easter_sunday_known_dates(year, easter):
    assert easter_sunday(year) == easter


def test_early_may_bank_holiday_first_monday():
    assert early_may_bank_holiday(2027) == D(2027, 5, 3)


def test_default_half_terms_2026():
    halves = default_half_terms(2026)
    assert [(h.start, h.end) for h in halves] == [
        (D(2026, 9, 1), D(2026, 10, 23)),
        (D(2026, 11, 2), D(2026, 12, 18)),
        (D(2027, 1, 4), D(2027, 2, 12)),
        (D(2027, 2, 22), D(2027, 3, 19)),
        (D(2027, 4, 5), D(2027, 5, 28)),
        (D(2027, 6, 7), D(2027, 7, 22)),
    ]


@pytest.mark.parametrize("start_year", range(2000, 2101))
def test_default_half_terms_ordered_weekdays(start_year):
    halves = default_half_terms(start_year)
    assert halves[0].start >= D(start_year, 9, 1)
    assert halves[-1].end <= D(start_year + 1, 8, 31)
    for half in halves:
        assert half.start.weekday() < 5
        assert half.end.weekday() < 5
        assert half.start < half.end
    for earlier, later in itertools.pairwise(halves):
        assert earlier.end < later.start


@pytest.mark.django_db
def test_academic_year_create_terms_and_halves():
    _trust, year = trust_with_year(2026)

    terms = list(Term.objects.filter(academic_year=year, parent__isnull=True))
    halves = list(Term.objects.filter(academic_year=year, parent__isnull=False))
    assert [t.name for t in terms] == ["Autumn term", "Spring term", "Summer term"]
    assert [h.name for h in halves] == [
        "Autumn 1",
        "Autumn 2",
        "Spring 1",
        "Spring 2",
        "Summer 1",
        "Summer 2",
    ]
    assert all(h.parent.season == h.season for h in halves)
    autumn = terms[0]
    assert autumn.start_date == D(2026, 9, 1)
    assert autumn.end_date == D(2026, 12, 18)
    assert year.start_date == D(2026, 9, 1)
    assert year.end_date == D(2027, 8, 31)


@pytest.mark.django_db
def test_academic_year_create_given_dates():
    trust = TrustFactory()
    dates = default_half_terms(2026)
    dates[0] = HalfTermDates(D(2026, 9, 3), D(2026, 10, 16))

    year = services.academic_year_create(trust=trust, start_year=2026, actor=None, half_terms=dates)

    first = Term.objects.get(academic_year=year, season="autumn", half=1)
    assert (first.start_date, first.end_date) == (D(2026, 9, 3), D(2026, 10, 16))


@pytest.mark.django_db
def test_academic_year_duplicate_rejected():
    trust, _ = trust_with_year(2026)

    with pytest.raises(ValidationError) as error:
        services.academic_year_create(trust=trust, start_year=2026, actor=None)

    assert "2026/27 already exists" in error.value.message_dict["start_year"][0]


@pytest.mark.django_db
def test_academic_year_start_out_of_range():
    with pytest.raises(ValidationError) as error:
        services.academic_year_create(trust=TrustFactory(), start_year=1999, actor=None)

    assert "1999" in error.value.message_dict["start_year"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("index", "dates", "field", "fragments"),
    [
        (0, (D(2026, 10, 23), D(2026, 9, 1)), "autumn_1", ["23/10/2026", "01/09/2026"]),
        (0, (D(2026, 8, 28), D(2026, 10, 23)), "autumn_1", ["28/08/2026", "outside"]),
        (2, (D(2026, 12, 14), D(2027, 2, 12)), "spring_1", ["14/12/2026", "Autumn 2"]),
        (5, (D(2027, 6, 7), D(2027, 9, 3)), "summer_2", ["03/09/2027", "2026/27"]),
    ],
)
def test_half_term_dates_validated(index, dates, field, fragments):
    halves = default_half_terms(2026)
    halves[index] = HalfTermDates(*dates)

    with pytest.raises(ValidationError) as error:
        services.academic_year_create(
            trust=TrustFactory(), start_year=2026, actor=None, half_terms=halves
        )

    message = error.value.message_dict[field][0]
    for fragment in fragments:
        assert fragment in message
    assert not Term.objects.exists()


@pytest.mark.django_db
def test_half_term_count_validated():
    with pytest.raises(ValidationError) as error:
        services.academic_year_create(
            trust=TrustFactory(),
            start_year=2026,
            actor=None,
            half_terms=default_half_terms(2026)[:5],
        )

    assert "5 half terms" in error.value.message_dict["half_terms"][0]


@pytest.mark.django_db
def test_closure_add_in_term():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust)

    closure = services.closure_add(
        academy=academy, date=D(2026, 9, 1), kind=Closure.Kind.INSET, actor=None
    )

    assert closure.sessions == Closure.Sessions.BOTH
    assert closure.get_kind_display() == "INSET day"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"date": D(2026, 9, 5)}, "date", "05/09/2026 is a Saturday"),
        ({"date": D(2026, 10, 28)}, "date", "28/10/2026 is not in term"),
        ({"kind": "snow"}, "kind", "'snow'"),
        ({"sessions": "evening"}, "sessions", "'evening'"),
        ({"reason": "x" * 201}, "reason", "201 characters"),
    ],
)
def test_closure_add_invalid(fields, field, fragment):
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust)
    arguments = {"date": D(2026, 9, 2), "kind": Closure.Kind.INSET, **fields}

    with pytest.raises(ValidationError) as error:
        services.closure_add(academy=academy, actor=None, **arguments)

    assert fragment in error.value.message_dict[field][0]
    assert not Closure.objects.exists()


@pytest.mark.django_db
def test_closure_add_twice_rejected():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust, name="Kingsbrook Academy")
    services.closure_add(academy=academy, date=D(2026, 9, 2), kind="inset", actor=None)

    with pytest.raises(ValidationError) as error:
        services.closure_add(academy=academy, date=D(2026, 9, 2), kind="planned", actor=None)

    assert "Kingsbrook Academy already has a closure on 02/09/2026" in str(error.value)


@pytest.mark.django_db
def test_school_days_skip_weekends_breaks_closures():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust)
    other = AcademyFactory(trust=trust)
    services.closure_add(academy=academy, date=D(2026, 10, 21), kind="unexpected", actor=None)
    services.closure_add(
        academy=academy, date=D(2026, 10, 22), kind="planned", sessions="pm", actor=None
    )
    services.closure_add(academy=other, date=D(2026, 10, 20), kind="inset", actor=None)

    # Monday 19 October to Friday 6 November 2026 spans the October half term.
    days = services.school_days(academy, D(2026, 10, 19), D(2026, 11, 6))

    assert days == [
        D(2026, 10, 19),
        D(2026, 10, 20),
        D(2026, 10, 22),
        D(2026, 10, 23),
        D(2026, 11, 2),
        D(2026, 11, 3),
        D(2026, 11, 4),
        D(2026, 11, 5),
        D(2026, 11, 6),
    ]


@pytest.mark.django_db
def test_school_days_whole_year_count():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust)

    days = services.school_days(academy, D(2026, 9, 1), D(2027, 8, 31))

    # Weekdays per half term in the default 2026/27 calendar: 39, 35, 30, 20, 40, 34.
    assert len(days) == 198
    assert days[0] == D(2026, 9, 1)
    assert days[-1] == D(2027, 7, 22)


@pytest.mark.django_db
def test_school_days_stop_at_closing_date():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust, closed_on=D(2026, 9, 3))

    days = services.school_days(academy, D(2026, 9, 1), D(2026, 9, 30))

    assert days == [D(2026, 9, 1), D(2026, 9, 2)]


@pytest.mark.django_db
def test_school_days_empty_cases():
    trust, _ = trust_with_year(2026)
    academy = AcademyFactory(trust=trust)

    assert services.school_days(academy, D(2026, 9, 10), D(2026, 9, 1)) == []
    assert services.school_days(academy, D(2027, 7, 23), D(2027, 8, 31)) == []
    assert services.school_days(academy, D(2030, 1, 1), D(2030, 1, 31)) == []
