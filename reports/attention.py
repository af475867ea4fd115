"""The pupils behind an academy's or a year group's figures, and those who
need attention now with the interventions in place for each reason.

The bottom of the drill-down (trust, academy, year group, pupils) and the
content of the intervention report. Figures cover the academic year to
date (attendance.selectors.default_range) and follow the domain rules, so
the rows of a year group add up to its figures. Each function takes a
fixed number of queries whatever the number of pupils, marks or
incidents, and checks no access: pages ask reports.access first.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count

from academies.models import Academy, YearGroup
from attendance.selectors import GroupTarget, default_range, enrolment_rows
from attendance.statistics import Counts, one_decimal
from behaviour.analysis import BYSTANDER_ROLES
from progress.grades import Status, entry_status
from progress.interventions import OPEN_STATUSES
from progress.models import AssessmentPoint, Intervention, InterventionPupil
from progress.summaries import AREAS, ON_OR_ABOVE, _entries_at, _tmgs, areas_of, latest_points
from pupils.models import Enrolment, Pupil, active_on

from .breakdowns import counted_suspensions, negative_links, scoped

# A pupil with at least this many negative incidents within the last
# REPEATED_NEGATIVE_DAYS days (today included) shows repeated negative
# behaviour. Roughly one a week over four school weeks: a pattern rather
# than a bad day. Incidents where the pupil was a target or a witness, or
# took no negative points, are not counted, as on behaviour's top list.
REPEATED_NEGATIVE = 3
REPEATED_NEGATIVE_DAYS = 28

# A pupil's standing against TMG in one area at the latest assessment point.
ON_OR_ABOVE_TMG = "on_or_above"
BELOW_TMG = "below"
# Graded, none below, but at least one grade without a TMG to compare with.
NO_TMG = "no_tmg"
NO_GRADE = "no_grade"
TMG_LABELS = {
    ON_OR_ABOVE_TMG: "On or above TMG",
    BELOW_TMG: "Below TMG",
    NO_TMG: "No TMG",
    NO_GRADE: "No grade",
}
BELOW_STATUSES = frozenset({Status.BELOW, Status.WELL_BELOW})


@dataclass
class PupilRow:
    """One pupil on roll, with their figures over the academic year to date.

    `counts` are the attendance sessions at this academy (and year group,
    for a year group's rows), as the group's figures count them. `tmg`
    maps each area key of progress.summaries.AREAS to one of TMG_LABELS'
    keys, at the latest assessment point of the pupil's year group.
    """

    pupil: Pupil
    year_group: YearGroup
    tutor_group_name: str
    counts: Counts
    negative_incidents: int
    suspensions: int
    tmg: dict[str, str]
    interventions: list[Intervention] = field(default_factory=list)

    @property
    def pupil_id(self) -> int:
        return self.pupil.pk

    @property
    def name(self) -> str:
        return self.pupil.display_name

    @property
    def attendance_rate(self) -> float | None:
        return one_decimal(self.counts.attendance_rate)

    @property
    def persistent_absence(self) -> bool:
        return self.counts.persistent_absence

    @property
    def severe_absence(self) -> bool:
        return self.counts.severe_absence

    @property
    def intervention_titles(self) -> list[str]:
        return [intervention.title for intervention in self.interventions]

    def tmg_label(self, area: str) -> str:
        return TMG_LABELS[self.tmg[area]]


def _enrolments(
    academy: Academy, year_group: YearGroup | None, today: datetime.date
) -> list[Enrolment]:
    """Return one enrolment on roll on `today` per pupil, in register order."""
    year_group_id = year_group.pk if year_group is not None else None
    enrolments = (
        scoped(Enrolment.objects.filter(active_on(today)), [academy.pk], year_group_id)
        .select_related("pupil", "year_group__academy", "tutor_group")
        .order_by("pupil_id", "-start_date", "-pk")
    )
    latest: dict[int, Enrolment] = {}
    for enrolment in enrolments:
        latest.setdefault(enrolment.pupil_id, enrolment)
    return sorted(
        latest.values(),
        key=lambda e: (e.pupil.surname.lower(), e.pupil.forename.lower(), e.pupil_id),
    )


def _tmg_statuses(
    points: Sequence[AssessmentPoint], year_groups: dict[int, int]
) -> dict[int, dict[str, str]]:
    """Return each pupil's status per area at the point of their year group.

    The rules of progress.summaries.point_figures: an area counts the
    pupil's grades (results) in its qualifications, and the pupil is on or
    above only when every one of them is. `year_groups` maps pupil ids to
    the year group whose point counts for them.
    """
    by_year_group = {point.year_group_id: point for point in points}
    statuses: dict[int, dict[str, list[str]]] = defaultdict(dict)
    if not points or not year_groups:
        return {}
    entries = _entries_at([p.pk for p in points], pupil_id__in=list(year_groups))
    tmgs = _tmgs(year_groups, {p.academic_year_id for p in points})
    for entry in entries:
        point = by_year_group.get(year_groups[entry.pupil_id])
        if point is None or entry.assessment_point_id != point.pk:
            continue
        tmg = tmgs.get((entry.pupil_id, entry.qualification_id, point.academic_year_id))
        status = entry_status(entry, tmg, entry.qualification.scale)
        if status == Status.NO_GRADE:
            continue
        for area in areas_of(entry.qualification):
            statuses[entry.pupil_id].setdefault(area, []).append(status)

    result = {}
    for pupil_id, areas in statuses.items():
        result[pupil_id] = {area: _area_status(found) for area, found in areas.items()}
    return result


def _area_status(statuses: Sequence[str]) -> str:
    if all(status in ON_OR_ABOVE for status in statuses):
        return ON_OR_ABOVE_TMG
    if any(status in BELOW_STATUSES for status in statuses):
        return BELOW_TMG
    return NO_TMG


def _counts_per_pupil(
    target: GroupTarget, start: datetime.date, end: datetime.date
) -> dict[int, Counts]:
    counts: dict[int, Counts] = defaultdict(Counts)
    for row in enrolment_rows(target, start, end):
        counts[row.pupil_id] = counts[row.pupil_id] + row.counts
    return counts


def _open_interventions(pupil_ids: Iterable[int]) -> dict[int, list[Intervention]]:
    links = (
        InterventionPupil.objects.filter(
            pupil_id__in=list(pupil_ids), intervention__status__in=OPEN_STATUSES
        )
        .select_related("intervention__qualification__subject")
        .order_by("intervention__review_date", "intervention_id")
    )
    result: dict[int, list[Intervention]] = defaultdict(list)
    for link in links:
        result[link.pupil_id].append(link.intervention)
    return result


def pupil_rows(
    academy: Academy, year_group: YearGroup | None, today: datetime.date
) -> list[PupilRow]:
    """Return a row for every pupil on roll on `today` in `year_group`, or in
    `academy` when year_group is None, in register order.

    Attendance, incidents and suspensions count as the group's figures do.
    So when every pupil counted is still on roll, the rows add up to the
    group's enrolments with possible sessions, persistent absentees,
    negative incidents and TMG tallies. An incident with several of the
    pupils counts once for each of them, and a pupil counts as graded in an
    area unless their status is "no grade". A fixed number of queries
    (13 in the tests) whatever the number of pupils.
    """
    start, end = default_range(today)
    year_group_id = year_group.pk if year_group is not None else None
    enrolments = _enrolments(academy, year_group, end)
    if not enrolments:
        return []
    pupil_ids = [e.pupil_id for e in enrolments]

    target = (
        GroupTarget(year_group_id=year_group_id)
        if year_group_id is not None
        else GroupTarget(academy_ids=(academy.pk,))
    )
    counts = _counts_per_pupil(target, start, end)
    negatives = dict(
        scoped(negative_links(start, end), [academy.pk], year_group_id)
        .filter(pupil_id__in=pupil_ids)
        .values("pupil_id")
        .annotate(incidents=Count("incident_id", distinct=True))
        .values_list("pupil_id", "incidents")
        .order_by()
    )
    suspensions = dict(
        scoped(counted_suspensions(start, end), [academy.pk], year_group_id)
        .filter(pupil_id__in=pupil_ids)
        .values("pupil_id")
        .annotate(count=Count("pk"))
        .values_list("pupil_id", "count")
        .order_by()
    )
    points = latest_points([academy.pk], end)
    tmg = _tmg_statuses(points, {e.pupil_id: e.year_group_id for e in enrolments})
    interventions = _open_interventions(pupil_ids)

    return [
        PupilRow(
            pupil=enrolment.pupil,
            year_group=enrolment.year_group,
            tutor_group_name=enrolment.tutor_group.name if enrolment.tutor_group else "",
            counts=counts.get(enrolment.pupil_id, Counts()),
            negative_incidents=negatives.get(enrolment.pupil_id, 0),
            suspensions=suspensions.get(enrolment.pupil_id, 0),
            tmg={
                area.key: tmg.get(enrolment.pupil_id, {}).get(area.key, NO_GRADE) for area in AREAS
            },
            interventions=interventions.get(enrolment.pupil_id, []),
        )
        for enrolment in enrolments
    ]


# Needing attention ---------------------------------------------------------------------

PERSISTENT_ABSENCE = "persistent_absence"
BELOW_TMG_ENGLISH = "below_tmg_english"
BELOW_TMG_MATHS = "below_tmg_maths"
REPEATED_NEGATIVE_BEHAVIOUR = "repeated_negative"
REASON_LABELS = {
    PERSISTENT_ABSENCE: "Persistent absence",
    BELOW_TMG_ENGLISH: "Below TMG in English",
    BELOW_TMG_MATHS: "Below TMG in mathematics",
    REPEATED_NEGATIVE_BEHAVIOUR: "Repeated negative behaviour",
}
# The need an intervention must cover to be in place for each reason.
REASON_NEEDS = {
    PERSISTENT_ABSENCE: "attendance",
    BELOW_TMG_ENGLISH: "english",
    BELOW_TMG_MATHS: "maths",
    REPEATED_NEGATIVE_BEHAVIOUR: "behaviour",
}

Kind = Intervention.Kind
# Intervention kinds are about support, not about a need, so each is read
# as covering the needs below. A kind with a qualification covers the
# areas that qualification counts in instead (see covered_needs).
PASTORAL_KINDS = frozenset({Kind.MENTORING, Kind.PASTORAL, Kind.OTHER})
KIND_NEEDS: dict[str, frozenset[str]] = {
    Kind.LITERACY: frozenset({"english"}),
    Kind.NUMERACY: frozenset({"maths"}),
    Kind.TUTORING: frozenset({"english", "maths"}),
    Kind.CATCH_UP: frozenset({"english", "maths"}),
    Kind.REVISION: frozenset({"english", "maths"}),
    Kind.HOMEWORK: frozenset({"english", "maths"}),
    Kind.MENTORING: frozenset({"attendance", "behaviour"}),
    Kind.PASTORAL: frozenset({"attendance", "behaviour"}),
    Kind.OTHER: frozenset({"attendance", "behaviour"}),
}


def covered_needs(intervention: Intervention) -> frozenset[str]:
    """Return the needs ("attendance", "behaviour", "english", "maths") an
    open intervention covers.

    An intervention with a qualification covers English or maths when that
    qualification counts in the area (progress.summaries.areas_of), and a
    mentoring, pastoral or other one attendance and behaviour as well. One
    without a qualification covers what its kind does (KIND_NEEDS): literacy
    English, numeracy maths, other academic kinds both, and mentoring,
    pastoral and other kinds attendance and behaviour.
    """
    # NOTE: Intervention has no attendance or behaviour kind, so these needs are
    # read from the pastoral kinds. An "other" kind covers English or maths only
    # with a qualification.
    if intervention.qualification is None:
        return KIND_NEEDS.get(intervention.kind, frozenset())
    areas = set(areas_of(intervention.qualification)) & {"english", "maths"}
    if intervention.kind in PASTORAL_KINDS:
        areas |= {"attendance", "behaviour"}
    return frozenset(areas)


@dataclass
class Reason:
    """A reason a pupil needs attention, with the open interventions that cover it."""

    key: str
    detail: str
    covered_by: list[Intervention] = field(default_factory=list)

    @property
    def label(self) -> str:
        return REASON_LABELS[self.key]

    @property
    def is_gap(self) -> bool:
        return not self.covered_by


@dataclass
class AttentionRow:
    """A pupil who needs attention now: their row, reasons and recent incidents."""

    row: PupilRow
    reasons: list[Reason]
    recent_negative: int = 0

    @property
    def pupil(self) -> Pupil:
        return self.row.pupil

    @property
    def pupil_id(self) -> int:
        return self.row.pupil_id

    @property
    def gaps(self) -> list[Reason]:
        """The reasons with no open intervention covering them."""
        return [reason for reason in self.reasons if reason.is_gap]


def recent_negative_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Return the REPEATED_NEGATIVE_DAYS days up to `today`, today included."""
    return today - datetime.timedelta(days=REPEATED_NEGATIVE_DAYS - 1), today


def _recent_negative(
    academy: Academy, year_group: YearGroup | None, today: datetime.date, pupil_ids: list[int]
) -> dict[int, int]:
    start, end = recent_negative_window(today)
    year_group_id = year_group.pk if year_group is not None else None
    links = (
        scoped(negative_links(start, end), [academy.pk], year_group_id)
        .filter(pupil_id__in=pupil_ids, points__lt=0)
        .exclude(role__in=BYSTANDER_ROLES)
    )
    return dict(
        links.values("pupil_id")
        .annotate(incidents=Count("incident_id", distinct=True))
        .values_list("pupil_id", "incidents")
        .order_by()
    )


def _reasons(row: PupilRow, recent: int) -> list[Reason]:
    reasons = []
    if row.persistent_absence:
        reasons.append(Reason(PERSISTENT_ABSENCE, f"Attendance {row.attendance_rate}%"))
    if row.tmg["english"] == BELOW_TMG:
        reasons.append(Reason(BELOW_TMG_ENGLISH, ""))
    if row.tmg["maths"] == BELOW_TMG:
        reasons.append(Reason(BELOW_TMG_MATHS, ""))
    if recent >= REPEATED_NEGATIVE:
        reasons.append(
            Reason(
                REPEATED_NEGATIVE_BEHAVIOUR,
                f"{recent} negative incidents in the last {REPEATED_NEGATIVE_DAYS} days",
            )
        )
    for reason in reasons:
        need = REASON_NEEDS[reason.key]
        reason.covered_by = [i for i in row.interventions if need in covered_needs(i)]
    return reasons


def needing_attention(
    academy: Academy, year_group: YearGroup | None, today: datetime.date
) -> list[AttentionRow]:
    """Return the pupils of `year_group` (or `academy`) on roll on `today` who
    need attention now, each with their reasons and the gaps among them.

    The reasons: persistent absence (attendance at or below 90% over the
    academic year to date), below TMG in English or in maths at the latest
    assessment point, and repeated negative behaviour (REPEATED_NEGATIVE).
    A reason is covered by an open (planned or in place) intervention that
    covers its need (covered_needs). Pupils with the most gaps come first,
    then those with the most reasons, then by name. One query more than
    pupil_rows, whatever the number of pupils.
    """
    rows = pupil_rows(academy, year_group, today)
    if not rows:
        return []
    recent = _recent_negative(academy, year_group, today, [row.pupil_id for row in rows])
    result = []
    for row in rows:
        reasons = _reasons(row, recent.get(row.pupil_id, 0))
        if reasons:
            result.append(AttentionRow(row, reasons, recent.get(row.pupil_id, 0)))
    # Rows arrive in register order and sort() is stable, so ties stay in it.
    result.sort(key=lambda r: (-len(r.gaps), -len(r.reasons)))
    return result
