import datetime
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from academies import services
from academies.models import AcademicYear, Phase, Term, TutorGroup
from pupils.models import Enrolment
from staff.models import Role, RoleAssignment
from tests.factories import UserFactory, grant
from tests.factories_seed import academy_with_years, enrol, trust_with_year, tutor_group
from trust.access import scope_for
from trust.models import AuditEvent

D = datetime.date
LAST_DAY = D(2027, 8, 31)
FIRST_DAY = D(2027, 9, 1)


@pytest.fixture
def summer_2027():
    with time_machine.travel(datetime.datetime(2027, 8, 20, 9, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def school(summer_2027):
    """A trust in 2026/27 with a secondary, a primary and a closed academy."""
    trust, year = trust_with_year(2026)
    secondary = academy_with_years(trust, low=11, high=16)
    primary = academy_with_years(trust, low=4, high=11, phase=Phase.PRIMARY)
    closed = academy_with_years(trust, low=11, high=16, closed_on=LAST_DAY)
    groups = {
        "7B": tutor_group(secondary, year, 7, "7B"),
        "9C": tutor_group(secondary, year, 9, "9C"),
        "11A": tutor_group(secondary, year, 11, "11A"),
        "RB": tutor_group(primary, year, 0, "RB"),
        "6A": tutor_group(primary, year, 6, "6A"),
        "9Z": tutor_group(closed, year, 9, "9Z"),
    }
    enrolments = {
        "moves_up": enrol(groups["9C"]),
        "year_11": enrol(groups["11A"]),
        "kept_back": enrol(groups["9C"], kept_back=True),
        "leaves_31_august": enrol(
            groups["9C"], end_date=LAST_DAY, leaving_reason="Moving to Cardiff"
        ),
        "left_in_july": enrol(groups["9C"], end_date=D(2027, 7, 16), leaving_reason="Moved"),
        "leaves_in_september": enrol(
            groups["9C"], end_date=D(2027, 9, 15), leaving_reason="Emigrating"
        ),
        "year_7": enrol(groups["7B"]),
        "reception": enrol(groups["RB"]),
        "year_6": enrol(groups["6A"]),
        "closed_academy": enrol(groups["9Z"]),
    }
    return {
        "trust": trust,
        "year": year,
        "secondary": secondary,
        "primary": primary,
        "closed": closed,
        "groups": groups,
        "enrolments": enrolments,
        "actor": UserFactory(username="data.manager"),
    }


def _new_enrolment(old: Enrolment) -> Enrolment | None:
    return Enrolment.objects.filter(pupil_id=old.pupil_id, start_date=FIRST_DAY).first()


@pytest.mark.django_db
def test_rollover_creates_new_year_with_terms(school):
    result = services.rollover(to_start_year=2027, actor=school["actor"])

    new_year = AcademicYear.objects.get(trust=school["trust"], start_year=2027)
    assert result.academic_year_created
    assert new_year.start_date == FIRST_DAY
    assert Term.objects.filter(academic_year=new_year, parent__isnull=True).count() == 3
    assert Term.objects.filter(academic_year=new_year, parent__isnull=False).count() == 6


@pytest.mark.django_db
def test_rollover_moves_pupil_up_with_group(school):
    old = school["enrolments"]["moves_up"]
    old_group = school["groups"]["9C"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    new = _new_enrolment(old)
    assert old.end_date == LAST_DAY
    assert old.academic_year == school["year"]
    assert old.year_group.nc_year == 9
    assert new is not None
    assert new.academic_year.start_year == 2027
    assert new.academy == school["secondary"]
    assert new.year_group.nc_year == 10
    assert new.tutor_group.name == "10C"
    assert new.tutor_group.tutor_id == old_group.tutor_id
    assert new.tutor_group.academic_year == new.academic_year
    assert new.end_date is None


@pytest.mark.django_db
def test_rollover_final_year_leaves(school):
    old = school["enrolments"]["year_11"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    assert old.end_date == LAST_DAY
    assert old.leaving_reason == "Completed Year 11"
    assert _new_enrolment(old) is None


@pytest.mark.django_db
def test_rollover_primary_year_6_leaves(school):
    old = school["enrolments"]["year_6"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    assert old.leaving_reason == "Completed Year 6"
    assert _new_enrolment(old) is None


@pytest.mark.django_db
def test_rollover_reception_to_year_1(school):
    old = school["enrolments"]["reception"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    new = _new_enrolment(old)
    assert new.year_group.nc_year == 1
    assert new.tutor_group.name == "1B"


@pytest.mark.django_db
def test_rollover_kept_back_stays(school):
    old = school["enrolments"]["kept_back"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    new = _new_enrolment(old)
    assert old.kept_back
    assert old.end_date == LAST_DAY
    assert new.year_group.nc_year == 9
    assert new.tutor_group.name == "9C"
    assert new.tutor_group.academic_year.start_year == 2027
    assert new.tutor_group.tutor is None
    assert not new.kept_back


@pytest.mark.django_db
def test_rollover_leaving_date_31_august_kept(school):
    old = school["enrolments"]["leaves_31_august"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    assert old.end_date == LAST_DAY
    assert old.leaving_reason == "Moving to Cardiff"
    assert _new_enrolment(old) is None


@pytest.mark.django_db
def test_rollover_ignores_enrolment_ended_in_july(school):
    old = school["enrolments"]["left_in_july"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    assert old.end_date == D(2027, 7, 16)
    assert old.leaving_reason == "Moved"
    assert not Enrolment.objects.filter(pupil_id=old.pupil_id).exclude(pk=old.pk).exists()


@pytest.mark.django_db
def test_rollover_carries_september_leaving_date(school):
    old = school["enrolments"]["leaves_in_september"]

    services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    new = _new_enrolment(old)
    assert old.end_date == LAST_DAY
    assert new.year_group.nc_year == 10
    assert new.end_date == D(2027, 9, 15)
    assert new.leaving_reason == "Emigrating"


@pytest.mark.django_db
def test_rollover_skips_closed_academy(school):
    old = school["enrolments"]["closed_academy"]

    result = services.rollover(to_start_year=2027, actor=school["actor"])

    old.refresh_from_db()
    assert result.academies_skipped == 1
    assert old.end_date is None
    assert _new_enrolment(old) is None
    assert not TutorGroup.objects.filter(academy=school["closed"], name="10Z").exists()


@pytest.mark.django_db
def test_rollover_tutor_groups_for_new_year(school):
    result = services.rollover(to_start_year=2027, actor=school["actor"])

    new_groups = TutorGroup.objects.filter(academic_year__start_year=2027)
    names = sorted((g.academy_id, g.name, g.year_group.nc_year) for g in new_groups)
    secondary, primary = school["secondary"].pk, school["primary"].pk
    assert names == sorted(
        [
            (secondary, "10C", 10),
            (secondary, "8B", 8),
            (secondary, "7B", 7),
            (secondary, "9C", 9),
            (primary, "1B", 1),
            (primary, "RB", 0),
        ]
    )
    intake = new_groups.get(academy_id=secondary, name="7B")
    assert intake.tutor is None
    assert result.tutor_groups_created == 6


@pytest.mark.django_db
def test_rollover_counts(school):
    result = services.rollover(to_start_year=2027, actor=school["actor"])

    assert result.moved_up == 4
    assert result.kept_back == 1
    assert result.leavers == 3
    assert result.already_enrolled == 0
    assert "4 moved up, 1 kept back, 3 left" in result.summary()


@pytest.mark.django_db
def test_rollover_writes_audit(school):
    services.rollover(to_start_year=2027, actor=school["actor"])

    events = AuditEvent.objects.filter(model="pupils.Enrolment", reason="Rollover to 2027/28")
    created = events.filter(action=AuditEvent.Action.CREATE)
    updated = events.filter(action=AuditEvent.Action.UPDATE)
    assert created.count() == 5
    assert updated.count() == 7
    assert set(events.values_list("actor__username", flat=True)) == {"data.manager"}
    year_11 = school["enrolments"]["year_11"]
    change = updated.get(object_id=str(year_11.pk)).changes
    assert change["end_date"] == [None, "2027-08-31"]
    assert change["leaving_reason"] == ["", "Completed Year 11"]


@pytest.mark.django_db
def test_rollover_twice_changes_nothing(school):
    services.rollover(to_start_year=2027, actor=school["actor"])
    enrolments = list(Enrolment.objects.order_by("pk").values())
    groups = list(TutorGroup.objects.order_by("pk").values())
    events = AuditEvent.objects.count()
    years = AcademicYear.objects.count()

    again = services.rollover(to_start_year=2027, actor=school["actor"])

    assert list(Enrolment.objects.order_by("pk").values()) == enrolments
    assert list(TutorGroup.objects.order_by("pk").values()) == groups
    assert AuditEvent.objects.count() == events
    assert AcademicYear.objects.count() == years
    assert not again.academic_year_created
    assert again.moved_up == 0
    assert again.kept_back == 0
    assert again.tutor_groups_created == 0
    assert again.already_enrolled == 5


@pytest.mark.django_db
def test_rollover_skips_pupil_already_enrolled(school):
    old = school["enrolments"]["year_6"]
    year_7 = tutor_group(school["secondary"], school["year"], 7, "7Q")
    services.academic_year_create(trust=school["trust"], start_year=2027, actor=None)
    new_year = AcademicYear.objects.get(start_year=2027)
    Enrolment.objects.create(
        pupil_id=old.pupil_id,
        academy=school["secondary"],
        academic_year=new_year,
        year_group=year_7.year_group,
        start_date=FIRST_DAY,
    )

    result = services.rollover(to_start_year=2027, actor=school["actor"])

    assert result.already_enrolled == 1
    assert Enrolment.objects.filter(pupil_id=old.pupil_id, start_date=FIRST_DAY).count() == 1
    old.refresh_from_db()
    assert old.end_date == LAST_DAY


@pytest.mark.django_db
def test_rollover_rolls_back_on_error(school, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "record_bulk", fail)

    with pytest.raises(RuntimeError):
        services.rollover(to_start_year=2027, actor=school["actor"])

    assert not AcademicYear.objects.filter(start_year=2027).exists()
    school["enrolments"]["moves_up"].refresh_from_db()
    assert school["enrolments"]["moves_up"].end_date is None
    assert not Enrolment.objects.filter(start_date=FIRST_DAY).exists()


@pytest.mark.django_db
def test_rollover_too_far_ahead_rejected(school):
    with pytest.raises(ValidationError) as error:
        services.rollover(to_start_year=2029, actor=None)

    message = error.value.message_dict["to_start_year"][0]
    assert "2029/30" in message
    assert "2027/28" in message


@pytest.mark.django_db
def test_rollover_without_previous_year_rejected(school):
    with pytest.raises(ValidationError) as error:
        services.rollover(to_start_year=2026, actor=None)

    assert "2025/26" in error.value.message_dict["to_start_year"][0]


@pytest.mark.django_db
def test_rollover_command_prints_summary(school):
    out = StringIO()

    call_command("rollover", "--to", "2027", "--user", "data.manager", stdout=out)

    assert "Rollover to 2027/28: 4 moved up" in out.getvalue()
    assert AuditEvent.objects.filter(actor__username="data.manager").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--to", "next"], "--to 'next' is invalid"),
        (["--to", "2027", "--user", "nobody"], "--user 'nobody' was not found"),
        (["--to", "2031"], "2031/32"),
    ],
)
def test_rollover_command_errors(school, arguments, fragment):
    with pytest.raises(CommandError) as error:
        call_command("rollover", *arguments, stdout=StringIO())

    assert fragment in str(error.value)
    assert not Enrolment.objects.filter(start_date=FIRST_DAY).exists()


@pytest.mark.parametrize(
    ("name", "nc_year", "next_nc_year", "expected"),
    [
        ("9C", 9, 10, "10C"),
        ("10C", 10, 11, "11C"),
        ("RB", 0, 1, "1B"),
        ("NA", -1, 0, "RA"),
        ("Oak", 3, 4, "Oak"),
        ("7B", 9, 10, "7B"),
        ("12/Sci", 12, 13, "13/Sci"),
    ],
)
def test_next_tutor_group_name(name, nc_year, next_nc_year, expected):
    assert services.next_tutor_group_name(name, nc_year, next_nc_year) == expected


@pytest.mark.django_db
def test_rollover_kept_back_joins_moved_up_group(school):
    year_8 = tutor_group(school["secondary"], school["year"], 8, "8C")
    kept = school["enrolments"]["kept_back"]

    services.rollover(to_start_year=2027, actor=None)

    new = _new_enrolment(kept)
    assert new.tutor_group.name == "9C"
    assert new.tutor_group.tutor_id == year_8.tutor_id
    assert TutorGroup.objects.filter(academic_year__start_year=2027, name="9C").count() == 1


@pytest.mark.django_db
def test_rollover_group_without_year_prefix(school):
    oak = tutor_group(school["primary"], school["year"], 3, "Oak")
    old = enrol(oak)

    services.rollover(to_start_year=2027, actor=None)

    new = _new_enrolment(old)
    assert new.year_group.nc_year == 4
    assert new.tutor_group.name == "Oak"
    assert new.tutor_group.year_group.nc_year == 4
    assert new.tutor_group.tutor_id == oak.tutor_id


@pytest.mark.django_db
def test_rollover_moves_tutor_role(school):
    old_group = school["groups"]["9C"]
    tutor = old_group.tutor
    old_role = grant(tutor, Role.TUTOR, old_group)

    services.rollover(to_start_year=2027, actor=school["actor"])

    old_role.refresh_from_db()
    new_role = RoleAssignment.objects.exclude(pk=old_role.pk).get(staff=tutor)
    assert old_role.ends_on == LAST_DAY
    assert new_role.role == Role.TUTOR
    assert new_role.tutor_group.name == "10C"
    assert new_role.tutor_group.academic_year.start_year == 2027
    assert new_role.starts_on == FIRST_DAY
    assert new_role.ends_on is None
    assert new_role.academy == school["secondary"]
    audit = AuditEvent.objects.filter(
        model="staff.RoleAssignment", staff_ref=tutor.pk, reason="Rollover to 2027/28"
    )
    assert audit.filter(action=AuditEvent.Action.CREATE).count() == 1
    assert audit.filter(action=AuditEvent.Action.UPDATE).count() == 1


@pytest.mark.django_db
def test_rollover_tutor_scope_follows_group(school):
    old_group = school["groups"]["9C"]
    grant(old_group.tutor, Role.TUTOR, old_group)
    services.rollover(to_start_year=2027, actor=None)
    new_group = TutorGroup.objects.get(academic_year__start_year=2027, name="10C")
    user = old_group.tutor.user

    with time_machine.travel(datetime.datetime(2027, 9, 2, 9, tzinfo=datetime.UTC)):
        scope = scope_for(get_user_model().objects.get(pk=user.pk))

    assert scope.tutor_group_ids == {new_group.pk}


@pytest.mark.django_db
def test_rollover_twice_moves_role_once(school):
    old_group = school["groups"]["9C"]
    grant(old_group.tutor, Role.TUTOR, old_group)

    services.rollover(to_start_year=2027, actor=None)
    services.rollover(to_start_year=2027, actor=None)

    assert RoleAssignment.objects.filter(staff=old_group.tutor).count() == 2


@pytest.mark.django_db
def test_rollover_kept_back_joins_other_group(school):
    year_8 = tutor_group(school["secondary"], school["year"], 8, "8D")
    kept = school["enrolments"]["kept_back"]

    services.rollover(to_start_year=2027, actor=None)

    new = _new_enrolment(kept)
    assert new.tutor_group.name == "9D"
    assert new.tutor_group.tutor_id == year_8.tutor_id
    assert not TutorGroup.objects.filter(academic_year__start_year=2027, name="9C").exists()
