"""Attendance figure pages: the pupil calendar, year group and academy
figures with absence lists, sorting, CSV export, scope and dashboards."""

import csv
import datetime
import io

import pytest
import time_machine
from django.test import Client

from trust.clock import LONDON

from .factories_attstats import mark_days, whole_year_term
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    whole_year_term(world.academic_year)
    obrien = world.pupils["oak9a_obrien"]
    mark_days(obrien, MONDAY, ["/", "\\", "/", "\\", "/", "G", "U", "O"])
    mark_days(world.pupils["oak9b_patel"], MONDAY, ["O"] * 6 + ["I"] * 3)
    mark_days(world.pupils["oak9a_smithjones"], MONDAY, ["/"] * 10)
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def test_pupil_page_calendar_figures_and_missing(world):
    obrien = world.pupils["oak9a_obrien"]

    response = client_for(world, "head_of_year").get(f"/attendance/pupils/{obrien.pk}/")

    assert response.status_code == 200
    html = body(response)
    assert "62.5%" in html
    assert "cat-unauthorised" in html
    assert "cat-missing" in html
    assert "Friday 04/12/2026 morning" in html
    assert "30/11/2026" in html
    assert "Attendance codes in force" in html


def test_pupil_page_query_count_fixed(world, django_assert_max_num_queries):
    obrien = world.pupils["oak9a_obrien"]
    client = client_for(world, "headteacher")
    client.get(f"/attendance/pupils/{obrien.pk}/")

    with django_assert_max_num_queries(25):
        response = client.get(f"/attendance/pupils/{obrien.pk}/")

    assert response.status_code == 200


def test_pupil_page_out_of_scope_is_404(world):
    patel = world.pupils["oak9b_patel"]

    assert client_for(world, "tutor").get(f"/attendance/pupils/{patel.pk}/").status_code == 404
    assert client_for(world, "trustee").get(f"/attendance/pupils/{patel.pk}/").status_code == 404


def test_pupil_page_bad_year_is_400(world):
    obrien = world.pupils["oak9a_obrien"]

    response = client_for(world, "headteacher").get(f"/attendance/pupils/{obrien.pk}/?year=x9")

    assert response.status_code == 400
    assert "x9" in body(response)


def test_year_group_page_lists_and_sorts(world):
    year9 = world.year_groups["oak9"]
    client = client_for(world, "head_of_year")

    by_rate = body(client.get(f"/attendance/year-groups/{year9.pk}/"))
    by_name = body(client.get(f"/attendance/year-groups/{year9.pk}/?sort=name"))

    assert by_rate.index("Isla Patel") < by_rate.index("Aoife O&#x27;Brien")
    assert by_name.index("Aoife O&#x27;Brien") < by_name.index("Isla Patel")
    assert "Noah Smith-Jones" not in by_rate.split("Persistent absence</h2>")[1]
    assert "Severely absent pupils" in by_rate


def test_year_group_csv_matches_pupil_figures(world):
    year9 = world.year_groups["oak9"]

    response = client_for(world, "headteacher").get(
        f"/attendance/year-groups/{year9.pk}/?export=csv"
    )

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Pupil"
    patel = next(r for r in rows if r[0] == "Isla Patel")
    assert patel[4:7] == ["3", "6", "9"]
    assert patel[-1] == "Yes"


def test_academy_page_for_trustee_has_no_names(world):
    oak = world.academies["oak"]
    client = client_for(world, "trustee")

    response = client.get(f"/attendance/academies/{oak.pk}/")

    assert response.status_code == 200
    html = body(response)
    assert "Patel" not in html
    assert "O&#x27;Brien" not in html
    assert "Pupil lists are not shown" in html
    assert client.get(f"/attendance/academies/{oak.pk}/?export=csv").status_code == 404


def test_group_pages_out_of_scope_404(world):
    elm = world.academies["elm"]
    head = client_for(world, "headteacher")

    assert head.get(f"/attendance/academies/{elm.pk}/").status_code == 404
    assert head.get(f"/attendance/year-groups/{world.year_groups['elm9'].pk}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "shown"),
    [("sort=size", "size"), ("from=01/09/2026", "01/09/2026"), ("export=pdf", "pdf")],
)
def test_group_page_bad_parameter_400(world, query, shown):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(f"/attendance/academies/{oak.pk}/?{query}")

    assert response.status_code == 400
    assert shown in body(response)


@pytest.mark.parametrize("extra", [0, 8])
def test_academy_page_queries_do_not_grow(world, extra, django_assert_max_num_queries):
    group = world.tutor_groups["9B"]
    from .factories_pages import enrol_pupils

    for pupil in enrol_pupils(group, extra):
        mark_days(pupil, MONDAY, ["O"] * 4)
    client = client_for(world, "headteacher")
    client.get(f"/attendance/academies/{world.academies['oak'].pk}/")

    with django_assert_max_num_queries(20):
        response = client.get(f"/attendance/academies/{world.academies['oak'].pk}/")

    assert response.status_code == 200


def test_profile_links_to_attendance(world):
    obrien = world.pupils["oak9a_obrien"]

    html = body(client_for(world, "headteacher").get(f"/pupils/{obrien.pk}/"))

    assert f'href="/attendance/pupils/{obrien.pk}/"' in html


def test_academy_dashboard_attendance_against_national(world):
    # Oak: O'Brien 5 of 8, Patel 0 of 9, Smith-Jones 10 of 10: 15 of 27.
    html = body(client_for(world, "headteacher").get("/academy/"))

    assert "Compared with England" in html
    assert "55.6%" in html
    assert "Severe absence" in html
    assert "England 2025/26 (latest published)" in html
    assert "91.5%" in html
    assert "Secondary, pupils aged 5 to 15" in html
    assert "Persistent absence" in html


def test_trust_dashboard_row_per_academy(world):
    html = body(client_for(world, "trust_leader").get("/trust/"))

    table = html.split("<caption>Figures by academy</caption>")[1]
    assert "Oak Academy" in table
    assert "Elm Academy" in table
    assert "55.6" in table
    assert "66.7" in table
    assert "Severe absence" in html
    assert "England 2025/26 (latest published)" in html
    assert "93.1%" in html


def test_reports_home_aggregates_without_names(world):
    html = body(client_for(world, "trustee").get("/reports/"))

    # The figures themselves are on the trust dashboard, which Reports links to.
    assert 'href="/trust/"' in html
    assert "Patel" not in html
    assert "O&#x27;Brien" not in html


@pytest.mark.parametrize("extra", [0, 8])
def test_dashboards_queries_do_not_grow(world, extra, django_assert_max_num_queries):
    from .factories_pages import enrol_pupils

    for pupil in enrol_pupils(world.tutor_groups["9E"], extra):
        mark_days(pupil, MONDAY, ["/"] * 4)
    leader = client_for(world, "trust_leader")
    leader.get("/trust/")

    # The trust dashboard reads every domain's figures; the exact count
    # against pupil numbers is checked in test_reports_dashboards.
    with django_assert_max_num_queries(40):
        assert leader.get("/trust/").status_code == 200
    with django_assert_max_num_queries(20):
        assert leader.get("/reports/").status_code == 200


def test_pupil_page_previous_year_keeps_its_figures(world):
    from academies.models import AcademicYear
    from pupils.models import Enrolment

    obrien = world.pupils["oak9a_obrien"]
    oak = world.academies["oak"]
    last = AcademicYear.objects.create(
        trust=oak.trust,
        start_year=2025,
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 8, 31),
    )
    Enrolment.objects.create(
        pupil=obrien,
        academy=oak,
        academic_year=last,
        year_group=world.year_groups["oak9"],
        start_date=datetime.date(2026, 6, 1),
        end_date=datetime.date(2026, 7, 20),
    )
    mark_days(obrien, datetime.date(2026, 6, 8), ["I", "I", "O", "/"])
    client = client_for(world, "headteacher")

    this_year = body(client.get(f"/attendance/pupils/{obrien.pk}/"))
    last_year = body(client.get(f"/attendance/pupils/{obrien.pk}/?year={last.pk}"))

    assert "Figures for 2026/27" in this_year
    assert "62.5%" in this_year
    assert "Figures for 2025/26" in last_year
    assert "25.0%" in last_year
    assert f'<option value="{last.pk}" selected>' in last_year


def test_academy_page_links_year_groups(world):
    year9 = world.year_groups["oak9"]

    html = body(client_for(world, "headteacher").get(f"/attendance/academies/{year9.academy_id}/"))

    assert f'href="/attendance/year-groups/{year9.pk}/?from=2026-09-01&amp;to=2026-12-04"' in html
