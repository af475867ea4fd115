"""Build the whole demo trust in one transaction.

Every random choice comes from one random.Random(seed), drawn in a fixed
order, and nothing depends on database ids or set order, so the same seed
and date give the same trust in any fresh database.
"""

import datetime
import random
import time
from dataclasses import dataclass

from django.db import transaction

from trust import clock

from . import appraisal, attendance, behaviour, progress, pupils, staff_absence, staffing, structure


@dataclass(frozen=True)
class SeedOptions:
    academies: int
    pupils_per_academy: int
    seed: int
    today: datetime.date
    # Mark registers and log behaviour only for the last N weeks before
    # today; None covers last year in full and this year to date.
    attendance_weeks: int | None = None


@dataclass(frozen=True)
class SeedResult:
    academies: int
    pupils: int
    enrolments: int
    staff: int
    seconds: float
    logins: list[staffing.DemoLogin]


def build_demo_trust(options: SeedOptions) -> SeedResult:
    """Create the demo trust described by `options` and return what was made."""
    started = time.monotonic()
    ctx = structure.DemoContext(
        rng=random.Random(options.seed),
        today=options.today,
        current_start_year=clock.academic_year_start(options.today),
    )
    with transaction.atomic():
        structure.create_trust(ctx)
        structure.create_calendar(ctx)
        structure.create_academies(ctx, options.academies)
        structure.create_inspections(ctx)
        structure.create_year_groups(ctx, options.pupils_per_academy)
        structure.plan_tutor_groups(ctx)
        staff = staffing.plan_staff(ctx)
        staffing.save_staff(ctx, staff)
        structure.save_tutor_groups(ctx)
        staffing.save_roles(staff)
        structure.create_closures(ctx)
        rows = pupils.create_pupils(ctx)
        attendance.load_attendance(ctx, weeks=options.attendance_weeks)
        staff_absence.load_staff_absence(
            rng=ctx.rng,
            today=ctx.today,
            staff=[person.member for person in staff.people],
            academies=[plan.academy for plan in ctx.plans],
        )
        behaviour.load_behaviour(ctx, weeks=options.attendance_weeks)
        progress.load_progress(
            ctx, staff=staff, enrolments=rows.enrolments, weeks=options.attendance_weeks
        )
        appraisal.load_appraisal(ctx, staff=staff)
    return SeedResult(
        academies=len(ctx.plans),
        pupils=len(rows.pupils),
        enrolments=len(rows.enrolments),
        staff=len(staff.people),
        seconds=time.monotonic() - started,
        logins=staff.logins,
    )
