"""The pupil overview page: its figures against the domain selectors, who may
open it, empty sections, names in any script, a constant query count and the
page structure a screen reader relies on."""

import datetime
import itertools
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attendance import selectors as attendance_selectors
from attendance.codes import code_on
from attendance.models import AttendanceMark, week_start
from attendance.statistics import one_decimal
from attendance.summaries import rebuild
from behaviour.timeline import pupil_totals
from progress.models import (
    AssessmentPoint,
    ClassMembership,
    Intervention,
    InterventionPupil,
    ParentContact,
)
from progress.selectors import pupil_progress
from pupils.models import Enrolment, active_on
from reports.profile import pupil_overview
from staff.models import Role
from trust.clock import LONDON
from trust.models import AuditEvent

from .factories import PupilFactory, StaffFactory, UserFactory, grant
from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .factories_output import ContactFactory, SenNeedFactory
from .factories_progress import (
    AssessmentPointFactory,
    GradeEntryFactory,
    QualificationFactory,
    SubjectFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    default_scale,
    grade_of,
)
from .factories_suspensions import record, suspension_world
from .factories_timeline import at, make_incident
from .personas import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.date()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = suspension_world()
    trust = world.academies["oak"].trust
    world.merit = PositiveCategoryFactory(trust=trust, name="Merit")
    world.disruption = CategoryFactory(trust=trust, name="Low-level disruption")
    world.safeguarding = CategoryFactory(
        trust=trust, name="Safeguarding concern", sensitive=True, default_points=0
    )
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def overview_url(pupil):
    return reverse("pupil-overview", args=[pupil.pk])


def page(world, persona, pupil):
    response = client_for(world, persona).get(overview_url(pupil))
    assert response.status_code == 200
    return response.content.decode()


def section(html, heading_id):
    """Return the HTML of the <section> labelled by `heading_id`."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def add_marks(pupil, codes, start=datetime.date(2026, 9, 1)):
    """Write one mark per code on consecutive weekday sessions from `start`,
    then rebuild the summaries once, as the bulk loader does."""
    enrolment = Enrolment.objects.filter(active_on(start), pupil=pupil).get()
    rows = []
    day, session = start, "AM"
    for code in codes:
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        definition = code_on(code, day)
        rows.append(
            AttendanceMark(
                pupil=pupil,
                date=day,
                session=session,
                code=code,
                category=definition.category,
                academy_id=enrolment.academy_id,
                academic_year_id=enrolment.academic_year_id,
                year_group_id=enrolment.year_group_id,
                tutor_group_id=enrolment.tutor_group_id,
                week_start=week_start(day),
                entered_at=timezone.now(),
            )
        )
        if session == "PM":
            day += datetime.timedelta(days=1)
        session = "PM" if session == "AM" else "AM"
    AttendanceMark.objects.bulk_create(rows)
    rebuild(
        pupil_ids=[pupil.pk],
        weeks={row.week_start for row in rows},
        academic_year_ids=[enrolment.academic_year_id],
    )


def add_incidents(world, pupil, count, category=None, reporter="head_of_year"):
    category = category or world.disruption
    for index in range(count):
        day = datetime.date(2026, 9, 7) + datetime.timedelta(days=index % 60)
        make_incident(
            pupils=[pupil],
            category=category,
            occurred_at=at(day, 9 + index % 6),
            reported_by=world.staff[reporter],
        )


def add_grades(world, pupil, labels, tmg="6", subject="Mathematics"):
    """Give `pupil` a TMG and one grade per label at successive Oak Year 9 points."""
    trust = world.academies["oak"].trust
    qualification = QualificationFactory(subject=SubjectFactory(trust=trust, name=subject))
    scale = default_scale(trust)
    TargetGradeFactory(
        pupil=pupil,
        qualification=qualification,
        academic_year=world.academic_year,
        grade=grade_of(scale, tmg),
    )
    for index, label in enumerate(labels):
        point = AssessmentPoint.objects.filter(
            year_group=world.year_groups["oak9"], name=f"Drop {index + 1}"
        ).first() or AssessmentPointFactory(
            academy=world.academies["oak"],
            academic_year=world.academic_year,
            year_group=world.year_groups["oak9"],
            name=f"Drop {index + 1}",
            date=datetime.date(2026, 10, 1) + datetime.timedelta(days=7 * index),
        )
        GradeEntryFactory(
            pupil=pupil,
            assessment_point=point,
            qualification=qualification,
            grade=grade_of(scale, label),
        )
    return qualification


def add_intervention(world, pupil, title, status=Intervention.Status.ACTIVE, **fields):
    values = {
        "academy": world.academies["oak"],
        "academic_year": world.academic_year,
        "kind": Intervention.Kind.MENTORING,
        "title": title,
        "owner": world.staff["teacher"],
        "start_date": datetime.date(2026, 10, 1),
        "review_date": datetime.date(2027, 1, 10),
        "status": status,
        **fields,
    }
    intervention = Intervention.objects.create(**values)
    InterventionPupil.objects.create(intervention=intervention, pupil=pupil)
    return intervention


def add_parent_contact(world, pupil, summary, when):
    return ParentContact.objects.create(
        pupil=pupil,
        contact=ContactFactory(pupil=pupil, name="Siobhán O'Brien"),
        academy=world.academies["oak"],
        method=ParentContact.Method.PHONE,
        occurred_at=when,
        summary=summary,
        staff=world.staff["head_of_year"],
    )


def teach(world, pupil, teacher_key="teacher"):
    """Put `pupil` in an Oak Year 9 class taught by the persona `teacher_key`."""
    group = TeachingGroupFactory(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        teachers=[world.staff[teacher_key]],
    )
    ClassMembership.objects.create(group=group, pupil=pupil, start_date=datetime.date(2026, 9, 1))
    return group


def full_record(world):
    """Give O'Brien some of everything the overview shows."""
    obrien = world.pupils["oak9a_obrien"]
    add_marks(obrien, ["/", "/", "N", "/", "I", "/", "/", "L", "O", "/"] * 4)
    add_incidents(world, obrien, 3)
    add_incidents(world, obrien, 2, category=world.merit)
    add_grades(world, obrien, ["5", "4"], tmg="6", subject="Mathematics")
    add_grades(world, obrien, ["7"], tmg="6", subject="English")
    record(world, "oak9a_obrien", start_date=datetime.date(2026, 11, 23), sessions=4)
    add_intervention(world, obrien, "Maths catch-up with Mr Ng")
    add_intervention(
        world,
        obrien,
        "Reading mentor",
        status=Intervention.Status.REVIEWED,
        reviewed_on=datetime.date(2026, 11, 20),
        review_date=datetime.date(2026, 11, 20),
    )
    add_parent_contact(world, obrien, "Talked about maths homework.", at(DAY, 8, 15))
    return obrien


# Figures equal the domain selectors ---------------------------------------------------


def test_attendance_rate_equals_pupil_counts(world):
    obrien = full_record(world)
    user = world.users["head_of_year"]
    overview = pupil_overview(user, obrien, DAY)
    counts = attendance_selectors.pupil_counts(obrien, datetime.date(2026, 9, 1), DAY).counts

    assert overview.attendance.counts == counts
    assert overview.attendance_rate == one_decimal(counts.attendance_rate)
    assert overview.attendance_band == attendance_selectors.band(counts.attendance_rate)
    html = section(page(world, "head_of_year", obrien), "attendance-heading")
    assert f"{overview.attendance_rate}%" in html
    assert overview.attendance_band[1] in html
    assert f'<span class="figure">{counts.possible}</span>' in html


def test_persistent_absence_flag_shown(world):
    obrien = world.pupils["oak9a_obrien"]
    add_marks(obrien, ["/"] * 8 + ["O"] * 2)
    html = section(page(world, "head_of_year", obrien), "attendance-heading")
    assert "80.0%" in html
    assert "Persistent absence</span>" in html
    assert '<span class="figure">Yes</span>' in html


def test_points_equal_behaviour_totals(world):
    obrien = full_record(world)
    user = world.users["head_of_year"]
    overview = pupil_overview(user, obrien, DAY)
    term, year = pupil_totals(user, obrien, DAY)

    assert overview.term_points == term
    assert overview.year_points == year
    assert year.totals.negative == -3
    assert year.totals.positive == 2
    html = section(page(world, "head_of_year", obrien), "behaviour-heading")
    row = html[html.index("This academic year") :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'<td class="num">(-?\d+)</td>', row)
    assert cells == ["2", "-3", "-1", "5"]


def test_progress_statuses_equal_pupil_progress(world):
    obrien = full_record(world)
    overview = pupil_overview(world.users["head_of_year"], obrien, DAY)
    domain_year = pupil_progress(obrien)[0]
    expected = {row.qualification.name: row.latest.status.label for row in domain_year.rows}

    shown = {row.qualification.name: row.latest.status.label for row in overview.progress.rows}
    assert shown == expected
    assert shown == {"GCSE English": "Above TMG", "GCSE Mathematics": "Well below TMG"}
    html = section(page(world, "head_of_year", obrien), "progress-heading")
    maths = html[html.index("GCSE Mathematics") :]
    maths = maths[: maths.index("</tr>")]
    assert "Well below TMG" in maths
    assert "<td>4</td>" in maths
    assert "<td>6</td>" in maths


def test_incidents_latest_ten_with_dates(world):
    obrien = world.pupils["oak9a_obrien"]
    add_incidents(world, obrien, 12)
    html = section(page(world, "head_of_year", obrien), "behaviour-heading")
    table = html[html.index("Latest incidents") : html.index("Suspensions and exclusions")]

    assert table.count('<tr><th scope="row">') == 10
    assert "The latest 10 incidents of 2026/27" in table
    # The newest of the twelve is on 18/09/2026, the oldest shown on 09/09/2026.
    assert "18/09/2026" in table
    assert "09/09/2026" in table
    assert "08/09/2026" not in table
    assert "Low-level disruption" in table


def test_suspension_dates_and_days(world):
    obrien = full_record(world)
    html = section(page(world, "head_of_year", obrien), "behaviour-heading")
    table = html[html.index("Suspensions and exclusions") :]
    assert "23/11/2026" in table
    assert '<td class="num">2</td>' in table
    assert "2 school days of suspension in 2026/27" in table


def test_interventions_open_and_closed(world):
    obrien = full_record(world)
    add_intervention(
        world,
        obrien,
        "Overdue check-in",
        review_date=datetime.date(2026, 11, 30),
    )
    html = section(page(world, "head_of_year", obrien), "interventions-heading")
    assert html.index("Overdue check-in") < html.index("Maths catch-up with Mr Ng")
    assert "In place: <strong>review overdue</strong>" in html
    assert "Reviewed 20/11/2026" in html
    assert "Reviewed</td>" in html


def test_parent_contacts_latest(world):
    obrien = world.pupils["oak9a_obrien"]
    for index in range(7):
        add_parent_contact(
            world, obrien, f"Call number {index}", at(datetime.date(2026, 11, 20 + index))
        )
    html = section(page(world, "head_of_year", obrien), "contacts-heading")
    assert "The latest 5 of 7 contacts logged" in html
    assert "26/11/2026 10:00" in html
    assert "Call number 1" not in html
    assert reverse("progress:parent-contacts", args=[obrien.pk]) in html


# Access ---------------------------------------------------------------------------------


def test_head_of_year_sees_own_year(world):
    response = client_for(world, "head_of_year").get(overview_url(world.pupils["oak9a_obrien"]))
    assert response.status_code == 200


def test_other_year_head_gets_404(world):
    staff = StaffFactory(user=UserFactory(username="hoy.ten"), academy=world.academies["oak"])
    grant(staff, Role.HEAD_OF_YEAR, world.year_groups["oak10"])
    client = Client()
    client.force_login(staff.user)
    assert client.get(overview_url(world.pupils["oak9a_obrien"])).status_code == 404
    assert client.get(overview_url(world.pupils["oak10a_taylor"])).status_code == 200


@pytest.mark.parametrize("persona", ["trustee", "trust_hr", "staff", "elm_teacher", "teacher"])
def test_no_pupil_scope_gets_404(world, persona):
    response = client_for(world, persona).get(overview_url(world.pupils["oak9a_obrien"]))
    assert response.status_code == 404
    assert "O&#x27;Brien" not in response.content.decode()


def test_unknown_pupil_gets_404(world):
    response = client_for(world, "trust_leader").get(reverse("pupil-overview", args=[999999]))
    assert response.status_code == 404


def test_anonymous_redirected_to_login(world):
    response = Client().get(overview_url(world.pupils["oak9a_obrien"]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_post_not_allowed(world):
    response = client_for(world, "head_of_year").post(overview_url(world.pupils["oak9a_obrien"]))
    assert response.status_code == 405


def test_teacher_sections_follow_domain_pages(world):
    """A teacher who only teaches the pupil sees each section exactly when the
    domain's own pupil page opens for them."""
    obrien = full_record(world)
    teach(world, obrien)
    client = client_for(world, "teacher")
    html = client.get(overview_url(obrien)).content.decode()
    domain_pages = {
        "attendance-heading": reverse("attendance:pupil", args=[obrien.pk]),
        "behaviour-heading": reverse("behaviour:pupil-timeline", args=[obrien.pk]),
        "progress-heading": reverse("progress:pupil-progress", args=[obrien.pk]),
        "contacts-heading": reverse("progress:parent-contacts", args=[obrien.pk]),
    }
    for heading_id, url in domain_pages.items():
        assert client.get(url).status_code == 200, url
        assert f'id="{heading_id}"' in html, heading_id
    interventions = section(html, "interventions-heading")
    catch_up = Intervention.objects.get(title="Maths catch-up with Mr Ng")
    assert (
        client.get(reverse("progress:intervention-detail", args=[catch_up.pk])).status_code == 200
    )
    assert "Maths catch-up with Mr Ng" in interventions
    sensitive_url = reverse("pupils:sensitive", args=[obrien.pk])
    assert client.get(sensitive_url).status_code == 404
    assert sensitive_url not in section(html, "send-heading")


def test_sensitive_incident_restricted(world):
    obrien = world.pupils["oak9a_obrien"]
    make_incident(
        pupils=[obrien],
        category=world.safeguarding,
        occurred_at=at(datetime.date(2026, 11, 2)),
        reported_by=world.staff["safeguarding_lead"],
        description="Disclosure made to the tutor.",
    )
    hoy = section(page(world, "head_of_year", obrien), "behaviour-heading")
    assert "Restricted entry" in hoy
    assert "Safeguarding concern" not in hoy
    assert "02/11/2026" in hoy
    lead = section(page(world, "safeguarding_lead", obrien), "behaviour-heading")
    assert "Safeguarding concern" in lead
    assert "Restricted entry" not in lead


def test_sen_needs_left_to_sensitive_page(world):
    obrien = world.pupils["oak9a_obrien"]
    SenNeedFactory(pupil=obrien, need="SLCN", notes="Uses a visual timetable.")
    sensitive_url = reverse("pupils:sensitive", args=[obrien.pk])
    views_before = AuditEvent.objects.count()

    teacher_view = section(page(world, "head_of_year", obrien), "send-heading")
    assert "SEN support" in teacher_view
    assert "visual timetable" not in teacher_view
    assert sensitive_url not in teacher_view
    assert "only to staff with the safeguarding permission" in teacher_view

    lead_view = section(page(world, "safeguarding_lead", obrien), "send-heading")
    assert sensitive_url in lead_view
    assert "visual timetable" not in lead_view
    # Opening the overview shows no sensitive field, so it records no sensitive view.
    assert AuditEvent.objects.count() == views_before


def test_looked_after_chip_needs_permission(world):
    obrien = world.pupils["oak9a_obrien"]
    assert "Looked after child" not in page(world, "head_of_year", obrien)
    assert "Looked after child" in page(world, "safeguarding_lead", obrien)


def test_profile_links_to_overview(world):
    obrien = world.pupils["oak9a_obrien"]
    html = client_for(world, "head_of_year").get(reverse("pupils:profile", args=[obrien.pk]))
    assert overview_url(obrien) in html.content.decode()


# Header, empty sections and names ---------------------------------------------------------


def test_header_shows_groups_and_chips(world):
    html = page(world, "head_of_year", world.pupils["oak9a_obrien"])
    header = html[: html.index('aria-labelledby="attendance-heading"')]
    assert "Year 9, tutor group 9A, Oak Academy" in header
    assert '<span class="visually-hidden">SEN support</span>' in header
    assert '<span class="visually-hidden">English as an additional language</span>' in header
    assert '<span class="visually-hidden">Pupil premium</span>' in header


def test_empty_pupil_says_so(world):
    html = page(world, "head_of_year", world.pupils["oak9b_patel"])
    assert "No attendance marks this year." in section(html, "attendance-heading")
    assert "No incidents this year." in section(html, "behaviour-heading")
    assert "No suspensions or exclusions." in section(html, "behaviour-heading")
    assert "No grades or TMGs this year." in section(html, "progress-heading")
    assert "No interventions this year." in section(html, "interventions-heading")
    assert "No contacts with parents are logged." in section(html, "contacts-heading")
    assert "No special educational needs" in section(html, "send-heading")
    assert "<svg" not in html


def test_no_academic_year_recorded(world):
    with time_machine.travel(datetime.datetime(2028, 1, 10, 10, tzinfo=LONDON), tick=False):
        pupil = world.pupils["oak9a_obrien"]
        Enrolment.objects.filter(pupil=pupil).update(end_date=datetime.date(2027, 7, 20))
        html = page(world, "headteacher", pupil)
    assert "No academic year containing 10/01/2028" in html
    assert "No attendance marks this year." in html
    assert "Not on roll at an academy of the trust today" in html


def test_unicode_name_renders(world):
    pupil = PupilFactory(legal_forename="Zoë-Łucja", legal_surname="Ó Súilleabháin 王")
    group = world.tutor_groups["9A"]
    Enrolment.objects.create(
        pupil=pupil,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
    )
    add_marks(pupil, ["/", "/", "/", "N"])
    html = page(world, "head_of_year", pupil)
    assert "<h1>Zoë-Łucja Ó Súilleabháin 王" in html
    assert "Weekly attendance of Zoë-Łucja Ó Súilleabháin 王" in html


# Query count ------------------------------------------------------------------------------


def count_queries(world, pupil):
    client = client_for(world, "head_of_year")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(overview_url(pupil))
    assert response.status_code == 200
    return len(queries)


def test_query_count_constant(world):
    """The page reads a fixed number of queries, whether the pupil has 10 or
    200 marks, 2 or 25 incidents, 1 or 6 grades, 1 or 3 suspensions and 1 or
    8 parent contacts."""
    with time_machine.travel(datetime.datetime(2027, 3, 5, 10, tzinfo=LONDON), tick=False):
        few, many = world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]
        add_marks(few, ["/"] * 9 + ["N"])
        add_marks(many, (["/"] * 9 + ["N"]) * 20)
        assert AttendanceMark.objects.filter(pupil=many).count() == 200
        add_incidents(world, few, 2)
        add_incidents(world, many, 25)
        add_grades(world, few, ["5"])
        add_grades(world, many, ["5", "4", "6", "5", "7", "6"], subject="English")
        add_parent_contact(world, few, "First call.", at(datetime.date(2027, 2, 1)))
        for index in range(8):
            add_parent_contact(world, many, f"Call {index}.", at(datetime.date(2027, 2, 1 + index)))
        add_intervention(world, few, "One")
        record(world, "oak9a_obrien", start_date=datetime.date(2027, 1, 11), sessions=2)
        for week in range(3):
            start = datetime.date(2027, 1, 11) + datetime.timedelta(days=7 * week)
            record(world, "oak9a_smithjones", start_date=start, sessions=2)
        for index in range(4):
            add_intervention(world, many, f"Many {index}")

        first = count_queries(world, few)
        second = count_queries(world, many)
    assert first == second


# Structure for keyboard and screen reader users ----------------------------------------


def test_headings_in_order(world):
    html = page(world, "head_of_year", full_record(world))
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]
    assert levels.count(1) == 1
    assert levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    assert headings == [
        "Attendance",
        "Behaviour",
        "Progress against TMG",
        "Interventions",
        "Contacts with parents",
        "Special educational needs and disabilities (SEND)",
    ]


def test_chart_has_text_and_table(world):
    html = section(page(world, "head_of_year", full_record(world)), "attendance-heading")
    assert "<svg" in html
    assert "<figcaption" in html
    caption_id = re.search(r'<figcaption id="([^"]+)"', html).group(1)
    assert f'aria-labelledby="{caption_id}"' in html
    assert '<th scope="col">Week beginning</th>' in html
    assert '<th scope="row">31/08/2026</th>' in html


def test_tables_have_captions_and_headers(world):
    html = page(world, "head_of_year", full_record(world))
    tables = html.count("<table")
    assert html.count("<caption") == tables
    assert html.count("<thead>") == tables


def test_sections_labelled_and_links_named(world):
    html = page(world, "head_of_year", full_record(world))
    main = html[html.index('<main id="main"') : html.index("</main>")]
    assert 'href="#main"' in html
    for label in re.findall(r'<section aria-labelledby="([^"]+)"', main):
        assert f'id="{label}"' in main, label
    link_texts = re.findall(r"<a [^>]*>(.*?)</a>", main, flags=re.DOTALL)
    assert link_texts
    for text in link_texts:
        assert re.sub(r"<[^>]+>", "", text).strip(), text
