import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from academies.calendar import nc_year_for
from academies.demo.structure import REPORT_CARD_START
from academies.models import (
    AcademicYear,
    Academy,
    Closure,
    Department,
    OfstedInspection,
    Phase,
    Term,
    Trust,
    TutorGroup,
    YearGroup,
)
from pupils.models import Contact, Enrolment, FsmPeriod, Pupil, SenNeed, active_on
from pupils.upn import upn_error
from staff.models import Role, RoleAssignment, ScopeKind, StaffMember
from trust.models import AuditEvent

TODAY = datetime.date(2026, 12, 4)
SMALL = ["--academies", "3", "--pupils-per-academy", "40", "--seed", "7", "--today", "2026-12-04"]


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_demo", *arguments, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed(*SMALL)


def flagship() -> Academy:
    return Academy.objects.get(phase=Phase.ALL_THROUGH)


def fingerprint() -> dict[str, list]:
    """Return the seeded data without database ids, in a stable order."""
    return {
        "academies": sorted(
            Academy.objects.values_list("urn", "dfe_number", "name", "phase", "joined_trust_on")
        ),
        "inspections": sorted(
            (i.academy.urn, i.inspected_on, i.overall_grade, str(i.report_card))
            for i in OfstedInspection.objects.select_related("academy")
        ),
        "pupils": sorted(
            Pupil.objects.values_list(
                "upn",
                "legal_forename",
                "middle_names",
                "legal_surname",
                "preferred_forename",
                "preferred_surname",
                "date_of_birth",
                "sex",
                "sen_status",
                "eal",
                "looked_after",
            )
        ),
        "enrolments": sorted(
            Enrolment.objects.values_list(
                "pupil__upn",
                "academy__urn",
                "year_group__nc_year",
                "tutor_group__name",
                "start_date",
                "end_date",
            ),
            key=str,
        ),
        "contacts": sorted(
            Contact.objects.values_list(
                "pupil__upn", "name", "relationship", "parental_responsibility", "phone"
            )
        ),
        "fsm": sorted(
            FsmPeriod.objects.values_list("pupil__upn", "start_date", "end_date"), key=str
        ),
        "staff": sorted(
            StaffMember.objects.values_list(
                "email", "first_name", "last_name", "job_title", "line_manager__email"
            ),
            key=str,
        ),
        "roles": sorted(
            RoleAssignment.objects.values_list(
                "staff__email", "role", "scope", "tutor_group__name", "year_group__nc_year"
            ),
            key=str,
        ),
        "tutors": sorted(
            TutorGroup.objects.values_list(
                "academy__urn", "academic_year__start_year", "name", "tutor__email"
            ),
            key=str,
        ),
    }


@pytest.mark.django_db
def test_seed_upns_valid(seeded):
    upns = list(Pupil.objects.values_list("upn", flat=True))

    assert len(upns) == 120
    assert [u for u in upns if upn_error(u)] == []


@pytest.mark.django_db
def test_seed_year_group_matches_age(seeded):
    current = Enrolment.objects.filter(active_on(TODAY)).select_related("pupil", "year_group")
    mismatched = [
        (e.pupil.upn, e.pupil.date_of_birth, e.year_group.nc_year)
        for e in current
        if nc_year_for(e.pupil.date_of_birth, 2026) != e.year_group.nc_year
    ]

    assert current.count() == 120
    assert mismatched == []
    assert Pupil.objects.exclude(enrolments__in=current).count() == 0


@pytest.mark.django_db
def test_seed_last_year_enrolments_end_31_august(seeded):
    last_year = Enrolment.objects.filter(academic_year__start_year=2025).select_related(
        "pupil", "year_group"
    )

    assert last_year.exists()
    for enrolment in last_year:
        assert enrolment.end_date == datetime.date(2026, 8, 31)
        assert nc_year_for(enrolment.pupil.date_of_birth, 2025) == enrolment.year_group.nc_year


@pytest.mark.django_db
def test_seed_flagship_all_through(seeded):
    academy = flagship()
    nc_years = list(academy.year_groups.values_list("nc_year", flat=True))

    assert (academy.age_range_low, academy.age_range_high) == (3, 18)
    assert nc_years == list(range(-1, 14))
    on_roll = Enrolment.objects.filter(active_on(TODAY), academy=academy)
    assert on_roll.filter(year_group__nc_year=-1).exists()
    assert on_roll.filter(year_group__nc_year=13).exists()
    assert Department.objects.filter(academy=academy, head__isnull=False).count() >= 12


@pytest.mark.django_db
def test_seed_academies_valid(seeded):
    academies = list(Academy.objects.all())
    phases = sorted(a.phase for a in academies)

    assert phases == [Phase.ALL_THROUGH, Phase.PRIMARY, Phase.SECONDARY]
    for academy in academies:
        academy.full_clean()
        assert academy.joined_trust_on < TODAY
    assert Trust.objects.count() == 1


@pytest.mark.django_db
def test_seed_calendar_years_and_closures(seeded):
    years = list(AcademicYear.objects.order_by("start_year").values_list("start_year", flat=True))

    assert years == [2025, 2026]
    assert Term.objects.filter(parent__isnull=True).count() == 6
    assert Term.objects.filter(parent__isnull=False).count() == 12
    assert Closure.objects.filter(kind=Closure.Kind.INSET, academy=flagship()).count() >= 4
    for closure in Closure.objects.all():
        assert closure.date.weekday() < 5


@pytest.mark.django_db
def test_seed_tutor_groups_have_tutors(seeded):
    for group in YearGroup.objects.all():
        current = TutorGroup.objects.filter(year_group=group, academic_year__start_year=2026)
        assert 2 <= current.count() <= 6
        assert not current.filter(tutor__isnull=True).exists()
        assert not current.exclude(tutor__academy=group.academy).exists()


@pytest.mark.django_db
def test_seed_inspections_by_framework(seeded):
    inspections = list(OfstedInspection.objects.all())

    assert inspections
    for inspection in inspections:
        assert inspection.inspected_on < TODAY
        if inspection.inspected_on >= REPORT_CARD_START:
            assert inspection.overall_grade is None
            assert inspection.report_card["safeguarding"] == "Met"
        else:
            assert inspection.overall_grade in {1, 2, 3, 4}
            assert inspection.report_card == {}


@pytest.mark.django_db
def test_seed_special_measures_history(seeded):
    special = OfstedInspection.objects.filter(special_measures=True).first()

    assert special is not None
    later = OfstedInspection.objects.filter(
        academy=special.academy, inspected_on__gt=special.inspected_on
    )
    assert special.overall_grade == 4
    assert special.inspected_on < special.academy.joined_trust_on
    assert special.academy.phase != Phase.ALL_THROUGH
    assert later.exists()


@pytest.mark.django_db
def test_seed_staff_hierarchy(seeded):
    staff = {s.pk: s for s in StaffMember.objects.all()}
    top = [s for s in staff.values() if s.line_manager_id is None]

    assert sorted({s.job_title for s in top}) == [
        "Chair of trustees",
        "Chief executive officer",
        "Trustee",
    ]
    for member in staff.values():
        seen = set()
        current = member
        while current.line_manager_id is not None:
            assert current.pk not in seen
            seen.add(current.pk)
            current = staff[current.line_manager_id]
    for academy in Academy.objects.all():
        heads = RoleAssignment.objects.filter(role=Role.HEADTEACHER, academy=academy)
        assert heads.count() == 1


@pytest.mark.django_db
def test_seed_sen_needs_follow_status(seeded):
    with_needs = set(SenNeed.objects.values_list("pupil_id", flat=True))

    for pupil in Pupil.objects.all():
        assert (pupil.pk in with_needs) is (pupil.sen_status != "N")
        assert pupil.search_name
        assert 1 <= pupil.contacts.count() <= 2


@pytest.mark.django_db
def test_seed_writes_no_audit(seeded):
    assert AuditEvent.objects.count() == 0


EXPECTED_LOGINS = {
    "trust.leader": {(Role.TRUST_LEADER, ScopeKind.TRUST)},
    "trust.admin": {(Role.TRUST_ADMIN, ScopeKind.TRUST)},
    "trust.hr": {(Role.TRUST_HR, ScopeKind.TRUST)},
    "trustee": {(Role.TRUSTEE, ScopeKind.TRUST)},
    "head": {(Role.HEADTEACHER, ScopeKind.ACADEMY)},
    "academy.leader": {(Role.ACADEMY_LEADER, ScopeKind.ACADEMY)},
    "attendance": {(Role.ATTENDANCE_OFFICER, ScopeKind.ACADEMY)},
    "safeguarding": {
        (Role.ACADEMY_LEADER, ScopeKind.ACADEMY),
        (Role.SAFEGUARDING_LEAD, ScopeKind.ACADEMY),
    },
    "hoy": {(Role.HEAD_OF_YEAR, ScopeKind.YEAR_GROUP)},
    "tutor": {(Role.TUTOR, ScopeKind.TUTOR_GROUP)},
    "teacher": {(Role.TEACHER, ScopeKind.ACADEMY), (Role.TUTOR, ScopeKind.TUTOR_GROUP)},
    "staff": set(),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "roles"), EXPECTED_LOGINS.items())
def test_seed_demo_login(seeded, username, roles):
    user = get_user_model().objects.get(username=username)
    member = user.staff_member
    assignments = list(member.roles.all())

    assert user.check_password("trust-demo")
    assert {(a.role, a.scope) for a in assignments} == roles
    assert username in seeded
    if username.startswith("trust"):
        assert member.academy is None
        return
    assert member.academy == flagship()
    for assignment in assignments:
        assignment.full_clean()
        assert assignment.academy == flagship()


@pytest.mark.django_db
def test_seed_admin_login_is_staff(seeded):
    users = get_user_model().objects
    assert users.get(username="trust.admin").is_staff
    assert not users.get(username="head").is_staff
    assert not users.filter(is_superuser=True).exists()


@pytest.mark.django_db
def test_seed_hoy_is_year_9(seeded):
    assignment = RoleAssignment.objects.get(staff__user__username="hoy")

    assert assignment.year_group.nc_year == 9
    assert assignment.year_group.academy == flagship()


@pytest.mark.django_db
def test_seed_tutor_login_tutors_year_9(seeded):
    member = StaffMember.objects.get(user__username="tutor")
    assignment = member.roles.get()
    groups = TutorGroup.objects.filter(tutor=member, academic_year__start_year=2026)

    assert list(groups) == [assignment.tutor_group]
    assert assignment.tutor_group.year_group.nc_year == 9
    assert assignment.tutor_group.academy == flagship()
    assert assignment.tutor_group.enrolments.filter(active_on(TODAY)).exists()


@pytest.mark.django_db
def test_seed_teacher_login_tutors_year_10(seeded):
    member = StaffMember.objects.get(user__username="teacher")
    groups = list(TutorGroup.objects.filter(tutor=member, academic_year__start_year=2026))

    assert len(groups) == 1
    assert groups[0].year_group.nc_year == 10
    assert groups[0].enrolments.filter(active_on(TODAY)).exists()
    assert member.post_type == "teacher"


@pytest.mark.django_db
def test_seed_login_table_printed(seeded):
    lines = seeded.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Username"))

    assert "Role" in lines[header]
    assert "Lands on" in lines[header]
    usernames = [line.split()[0] for line in lines[header + 2 :] if line.strip()]
    assert usernames == list(EXPECTED_LOGINS)


@pytest.mark.django_db(transaction=True)
def test_seed_same_seed_same_data():
    seed(*SMALL)
    first = fingerprint()
    call_command("flush", interactive=False, verbosity=0)

    seed(*SMALL)
    second = fingerprint()
    call_command("flush", interactive=False, verbosity=0)
    seed("--academies", "3", "--pupils-per-academy", "40", "--seed", "8", "--today", "2026-12-04")
    other_seed = fingerprint()

    assert len(first["pupils"]) == 120
    for key in first:
        assert first[key] == second[key], key
    assert first["pupils"] != other_seed["pupils"]


@pytest.mark.django_db
def test_seed_if_empty_skips_second_time(seeded):
    counts = (Pupil.objects.count(), StaffMember.objects.count(), Academy.objects.count())

    output = seed(*SMALL, "--if-empty")

    assert "already exists" in output
    assert (Pupil.objects.count(), StaffMember.objects.count(), Academy.objects.count()) == counts


@pytest.mark.django_db
def test_seed_existing_trust_rejected(seeded):
    with pytest.raises(CommandError) as error:
        seed(*SMALL)

    assert "--if-empty" in str(error.value)
    assert Trust.objects.count() == 1


@pytest.mark.django_db
def test_seed_existing_login_rejected():
    get_user_model().objects.create_user(username="trust.leader", password="x")

    with pytest.raises(CommandError) as error:
        seed(*SMALL)

    assert "User 'trust.leader' already exists" in str(error.value)
    assert not Trust.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--academies", "0"], "--academies 0 is out of range"),
        (["--pupils-per-academy", "many"], "--pupils-per-academy 'many' is invalid"),
        (["--today", "04/12/2026"], "--today '04/12/2026' is invalid"),
    ],
)
def test_seed_bad_arguments(arguments, fragment):
    with pytest.raises(CommandError) as error:
        seed(*arguments)

    assert fragment in str(error.value)
    assert not Trust.objects.exists()


@pytest.mark.django_db
def test_seed_today_defaults_to_clock():
    import time_machine

    with time_machine.travel(datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC)):
        seed("--academies", "2", "--pupils-per-academy", "30", "--seed", "3")

    years = sorted(AcademicYear.objects.values_list("start_year", flat=True))
    assert years == [2025, 2026]
    assert not OfstedInspection.objects.filter(inspected_on__gte=datetime.date(2027, 3, 1))


@pytest.mark.django_db
def test_if_empty_still_lists_logins():
    call_command("seed_demo", academies=1, pupils_per_academy=20, seed=2, today=TODAY, verbosity=0)
    out = StringIO()
    call_command("seed_demo", academies=1, pupils_per_academy=20, seed=2, if_empty=True, stdout=out)

    text = out.getvalue()
    assert "no demo data was loaded" in text
    assert "hoy" in text
    assert "/my-year/" in text
