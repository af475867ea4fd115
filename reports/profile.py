"""The pupil overview: one child's attendance, behaviour, progress against
TMG, interventions, contacts with parents and SEND on one page.

Each section is read through its own domain's selectors and access rules,
with the requesting user, so every figure equals the one on that domain's
pupil page. Those pages open for any user who may see the pupil
(pupils.selectors.visible_pupils), so the overview shows every section to
the same users. Inside a section the domain's finer rules still apply. A
sensitive incident the user may not read shows only its date, as on the
timeline. SEN needs stay on the sensitive fields page, which only users
with the safeguarding permission may open.

The number of queries does not depend on how many marks, incidents, grades
or contacts the pupil has.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from academies.models import AcademicYear
from attendance import selectors as attendance_selectors
from attendance.selectors import PupilAttendance
from attendance.statistics import Counts, one_decimal
from behaviour.access import visible_links
from behaviour.suspensions import SuspensionSummary, pupil_suspension_summary
from behaviour.timeline import (
    PeriodTotals,
    TimelineRow,
    pupil_totals,
    pupil_trust_id,
    summary_row,
)
from progress.interventions import (
    OPEN_STATUSES,
    is_overdue,
    ordered_for_list,
    readable_interventions,
)
from progress.models import Intervention, InterventionPupil, ParentContact
from progress.parents import pupil_parent_contacts
from progress.selectors import ProgressYear, pupil_progress
from pupils.models import Enrolment, Pupil
from pupils.selectors import can_see_sensitive, current_enrolment

# The overview lists the latest few, because the domain pages list every one.
RECENT_INCIDENTS = 10
RECENT_PARENT_CONTACTS = 5


@dataclass
class PupilOverview:
    """Everything the overview page shows about one pupil on `day`, as one user may see it.

    `academic_year` is the trust's academic year containing `day`, or None
    when no such year is recorded. The attendance, incidents, progress and
    interventions cover that year, so `attendance` is None without one.
    Points totals are None where the calendar has no term or year.
    """

    pupil: Pupil
    day: datetime.date
    enrolment: Enrolment | None
    academic_year: AcademicYear | None
    attendance: PupilAttendance | None
    attendance_weeks: list[tuple[datetime.date, Counts]]
    term_points: PeriodTotals | None
    year_points: PeriodTotals | None
    # The latest incidents of the academic year, newest first.
    incidents: list[TimelineRow]
    suspensions: SuspensionSummary
    # The grades of the academic year, or None when the pupil has none that year.
    progress: ProgressYear | None
    # This year's interventions and any earlier one still open, overdue reviews first.
    interventions: list[Intervention]
    overdue_intervention_ids: frozenset[int]
    parent_contacts: list[ParentContact]
    parent_contact_count: int
    # Whether the user may open the sensitive fields page, where the SEN needs are.
    sees_sen_needs: bool

    @property
    def attendance_rate(self) -> float | None:
        if self.attendance is None:
            return None
        return one_decimal(self.attendance.counts.attendance_rate)

    @property
    def attendance_band(self) -> tuple[str, str]:
        """The (CSS key, word) of the attendance band, on the exact rate."""
        rate = self.attendance.counts.attendance_rate if self.attendance else None
        return attendance_selectors.band(rate)

    @property
    def attendance_band_css(self) -> str:
        return attendance_selectors.BAND_CSS.get(self.attendance_band[0], "cat-not-counted")

    @property
    def has_attendance(self) -> bool:
        return self.attendance is not None and self.attendance.counts.possible > 0


def _academic_year(
    pupil: Pupil, enrolment: Enrolment | None, day: datetime.date
) -> AcademicYear | None:
    if enrolment is not None and enrolment.academic_year.contains(day):
        return enrolment.academic_year
    trust_id = pupil_trust_id(pupil)
    if trust_id is None:
        return None
    return AcademicYear.objects.filter(
        trust_id=trust_id, start_date__lte=day, end_date__gte=day
    ).first()


def _recent_incidents(
    user: Any, pupil: Pupil, year: AcademicYear, day: datetime.date
) -> list[TimelineRow]:
    """Return the latest incidents of `year` up to `day` that `user` may see,
    as the timeline shows them. A sensitive one the user may not read keeps
    only its date and points."""
    links = (
        visible_links(user, day)
        .filter(pupil=pupil, date__gte=year.start_date, date__lte=day)
        .select_related("incident", "incident__category")
        .order_by("-incident__occurred_at", "-incident_id")[:RECENT_INCIDENTS]
    )
    return [summary_row(user, link) for link in links]


def _interventions(user: Any, pupil: Pupil, year: AcademicYear | None) -> list[Intervention]:
    pupil_links = InterventionPupil.objects.filter(pupil=pupil).values("intervention_id")
    this_year = Q(academic_year=year) if year is not None else Q(pk__in=[])
    still_open = Q(status__in=OPEN_STATUSES)
    interventions = (
        readable_interventions(user).filter(pk__in=pupil_links).filter(this_year | still_open)
    )
    return list(ordered_for_list(interventions).select_related("qualification__subject"))


def _progress_year(pupil: Pupil, year: AcademicYear | None) -> ProgressYear | None:
    if year is None:
        return None
    for progress_year in pupil_progress(pupil):
        if progress_year.academic_year.pk == year.pk:
            return progress_year
    return None


def pupil_overview(user: Any, pupil: Pupil, day: datetime.date) -> PupilOverview:
    """Build the overview of `pupil` on `day` for `user`.

    The caller has already checked that `user` may see `pupil` (404 otherwise).
    """
    enrolment = current_enrolment(pupil, day)
    year = _academic_year(pupil, enrolment, day)

    attendance = None
    weeks: list[tuple[datetime.date, Counts]] = []
    if year is not None:
        end = min(year.end_date, day)
        attendance = attendance_selectors.pupil_counts(pupil, year.start_date, end, today=day)
        weeks = attendance_selectors.pupil_weekly(pupil, year.start_date, end)

    term_points, year_points = pupil_totals(user, pupil, day)
    interventions = _interventions(user, pupil, year)
    contacts = pupil_parent_contacts(pupil)
    return PupilOverview(
        pupil=pupil,
        day=day,
        enrolment=enrolment,
        academic_year=year,
        attendance=attendance,
        attendance_weeks=weeks,
        term_points=term_points,
        year_points=year_points,
        incidents=_recent_incidents(user, pupil, year, day) if year is not None else [],
        suspensions=pupil_suspension_summary(user, pupil, day),
        progress=_progress_year(pupil, year),
        interventions=interventions,
        overdue_intervention_ids=frozenset(i.pk for i in interventions if is_overdue(i, day)),
        parent_contacts=list(contacts[:RECENT_PARENT_CONTACTS]),
        parent_contact_count=contacts.count(),
        sees_sen_needs=can_see_sensitive(user, pupil, day),
    )
