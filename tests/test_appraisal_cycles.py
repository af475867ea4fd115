"""Cycle administration pages: opening a cycle, the trust's and an academy's
deadlines, opening appraisals for staff in post, access and bad input."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from appraisal.cycle_forms import deadline_field_name, deadline_keys
from appraisal.deadlines import deadline_table, default_deadlines
from appraisal.models import Appraisal, AppraisalCycle, Deadline, Stage, Track

from .factories import AcademicYearFactory
from .factories_appraisal import cycle_2026
from .personas import TODAY, build_personas


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(db):
    people = build_personas()
    people.cycle = cycle_2026(people)
    return people


def get(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


def post(client, user, name, data, *args):
    client.force_login(user)
    return client.post(reverse(name, args=args), data)


def text(response) -> str:
    return response.content.decode()


def trust_form(dates: dict[tuple[str, str], datetime.date], **changes: str) -> dict[str, str]:
    """Return the POST data of the deadlines form for `dates`, with typed overrides."""
    data = {
        deadline_field_name(track, stage): dates[(track, stage)].strftime("%d/%m/%Y")
        for track, stage in deadline_keys()
    }
    data.update(changes)
    return data


def trust_dates(world) -> dict[tuple[str, str], datetime.date]:
    return dict(deadline_table(world.cycle).trust)


# Access -------------------------------------------------------------------------------


RUNNERS = ("trust_hr", "trust_leader")
NOT_RUNNERS = (
    "headteacher",
    "academy_leader",
    "teacher",
    "trustee",
    "trust_admin",
    "staff",
)


@pytest.mark.parametrize("persona", ("teacher", "trustee", "academy_leader", "trust_admin"))
def test_cycle_list_refused(client, world, persona):
    assert get(client, world.users[persona], "appraisal:cycles").status_code == 403


@pytest.mark.parametrize("persona", RUNNERS)
def test_cycle_list_for_runners(client, world, persona):
    response = get(client, world.users[persona], "appraisal:cycles")
    body = text(response)
    assert response.status_code == 200
    assert "2026/27" in body
    assert "31/10/2026" in body
    assert "31/12/2026" in body
    assert "Change the trust deadlines" in body
    assert "Elm Academy" in body


def test_cycle_list_for_headteacher(client, world):
    response = get(client, world.users["headteacher"], "appraisal:cycles")
    body = text(response)
    assert response.status_code == 200
    assert "Change the trust deadlines" not in body
    oak_url = reverse(
        "appraisal:academy-deadlines", args=[world.cycle.pk, world.academies["oak"].pk]
    )
    elm_url = reverse(
        "appraisal:academy-deadlines", args=[world.cycle.pk, world.academies["elm"].pk]
    )
    assert oak_url in body
    assert elm_url not in body


@pytest.mark.parametrize("persona", NOT_RUNNERS)
def test_trust_pages_refused(client, world, persona):
    user = world.users[persona]
    assert get(client, user, "appraisal:cycle-create").status_code == 403
    assert get(client, user, "appraisal:cycle-deadlines", world.cycle.pk).status_code == 403


def test_unknown_cycle_404(client, world):
    response = get(client, world.users["trust_hr"], "appraisal:cycle-deadlines", 999999)
    assert response.status_code == 404


# Opening a cycle -------------------------------------------------------------------------


def test_cycle_create_default_deadlines(client, world):
    next_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2027)
    page = get(client, world.users["trust_hr"], "appraisal:cycle-create")
    assert "2027/28" in text(page)
    assert "31/10/2027" in text(page)

    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-create", {"academic_year": next_year.pk}
    )
    cycle = AppraisalCycle.objects.get(academic_year=next_year)
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisal:cycle-deadlines", args=[cycle.pk])
    assert deadline_table(cycle).trust == default_deadlines(next_year)


def test_cycle_create_existing_year_400(client, world):
    response = post(
        client,
        world.users["trust_leader"],
        "appraisal:cycle-create",
        {"academic_year": world.academic_year.pk},
    )
    assert response.status_code == 400
    assert "That academic year is not in the list" in text(response)
    assert AppraisalCycle.objects.count() == 1


def test_cycle_create_missing_year_400(client, world):
    response = post(client, world.users["trust_hr"], "appraisal:cycle-create", {})
    assert response.status_code == 400
    assert "Choose the academic year the cycle is for." in text(response)


def test_cycle_create_without_free_year(client, world):
    body = text(get(client, world.users["trust_hr"], "appraisal:cycle-create"))
    assert "Every recorded academic year has an appraisal cycle." in body


# The trust's deadlines -------------------------------------------------------------------


def test_trust_deadlines_form_shows_dates(client, world):
    body = text(get(client, world.users["trust_hr"], "appraisal:cycle-deadlines", world.cycle.pk))
    assert 'value="31/10/2026"' in body
    assert "As dd/mm/yyyy" in body
    assert "<legend>Headteachers</legend>" in body


def test_trust_deadlines_saved(client, world):
    data = trust_form(trust_dates(world), staff_objectives="14/11/2026")
    response = post(
        client, world.users["trust_leader"], "appraisal:cycle-deadlines", data, world.cycle.pk
    )
    assert response.status_code == 302
    saved = deadline_table(world.cycle).trust
    assert saved[(Track.STAFF, Stage.OBJECTIVES)] == datetime.date(2026, 11, 14)
    assert saved[(Track.STAFF, Stage.MID_YEAR)] == datetime.date(2027, 3, 31)


@pytest.mark.parametrize("typed", ["2026-13-40", "31-10-2026x", "31/13/2026", "next Friday"])
def test_trust_deadline_not_a_date(client, world, typed):
    before = trust_dates(world)
    data = trust_form(before, staff_objectives=typed)
    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-deadlines", data, world.cycle.pk
    )
    body = text(response)
    assert response.status_code == 400
    assert f"“{typed}” is not a date; enter it as dd/mm/yyyy" in body
    assert "Objectives agreed (teachers and other staff)" in body
    assert trust_dates(world) == before


def test_trust_deadline_missing(client, world):
    data = trust_form(trust_dates(world), headteacher_sign_off="")
    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-deadlines", data, world.cycle.pk
    )
    assert response.status_code == 400
    assert "The date for “Sign-off” is missing" in text(response)


def test_trust_deadline_outside_window(client, world):
    before = trust_dates(world)
    data = trust_form(before, staff_objectives="31/08/2026", headteacher_sign_off="01/01/2028")
    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-deadlines", data, world.cycle.pk
    )
    body = text(response)
    assert response.status_code == 400
    assert "31/08/2026 is outside the 2026/27 cycle" in body
    assert "01/01/2028 is outside the 2026/27 cycle" in body
    assert "01/09/2026 to 31/12/2027" in body
    assert trust_dates(world) == before


def test_trust_deadlines_out_of_order(client, world):
    before = trust_dates(world)
    data = trust_form(before, staff_mid_year="01/10/2026")
    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-deadlines", data, world.cycle.pk
    )
    body = text(response)
    assert response.status_code == 400
    assert "01/10/2026" in body
    assert "objectives agreed deadline 31/10/2026" in body
    assert 'aria-invalid="true"' in body
    assert trust_dates(world) == before


# An academy's own deadlines --------------------------------------------------------------


def academy_post(client, world, persona, academy_key, **typed):
    data = {deadline_field_name(track, stage): "" for track, stage in deadline_keys()}
    data.update(typed)
    return post(
        client,
        world.users[persona],
        "appraisal:academy-deadlines",
        data,
        world.cycle.pk,
        world.academies[academy_key].pk,
    )


def test_headteacher_sets_own_date(client, world):
    response = academy_post(client, world, "headteacher", "oak", staff_objectives="15/11/2026")
    assert response.status_code == 302
    oak = world.academies["oak"]
    table = deadline_table(world.cycle)
    assert table.academies[oak.pk] == {(Track.STAFF, Stage.OBJECTIVES): datetime.date(2026, 11, 15)}
    assert table.due(oak.pk, Track.STAFF, Stage.MID_YEAR) == datetime.date(2027, 3, 31)


def test_blank_date_restores_trust_date(client, world):
    oak = world.academies["oak"]
    Deadline.objects.create(
        cycle=world.cycle,
        academy=oak,
        track=Track.STAFF,
        stage=Stage.OBJECTIVES,
        due=datetime.date(2026, 11, 15),
    )
    page = get(
        client, world.users["headteacher"], "appraisal:academy-deadlines", world.cycle.pk, oak.pk
    )
    assert 'value="15/11/2026"' in text(page)
    assert "Leave empty to use the trust&#x27;s date (31/10/2026)." in text(page)

    response = academy_post(client, world, "headteacher", "oak")
    assert response.status_code == 302
    assert deadline_table(world.cycle).academies.get(oak.pk) is None


def test_academy_date_out_of_order(client, world):
    # The trust's mid-year date is 31/03/2027, so objectives in April are late.
    response = academy_post(client, world, "headteacher", "oak", staff_objectives="15/04/2027")
    body = text(response)
    assert response.status_code == 400
    assert "15/04/2027" in body
    assert "31/03/2027" in body
    assert not Deadline.objects.filter(academy=world.academies["oak"]).exists()


def test_academy_date_outside_window(client, world):
    response = academy_post(client, world, "headteacher", "oak", headteacher_sign_off="31/01/2028")
    assert response.status_code == 400
    assert "31/01/2028 is outside the 2026/27 cycle" in text(response)


def test_headteacher_other_academy_403(client, world):
    assert academy_post(client, world, "headteacher", "elm").status_code == 403
    page = get(
        client,
        world.users["headteacher"],
        "appraisal:academy-deadlines",
        world.cycle.pk,
        world.academies["elm"].pk,
    )
    assert page.status_code == 403


@pytest.mark.parametrize("persona", ("academy_leader", "teacher", "trustee"))
def test_academy_deadlines_refused(client, world, persona):
    assert academy_post(client, world, persona, "oak").status_code == 403
    assert not Deadline.objects.filter(academy__isnull=False).exists()


def test_trust_hr_sets_any_academy(client, world):
    response = academy_post(client, world, "trust_hr", "elm", headteacher_objectives="30/11/2026")
    assert response.status_code == 302
    table = deadline_table(world.cycle)
    assert table.due(world.academies["elm"].pk, Track.HEADTEACHER, Stage.OBJECTIVES) == (
        datetime.date(2026, 11, 30)
    )


# Opening appraisals for staff in post -------------------------------------------------------


def test_open_all_whole_trust(client, world):
    response = post(client, world.users["trust_hr"], "appraisal:cycle-open-all", {}, world.cycle.pk)
    assert response.status_code == 302
    opened = Appraisal.objects.filter(cycle=world.cycle)
    # Every persona but the trustee.
    assert opened.count() == len(world.staff) - 1
    assert not opened.filter(appraisee=world.staff["trustee"]).exists()
    again = post(client, world.users["trust_hr"], "appraisal:cycle-open-all", {}, world.cycle.pk)
    assert again.status_code == 302
    assert Appraisal.objects.filter(cycle=world.cycle).count() == len(world.staff) - 1


def test_open_all_message(client, world):
    client.force_login(world.users["trust_leader"])
    response = client.post(
        reverse("appraisal:cycle-open-all", args=[world.cycle.pk]),
        {"academy": world.academies["elm"].pk},
        follow=True,
    )
    assert "Opened 1 appraisal at Elm Academy for 2026/27" in text(response)


def test_headteacher_opens_own_academy(client, world):
    oak = world.academies["oak"]
    form = get(client, world.users["headteacher"], "appraisal:cycle-open-all", world.cycle.pk)
    assert "Every academy and the central team" not in text(form)
    response = post(
        client,
        world.users["headteacher"],
        "appraisal:cycle-open-all",
        {"academy": oak.pk},
        world.cycle.pk,
    )
    assert response.status_code == 302
    opened = Appraisal.objects.filter(cycle=world.cycle)
    assert set(opened.values_list("academy_id", flat=True)) == {oak.pk}
    head = opened.get(appraisee=world.staff["headteacher"])
    assert head.track == Track.HEADTEACHER


def test_headteacher_other_academy_400(client, world):
    response = post(
        client,
        world.users["headteacher"],
        "appraisal:cycle-open-all",
        {"academy": world.academies["elm"].pk},
        world.cycle.pk,
    )
    assert response.status_code == 400
    assert "That academy is not one you may open appraisals for" in text(response)
    assert not Appraisal.objects.exists()


def test_headteacher_blank_academy_400(client, world):
    response = post(
        client, world.users["headteacher"], "appraisal:cycle-open-all", {}, world.cycle.pk
    )
    assert response.status_code == 400
    assert "Choose the academy to open appraisals for." in text(response)
    assert not Appraisal.objects.exists()


@pytest.mark.parametrize("persona", ("academy_leader", "teacher", "trustee"))
def test_open_all_refused(client, world, persona):
    response = post(client, world.users[persona], "appraisal:cycle-open-all", {}, world.cycle.pk)
    assert response.status_code == 403
    assert not Appraisal.objects.exists()


def test_cycle_list_queries_bounded(client, world, django_assert_max_num_queries):
    client.force_login(world.users["trust_hr"])
    url = reverse("appraisal:cycles")
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    for start_year in (2023, 2024, 2025):
        year = AcademicYearFactory(trust=world.academic_year.trust, start_year=start_year)
        AppraisalCycle.objects.create(academic_year=year)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert "2023/24" in text(response)


# In Chromium, by keyboard ----------------------------------------------------------------


@pytest.fixture
def browser_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def submit_with_enter(page) -> None:
    """Press Enter on the focused element and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_deadlines_by_keyboard(browser_page):
    """Trust HR corrects a mistyped deadline using the keyboard alone."""
    with time_machine.travel(TODAY, tick=True):
        people = build_personas()
        cycle = cycle_2026(people)
        page = browser_page
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("trust.hr")
        page.get_by_label("Password").fill("password")
        submit_with_enter(page)

        page.goto(reverse("appraisal:cycles"))
        page.get_by_role("link", name="Change the trust deadlines for 2026/27").focus()
        submit_with_enter(page)

        field = page.get_by_label("Mid-year review (teachers and other staff)")
        field.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("31/02/2027")
        submit_with_enter(page)
        summary = page.get_by_role("alert")
        assert "The deadlines were not saved" in summary.inner_text()
        assert "“31/02/2027” is not a date" in summary.inner_text()
        assert field.get_attribute("aria-invalid") == "true"

        summary.get_by_role("link").first.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == field.get_attribute("id")
        page.keyboard.press("Control+A")
        page.keyboard.type("28/02/2027")
        submit_with_enter(page)
        assert "Saved the trust's deadlines for 2026/27." in page.get_by_role("status").inner_text()
        assert deadline_table(cycle).trust[(Track.STAFF, Stage.MID_YEAR)] == datetime.date(
            2027, 2, 28
        )
