"""Behaviour analysis: figures against hand-counted incidents, breakdowns,
the top-negative list, scope, suppression for trustees, sensitive detail
and query counts."""

import csv
import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from behaviour import analysis
from behaviour.models import BehaviourCategory, Location, Polarity, PupilRole
from pupils.models import Enrolment
from trust.clock import LONDON

from .factories import PupilFactory
from .factories_analysis import log_incident
from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 9, 1)
END = datetime.date(2026, 12, 4)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


def at(day: str, time: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}")


@pytest.fixture
def world():
    """Seven incidents, counted by hand in the tests below.

    Oak: I1 Disruption (-2 each) O'Brien and Smith-Jones, Mon 30/11 09:15,
    classroom, teacher. I2 Oak's own Chatting (counts as Disruption, -1)
    Patel, Tue 01/12 10:50, corridor, head of year. I3 Effort (+2) O'Brien,
    Wed 02/12 13:30, classroom, teacher. I4 sensitive Prejudice (-3)
    Taylor, O'Brien the target (0), Thu 03/12 12:40, playground, teacher.
    I5 Disruption (-1) Mover, Mon 16/11 08:30, entrance, teacher.
    Elm: E1 Disruption (-2) Mover before moving, Mon 05/10 16:00. E2 Effort
    (+1) Ashdown, Fri 04/12 09:00.
    """
    world = build_personas()
    oak, elm = world.academies["oak"], world.academies["elm"]
    trust = oak.trust
    disruption = CategoryFactory(trust=trust, name="Disruption", default_points=-2)
    effort = PositiveCategoryFactory(trust=trust, name="Effort")
    prejudice = CategoryFactory(
        trust=trust, name="Prejudice", default_points=-3, min_points=-5, sensitive=True
    )
    chatting = CategoryFactory(
        trust=trust, academy=oak, parent=disruption, name="Chatting", default_points=-1
    )
    mover = PupilFactory(legal_forename="Morgan", legal_surname="Mover")
    year = world.academic_year
    Enrolment.objects.create(
        pupil=mover,
        academy=elm,
        academic_year=year,
        year_group=world.year_groups["elm9"],
        tutor_group=world.tutor_groups["9E"],
        start_date=START,
        end_date=datetime.date(2026, 10, 31),
    )
    Enrolment.objects.create(
        pupil=mover,
        academy=oak,
        academic_year=year,
        year_group=world.year_groups["oak9"],
        tutor_group=world.tutor_groups["9B"],
        start_date=datetime.date(2026, 11, 1),
    )
    p = world.pupils
    teacher, hoy, elm_teacher = (
        world.staff["teacher"],
        world.staff["head_of_year"],
        world.staff["elm_teacher"],
    )
    world.incidents = {
        "I1": log_incident(
            academy=oak,
            category=disruption,
            pupils=[p["oak9a_obrien"], p["oak9a_smithjones"]],
            reported_by=teacher,
            at=at("2026-11-30", "09:15"),
            location=Location.CLASSROOM,
        ),
        "I2": log_incident(
            academy=oak,
            category=chatting,
            pupils=[p["oak9b_patel"]],
            reported_by=hoy,
            at=at("2026-12-01", "10:50"),
            location=Location.CORRIDOR,
        ),
        "I3": log_incident(
            academy=oak,
            category=effort,
            pupils=[p["oak9a_obrien"]],
            reported_by=teacher,
            at=at("2026-12-02", "13:30"),
            points=2,
            location=Location.CLASSROOM,
        ),
        "I4": log_incident(
            academy=oak,
            category=prejudice,
            pupils=[p["oak10a_taylor"], p["oak9a_obrien"]],
            roles={p["oak9a_obrien"].pk: PupilRole.TARGET},
            reported_by=teacher,
            at=at("2026-12-03", "12:40"),
            location=Location.PLAYGROUND,
        ),
        "I5": log_incident(
            academy=oak,
            category=disruption,
            pupils=[mover],
            reported_by=teacher,
            at=at("2026-11-16", "08:30"),
            points=-1,
            location=Location.ENTRANCE,
        ),
        "E1": log_incident(
            academy=elm,
            category=disruption,
            pupils=[mover],
            reported_by=elm_teacher,
            at=at("2026-10-05", "16:00"),
        ),
        "E2": log_incident(
            academy=elm,
            category=effort,
            pupils=[p["elm9e_ashdown"]],
            reported_by=elm_teacher,
            at=at("2026-12-04", "09:00"),
        ),
    }
    world.pupils["mover"] = mover
    world.categories = {"disruption": disruption, "effort": effort, "prejudice": prejudice}
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def viewer(world, persona):
    return analysis.viewer_for(world.users[persona])


FILTERS = analysis.Filters(start=START, end=END)


def rows_by_label(breakdown):
    return {row.label: row.tally for row in breakdown.rows}


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# Figures ---------------------------------------------------------------------


def test_academy_figures_hand_counted(world):
    target = analysis.Target(academy=world.academies["oak"])

    tally = analysis.group_figures(viewer(world, "headteacher"), target, FILTERS)

    assert tally.incidents == 5
    assert tally.positive_incidents == 1
    assert tally.negative_incidents == 4
    assert tally.positive_points == 2
    assert tally.negative_points == -9
    assert tally.net_points == -7
    assert tally.negative_pupils == 5
    assert tally.on_roll == 5
    assert tally.negative_per_100 == 80.0


def test_moved_pupil_counts_at_each_academy(world):
    elm = analysis.Target(academy=world.academies["elm"])

    tally = analysis.group_figures(viewer(world, "trust_leader"), elm, FILTERS)

    assert tally.incidents == 2
    assert tally.negative_points == -2
    assert tally.negative_pupils == 1
    assert tally.on_roll == 2
    assert tally.negative_per_100 == 50.0


def test_trust_total_counted_not_averaged(world):
    academies = [world.academies["elm"], world.academies["oak"]]

    rows, total = analysis.academy_rows(viewer(world, "trust_leader"), academies, FILTERS)

    assert [r.tally.incidents for r in rows] == [2, 5]
    assert total.incidents == 7
    assert total.positive_points == 3
    assert total.negative_points == -11
    assert total.net_points == -8
    # The mover had a negative incident at both academies but is one pupil.
    assert total.negative_pupils == 5
    assert total.on_roll == 7
    assert total.negative_per_100 == 71.4


def test_polarity_filter(world):
    target = analysis.Target(academy=world.academies["oak"])
    negative = analysis.Filters(start=START, end=END, polarity="negative")

    tally = analysis.group_figures(viewer(world, "headteacher"), target, negative)

    assert tally.incidents == 4
    assert tally.positive_points == 0
    assert tally.negative_points == -9


def test_date_range_limits_figures(world):
    target = analysis.Target(academy=world.academies["oak"])
    december = analysis.Filters(start=datetime.date(2026, 12, 1), end=END)

    tally = analysis.group_figures(viewer(world, "headteacher"), target, december)

    assert tally.incidents == 3


def test_year_group_figures(world):
    target = analysis.Target(year_group=world.year_groups["oak9"])

    tally = analysis.group_figures(viewer(world, "headteacher"), target, FILTERS)

    # I1, I2, I3, I5 and O'Brien's part as target in I4.
    assert tally.incidents == 5
    assert tally.negative_points == -6
    assert tally.positive_points == 2
    # O'Brien, Smith-Jones, Patel and the mover; a target is not counted.
    assert tally.negative_pupils == 4
    assert tally.on_roll == 4


# Breakdowns ------------------------------------------------------------------


def test_own_category_rolls_up_to_trust_category(world):
    target = analysis.Target(academy=world.academies["oak"])

    by_trust = rows_by_label(
        analysis.by_trust_category(viewer(world, "headteacher"), target, FILTERS)
    )
    by_own = rows_by_label(analysis.by_own_category(viewer(world, "headteacher"), target, FILTERS))

    assert by_trust["Disruption"].incidents == 3
    assert by_trust["Disruption"].negative_points == -6
    assert by_trust["Effort"].positive_points == 2
    assert by_own["Disruption"].incidents == 2
    assert by_own["Chatting (counts as Disruption)"].incidents == 1


def test_breakdown_by_day(world):
    target = analysis.Target(academy=world.academies["oak"])

    days = rows_by_label(analysis.by_day(viewer(world, "headteacher"), target, FILTERS))

    assert days["Monday"].incidents == 2
    assert days["Tuesday"].incidents == 1
    assert days["Wednesday"].incidents == 1
    assert days["Thursday"].incidents == 1
    assert days["Friday"].incidents == 0
    assert "Saturday" not in days


def test_breakdown_by_hour_and_session(world):
    target = analysis.Target(academy=world.academies["oak"])
    headteacher = viewer(world, "headteacher")

    hours = {
        row.key: row.tally.incidents for row in analysis.by_hour(headteacher, target, FILTERS).rows
    }
    sessions = {
        row.key: row.tally.incidents
        for row in analysis.by_session(headteacher, target, FILTERS).rows
    }

    assert hours[8] == 1
    assert hours[9] == 1
    assert hours[10] == 1
    assert hours[11] == 0
    assert hours[12] == 1
    assert hours[13] == 1
    assert sessions == {"before": 1, "am": 1, "break": 1, "lunch": 1, "pm": 1, "after": 0}


def test_hour_uses_london_time_in_summer(world):
    oak = world.academies["oak"]
    log_incident(
        academy=oak,
        category=world.categories["disruption"],
        pupils=[world.pupils["oak9b_patel"]],
        reported_by=world.staff["teacher"],
        at=at("2026-09-15", "08:30"),
    )
    target = analysis.Target(academy=oak)
    september = analysis.Filters(start=START, end=datetime.date(2026, 9, 30))
    headteacher = viewer(world, "headteacher")

    hours = {
        row.key: row.tally.incidents
        for row in analysis.by_hour(headteacher, target, september).rows
    }
    sessions = {
        row.key: row.tally.incidents
        for row in analysis.by_session(headteacher, target, september).rows
    }

    # 08:30 British Summer Time is 07:30 UTC.
    assert hours[8] == 1
    assert hours[7] == 0
    assert sessions["before"] == 1


def test_breakdown_by_location_and_staff(world):
    target = analysis.Target(academy=world.academies["oak"])
    headteacher = viewer(world, "headteacher")

    places = rows_by_label(analysis.by_location(headteacher, target, FILTERS))
    staff = rows_by_label(analysis.by_staff(headteacher, target, FILTERS))

    assert places["Classroom"].incidents == 2
    assert places["Corridor"].incidents == 1
    assert places["Entrance or gates"].incidents == 1
    assert places["Restricted"].incidents == 1
    assert "Playground" not in places
    assert staff["Teacher Persona"].incidents == 3
    assert staff["HeadOfYear Persona"].incidents == 1
    assert staff["Restricted"].incidents == 1


def test_sensitive_detail_shown_with_permission(world):
    target = analysis.Target(academy=world.academies["oak"])
    lead = viewer(world, "safeguarding_lead")

    categories = rows_by_label(analysis.by_trust_category(lead, target, FILTERS))
    places = rows_by_label(analysis.by_location(lead, target, FILTERS))
    staff = rows_by_label(analysis.by_staff(lead, target, FILTERS))

    assert categories["Prejudice"].negative_points == -3
    assert places["Playground"].incidents == 1
    assert staff["Teacher Persona"].incidents == 4
    assert "Restricted" not in categories


def test_sensitive_incident_still_counted_in_figures(world):
    target = analysis.Target(academy=world.academies["oak"])

    tally = analysis.group_figures(viewer(world, "headteacher"), target, FILTERS)
    categories = rows_by_label(
        analysis.by_trust_category(viewer(world, "headteacher"), target, FILTERS)
    )

    assert tally.negative_points == -9
    assert categories["Restricted"].negative_points == -3
    assert "Prejudice" not in categories


# Pages -----------------------------------------------------------------------


def test_academy_page_shows_figures_charts_tables(world):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(f"/behaviour/academies/{oak.pk}/analysis/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Behaviour analysis: Oak Academy" in html
    assert "<svg" in html
    assert "Data behind the chart" in html
    assert "Chatting (counts as Disruption)" in html
    assert "Restricted" in html
    assert "Prejudice" not in html
    assert "Teacher Persona" in html
    assert "80.0" in html
    assert f"/behaviour/top-negative/?academy={oak.pk}" in html


def test_trust_page_rows_and_total(world):
    response = client_for(world, "trust_leader").get("/behaviour/analysis/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Behaviour analysis: the trust" in html
    assert "Oak Academy" in html
    assert "Elm Academy" in html
    assert "71.4" in html


def test_year_group_page_for_head_of_year(world):
    group = world.year_groups["oak9"]

    response = client_for(world, "head_of_year").get(f"/behaviour/year-groups/{group.pk}/analysis/")

    assert response.status_code == 200
    assert "Year 9, Oak Academy" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["from=2026-13-01", "to=yesterday", "from=2026-12-04&to=2026-11-01", "polarity=neutral"],
)
def test_bad_parameters_give_400(world, query):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(
        f"/behaviour/academies/{oak.pk}/analysis/?{query}"
    )

    assert response.status_code == 400


def test_bad_export_gives_400(world):
    oak = world.academies["oak"]
    client = client_for(world, "headteacher")
    url = f"/behaviour/academies/{oak.pk}/analysis/"

    assert client.get(url + "?export=pupils").status_code == 400
    assert client.get(url + "?export=day&format=pdf").status_code == 400


def test_category_export_csv(world):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(
        f"/behaviour/academies/{oak.pk}/analysis/?export=category&format=csv"
    )

    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == [
        "Trust category",
        "Incidents",
        "Positive points",
        "Negative points",
        "Net points",
        "Pupils",
    ]
    by_label = {row[0]: row for row in rows[1:]}
    assert by_label["Disruption"][1] == "3"
    assert by_label["Disruption"][3] == "-6"


@pytest.mark.parametrize("key", ["day", "hour", "location", "staff", "session", "own-category"])
def test_every_table_exports_xlsx(world, key):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(
        f"/behaviour/academies/{oak.pk}/analysis/?export={key}&format=xlsx"
    )

    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]


def test_trust_academy_export(world):
    response = client_for(world, "trust_leader").get(
        "/behaviour/analysis/?export=academies&format=csv"
    )

    rows = csv_rows(response)
    assert rows[-1][0] == "Total"
    assert rows[-1][1] == "7"
    assert rows[-1][-1] == "71.4"


# Access ----------------------------------------------------------------------


def test_head_of_year_only_their_year(world):
    client = client_for(world, "head_of_year")

    assert (
        client.get(f"/behaviour/year-groups/{world.year_groups['oak10'].pk}/analysis/").status_code
        == 404
    )
    assert (
        client.get(f"/behaviour/year-groups/{world.year_groups['elm9'].pk}/analysis/").status_code
        == 404
    )


def test_head_of_year_figures_own_pupils(world):
    target = analysis.Target(academy=world.academies["oak"])

    tally = analysis.group_figures(viewer(world, "head_of_year"), target, FILTERS)

    # Taylor (Year 10) is not theirs; O'Brien's target link in I4 is.
    assert tally.incidents == 5
    assert tally.negative_points == -6
    assert tally.on_roll == 4


def test_partial_scope_noted_on_page(world):
    oak = world.academies["oak"]

    partial = client_for(world, "head_of_year").get(f"/behaviour/academies/{oak.pk}/analysis/")
    whole = client_for(world, "headteacher").get(f"/behaviour/academies/{oak.pk}/analysis/")

    assert "count only the pupils you can see" in partial.content.decode()
    assert "count only the pupils you can see" not in whole.content.decode()


def test_elm_staff_404_on_oak(world):
    oak = world.academies["oak"]
    client = client_for(world, "elm_teacher")

    assert client.get(f"/behaviour/academies/{oak.pk}/analysis/").status_code == 404
    assert client.get(f"/behaviour/top-negative/?academy={oak.pk}").status_code == 404
    group = world.year_groups["oak9"]
    assert client.get(f"/behaviour/year-groups/{group.pk}/analysis/").status_code == 404


def test_trustee_sees_counts_without_names(world):
    oak = world.academies["oak"]
    client = client_for(world, "trustee")

    trust_page = client.get("/behaviour/analysis/")
    academy_page = client.get(f"/behaviour/academies/{oak.pk}/analysis/")

    assert trust_page.status_code == 200
    assert academy_page.status_code == 200
    for response in (trust_page, academy_page):
        html = response.content.decode()
        assert "Teacher Persona" not in html
        assert "Patel" not in html
        assert "Smith-Jones" not in html
        assert "top-negative" not in html
        assert "Incidents by reporting member of staff" not in html


def test_trustee_top_negative_and_year_group_404(world):
    client = client_for(world, "trustee")
    oak = world.academies["oak"]
    group = world.year_groups["oak9"]

    assert client.get(f"/behaviour/top-negative/?academy={oak.pk}").status_code == 404
    assert client.get(f"/behaviour/year-groups/{group.pk}/analysis/").status_code == 404


def test_trustee_staff_export_rejected(world):
    oak = world.academies["oak"]

    response = client_for(world, "trustee").get(
        f"/behaviour/academies/{oak.pk}/analysis/?export=staff&format=csv"
    )

    assert response.status_code == 400


def test_trustee_small_groups_suppressed(world):
    academies = [world.academies["elm"], world.academies["oak"]]

    rows, total = analysis.academy_rows(viewer(world, "trustee"), academies, FILTERS)
    elm, oak = rows[0].tally, rows[1].tally

    # Elm: two pupils in all, so nothing is shown.
    assert elm.suppressed
    assert elm.incidents is None
    assert elm.negative_points is None
    assert elm.positive_points is None
    # Oak: one pupil with a positive incident. Its five with a negative one
    # are hidden too, or the total less Oak would give Elm's figure.
    assert oak.positive_points is None
    assert oak.negative_points is None
    assert oak.on_roll == 5
    assert total.negative_points == -11
    assert total.negative_pupils == 5


def test_protect_hides_second_row():
    big = analysis.Tally(
        incidents=9, negative_incidents=9, negative_points=-20, pupils=8, negative_pupils=8
    )
    bigger = analysis.Tally(
        incidents=12, negative_incidents=12, negative_points=-30, pupils=11, negative_pupils=11
    )
    small = analysis.Tally(
        incidents=2, negative_incidents=2, negative_points=-4, pupils=2, negative_pupils=2
    )
    empty = analysis.Tally()

    protected = analysis.protect([bigger, small, big, empty])

    assert protected[0] == bigger
    assert protected[1].negative_points is None
    assert protected[2].negative_points is None
    assert protected[2].incidents is None
    assert protected[3] == empty


def test_protect_leaves_two_hidden_rows():
    small = analysis.Tally(
        incidents=1, negative_incidents=1, negative_points=-1, pupils=1, negative_pupils=1
    )
    big = analysis.Tally(
        incidents=9, negative_incidents=9, negative_points=-20, pupils=8, negative_pupils=8
    )

    protected = analysis.protect([small, small, big])

    assert protected[2] == big


def test_trustee_breakdown_rows_suppressed(world):
    target = analysis.Target(academy=world.academies["oak"])

    days = rows_by_label(analysis.by_day(viewer(world, "trustee"), target, FILTERS))

    assert days["Monday"].incidents is None
    assert days["Monday"].suppressed
    assert days["Friday"].incidents == 0


def test_trustee_page_marks_suppressed_values(world):
    oak = world.academies["oak"]

    response = client_for(world, "trustee").get(f"/behaviour/academies/{oak.pk}/analysis/")

    html = response.content.decode()
    assert "not shown" in html
    assert "fewer than 5 pupils" in html


# Top negative ----------------------------------------------------------------


def test_top_negative_order(world):
    target = analysis.Target(academy=world.academies["oak"])

    rows = analysis.top_negative(world.users["headteacher"], target)

    assert [r.pupil.legal_surname for r in rows] == ["Taylor", "O'Brien", "Smith-Jones", "Patel"]
    assert [r.negative_points for r in rows] == [-3, -2, -2, -1]
    # O'Brien was only the target of I4, so one incident counts.
    assert rows[1].incidents == 1


def test_top_negative_fourteen_day_window(world):
    oak = world.academies["oak"]
    patel = world.pupils["oak9b_patel"]
    disruption = world.categories["disruption"]
    for day, points in (("2026-11-21", -1), ("2026-11-20", -4)):
        log_incident(
            academy=oak,
            category=disruption,
            pupils=[patel],
            reported_by=world.staff["teacher"],
            at=at(day, "10:00"),
            points=points,
        )

    rows = analysis.top_negative(world.users["headteacher"], analysis.Target(academy=oak))

    patel_row = next(r for r in rows if r.pupil.pk == patel.pk)
    assert analysis.top_negative_window() == (datetime.date(2026, 11, 21), END)
    assert patel_row.negative_points == -2
    assert patel_row.incidents == 2


def test_top_negative_skips_zero_points(world):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_smithjones"]
    concern = BehaviourCategory.objects.create(
        trust=oak.trust,
        name="Safeguarding concern",
        polarity=Polarity.NEGATIVE,
        severity=1,
        default_points=0,
        min_points=0,
        max_points=0,
        sensitive=True,
    )
    target = analysis.Target(academy=oak)
    viewer = world.users["head_of_year"]

    def ranked() -> dict[int, tuple[int, int]]:
        rows = analysis.top_negative(viewer, target)
        return {r.pupil.pk: (r.negative_points, r.incidents) for r in rows}

    before = ranked()
    log_incident(
        academy=oak,
        category=concern,
        pupils=[pupil],
        reported_by=world.staff["safeguarding_lead"],
        at=at("2026-12-01", "12:40"),
    )

    assert ranked() == before


def test_top_negative_page(world):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(f"/behaviour/top-negative/?academy={oak.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    taylor = world.pupils["oak10a_taylor"]
    assert f"/behaviour/pupils/{taylor.pk}/" in html
    assert "10A" in html
    assert "Year 10" in html
    assert html.index("Taylor") < html.index("Patel")
    # O'Brien has SEN support, so her chip shows.
    assert "SEN support" in html


def test_top_negative_year_group_scope(world):
    group = world.year_groups["oak9"]

    response = client_for(world, "head_of_year").get(
        f"/behaviour/top-negative/?year_group={group.pk}"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Taylor" not in html
    assert "Patel" in html


def test_top_negative_csv(world):
    oak = world.academies["oak"]

    response = client_for(world, "headteacher").get(
        f"/behaviour/top-negative/?academy={oak.pk}&format=csv"
    )

    rows = csv_rows(response)
    assert rows[0][0] == "Pupil"
    assert rows[1][0] == "Oliver Taylor"
    assert rows[1][4] == "-3"
    assert len(rows) == 5


def test_top_negative_parameters(world):
    client = client_for(world, "headteacher")
    oak = world.academies["oak"]
    group = world.year_groups["oak9"]

    assert client.get("/behaviour/top-negative/").status_code == 400
    assert (
        client.get(f"/behaviour/top-negative/?academy={oak.pk}&year_group={group.pk}").status_code
        == 400
    )
    assert client.get("/behaviour/top-negative/?academy=abc").status_code == 400
    assert client.get("/behaviour/top-negative/?academy=999999").status_code == 404


# Links -----------------------------------------------------------------------


def test_academy_and_year_group_pages_link_to_analysis(world):
    oak = world.academies["oak"]
    group = world.year_groups["oak9"]
    client = client_for(world, "headteacher")

    academy_html = client.get(f"/academies/{oak.pk}/").content.decode()
    group_html = client.get(f"/academies/year-groups/{group.pk}/").content.decode()

    assert f"/behaviour/academies/{oak.pk}/analysis/" in academy_html
    assert f"/behaviour/year-groups/{group.pk}/analysis/" in group_html


# Query counts ----------------------------------------------------------------


def _add_incidents(world, count):
    oak = world.academies["oak"]
    pupils = [world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]]
    for index in range(count):
        log_incident(
            academy=oak,
            category=world.categories["disruption"],
            pupils=[pupils[index % 2]],
            reported_by=world.staff["teacher"],
            at=datetime.datetime(2026, 11, 2 + index % 20, 8 + index % 9, 5),
            location=list(Location.values)[index % 10],
        )


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "persona,url",
    [
        ("headteacher", "/behaviour/academies/{oak}/analysis/"),
        ("trust_leader", "/behaviour/analysis/"),
        ("head_of_year", "/behaviour/year-groups/{oak9}/analysis/"),
        ("headteacher", "/behaviour/top-negative/?academy={oak}"),
        ("trustee", "/behaviour/academies/{oak}/analysis/"),
    ],
)
def test_query_count_constant(world, persona, url):
    client = client_for(world, persona)
    path = url.format(oak=world.academies["oak"].pk, oak9=world.year_groups["oak9"].pk)
    _add_incidents(world, 5)
    few = _queries(client, path)

    _add_incidents(world, 45)
    many = _queries(client, path)

    assert many == few
