"""The HTML pages: landing pages by role, academy and group pages, pupil
search and profile, the staff directory and the audit trails."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from academies.models import OfstedInspection
from pupils.models import Contact, Enrolment, FsmPeriod, SenNeed
from staff.models import Role
from trust.models import AuditEvent
from trust.navigation import nav_items

from .factories import PupilFactory, StaffFactory, grant
from .factories_appraisal import cycle_2026
from .factories_pages import enrol_pupils
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    return build_personas()


def page(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def text(response) -> str:
    return response.content.decode()


# Landing pages


def test_home_redirects_head_of_year_to_my_year(client, world):
    client.force_login(world.users["head_of_year"])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("my-year")


def test_my_year_lists_year_with_chips(client, world):
    response = page(client, world.users["head_of_year"], "my-year")
    body = text(response)
    assert response.status_code == 200
    assert "Year 9, Oak Academy" in body
    assert "O&#x27;Brien, Aoife" in body
    assert "Patel, Isla" in body
    assert "Taylor" not in body
    assert "Ashdown" not in body
    assert "SEN support" in body
    assert "English as an additional language</span>" in body
    # The head of year has no safeguarding permission, so no LAC chip.
    assert "Looked after child" not in body


def test_my_year_counts_by_tutor_group(client, world):
    body = text(page(client, world.users["head_of_year"], "my-year"))
    assert "3 pupils on roll." in body
    assert '>9A</a></th><td class="num">2</td>' in body
    assert '>9B</a></th><td class="num">1</td>' in body


def test_my_year_empty_for_user_without_year(client, world):
    response = page(client, world.users["staff"], "my-year")
    assert response.status_code == 200
    assert "You are not head of any year group" in text(response)


def test_my_classes_lists_tutor_group(client, world):
    response = page(client, world.users["tutor"], "my-classes")
    body = text(response)
    assert response.status_code == 200
    assert "Tutor group 9A" in body
    assert "Smith-Jones, Noah" in body
    assert "Patel" not in body


def test_my_classes_empty_state(client, world):
    body = text(page(client, world.users["teacher"], "my-classes"))
    assert "You have no tutor group this academic year" in body


def test_academy_dashboard_figures(client, world):
    response = page(client, world.users["headteacher"], "academy-dashboard")
    body = text(response)
    assert response.status_code == 200
    assert "Academy dashboard: Oak Academy" in body
    assert '<td class="num">4</td>' in body  # pupils on roll
    assert "Figures by pupil group" in body
    assert reverse("academies:detail", args=[world.academies["oak"].pk]) in body
    assert "<svg" in body


def test_academy_dashboard_selector_in_scope(client, world):
    elm = world.academies["elm"]
    response = page(client, world.users["trust_leader"], "academy-dashboard", academy=elm.pk)
    assert response.status_code == 200
    assert "Academy dashboard: Elm Academy" in text(response)


def test_academy_dashboard_selector_out_of_scope(client, world):
    elm = world.academies["elm"]
    response = page(client, world.users["headteacher"], "academy-dashboard", academy=elm.pk)
    assert response.status_code == 404
    assert "Elm" not in text(response)


def test_academy_dashboard_rejects_bad_id(client, world):
    response = page(client, world.users["headteacher"], "academy-dashboard", academy="oak")
    assert response.status_code == 400
    assert "academy" in text(response)
    assert "“oak”" in text(response)


def test_trust_dashboard_rows_and_totals(client, world):
    response = page(client, world.users["trust_leader"], "trust-dashboard")
    body = text(response)
    assert response.status_code == 200
    for academy in world.academies.values():
        assert f"{reverse('academy-dashboard')}?academy={academy.pk}" in body
    assert "Trust total" in body
    assert '<td class="num">6</td>' in body
    assert "Attendance rate by academy" in body


def test_trust_dashboard_404_for_academy_role(client, world):
    response = page(client, world.users["headteacher"], "trust-dashboard")
    assert response.status_code == 404


def test_reports_home_aggregates_only(client, world):
    response = page(client, world.users["trustee"], "reports-home")
    body = text(response)
    assert response.status_code == 200
    assert "No governance report has been produced yet" in body
    assert 'href="/trust/"' in body
    for key in world.pupils:
        assert world.pupils[key].legal_surname.replace("'", "&#x27;") not in body


@pytest.mark.parametrize(
    "persona",
    [
        "trust_leader",
        "trust_admin",
        "trust_hr",
        "trustee",
        "headteacher",
        "academy_leader",
        "attendance_officer",
        "safeguarding_lead",
        "head_of_year",
        "tutor",
        "teacher",
        "staff",
    ],
)
def test_my_appraisal_for_every_user(client, world, persona):
    response = page(client, world.users[persona], "my-appraisal")
    assert response.status_code == 200
    assert "No appraisal cycle covers today (04/12/2026)" in text(response)


def test_my_appraisal_shows_own_record(client, world):
    teacher = world.staff["teacher"]
    teacher.line_manager = world.staff["headteacher"]
    teacher.save()
    cycle_2026(world)
    body = text(page(client, world.users["teacher"], "my-appraisal"))
    assert "You have no appraisal for 2026/27 yet." in body
    assert "Your line manager, Headteacher Persona, usually appraises you" in body


def test_my_appraisal_without_staff_record(client, django_user_model):
    user = django_user_model.objects.create_user("lonely", password="x")
    client.force_login(user)
    response = client.get(reverse("my-appraisal"))
    assert response.status_code == 200
    assert "No staff record is linked to your login" in text(response)


DASHBOARD_QUERY_LIMITS = {"academy-dashboard": 60, "trust-dashboard": 40}


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("head_of_year", "my-year"),
        ("tutor", "my-classes"),
        ("headteacher", "academy-dashboard"),
        ("trust_leader", "trust-dashboard"),
        ("trustee", "reports-home"),
        ("teacher", "my-appraisal"),
    ],
)
def test_landing_query_count_constant(client, world, persona, name, django_assert_max_num_queries):
    client.force_login(world.users[persona])
    enrol_pupils(world.tutor_groups["9A"], 10, fsm=True)
    # The dashboards read every domain's figures in a fixed number of queries.
    limit = DASHBOARD_QUERY_LIMITS.get(name, 20)
    with django_assert_max_num_queries(limit) as small:
        assert client.get(reverse(name)).status_code == 200
    enrol_pupils(world.tutor_groups["9A"], 30, fsm=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(name)).status_code == 200


# Academy, year group and tutor group pages


def test_academy_list(client, world):
    body = text(page(client, world.users["trust_leader"], "academies:list"))
    assert "Oak Academy" in body
    assert "Elm Academy" in body


def test_academy_detail_contents(client, world):
    oak = world.academies["oak"]
    OfstedInspection.objects.create(
        academy=oak, inspected_on=datetime.date(2019, 5, 1), overall_grade=3
    )
    OfstedInspection.objects.create(
        academy=oak, inspected_on=datetime.date(2023, 5, 1), overall_grade=1
    )
    body = text(page(client, world.users["headteacher"], "academies:detail", oak.pk))
    assert oak.urn in body
    assert oak.dfe_number in body
    assert "11–18" in body
    assert "01/09/2015" in body
    assert body.index("01/05/2023") < body.index("01/05/2019")
    assert "Requires improvement" in body
    assert "English at Oak" in body
    assert reverse("academies:year-group", args=[world.year_groups["oak9"].pk]) in body
    assert reverse("academies:tutor-group", args=[world.tutor_groups["9B"].pk]) in body
    assert 'role="img"' in body
    assert '<th scope="row">Year 10</th>' in body


def test_academy_detail_for_trustee_has_no_names(client, world):
    oak = world.academies["oak"]
    response = page(client, world.users["trustee"], "academies:detail", oak.pk)
    body = text(response)
    assert response.status_code == 200
    assert "Patel" not in body
    assert "Smith-Jones" not in body
    assert reverse("academies:year-group", args=[world.year_groups["oak9"].pk]) not in body


def test_year_group_page(client, world):
    group = world.year_groups["oak9"]
    body = text(page(client, world.users["head_of_year"], "academies:year-group", group.pk))
    assert "Year 9, Oak Academy" in body
    assert "Patel, Isla" in body
    assert "Taylor" not in body
    assert '>9A</a></th><td>Tutor Persona</td><td class="num">2</td>' in body


def test_tutor_group_register_order(client, world):
    group = world.tutor_groups["9A"]
    extra = PupilFactory(legal_forename="Zara", legal_surname="Adams")
    Enrolment.objects.create(
        pupil=extra,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
    )
    body = text(page(client, world.users["tutor"], "academies:tutor-group", group.pk))
    assert "Tutor Persona" in body
    assert body.index("Adams, Zara") < body.index("O&#x27;Brien") < body.index("Smith-Jones")


def test_tutor_group_empty_state(client, world):
    group = world.tutor_groups["9A"]
    Enrolment.objects.filter(tutor_group=group).update(end_date=datetime.date(2026, 10, 1))
    body = text(page(client, world.users["tutor"], "academies:tutor-group", group.pk))
    assert "No pupils are on roll in 9A today" in body


# Pupil search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("O’Brien", "O&#x27;Brien, Aoife"),
        ("o'brien", "O&#x27;Brien, Aoife"),
        ("smith jones", "Smith-Jones, Noah"),
        ("smith-jones", "Smith-Jones, Noah"),
        ("Smith–Jones", "Smith-Jones, Noah"),
        ("noah smith", "Smith-Jones, Noah"),
    ],
)
def test_search_matches_names(client, world, query, expected):
    body = text(page(client, world.users["trust_leader"], "pupils:search", q=query))
    assert expected in body
    assert "Patel" not in body


def test_search_every_token_must_match(client, world):
    body = text(page(client, world.users["trust_leader"], "pupils:search", q="noah patel"))
    assert "No pupil you can see matches" in body


def test_search_by_upn_prefix(client, world):
    upn = world.pupils["oak9b_patel"].upn
    body = text(page(client, world.users["trust_leader"], "pupils:search", q=upn[:-2]))
    assert "Patel, Isla" in body
    body = text(page(client, world.users["trust_leader"], "pupils:search", q=upn.lower()))
    assert "Patel, Isla" in body


def test_search_shows_current_groups(client, world):
    body = text(page(client, world.users["trust_leader"], "pupils:search", q="Birchwood"))
    assert "Elm Academy" in body
    assert "Year 10" in body
    assert "10E" in body


def test_search_filters_in_url(client, world):
    user = world.users["trust_leader"]
    tutor_group = world.tutor_groups["9B"]
    body = text(page(client, user, "pupils:search", tutor_group=tutor_group.pk))
    assert "Patel, Isla" in body
    assert "O&#x27;Brien" not in body
    body = text(page(client, user, "pupils:search", academy=world.academies["elm"].pk))
    assert "Ashdown" in body
    assert "Patel" not in body
    body = text(page(client, user, "pupils:search", year_group=world.year_groups["oak10"].pk))
    assert "Taylor, Oliver" in body
    assert "Patel" not in body


def test_search_rejects_bad_filter(client, world):
    response = page(client, world.users["trust_leader"], "pupils:search", year_group="nine")
    assert response.status_code == 400
    assert "year_group" in text(response)
    assert "“nine”" in text(response)


def test_search_rejects_long_query(client, world):
    response = page(client, world.users["trust_leader"], "pupils:search", q="x" * 101)
    assert response.status_code == 400


def test_search_empty_query_lists_visible(client, world):
    body = text(page(client, world.users["headteacher"], "pupils:search"))
    assert "4 pupils." in body
    assert "Ashdown" not in body


def test_search_paginates_at_50(client, world):
    enrol_pupils(world.tutor_groups["10A"], 55)
    user = world.users["headteacher"]
    body = text(page(client, user, "pupils:search"))
    assert "Page 1 of 2" in body
    assert body.count('<th scope="row"><a href="/pupils/') == 50
    second = text(page(client, user, "pupils:search", page=2))
    assert second.count('<th scope="row"><a href="/pupils/') == 9


def test_search_query_count_constant(client, world, django_assert_max_num_queries):
    client.force_login(world.users["trust_leader"])
    enrol_pupils(world.tutor_groups["9A"], 10, fsm=True)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("pupils:search"))
    enrol_pupils(world.tutor_groups["9A"], 30, fsm=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("pupils:search"))


# Pupil profile


def test_profile_details(client, world):
    pupil = world.pupils["oak9b_patel"]
    pupil.preferred_forename = "Izzy"
    pupil.save()
    FsmPeriod.objects.create(pupil=pupil, start_date=datetime.date(2022, 1, 1))
    body = text(page(client, world.users["headteacher"], "pupils:profile", pupil.pk))
    assert "Isla Patel" in body
    assert "Izzy Patel" in body
    assert pupil.upn in body
    assert "01/10/2012" in body
    assert "FSM Ever 6" in body
    assert "Year 9, tutor group 9B, Oak Academy" in body
    assert "01/09/2026" in body


def test_profile_contact_not_shareable_warning(client, world):
    pupil = world.pupils["oak9b_patel"]
    Contact.objects.create(
        pupil=pupil, name="Priya Patel", relationship="Mother", address="1 Oak Lane"
    )
    Contact.objects.create(
        pupil=pupil,
        name="Raj Patel",
        relationship="Father",
        priority=2,
        address="2 Hidden Road",
        address_shareable=False,
    )
    body = text(page(client, world.users["headteacher"], "pupils:profile", pupil.pk))
    assert body.index("Priya Patel") < body.index("Raj Patel")
    assert body.count("Do not share with other parents") == 1
    assert body.index("2 Hidden Road") < body.index("Do not share with other parents")


def test_profile_hides_sensitive_without_permission(client, world):
    pupil = world.pupils["oak9a_obrien"]
    pupil.medical_notes = "Severe nut allergy"
    pupil.save()
    body = text(page(client, world.users["headteacher"], "pupils:profile", pupil.pk))
    assert "Severe nut allergy" not in body
    assert "Looked after" not in body
    assert reverse("pupils:sensitive", args=[pupil.pk]) not in body
    response = page(client, world.users["headteacher"], "pupils:sensitive", pupil.pk)
    assert response.status_code == 404


def test_sensitive_view_shown_and_logged(client, world):
    pupil = world.pupils["oak9a_obrien"]
    pupil.medical_notes = "Severe nut allergy"
    pupil.save()
    SenNeed.objects.create(pupil=pupil, need="SPLD", notes="Dyslexia screening 2025")
    user = world.users["safeguarding_lead"]
    profile_body = text(page(client, user, "pupils:profile", pupil.pk))
    assert reverse("pupils:sensitive", args=[pupil.pk]) in profile_body
    assert "Severe nut allergy" not in profile_body
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE).exists()

    for expected in (1, 2):
        body = text(page(client, user, "pupils:sensitive", pupil.pk))
        assert "Severe nut allergy" in body
        assert "Dyslexia screening 2025" in body
        views = AuditEvent.objects.filter(
            action=AuditEvent.Action.VIEW_SENSITIVE, pupil_ref=pupil.pk, actor=user
        )
        assert views.count() == expected


def test_safeguarding_lead_sees_lac_chip(client, world):
    body = text(page(client, world.users["safeguarding_lead"], "pupils:search", q="brien"))
    assert "Looked after child" in body


# Staff directory and detail


def test_staff_directory_filters(client, world):
    user = world.users["trust_hr"]
    body = text(page(client, user, "staff:directory"))
    assert "Persona, ElmTeacher" in body
    assert "Persona, Teacher" in body
    body = text(page(client, user, "staff:directory", academy=world.academies["elm"].pk))
    assert "Persona, ElmTeacher" in body
    assert "Persona, Teacher<" not in body
    body = text(page(client, user, "staff:directory", academy="central"))
    assert "Persona, TrustLeader" in body
    assert "Persona, ElmTeacher" not in body
    body = text(page(client, user, "staff:directory", q="headteach"))
    assert "Persona, Headteacher" in body
    assert "Persona, Teacher<" not in body


def test_staff_directory_rejects_bad_post_type(client, world):
    response = page(client, world.users["trust_hr"], "staff:directory", post_type="wizard")
    assert response.status_code == 400
    assert "“wizard”" in text(response)
    assert "teaching_assistant" in text(response)


def test_staff_detail_roles_and_reports(client, world):
    head = world.staff["headteacher"]
    teacher = world.staff["teacher"]
    teacher.line_manager = head
    teacher.save()
    body = text(page(client, world.users["trust_hr"], "staff:detail", head.pk))
    assert "Headteacher" in body
    assert "Oak Academy" in body
    assert "Teacher Persona" in body


def test_staff_detail_year_group_role_label(client, world):
    body = text(
        page(client, world.users["trust_hr"], "staff:detail", world.staff["head_of_year"].pk)
    )
    assert "Year 9, Oak Academy" in body


# Audit trails


def test_pupil_audit_for_trust_admin(client, world):
    pupil = world.pupils["oak9b_patel"]
    admin = world.users["trust_admin"]
    pupil.legal_forename = "Isobel"
    pupil.save()
    body = text(page(client, admin, "pupils:audit", pupil.pk))
    assert "Legal forename" in body
    assert "Isla" in body
    assert "Isobel" in body
    assert "04/12/2026 10:00" in body


@pytest.mark.parametrize(
    "persona", ["trust_leader", "headteacher", "trust_hr", "safeguarding_lead"]
)
def test_pupil_audit_404_for_others(client, world, persona):
    pupil = world.pupils["oak9b_patel"]
    response = page(client, world.users[persona], "pupils:audit", pupil.pk)
    assert response.status_code == 404


def test_staff_audit_for_trust_admin(client, world):
    member = world.staff["teacher"]
    member.job_title = "Head of English"
    member.save()
    body = text(page(client, world.users["trust_admin"], "staff:audit", member.pk))
    assert "Job title" in body
    assert "Head of English" in body


def test_staff_audit_404_for_hr(client, world):
    response = page(client, world.users["trust_hr"], "staff:audit", world.staff["teacher"].pk)
    assert response.status_code == 404


def test_superuser_reads_audit(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    pupil = world.pupils["oak9b_patel"]
    response = page(client, root, "pupils:audit", pupil.pk)
    assert response.status_code == 200


def test_my_year_for_elm_head_of_year(client, world):
    other = StaffFactory(academy=world.academies["elm"])
    grant(other, Role.HEAD_OF_YEAR, world.year_groups["elm10"])
    body = text(page(client, other.user, "my-year"))
    assert "Birchwood, Ezra" in body
    assert "Patel" not in body


def test_search_links_to_export_with_filters(client, world):
    oak = world.academies["oak"]
    body = text(
        page(client, world.users["trust_leader"], "pupils:search", q="patel", academy=oak.pk)
    )
    assert f"/pupils/export.csv?q=patel&amp;academy={oak.pk}" in body
    assert f"/pupils/export.xlsx?q=patel&amp;academy={oak.pk}" in body


def test_profile_links_to_pdf(client, world):
    pupil = world.pupils["oak9b_patel"]
    body = text(page(client, world.users["headteacher"], "pupils:profile", pupil.pk))
    assert reverse("pupils:profile-pdf", args=[pupil.pk]) in body


# Navigation and layout


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("head_of_year", ["My year today", "Academies", "Pupils", "Staff", "My appraisal"]),
        ("tutor", ["My classes", "Academies", "Pupils", "Staff", "My appraisal"]),
        ("trustee", ["Reports", "Academies", "My appraisal"]),
        ("staff", ["Staff", "My appraisal"]),
    ],
)
def test_navigation_fits_role(client, world, persona, expected):
    labels = [item.label for item in nav_items(world.users[persona])]
    for label in expected:
        assert label in labels
    if persona in {"trustee", "staff"}:
        assert "Pupils" not in labels


@pytest.mark.parametrize(
    "persona",
    ["trust_leader", "trust_hr", "trustee", "headteacher", "head_of_year", "tutor", "staff"],
)
def test_every_navigation_link_opens(client, world, persona):
    user = world.users[persona]
    client.force_login(user)
    for item in nav_items(user):
        if item.url.startswith("/admin/"):
            continue
        response = client.get(item.url)
        assert response.status_code == 200, item.url
        body = response.content.decode()
        assert 'class="skip-link" href="#main"' in body
        assert body.count("<h1") == 1, item.url
        assert '<html lang="en-GB">' in body


@pytest.mark.parametrize(
    ("persona", "name", "target"),
    [
        ("headteacher", "academies:list", None),
        ("headteacher", "academies:detail", "oak"),
        ("head_of_year", "academies:year-group", "oak9"),
        ("tutor", "academies:tutor-group", "9A"),
        ("headteacher", "pupils:search", None),
        ("headteacher", "staff:directory", None),
    ],
)
def test_page_query_count_constant(
    client, world, persona, name, target, django_assert_max_num_queries
):
    targets = {**world.academies, **world.year_groups, **world.tutor_groups}
    args = [targets[target].pk] if target else []
    client.force_login(world.users[persona])
    enrol_pupils(world.tutor_groups["9A"], 10, fsm=True)
    with django_assert_max_num_queries(25) as small:
        assert client.get(reverse(name, args=args)).status_code == 200
    enrol_pupils(world.tutor_groups["9A"], 30, fsm=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(name, args=args)).status_code == 200


def test_audit_time_in_london_summer_time(client, world):
    pupil = world.pupils["oak9b_patel"]
    summer = datetime.datetime(2026, 7, 1, 9, 30, tzinfo=datetime.UTC)
    with time_machine.travel(summer, tick=False):
        pupil.legal_forename = "Isobel"
        pupil.save()
    body = text(page(client, world.users["trust_admin"], "pupils:audit", pupil.pk))
    assert "01/07/2026 10:30" in body


def test_audit_lists_sensitive_views(client, world):
    pupil = world.pupils["oak9a_obrien"]
    page(client, world.users["safeguarding_lead"], "pupils:sensitive", pupil.pk)
    body = text(page(client, world.users["trust_admin"], "pupils:audit", pupil.pk))
    assert "Opened sensitive fields" in body
    assert "Medical notes" in body
    assert "safeguarding.lead" in body


def test_audit_empty_state(client, world):
    member = world.staff["teacher"]
    AuditEvent.objects.filter(staff_ref=member.pk).delete()
    body = text(page(client, world.users["trust_admin"], "staff:audit", member.pk))
    assert "No changes are recorded yet" in body


def test_navigation_marks_current_section(client, world):
    pupil = world.pupils["oak9b_patel"]
    body = text(page(client, world.users["headteacher"], "pupils:profile", pupil.pk))
    assert '<a href="/pupils/" aria-current="true">Pupils</a>' in body
    body = text(page(client, world.users["headteacher"], "pupils:search"))
    assert '<a href="/pupils/" aria-current="page">Pupils</a>' in body


def test_staff_detail_links_manager_only_if_visible(client, world):
    head = world.staff["headteacher"]
    head.line_manager = world.staff["trust_leader"]
    head.save()
    teacher = world.staff["teacher"]
    teacher.line_manager = head
    teacher.save()
    manager_url = reverse("staff:detail", args=[world.staff["trust_leader"].pk])
    body = text(page(client, world.users["headteacher"], "staff:detail", head.pk))
    assert "TrustLeader Persona" in body
    assert manager_url not in body
    body = text(page(client, world.users["headteacher"], "staff:detail", teacher.pk))
    assert reverse("staff:detail", args=[head.pk]) in body


@pytest.mark.parametrize("name", ["pupils:search", "staff:directory"])
def test_search_rejects_nul_character(client, world, name):
    response = page(client, world.users["trust_leader"], name, q="pat\x00el")
    assert response.status_code == 400
    assert "q" in text(response)


@pytest.mark.parametrize("value", ["²", "12a", "-3", "0", "9" * 13])
def test_id_filter_rejects_non_ids(client, world, value):
    response = page(client, world.users["trust_leader"], "pupils:search", academy=value)
    assert response.status_code == 400
    assert "must be the number of a record" in text(response)


def test_staff_search_rejects_long_query(client, world):
    response = page(client, world.users["trust_hr"], "staff:directory", q="x" * 101)
    assert response.status_code == 400
    assert "at most 100 characters" in text(response)
