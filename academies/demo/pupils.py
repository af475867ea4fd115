"""Pupils for the demo trust with their enrolments, SEN, FSM and contacts.

Shares are approximate and chosen to look like an English trust: about 13%
SEN support (K), 3% EHC plans (E), a quarter with a free school meals
period, a fifth with English as an additional language.
"""

import datetime
from dataclasses import dataclass, field

from academies import services
from academies.calendar import date_of_birth_range
from academies.models import TutorGroup
from pupils.models import (
    Contact,
    Enrolment,
    FsmPeriod,
    Pupil,
    SenNeed,
    SenNeedType,
    SenStatus,
)
from pupils.upn import check_letter

from .names import FIXED_PUPILS, NAME_GROUPS, PREFERRED_FORENAMES, STREETS, TOWNS, NameGroup
from .staffing import ascii_fold
from .structure import BATCH_SIZE, AcademyPlan, DemoContext

EHC_PLAN_SHARE = 0.03
SEN_SUPPORT_SHARE = 0.13
FSM_SHARE = 0.25
# Needs in rough order of how often schools record them as primary need.
SEN_NEED_WEIGHTS = {
    SenNeedType.SLCN: 24,
    SenNeedType.SEMH: 20,
    SenNeedType.SPLD: 12,
    SenNeedType.MLD: 12,
    SenNeedType.ASD: 14,
    SenNeedType.PD: 3,
    SenNeedType.HI: 2,
    SenNeedType.VI: 1,
    SenNeedType.SLD: 2,
    SenNeedType.OTH: 3,
    SenNeedType.NSA: 2,
}
MEDICAL_NOTES = (
    "Asthma: a reliever inhaler is kept in the school office.",
    "Nut allergy: an adrenaline auto-injector is kept in the school office.",
    "Type 1 diabetes: an individual healthcare plan is on file.",
    "Epilepsy: see the individual healthcare plan.",
    "Wears glasses for reading.",
)


@dataclass
class PupilRows:
    pupils: list[Pupil] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    fsm_periods: list[FsmPeriod] = field(default_factory=list)
    sen_needs: list[SenNeed] = field(default_factory=list)


class PupilMaker:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.weights = [g.weight for g in NAME_GROUPS]
        self.upn_serials: dict[str, int] = {}
        self.rows = PupilRows()
        self.needs = list(SEN_NEED_WEIGHTS)
        self.need_weights = list(SEN_NEED_WEIGHTS.values())

    def _upn(self, plan: AcademyPlan, allocation_year: int) -> str:
        """Return a new valid UPN: LA code, establishment number, the last two
        digits of the year of allocation and a 3-digit serial."""
        prefix = f"{plan.la_code}{plan.establishment_number}{allocation_year % 100:02d}"
        serial = self.upn_serials.get(prefix, 0)
        self.upn_serials[prefix] = serial + 1
        body = f"{prefix}{serial:03d}"
        return check_letter(body) + body

    def _date_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))

    def add_cohort(self, plan: AcademyPlan, nc_year: int, size: int, fixed: bool) -> None:
        groups = plan.tutor_groups[nc_year]
        last_groups = plan.last_year_groups.get(nc_year - 1, [])
        for index in range(size):
            names = FIXED_PUPILS[index] if fixed and index < len(FIXED_PUPILS) else None
            pupil, group = self._pupil(plan, nc_year, names)
            self.rows.pupils.append(pupil)
            self._enrol(plan, pupil, nc_year, groups[index % len(groups)], last_groups, index)
            self._contacts(pupil, group)
            self._fsm(pupil)

    def _pupil(
        self, plan: AcademyPlan, nc_year: int, fixed: tuple[str, str, str, str] | None
    ) -> tuple[Pupil, NameGroup]:
        rng = self.rng
        group = rng.choices(NAME_GROUPS, weights=self.weights)[0]
        sex = rng.choice("FM")
        forename = rng.choice(group.female if sex == "F" else group.male)
        surname = rng.choice(group.surnames)
        preferred = ""
        if fixed:
            forename, surname, sex, preferred = fixed
        elif forename in PREFERRED_FORENAMES and rng.random() < 0.3:
            preferred = PREFERRED_FORENAMES[forename]
        middle = ""
        if rng.random() < 0.35:
            middle = rng.choice(group.female if sex == "F" else group.male)
            if middle == forename:
                middle = ""

        first_dob, last_dob = date_of_birth_range(nc_year, self.ctx.current_start_year)
        date_of_birth = self._date_between(first_dob, last_dob)
        sen_roll = rng.random()
        sen_status = SenStatus.NONE
        if sen_roll < EHC_PLAN_SHARE:
            sen_status = SenStatus.EHC_PLAN
        elif sen_roll < EHC_PLAN_SHARE + SEN_SUPPORT_SHARE:
            sen_status = SenStatus.SEN_SUPPORT
        ks2_reading = ks2_maths = None
        if nc_year >= 7 and rng.random() < 0.95:
            ks2_reading = max(80, min(120, round(rng.gauss(105, 7))))
            ks2_maths = max(80, min(120, round(rng.gauss(104, 7))))

        pupil = Pupil(
            # Pupils get their UPN when they first join a school, about the
            # autumn they start Reception (Nursery pupils in the current year).
            upn=self._upn(plan, self.ctx.current_start_year - max(nc_year, 0)),
            legal_forename=forename,
            legal_surname=surname,
            middle_names=middle,
            preferred_forename=preferred,
            preferred_surname=(
                rng.choice(group.surnames) if not fixed and rng.random() < 0.01 else ""
            ),
            date_of_birth=date_of_birth,
            sex=sex,
            sen_status=sen_status,
            eal=rng.random() < group.eal_share,
            looked_after=rng.random() < 0.01,
            previously_looked_after=rng.random() < 0.007,
            service_child=rng.random() < 0.012,
            medical_notes=rng.choice(MEDICAL_NOTES) if rng.random() < 0.05 else "",
            ks2_reading=ks2_reading,
            ks2_maths=ks2_maths,
        )
        # bulk_create skips Pupil.save(), which keeps search_name in step.
        pupil.search_name = pupil.build_search_name()
        if sen_status != SenStatus.NONE:
            count = 2 if sen_status == SenStatus.EHC_PLAN and rng.random() < 0.5 else 1
            chosen: list[SenNeedType] = []
            while len(chosen) < count:
                need = rng.choices(self.needs, weights=self.need_weights)[0]
                if need not in chosen:
                    chosen.append(need)
            for rank, chosen_need in enumerate(chosen, start=1):
                self.rows.sen_needs.append(SenNeed(pupil=pupil, need=chosen_need, rank=rank))
        return pupil, group

    def _enrol(
        self,
        plan: AcademyPlan,
        pupil: Pupil,
        nc_year: int,
        group: TutorGroup,
        last_groups: list[TutorGroup],
        index: int,
    ) -> None:
        ctx = self.ctx
        assert ctx.current_year is not None and ctx.last_year is not None
        start = ctx.current_year.start_date
        joined_this_year = ctx.today > start and self.rng.random() < 0.04
        if joined_this_year:
            start = self._date_between(start + datetime.timedelta(days=1), ctx.today)
        self.rows.enrolments.append(
            Enrolment(
                pupil=pupil,
                academy=plan.academy,
                academic_year=ctx.current_year,
                year_group=plan.year_groups[nc_year],
                tutor_group=group,
                start_date=start,
            )
        )
        if joined_this_year or nc_year == services.entry_nc_year(plan.academy):
            return
        old_group = next(
            (g for g in last_groups if g.name[-1] == group.name[-1]),
            None,
        )
        self.rows.enrolments.append(
            Enrolment(
                pupil=pupil,
                academy=plan.academy,
                academic_year=ctx.last_year,
                year_group=plan.year_groups[nc_year - 1],
                tutor_group=old_group,
                start_date=ctx.last_year.start_date,
                end_date=ctx.last_year.end_date,
            )
        )

    def _contacts(self, pupil: Pupil, group: NameGroup) -> None:
        rng = self.rng
        street = rng.choice(STREETS)
        town, area = rng.choice(TOWNS)
        home = (
            f"{rng.randint(1, 180)} {street}, {town} "
            f"{area}{rng.randint(1, 14)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        first_is_mother = rng.random() < 0.8
        parents = [("Mother", "female"), ("Father", "male")]
        if not first_is_mother:
            parents.reverse()
        count = 2 if rng.random() < 0.65 else 1
        for priority in range(1, count + 1):
            relationship, sex = parents[priority - 1]
            responsibility = True
            address = home
            shareable = True
            if priority == 2 and rng.random() < 0.12:
                relationship = rng.choice(("Stepfather", "Stepmother", "Grandmother"))
                responsibility = False
            if priority == 2 and rng.random() < 0.25:
                # A parent living apart; a few addresses must not be shared.
                address = f"{rng.randint(1, 90)} {rng.choice(STREETS)}, {rng.choice(TOWNS)[0]}"
                shareable = rng.random() >= 0.12
            forename = rng.choice(group.female if sex == "female" else group.male)
            surname = pupil.legal_surname if rng.random() < 0.75 else rng.choice(group.surnames)
            # Names in other scripts fold to nothing, so skip empty parts.
            email_parts = [p for p in (ascii_fold(forename), ascii_fold(surname)) if p]
            email_name = ".".join(email_parts) or "parent"
            self.rows.contacts.append(
                Contact(
                    pupil=pupil,
                    name=f"{forename} {surname}",
                    relationship=relationship,
                    parental_responsibility=responsibility,
                    priority=priority,
                    # Ofcom reserves 07700 900000 to 900999 for TV and radio
                    # drama, so these numbers are not allocated to anyone.
                    phone=f"07700 900{rng.randint(0, 999):03d}",
                    email=f"{email_name}{rng.randint(1, 99)}@example.com",
                    address=address,
                    address_shareable=shareable,
                )
            )

    def _fsm(self, pupil: Pupil) -> None:
        rng = self.rng
        if rng.random() >= FSM_SHARE:
            return
        earliest = pupil.date_of_birth + datetime.timedelta(days=4 * 365)
        if earliest >= self.ctx.today:
            earliest = pupil.date_of_birth
        start = self._date_between(earliest, self.ctx.today)
        end = None
        if rng.random() < 0.35 and (self.ctx.today - start).days > 60:
            end = self._date_between(start + datetime.timedelta(days=30), self.ctx.today)
        self.rows.fsm_periods.append(FsmPeriod(pupil=pupil, start_date=start, end_date=end))


def create_pupils(ctx: DemoContext) -> PupilRows:
    """Create each academy's pupils, year group by year group."""
    maker = PupilMaker(ctx)
    for plan_index, plan in enumerate(ctx.plans):
        for nc_year in plan.nc_years:
            fixed = plan_index == 0 and nc_year == 9
            maker.add_cohort(plan, nc_year, plan.cohort_sizes[nc_year], fixed)

    rows = maker.rows
    Pupil.objects.bulk_create(rows.pupils, batch_size=BATCH_SIZE)
    Enrolment.objects.bulk_create(rows.enrolments, batch_size=BATCH_SIZE)
    Contact.objects.bulk_create(rows.contacts, batch_size=BATCH_SIZE)
    FsmPeriod.objects.bulk_create(rows.fsm_periods, batch_size=BATCH_SIZE)
    SenNeed.objects.bulk_create(rows.sen_needs, batch_size=BATCH_SIZE)
    return rows
