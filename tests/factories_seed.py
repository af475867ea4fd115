"""Builders for calendar and rollover tests: a trust with an academic year,
academies with year groups, tutor groups and enrolled pupils."""

import datetime

from academies import services
from academies.models import AcademicYear, Academy, Phase, Trust, TutorGroup, YearGroup
from pupils.models import Enrolment, Pupil
from tests.factories import AcademyFactory, PupilFactory, StaffFactory, TrustFactory


def trust_with_year(start_year: int = 2026) -> tuple[Trust, AcademicYear]:
    trust = TrustFactory()
    year = services.academic_year_create(trust=trust, start_year=start_year, actor=None)
    return trust, year


def academy_with_years(
    trust: Trust, *, low: int, high: int, phase: str = Phase.SECONDARY, **fields: object
) -> Academy:
    academy = AcademyFactory(
        trust=trust, phase=phase, age_range_low=low, age_range_high=high, **fields
    )
    for nc_year in range(services.entry_nc_year(academy), services.final_nc_year(academy) + 1):
        YearGroup.objects.create(academy=academy, nc_year=nc_year)
    return academy


def tutor_group(
    academy: Academy, year: AcademicYear, nc_year: int, name: str, with_tutor: bool = True
) -> TutorGroup:
    return TutorGroup.objects.create(
        academy=academy,
        academic_year=year,
        year_group=YearGroup.objects.get(academy=academy, nc_year=nc_year),
        name=name,
        tutor=StaffFactory(academy=academy) if with_tutor else None,
        room="R1",
    )


def enrol(
    group: TutorGroup,
    *,
    pupil: Pupil | None = None,
    end_date: datetime.date | None = None,
    kept_back: bool = False,
    leaving_reason: str = "",
) -> Enrolment:
    return Enrolment.objects.create(
        pupil=pupil or PupilFactory(),
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
        end_date=end_date,
        kept_back=kept_back,
        leaving_reason=leaving_reason,
    )
