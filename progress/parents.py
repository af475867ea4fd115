"""Contacts with parents about progress, and the progress letter.

Selectors read the content of a letter: the subjects where a pupil is below
their TMG at their latest assessment point, the interventions in place and
who to contact. Services log a contact, or one contact per letter printed.
A letter is addressed to one contact with parental responsibility and
carries only that contact's own name and address, so a letter never shows
another parent's address.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from academies.models import YearGroup
from pupils.models import Contact, Enrolment, Pupil, active_on
from staff.models import Role, RoleAssignment, ScopeKind, StaffMember
from trust import audit, clock
from trust.access import scope_for
from trust.models import AuditEvent

from .access import can_manage_assessment_points
from .grades import Status, entry_status
from .models import (
    AssessmentPoint,
    Grade,
    GradeEntry,
    GradeScale,
    Intervention,
    InterventionPupil,
    ParentContact,
    Qualification,
    TargetGrade,
)

MAX_SUMMARY = 2000
BELOW_STATUSES = (Status.BELOW, Status.WELL_BELOW)
# Subject codes and Attainment 8 elements that count as English or maths
# when choosing the pupils of a year group's letters.
CORE_SUBJECT_CODES = ("english", "maths")
CORE_ELEMENTS = (
    Qualification.Element.ENGLISH_LANGUAGE,
    Qualification.Element.ENGLISH_LITERATURE,
    Qualification.Element.MATHS,
)
# Interventions a letter lists as in place.
IN_PLACE = (Intervention.Status.PLANNED, Intervention.Status.ACTIVE)

# The heading of the grade column and the words for a grade, by assessment point kind.
POINT_KIND_HEADINGS: dict[str, str] = {
    AssessmentPoint.Kind.WORKING_AT: "Working at now",
    AssessmentPoint.Kind.PREDICTED: "Predicted grade",
    AssessmentPoint.Kind.MOCK: "Mock exam grade",
    AssessmentPoint.Kind.FINAL: "Final result",
}
PRIMARY_TA_WORDS = {
    "WTS": "working towards the expected standard (WTS)",
    "EXS": "working at the expected standard (EXS)",
    "GDS": "working at greater depth (GDS)",
}
HOW_FAR_WORDS: dict[str, str] = {
    Status.BELOW: "a little below the target",
    Status.WELL_BELOW: "well below the target",
}


# Grades in plain words ----------------------------------------------------------------------


def grade_in_words(grade: Grade | None, value: Decimal | None, scale: GradeScale) -> str:
    """Describe a grade or scaled score as a parent would read it, keeping the
    label in brackets where the words differ from it, so it matches reports."""
    if grade is None:
        if value is None:
            return "no grade"
        return f"a scaled score of {value.normalize():f}"
    label = grade.label
    if not grade.is_result:
        return label.lower()
    if label == "U":
        return "ungraded (U)"
    if scale.kind == GradeScale.Kind.PRIMARY_TA and label in PRIMARY_TA_WORDS:
        return PRIMARY_TA_WORDS[label]
    if scale.kind == GradeScale.Kind.GCSE and label[-1:] in "+-" and len(label) > 1:
        size = "a high" if label.endswith("+") else "a low"
        return f"{size} grade {label[:-1]} ({label})"
    if label.endswith("*"):
        return f"{label[:-1]} star ({label})" if len(label) > 2 else f"grade {label} (A star)"
    if scale.kind in (GradeScale.Kind.GCSE, GradeScale.Kind.A_LEVEL):
        return f"grade {label}"
    return label


def is_core(qualification: Qualification) -> bool:
    """Return whether the qualification is English or maths."""
    return (
        qualification.element in CORE_ELEMENTS or qualification.subject.code in CORE_SUBJECT_CODES
    )


# Grades against TMG -------------------------------------------------------------------------


@dataclass(frozen=True)
class BelowSubject:
    """A qualification where the pupil is below their TMG, in a parent's words."""

    qualification: Qualification
    grade_words: str
    tmg_words: str
    how_far: str
    core: bool


@dataclass
class Standing:
    """A pupil's grades against their TMGs at their latest assessment point."""

    pupil: Pupil
    enrolment: Enrolment | None
    # The latest point dated up to today at which the pupil has a grade entry.
    point: AssessmentPoint | None = None
    below: list[BelowSubject] = field(default_factory=list)

    @property
    def below_core(self) -> bool:
        return any(subject.core for subject in self.below)

    @property
    def needs_letter(self) -> bool:
        """Whether the pupil is below TMG in English or maths, or in two or more subjects."""
        return self.below_core or len(self.below) >= 2

    @property
    def grade_heading(self) -> str:
        if self.point is None:
            return "Grade now"
        return POINT_KIND_HEADINGS.get(self.point.kind, "Grade now")


def letter_enrolment(pupil: Pupil, today: datetime.date) -> Enrolment | None:
    """Return the pupil's enrolment on `today`, else their latest one."""
    enrolments = pupil.enrolments.select_related(
        "academy", "academic_year", "year_group", "tutor_group__tutor"
    )
    return (
        enrolments.filter(active_on(today)).order_by("-start_date", "-pk").first()
        or enrolments.order_by("-start_date", "-pk").first()
    )


def _cohort_key(item: Enrolment | AssessmentPoint) -> tuple[int, int, int]:
    return (item.academy_id, item.academic_year_id, item.year_group_id)


def standings_for(enrolments: Sequence[Enrolment], today: datetime.date) -> dict[int, Standing]:
    """Return each enrolled pupil's standing, keyed by pupil id.

    Reads the points, the grade entries and the TMGs once each, so the
    query count does not grow with the number of pupils.
    """
    standings = {e.pupil_id: Standing(pupil=e.pupil, enrolment=e) for e in enrolments}
    if not enrolments:
        return standings
    cohorts = Q(pk__in=[])
    for academy_id, year_id, year_group_id in {_cohort_key(e) for e in enrolments}:
        cohorts |= Q(academy_id=academy_id, academic_year_id=year_id, year_group_id=year_group_id)
    points = AssessmentPoint.objects.filter(cohorts, date__lte=today)
    entries = (
        GradeEntry.objects.filter(pupil_id__in=list(standings), assessment_point__in=points)
        .select_related("grade", "qualification__subject", "qualification__scale")
        .select_related("assessment_point")
        .prefetch_related("grade__equivalents")
    )
    own_key = {e.pupil_id: _cohort_key(e) for e in enrolments}
    by_pupil: dict[int, list[GradeEntry]] = {}
    for entry in entries:
        if _cohort_key(entry.assessment_point) == own_key[entry.pupil_id]:
            by_pupil.setdefault(entry.pupil_id, []).append(entry)

    year_ids = {e.academic_year_id for e in enrolments}
    targets = {
        (t.pupil_id, t.academic_year_id, t.qualification_id): t
        for t in TargetGrade.objects.filter(
            pupil_id__in=list(by_pupil), academic_year_id__in=year_ids
        )
        .select_related("grade")
        .prefetch_related("grade__equivalents")
    }
    for pupil_id, own in by_pupil.items():
        latest = max((e.assessment_point for e in own), key=lambda p: (p.date, p.pk))
        standing = standings[pupil_id]
        standing.point = latest
        at_latest = [e for e in own if e.assessment_point_id == latest.pk]
        at_latest.sort(key=lambda e: (e.qualification.subject.name, e.qualification.name))
        for entry in at_latest:
            target = targets.get((pupil_id, latest.academic_year_id, entry.qualification_id))
            scale = entry.qualification.scale
            status = entry_status(entry, target, scale)
            if status not in BELOW_STATUSES or target is None:
                continue
            standing.below.append(
                BelowSubject(
                    qualification=entry.qualification,
                    grade_words=grade_in_words(entry.grade, entry.value, scale),
                    tmg_words=grade_in_words(target.grade, target.value, scale),
                    how_far=HOW_FAR_WORDS[status],
                    core=is_core(entry.qualification),
                )
            )
    return standings


# Interventions and people to contact ---------------------------------------------------------


@dataclass(frozen=True)
class SupportLine:
    """An intervention in place for a pupil, as a letter lists it."""

    kind: str
    title: str
    subject: str
    lead: str
    start_date: datetime.date
    review_date: datetime.date


def support_in_place(enrolments: Sequence[Enrolment]) -> dict[int, list[SupportLine]]:
    """Return the planned and active interventions of each pupil in their
    enrolment's academic year, soonest review first, keyed by pupil id."""
    year_of = {e.pupil_id: e.academic_year_id for e in enrolments}
    links = (
        InterventionPupil.objects.filter(
            pupil_id__in=list(year_of),
            intervention__status__in=IN_PLACE,
            intervention__academic_year_id__in=set(year_of.values()),
        )
        .select_related("intervention__owner", "intervention__qualification")
        .order_by("intervention__review_date", "intervention_id")
    )
    found: dict[int, list[SupportLine]] = {}
    for link in links:
        intervention = link.intervention
        if intervention.academic_year_id != year_of[link.pupil_id]:
            continue
        qualification = intervention.qualification
        found.setdefault(link.pupil_id, []).append(
            SupportLine(
                kind=intervention.get_kind_display(),
                title=intervention.title,
                subject=qualification.name if qualification else "All subjects",
                lead=intervention.owner.formal_name,
                start_date=intervention.start_date,
                review_date=intervention.review_date,
            )
        )
    return found


@dataclass(frozen=True)
class StaffContact:
    """A member of staff a parent may contact about the letter."""

    staff_id: int
    name: str
    role: str
    email: str


def _staff_contact(member: StaffMember, role: str) -> StaffContact:
    return StaffContact(staff_id=member.pk, name=member.formal_name, role=role, email=member.email)


def staff_contacts(
    enrolments: Sequence[Enrolment], signer: StaffMember | None, today: datetime.date
) -> dict[int, list[StaffContact]]:
    """Return who each pupil's parents may contact: the person sending the
    letter, the pupil's tutor and the heads of their year, each once."""
    year_group_ids = {e.year_group_id for e in enrolments}
    heads: dict[int, list[StaffMember]] = {}
    assignments = (
        RoleAssignment.objects.filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=today),
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            role=Role.HEAD_OF_YEAR,
            scope=ScopeKind.YEAR_GROUP,
            year_group_id__in=year_group_ids,
        )
        .select_related("staff")
        .order_by("staff__last_name", "staff__first_name", "pk")
    )
    for assignment in assignments:
        if assignment.year_group_id is not None:
            heads.setdefault(assignment.year_group_id, []).append(assignment.staff)

    found: dict[int, list[StaffContact]] = {}
    for enrolment in enrolments:
        people: list[StaffContact] = []
        if signer is not None:
            people.append(_staff_contact(signer, signer.job_title))
        group = enrolment.tutor_group
        if group is not None and group.tutor is not None:
            people.append(_staff_contact(group.tutor, f"Tutor, {group.name}"))
        for head in heads.get(enrolment.year_group_id, []):
            people.append(_staff_contact(head, f"Head of {enrolment.year_group.name}"))
        unique: dict[int, StaffContact] = {}
        for person in people:
            unique.setdefault(person.staff_id, person)
        found[enrolment.pupil_id] = list(unique.values())
    return found


# Letters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """The contact a letter is addressed to: only their own name and address."""

    contact_id: int
    name: str
    address: str
    # Set when the recipient's address is withheld from other contacts and
    # the letter shares a file with other letters, so it is left off.
    address_withheld: bool = False

    @property
    def address_lines(self) -> list[str]:
        """The address split at new lines and commas, as an envelope window shows it."""
        parts = [part.strip() for line in self.address.splitlines() for part in line.split(",")]
        return [part for part in parts if part]


@dataclass
class Letter:
    recipient: Recipient
    standing: Standing
    support: list[SupportLine]
    people: list[StaffContact]
    academy_name: str
    date: datetime.date
    signer_name: str
    signer_role: str

    @property
    def pupil(self) -> Pupil:
        return self.standing.pupil


def responsible_contacts(pupils: Iterable[Pupil]) -> dict[int, list[Contact]]:
    """Return each pupil's contacts with parental responsibility, in priority order."""
    found: dict[int, list[Contact]] = {}
    rows = Contact.objects.filter(
        pupil_id__in=[p.pk for p in pupils], parental_responsibility=True
    ).order_by("pupil_id", "priority", "pk")
    for contact in rows:
        found.setdefault(contact.pupil_id, []).append(contact)
    return found


def build_letters(
    standings: Sequence[Standing],
    recipients: dict[int, list[Contact]],
    *,
    signer: StaffMember | None,
    signer_name: str,
    today: datetime.date,
) -> list[Letter]:
    """Return one letter per recipient, pupils in the order given.

    A recipient without parental responsibility raises ValueError, so a
    caller can never address a letter to them. When the letters share one
    file, an address withheld from other contacts is left off its own
    letter too, so the file never contains it beside another parent's letter.
    """
    shared_file = sum(len(recipients.get(s.pupil.pk, [])) for s in standings) > 1
    enrolments = [s.enrolment for s in standings if s.enrolment is not None]
    support = support_in_place(enrolments)
    people = staff_contacts(enrolments, signer, today)
    letters = []
    for standing in standings:
        enrolment = standing.enrolment
        pupil_id = standing.pupil.pk
        for contact in recipients.get(pupil_id, []):
            if not contact.parental_responsibility or contact.pupil_id != pupil_id:
                raise ValueError(
                    f"Contact {contact.pk} cannot receive a letter about pupil {pupil_id}: "
                    "letters go only to the pupil's contacts with parental responsibility."
                )
            letters.append(
                Letter(
                    recipient=_recipient(contact, shared_file),
                    standing=standing,
                    support=support.get(pupil_id, []),
                    people=people.get(pupil_id, []),
                    academy_name=enrolment.academy.name if enrolment else "",
                    date=today,
                    signer_name=signer.formal_name if signer else signer_name,
                    signer_role=signer.job_title if signer else "",
                )
            )
    return letters


def _recipient(contact: Contact, shared_file: bool) -> Recipient:
    withheld = shared_file and not contact.address_shareable and bool(contact.address)
    return Recipient(
        contact_id=contact.pk,
        name=contact.name,
        address="" if withheld else contact.address,
        address_withheld=withheld,
    )


def letter_summary(letter: Letter) -> str:
    """Return the note a letter leaves in the pupil's contact log."""
    standing = letter.standing
    point = standing.point
    at = f" at {point.name} ({point.date:%d/%m/%Y})" if point else ""
    if standing.below:
        names = ", ".join(subject.qualification.name for subject in standing.below)
        text = f"Progress letter: below TMG{at} in {names}."
    elif point is None:
        text = "Progress letter: no grades recorded yet this year."
    else:
        text = f"Progress letter: on or above TMG in every subject{at}."
    count = len(letter.support)
    if count:
        text += f" {count} intervention{'s' if count != 1 else ''} listed."
    return text


@transaction.atomic
def letters_record(*, actor: Any, staff: StaffMember, letters: Sequence[Letter]) -> int:
    """Log a ParentContact (method letter) for every letter printed and return the count."""
    now = clock.now()
    rows = []
    for letter in letters:
        enrolment = letter.standing.enrolment
        if enrolment is None:
            continue
        rows.append(
            ParentContact(
                pupil=letter.pupil,
                contact_id=letter.recipient.contact_id,
                academy_id=enrolment.academy_id,
                method=ParentContact.Method.LETTER,
                occurred_at=now,
                summary=letter_summary(letter),
                staff=staff,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    with audit.acting_as(actor, "Progress letter printed"):
        ParentContact.objects.bulk_create(rows)
        audit.record_bulk(rows, AuditEvent.Action.CREATE)
    return len(rows)


# The contact log ---------------------------------------------------------------------------


def staff_member_of(user: Any) -> StaffMember | None:
    """Return the staff record of `user`, or None for a login without one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StaffMember.objects.filter(user=user).select_related("academy").first()


def loggable_staff(academy_id: int, today: datetime.date) -> QuerySet[StaffMember]:
    """Return the staff who may be named on a contact: the academy's and the
    central team's, still in post on `today`."""
    return (
        StaffMember.objects.filter(Q(academy_id=academy_id) | Q(academy__isnull=True))
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=today))
        .order_by("last_name", "first_name", "pk")
    )


def pupil_parent_contacts(pupil: Pupil) -> QuerySet[ParentContact]:
    """Return the contacts logged about `pupil`, newest first."""
    return (
        ParentContact.objects.filter(pupil=pupil)
        .select_related("contact", "staff", "created_by")
        .order_by("-occurred_at", "-pk")
    )


@transaction.atomic
def parent_contact_log(
    *,
    actor: Any,
    pupil: Pupil,
    method: str,
    occurred_at: datetime.datetime | None,
    summary: str,
    staff_id: int | None,
    contact_id: int | None = None,
) -> ParentContact:
    """Log one contact with a pupil's parents or carers about their progress.

    Raises ValidationError naming each invalid field, and then writes nothing.
    """
    errors: dict[str, list[str]] = {}
    today = clock.today()
    enrolment = letter_enrolment(pupil, today)
    if enrolment is None:
        errors["pupil"] = [f"Pupil {pupil.pk} has no enrolment, so no academy to log against."]

    if method not in ParentContact.Method.values:
        allowed = ", ".join(ParentContact.Method.values)
        errors["method"] = [f"Method “{str(method)[:20]}” is not valid; use one of {allowed}."]

    if occurred_at is None:
        errors["occurred_at"] = ["When is missing; enter the date and time of the contact."]
    elif occurred_at > clock.now():
        shown = occurred_at.astimezone(clock.LONDON).strftime("%d/%m/%Y %H:%M")
        errors["occurred_at"] = [
            f"When ({shown}) is in the future; enter a contact that has already happened."
        ]

    text = (summary or "").strip()
    if not text:
        errors["summary"] = ["Summary is missing; say what was discussed or sent."]
    elif len(text) > MAX_SUMMARY:
        errors["summary"] = [f"Summary has {len(text)} characters; use at most {MAX_SUMMARY}."]

    if contact_id is not None and not pupil.contacts.filter(pk=contact_id).exists():
        errors["contact"] = [
            f"Contact {contact_id} is not one of this pupil's parents or carers; choose from "
            "the pupil's contacts."
        ]

    staff = None
    if staff_id is None:
        errors["staff"] = ["Staff member is missing; choose who made the contact."]
    elif enrolment is not None:
        staff = loggable_staff(enrolment.academy_id, today).filter(pk=staff_id).first()
        if staff is None:
            errors["staff"] = [
                f"Staff member {staff_id} is not in post at {enrolment.academy.name}; choose "
                "from the academy's staff."
            ]
    if errors or enrolment is None or staff is None or occurred_at is None:
        raise ValidationError(errors)

    with audit.acting_as(actor, "Parent contact logged"):
        return ParentContact.objects.create(
            pupil=pupil,
            contact_id=contact_id,
            academy_id=enrolment.academy_id,
            method=method,
            occurred_at=occurred_at,
            summary=text,
            staff=staff,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )


# A year group's letters --------------------------------------------------------------------


def can_print_year_group_letters(user: Any, year_group: YearGroup) -> bool:
    """Return whether `user` may print a year group's letters: its heads of
    year, the academy's headteacher and leaders, and trust leaders."""
    if can_manage_assessment_points(user, year_group):
        return True
    scope = scope_for(user)
    return scope.all_pupils and scope.has_role(Role.TRUST_LEADER)


def year_group_standings(year_group: YearGroup, today: datetime.date) -> list[Standing]:
    """Return the standings of the pupils on roll in `year_group` on `today`
    who are below TMG in English or maths, or in two or more subjects, in
    register order."""
    enrolments = list(
        Enrolment.objects.filter(active_on(today), year_group=year_group)
        .select_related("pupil", "academy", "academic_year", "year_group", "tutor_group__tutor")
        .order_by("pupil_id", "-start_date", "-pk")
    )
    first: dict[int, Enrolment] = {}
    for enrolment in enrolments:
        first.setdefault(enrolment.pupil_id, enrolment)
    standings = standings_for(list(first.values()), today)
    chosen = [s for s in standings.values() if s.needs_letter]
    return sorted(chosen, key=lambda s: register_key(s.pupil))


def register_key(pupil: Pupil) -> tuple[str, str, int]:
    """Sort key of a register: surname, then forename, as shown, ignoring case."""
    return (pupil.surname.lower(), pupil.forename.lower(), pupil.pk)
