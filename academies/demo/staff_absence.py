"""Staff absence spells for the demo trust, from the start of last academic
year to --today.

Each person's spells come from a random.Random seeded with one draw from
the demo's generator and the person's email, so they depend neither on
database ids nor on the order staff are read. The shares are estimates
chosen to look like an English school workforce. Most people have zero to
three short sickness spells a year and about 3% a long-term sickness
spell. Many teachers have a CPD day, and a few take authorised leave.
"""

import datetime
import random
from collections.abc import Iterable, Sequence
from typing import TypeVar

from academies.models import Academy
from attendance.models import StaffAbsence
from attendance.staff_absence import NO_DAYS, weekdays, working_days_by_academy
from staff.models import PostType, StaffMember

T = TypeVar("T")
Reason = StaffAbsence.Reason
Category = StaffAbsence.SicknessCategory
Part = StaffAbsence.Part

# Short sickness spells a year: (count, weight).
SHORT_SICKNESS_SPELLS = ((0, 45), (1, 30), (2, 15), (3, 10))
SHORT_SICKNESS_DAYS = ((1, 50), (2, 30), (3, 15), (5, 5))
SHORT_CATEGORIES = (
    (Category.MINOR, 70),
    (Category.MUSCULOSKELETAL, 8),
    (Category.MENTAL_HEALTH, 7),
    (Category.INJURY, 5),
    (Category.MEDICAL, 5),
    (Category.OTHER, 5),
)
LONG_TERM_SHARE = 0.03
LONG_TERM_DAYS = (15, 40)
LONG_TERM_CATEGORIES = (Category.MENTAL_HEALTH, Category.MUSCULOSKELETAL, Category.MEDICAL)
CPD_SHARE_TEACHING = 0.45
CPD_SHARE_OTHER = 0.15
AUTHORISED_SHARE = 0.15
UNAUTHORISED_SHARE = 0.01
HALF_DAY_SHARE = 0.1
TEACHING_POSTS = {PostType.TEACHER, PostType.LEADERSHIP}
AUTHORISED_NOTES = ("Family funeral", "Child's graduation", "Moving house", "Jury service")
CPD_NOTES = (
    "Subject network day",
    "Safeguarding update course",
    "NPQ session",
    "Exam board training",
)
SICKNESS_NOTES = ("", "", "", "Phoned in before 7:30", "Fit note received")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _weight in weighted]
    weights = [weight for _value, weight in weighted]
    return rng.choices(values, weights=weights)[0]


def _place(
    rng: random.Random, days: list[datetime.date], used: set[datetime.date], length: int
) -> list[datetime.date] | None:
    """Return `length` consecutive working days none of which is used yet,
    or None after a few tries."""
    if len(days) < length:
        return None
    for _attempt in range(8):
        first = rng.randrange(0, len(days) - length + 1)
        chosen = days[first : first + length]
        if not used.intersection(chosen):
            used.update(chosen)
            return chosen
    return None


def _spell(
    member: StaffMember,
    chosen: list[datetime.date],
    reason: str,
    recorded_by_id: int | None,
    **fields: object,
) -> StaffAbsence:
    return StaffAbsence(
        staff=member,
        start_date=chosen[0],
        end_date=chosen[-1],
        reason=reason,
        recorded_by_id=recorded_by_id,
        **fields,
    )


def _year_spells(
    rng: random.Random,
    member: StaffMember,
    days: list[datetime.date],
    used: set[datetime.date],
    manager_user: int | None,
) -> list[StaffAbsence]:
    spells = []
    if rng.random() < LONG_TERM_SHARE:
        length = rng.randint(*LONG_TERM_DAYS)
        chosen = _place(rng, days, used, length)
        if chosen:
            spells.append(
                _spell(
                    member,
                    chosen,
                    Reason.SICKNESS,
                    manager_user,
                    sickness_category=rng.choice(LONG_TERM_CATEGORIES),
                    notes="Fit notes received; occupational health referral made",
                    cover_needed=member.post_type in TEACHING_POSTS,
                )
            )
    for _index in range(_pick(rng, SHORT_SICKNESS_SPELLS)):
        length = _pick(rng, SHORT_SICKNESS_DAYS)
        chosen = _place(rng, days, used, length)
        if not chosen:
            continue
        parts = {}
        if length == 1 and rng.random() < HALF_DAY_SHARE:
            parts = {"start_part": Part.PM, "end_part": Part.PM}
        # Staff record about half their own short spells (self-certified).
        recorder = member.user_id if rng.random() < 0.5 else manager_user
        spells.append(
            _spell(
                member,
                chosen,
                Reason.SICKNESS,
                recorder,
                sickness_category=_pick(rng, SHORT_CATEGORIES),
                notes=rng.choice(SICKNESS_NOTES),
                cover_needed=member.post_type in TEACHING_POSTS,
                **parts,
            )
        )
    cpd_share = CPD_SHARE_TEACHING if member.post_type in TEACHING_POSTS else CPD_SHARE_OTHER
    extras = (
        (cpd_share, Reason.TRAINING, CPD_NOTES),
        (AUTHORISED_SHARE, Reason.AUTHORISED, AUTHORISED_NOTES),
        (UNAUTHORISED_SHARE, Reason.UNAUTHORISED, ("Did not attend; no contact made",)),
    )
    for share, reason, notes in extras:
        if rng.random() >= share:
            continue
        chosen = _place(rng, days, used, 1)
        if chosen:
            spells.append(
                _spell(
                    member,
                    chosen,
                    reason,
                    manager_user,
                    notes=rng.choice(notes),
                    cover_needed=member.post_type in TEACHING_POSTS,
                )
            )
    return spells


def load_staff_absence(
    *,
    rng: random.Random,
    today: datetime.date,
    staff: Iterable[StaffMember],
    academies: Iterable[Academy],
) -> int:
    """Create demo spells for `staff` from 1 September of last academic year
    to `today`. Like the rest of the demo data, they get no audit records.
    Returns the number of spells.

    Spells fall on working days (school days plus INSET days at an academy,
    weekdays for the central team), within each person's employment and
    never overlapping. `academies` are those whose staff are given.
    """
    current_start = today.year if today.month >= 9 else today.year - 1
    start = datetime.date(current_start - 1, 9, 1)
    year_bounds = (
        (start, datetime.date(current_start, 8, 31)),
        (datetime.date(current_start, 9, 1), today),
    )
    days_by_academy = working_days_by_academy(list(academies), start, today)
    central = weekdays(start, today)
    base_seed = rng.getrandbits(64)

    members = sorted(staff, key=lambda m: m.email)
    user_of: dict[int | None, int | None] = {m.pk: m.user_id for m in members}
    spells: list[StaffAbsence] = []
    for member in members:
        person_rng = random.Random(f"{base_seed}-{member.email}")
        all_days = days_by_academy.get(member.academy_id, NO_DAYS) if member.academy_id else central
        used: set[datetime.date] = set()
        for year_start, year_end in year_bounds:
            first = max(year_start, member.started_on) if member.started_on else year_start
            last = min(year_end, member.left_on) if member.left_on else year_end
            days = [day for day in all_days if first <= day <= last]
            spells.extend(
                _year_spells(person_rng, member, days, used, user_of.get(member.line_manager_id))
            )

    created = StaffAbsence.objects.bulk_create(spells, batch_size=2000)
    return len(created)
