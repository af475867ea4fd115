"""Appraisal completion: counts by stage and track, overdue by the academy's
own or the trust's deadline, the trust total, who sees names, downloads and
query counts."""

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal import services
from appraisal.completion import (
    GroupCompletion,
    completion_by_group,
    count_appraisals,
    default_cycle,
    percentage,
    staff_to_appraise,
    trust_total,
)
from appraisal.deadlines import STAGES, DeadlineTable, default_deadlines
from appraisal.models import Appraisal, AppraisalCycle, Deadline, Stage, Track
from staff.models import Role

from .factories import AcademicYearFactory, AcademyFactory, StaffFactory, grant
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas

Status = Appraisal.Status
DAY = TODAY.date()


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(db):
    """Personas with the 2026/27 cycle and Oak's staff at every status.

    Oak, staff track: the teacher in draft (objectives overdue: the trust's
    date was 31/10/2026), the tutor with objectives agreed, the head of year
    mid-year reviewed, the staff persona final reviewed and the attendance
    officer signed off. Oak's headteacher is in draft on the headteacher
    track, whose objectives are due 31/12/2026, so not overdue yet. The
    academy leader and the safeguarding lead have no appraisal. Elm's one
    teacher is in draft, overdue by the trust's date.
    """
    people = build_personas()
    people.cycle = cycle_2026(people)
    staff = people.staff
    statuses = {
        "teacher": Status.DRAFT,
        "tutor": Status.OBJECTIVES_AGREED,
        "head_of_year": Status.MID_YEAR_REVIEWED,
        "staff": Status.FINAL_REVIEWED,
        "attendance_officer": Status.SIGNED_OFF,
    }
    people.appraisals = {}
    for key, status in statuses.items():
        people.appraisals[key] = make_appraisal(
            people.cycle, staff[key], staff["headteacher"], status=status
        )
    people.appraisals["headteacher"] = make_appraisal(
        people.cycle, staff["headteacher"], staff["trust_leader"]
    )
    people.appraisals["elm_teacher"] = make_appraisal(
        people.cycle, staff["elm_teacher"], staff["trust_hr"]
    )
    return people


def page(client, user, name="appraisal:completion", **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def text(response) -> str:
    return response.content.decode()


def oak_group(world):
    return completion_by_group(world.cycle, [world.academies["oak"]], DAY)[0]


# Counts ---------------------------------------------------------------------------------


def test_counts_match_appraisal_rows(world):
    group = oak_group(world)
    staff_track = group.tracks[Track.STAFF]
    rows = Appraisal.objects.filter(
        cycle=world.cycle, academy=world.academies["oak"], track=Track.STAFF
    )
    assert staff_track.total == rows.count() == 5
    reached = {
        Stage.OBJECTIVES: [
            Status.OBJECTIVES_AGREED,
            Status.MID_YEAR_REVIEWED,
            Status.FINAL_REVIEWED,
            Status.SIGNED_OFF,
        ],
        Stage.MID_YEAR: [Status.MID_YEAR_REVIEWED, Status.FINAL_REVIEWED, Status.SIGNED_OFF],
        Stage.FINAL_REVIEW: [Status.FINAL_REVIEWED, Status.SIGNED_OFF],
        Stage.SIGN_OFF: [Status.SIGNED_OFF],
    }
    for stage, statuses in reached.items():
        assert staff_track.done[stage] == rows.filter(status__in=statuses).count()
    assert staff_track.done == {"objectives": 4, "mid_year": 3, "final_review": 2, "sign_off": 1}


def test_counts_split_by_track(world):
    group = oak_group(world)
    head_track = group.tracks[Track.HEADTEACHER]
    assert head_track.total == 1
    assert head_track.done[Stage.OBJECTIVES] == 0
    assert group.all_tracks.total == 6
    assert group.all_tracks.done[Stage.OBJECTIVES] == 4


def test_overdue_uses_trust_dates(world):
    group = oak_group(world)
    # Staff objectives were due 31/10/2026; only the teacher's draft is late.
    assert group.tracks[Track.STAFF].overdue == {
        "objectives": 1,
        "mid_year": 0,
        "final_review": 0,
        "sign_off": 0,
    }
    # Headteachers' objectives are due 31/12/2026, after today.
    assert group.tracks[Track.HEADTEACHER].overdue_total == 0


def test_overdue_uses_academy_override(world):
    Deadline.objects.create(
        cycle=world.cycle,
        academy=world.academies["oak"],
        track=Track.STAFF,
        stage=Stage.OBJECTIVES,
        due=datetime.date(2026, 12, 15),
    )
    oak, elm = completion_by_group(
        world.cycle, [world.academies["oak"], world.academies["elm"]], DAY
    )
    assert oak.tracks[Track.STAFF].overdue[Stage.OBJECTIVES] == 0
    # Elm keeps the trust's 31/10/2026.
    assert elm.tracks[Track.STAFF].overdue[Stage.OBJECTIVES] == 1


def test_earlier_academy_date_makes_overdue(world):
    Deadline.objects.create(
        cycle=world.cycle,
        academy=world.academies["oak"],
        track=Track.HEADTEACHER,
        stage=Stage.OBJECTIVES,
        due=datetime.date(2026, 11, 30),
    )
    group = oak_group(world)
    assert group.tracks[Track.HEADTEACHER].overdue[Stage.OBJECTIVES] == 1


def test_staff_without_appraisal_counted(world):
    group = oak_group(world)
    # The academy leader and the safeguarding lead.
    assert group.without_appraisal == 2


def test_staff_to_appraise_rules(world):
    leaver = world.staff["academy_leader"]
    leaver.left_on = datetime.date(2026, 8, 31)
    leaver.save()
    # Left during the cycle's year: still appraised for it.
    left_in_year = world.staff["safeguarding_lead"]
    left_in_year.left_on = datetime.date(2026, 11, 30)
    left_in_year.save()
    starter = StaffFactory(academy=world.academies["oak"], started_on=datetime.date(2027, 9, 1))
    chosen = set(staff_to_appraise(world.cycle, DAY).values_list("pk", flat=True))
    assert leaver.pk not in chosen
    assert starter.pk not in chosen
    assert world.staff["trustee"].pk not in chosen
    assert left_in_year.pk in chosen
    assert oak_group(world).without_appraisal == 1


def test_missing_count_matches_open_all(world):
    oak = world.academies["oak"]
    assert oak_group(world).without_appraisal == 2
    opened = services.appraisals_open_all(world.users["trust_hr"], world.cycle, academy=oak)
    assert opened == 2
    assert oak_group(world).without_appraisal == 0


def test_trust_total_from_counts(world):
    groups = completion_by_group(world.cycle, [world.academies["oak"], world.academies["elm"]], DAY)
    total = trust_total(groups)
    objectives = total.all_tracks.stages[0]
    # Oak 4 of 6 and Elm 0 of 1: 4 of 7, not the mean of 66.7% and 0%.
    assert (objectives.done, objectives.total) == (4, 7)
    assert objectives.percent == Decimal("57.1")
    assert total.without_appraisal == 2


GROUP_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "academy_id": st.sampled_from([1, 2, 3]),
            "track": st.sampled_from(Track.values),
            "status": st.sampled_from(Status.values),
            "number": st.integers(min_value=1, max_value=40),
        }
    ),
    max_size=30,
)
# Academy 2 moves the staff objectives later than the trust; academy 3 has
# no deadlines of its own.
PROPERTY_TABLE = DeadlineTable(
    trust={
        (Track.STAFF, Stage.OBJECTIVES): datetime.date(2026, 10, 31),
        (Track.STAFF, Stage.MID_YEAR): datetime.date(2026, 11, 30),
        (Track.HEADTEACHER, Stage.OBJECTIVES): datetime.date(2026, 12, 31),
    },
    academies={2: {(Track.STAFF, Stage.OBJECTIVES): datetime.date(2026, 12, 15)}},
)


@settings(deadline=None, max_examples=60)
@given(rows=GROUP_ROWS)
def test_counts_property(rows):
    groups = {key: GroupCompletion(academy_id=key, name=f"Academy {key}") for key in (1, 2, 3)}
    count_appraisals(groups, rows, PROPERTY_TABLE, DAY)
    total = trust_total(groups.values()).all_tracks

    assert total.total == sum(row["number"] for row in rows)
    done = [total.done[stage] for stage in STAGES]
    # A later stage is never done by more appraisals than an earlier one.
    assert done == sorted(done, reverse=True)
    for stage in STAGES:
        assert total.done[stage] + total.overdue[stage] <= total.total
        assert total.done[stage] == sum(g.all_tracks.done[stage] for g in groups.values())
    late_objectives = sum(
        row["number"]
        for row in rows
        if row["status"] == Status.DRAFT and row["track"] == Track.STAFF and row["academy_id"] != 2
    )
    assert total.overdue[Stage.OBJECTIVES] == late_objectives
    late_mid_year = sum(
        row["number"]
        for row in rows
        if row["status"] in (Status.DRAFT, Status.OBJECTIVES_AGREED) and row["track"] == Track.STAFF
    )
    assert total.overdue[Stage.MID_YEAR] == late_mid_year
    # The headteachers' objectives (31/12/2026) are not due yet, and the
    # later stages have no deadline in this table.
    assert total.overdue[Stage.FINAL_REVIEW] == 0
    assert total.overdue[Stage.SIGN_OFF] == 0


def test_percentage_one_decimal_half_up():
    assert percentage(1, 3) == Decimal("33.3")
    assert percentage(2, 3) == Decimal("66.7")
    assert percentage(1, 8) == Decimal("12.5")
    assert percentage(1, 16) == Decimal("6.3")
    assert percentage(0, 0) is None


def test_default_cycle_is_current_year(world):
    older_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2025)
    older = AppraisalCycle.objects.create(academic_year=older_year)
    cycles = list(AppraisalCycle.objects.select_related("academic_year"))
    assert default_cycle(cycles, DAY) == world.cycle
    assert default_cycle([older], DAY) == older
    assert default_cycle([], DAY) is None


# Pages and access -----------------------------------------------------------------------


# The safeguarding lead persona also holds the academy leader role.
ACADEMY_VIEW = ("headteacher", "academy_leader", "safeguarding_lead")
TRUST_VIEW = ("trust_leader", "trust_hr", "trustee")
REFUSED = (
    "teacher",
    "elm_teacher",
    "staff",
    "tutor",
    "head_of_year",
    "attendance_officer",
    "trust_admin",
)


@pytest.mark.parametrize("persona", REFUSED)
def test_completion_refused(client, world, persona):
    assert page(client, world.users[persona]).status_code == 403


@pytest.mark.parametrize("persona", (*REFUSED, *ACADEMY_VIEW))
def test_trust_completion_refused(client, world, persona):
    assert page(client, world.users[persona], "appraisal:trust-completion").status_code == 403


def test_anonymous_redirected_to_login(client, world):
    response = client.get(reverse("appraisal:completion"))
    assert response.status_code == 302


@pytest.mark.parametrize("persona", ACADEMY_VIEW)
def test_academy_view_counts(client, world, persona):
    response = page(client, world.users[persona])
    body = text(response)
    assert response.status_code == 200
    assert "Appraisal completion: Oak Academy" in body
    assert "Staff without an appraisal" in body
    assert '<td class="num">4</td>' in body


def test_headteacher_sees_overdue_names(client, world):
    body = text(page(client, world.users["headteacher"]))
    assert "Overdue appraisals" in body
    assert "Teacher Persona" in body
    assert "Objectives agreed (due 31/10/2026)" in body
    detail = reverse("appraisal:detail", args=[world.appraisals["teacher"].pk])
    assert f'<a href="{detail}">Teacher Persona</a>' in body
    # The tutor agreed objectives, so is not overdue.
    assert "Tutor Persona" not in body


def test_cycle_link_for_cycle_runners(client, world):
    cycles = reverse("appraisal:cycles")
    assert cycles in text(page(client, world.users["headteacher"]))
    assert cycles in text(page(client, world.users["trust_hr"]))
    assert cycles not in text(page(client, world.users["academy_leader"]))
    assert cycles not in text(page(client, world.users["trustee"]))


def test_academy_leader_sees_no_names(client, world):
    body = text(page(client, world.users["academy_leader"]))
    assert "Overdue appraisals" not in body
    assert "Teacher Persona" not in body


def test_academy_leader_other_academy_404(client, world):
    response = page(client, world.users["academy_leader"], academy=world.academies["elm"].pk)
    assert response.status_code == 404


@pytest.mark.parametrize("persona", TRUST_VIEW)
def test_trust_view_for_trust_roles(client, world, persona):
    for name in ("appraisal:completion", "appraisal:trust-completion"):
        response = page(client, world.users[persona], name)
        body = text(response)
        assert response.status_code == 200
        assert "Appraisal completion across the trust" in body
        assert "Oak Academy" in body
        assert "Elm Academy" in body
        assert "Trust total" in body
        assert "Teacher Persona" not in body


def test_trust_view_total_row(client, world):
    body = text(page(client, world.users["trust_leader"]))
    # Objectives agreed: Oak 4 of 6, Elm 0 of 1, trust 4 of 7.
    assert "4 (66.7%)" in body
    assert "0 (0.0%)" in body
    assert "4 (57.1%)" in body


def test_trust_view_track_filter(client, world):
    body = text(page(client, world.users["trust_leader"], track=Track.HEADTEACHER))
    assert "(headteachers)" in body
    assert "0 (0.0%)" in body
    assert "4 (66.7%)" not in body


def test_trust_view_chart_with_table(client, world):
    body = text(page(client, world.users["trustee"]))
    assert "<svg" in body
    assert "Data behind the chart" in body
    assert 'role="img"' in body
    assert (
        "Objectives agreed: Oak Academy has the most appraisals done (%) (66.7); "
        "Elm Academy the fewest (0.0)."
    ) in body
    # The central team has staff but no appraisals, so it is in the table only.
    assert body.count("Central team") == 1


def test_trust_hr_sees_names_in_academy(client, world):
    body = text(page(client, world.users["trust_hr"], academy=world.academies["oak"].pk))
    assert "Overdue appraisals" in body
    assert "Teacher Persona" in body


@pytest.mark.parametrize("persona", ("trustee", "trust_leader"))
def test_trust_roles_see_academy_counts_only(client, world, persona):
    response = page(client, world.users[persona], academy=world.academies["oak"].pk)
    body = text(response)
    assert response.status_code == 200
    assert "Appraisal completion: Oak Academy" in body
    assert "Overdue appraisals" not in body
    assert "Teacher Persona" not in body


def test_headteacher_of_other_academy_no_names(client, world):
    head = StaffFactory(academy=world.academies["elm"], first_name="Rowan", last_name="Head")
    grant(head, Role.HEADTEACHER, world.academies["elm"])
    body = text(page(client, head.user))
    assert "Appraisal completion: Elm Academy" in body
    assert "ElmTeacher Persona" in body
    assert re.search(r"(?<!Elm)Teacher Persona", body) is None


def test_no_cycle_page_says_so(client, db):
    with time_machine.travel(TODAY, tick=False):
        people = build_personas()
        body = text(page(client, people.users["trust_leader"]))
    assert "No appraisal cycle has been opened yet" in body


def test_cycle_choice_shows_that_cycle(client, world):
    older_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2025)
    older = AppraisalCycle.objects.create(academic_year=older_year)
    Deadline.objects.bulk_create(
        Deadline(cycle=older, track=track, stage=stage, due=due)
        for (track, stage), due in default_deadlines(older_year).items()
    )
    body = text(page(client, world.users["headteacher"], cycle=older.pk))
    assert "the 2025/26 cycle" in body
    assert "Overdue appraisals" in body
    assert "No appraisal at Oak Academy is past a deadline." in body


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"cycle": "abc"}, "cycle"),
        ({"cycle": "999999"}, "cycle"),
        ({"track": "governors"}, "track"),
        ({"format": "pdf"}, "format"),
        ({"academy": "x1"}, "academy"),
    ],
)
def test_bad_parameters_400(client, world, params, named):
    response = page(client, world.users["trust_leader"], **params)
    body = text(response)
    assert response.status_code == 400
    assert f"“{named}”" in body
    assert f"“{next(iter(params.values()))}”" in body


# Downloads ------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_trust_csv_rows_and_total(client, world):
    response = page(client, world.users["trustee"], format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    by_name = {row[0]: row for row in rows[1:]}
    assert rows[0][:5] == [
        "Academy",
        "Appraisals",
        "Objectives agreed: done",
        "Objectives agreed: done (%)",
        "Objectives agreed: overdue",
    ]
    assert by_name["Oak Academy"][1:5] == ["6", "4", "66.7", "1"]
    assert by_name["Elm Academy"][1:5] == ["1", "0", "0.0", "1"]
    assert by_name["Trust total"][1:5] == ["7", "4", "57.1", "2"]
    assert by_name["Oak Academy"][-1] == "2"


def test_csv_neutralises_formulas(client, world):
    AcademyFactory(trust=world.academic_year.trust, name='=HYPERLINK("http://x")')
    rows = read_csv(page(client, world.users["trust_leader"], format="csv"))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(name.startswith("=") for name in names)


def test_xlsx_numbers_stay_numbers(client, world):
    response = page(client, world.users["trust_hr"], "appraisal:trust-completion", format="xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    oak = next(row for row in rows if row[0] == "Oak Academy")
    assert oak[1] == 6
    assert oak[2] == 4
    assert float(oak[3]) == pytest.approx(66.7)


def test_academy_csv(client, world):
    response = page(client, world.users["headteacher"], format="csv")
    rows = read_csv(response)
    assert rows[0] == ["Track", "Stage", "Done", "Appraisals", "Done (%)", "Overdue"]
    assert ["Teachers and other staff", "Objectives agreed", "4", "5", "80.0", "1"] in rows
    assert rows[-1] == ["All appraisals", "Staff without an appraisal", "2"]


# Query counts ---------------------------------------------------------------------------


def add_academies(world, number: int) -> None:
    for index in range(number):
        academy = AcademyFactory(trust=world.academic_year.trust, name=f"Added Academy {index}")
        manager = StaffFactory(academy=academy, first_name=f"Manager{index}")
        for person in range(2):
            member = StaffFactory(academy=academy, first_name=f"Added{index}x{person}")
            make_appraisal(world.cycle, member, manager, status=Status.OBJECTIVES_AGREED)
        Deadline.objects.create(
            cycle=world.cycle,
            academy=academy,
            track=Track.STAFF,
            stage=Stage.MID_YEAR,
            due=datetime.date(2027, 3, 1),
        )


def test_trust_view_queries_bounded(client, world, django_assert_max_num_queries):
    client.force_login(world.users["trust_leader"])
    url = reverse("appraisal:completion")
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    add_academies(world, 6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert "Added Academy 5" in text(response)


def test_academy_view_queries_bounded(client, world, django_assert_max_num_queries):
    client.force_login(world.users["headteacher"])
    url = reverse("appraisal:completion")
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    for index in range(5):
        member = StaffFactory(academy=world.academies["oak"], first_name=f"Late{index}")
        make_appraisal(world.cycle, member, world.staff["headteacher"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert "Late4 Member" in text(response)
