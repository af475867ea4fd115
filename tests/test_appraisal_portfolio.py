"""The CPD portfolio: entries of every kind, validation messages, who may
read and change a portfolio, suggested entries from development needs,
yearly totals and the page's query count."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from appraisal import portfolio
from appraisal.models import CpdKind, DevelopmentNeed, EvidenceFile, PortfolioEntry
from trust.models import AuditEvent

from .factories_portfolio import build_portfolio_world
from .personas import TODAY


@pytest.fixture
def world(db):
    """The portfolio world, with the clock frozen for the whole test."""
    with time_machine.travel(TODAY, tick=False):
        yield build_portfolio_world()


def save(world, actor_key: str = "staff", **fields) -> PortfolioEntry:
    values = {
        "kind": "course",
        "title": "Retrieval practice in science",
        "started_on": datetime.date(2026, 10, 12),
        "hours": Decimal("6"),
        **fields,
    }
    return portfolio.entry_save(world.user(actor_key), staff=world.owner, **values)


def errors_of(world, **fields) -> dict[str, list[str]]:
    before = PortfolioEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        save(world, **fields)
    assert PortfolioEntry.objects.count() == before
    return caught.value.message_dict


# Saving entries -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CpdKind.values)
def test_entry_save_every_kind(world, kind):
    objective = world.appraisal.objectives.first()
    standard = world.standards[0]
    entry = save(
        world,
        kind=kind,
        title=f"A {kind} entry",
        provider="Oak Teaching School Hub",
        started_on="12/10/2026",
        ended_on="13/10/2026",
        hours="7.5",
        cost="£1,250.50",
        reflection="Pupils now explain their reasoning.\nMarking is quicker.",
        objectives=[objective],
        standards=[standard.pk],
    )
    entry.refresh_from_db()
    assert entry.kind == kind
    assert entry.staff == world.owner
    assert entry.started_on == datetime.date(2026, 10, 12)
    assert entry.ended_on == datetime.date(2026, 10, 13)
    assert entry.hours == Decimal("7.5")
    assert entry.cost == Decimal("1250.50")
    assert entry.reflection.endswith("Marking is quicker.")
    assert list(entry.objectives.all()) == [objective]
    assert list(entry.standards.all()) == [standard]


def test_entry_save_planned_future_dates_allowed(world):
    entry = save(world, started_on="01/06/2027", ended_on="03/06/2027")
    assert entry.started_on == datetime.date(2027, 6, 1)


def test_entry_save_change_keeps_other_fields(world):
    entry = save(world, provider="The trust", cost="120")
    changed = portfolio.entry_save(
        world.user("staff"), staff=world.owner, entry=entry, title="Retrieval practice, part 2"
    )
    changed.refresh_from_db()
    assert changed.title == "Retrieval practice, part 2"
    assert changed.provider == "The trust"
    assert changed.cost == Decimal("120")
    assert PortfolioEntry.objects.count() == 1


def test_entry_save_audited(world):
    entry = save(world)
    event = AuditEvent.objects.get(model="appraisal.PortfolioEntry", object_id=str(entry.pk))
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == world.user("staff")
    assert event.staff_ref == world.owner.pk


def test_entry_save_unknown_field_is_type_error(world):
    with pytest.raises(TypeError, match="colour"):
        save(world, colour="blue")


BAD_INPUT = [
    ("kind", {"kind": "juggling"}, "Kind “juggling” is not one of: course, inset"),
    ("kind", {"kind": ""}, "The kind is missing"),
    ("title", {"title": "   "}, "The title is missing; enter up to 200 characters."),
    ("title", {"title": "x" * 201}, "The title has 201 characters; the maximum is 200."),
    ("title", {"title": "Bad\x00title"}, "contains control characters"),
    ("provider", {"provider": "p" * 201}, "The provider has 201 characters"),
    ("started_on", {"started_on": None}, "The start date is missing"),
    ("started_on", {"started_on": "31/02/2026"}, "The start date “31/02/2026” is not a date"),
    ("started_on", {"started_on": "12/10/2206"}, "12/10/2206 is outside the years 1950 to 2031"),
    (
        "ended_on",
        {"started_on": "12/10/2026", "ended_on": "11/10/2026"},
        "The end date 11/10/2026 is before the start date 12/10/2026",
    ),
    ("hours", {"hours": "-1"}, "Hours must be from 0 to 1,000; “-1” is outside that range."),
    (
        "hours",
        {"hours": "1000.5"},
        "Hours must be from 0 to 1,000; “1000.5” is outside that range.",
    ),
    (
        "hours",
        {"hours": "2.25"},
        "Hours may have at most one decimal place; round “2.25” to one decimal place.",
    ),
    (
        "hours",
        {"hours": "six"},
        "Hours “six” is not a number; enter hours as a number such as 6 or 2.5, from 0 to 1,000.",
    ),
    ("hours", {"hours": "1e5"}, "Hours “1e5” is not a number"),
    ("cost", {"cost": "1e9"}, "Cost “1e9” is not a number; enter pounds"),
    ("hours", {"hours": "NaN"}, "Hours “NaN” is not a number"),
    (
        "cost",
        {"cost": "100000.01"},
        "Cost must be from 0 to 100,000; “100000.01” is outside that range.",
    ),
    ("cost", {"cost": "-5"}, "Cost must be from 0 to 100,000; “-5” is outside"),
    ("cost", {"cost": "1.005"}, "Cost may have at most 2 decimal places; round “1.005”"),
    ("reflection", {"reflection": "r" * 10_001}, "The reflection has 10,001 characters"),
    ("objectives", {"objectives": ["abc"]}, "The objective “abc” is not the number of a record."),
]


@pytest.mark.parametrize(("field", "fields", "expected"), BAD_INPUT)
def test_entry_save_bad_input(world, field, fields, expected):
    messages = errors_of(world, **fields)
    assert field in messages
    assert any(expected in message for message in messages[field]), messages[field]


def test_entry_save_boundaries_accepted(world):
    entry = save(world, hours="1000", cost="100000")
    assert entry.hours == Decimal("1000")
    assert entry.cost == Decimal("100000")
    zero = save(world, hours="0", cost="0")
    assert zero.hours == Decimal("0")


def test_entry_save_reports_every_field(world):
    messages = errors_of(world, kind="x", title="", hours="-1", cost="abc")
    assert set(messages) == {"kind", "title", "hours", "cost"}


def test_entry_save_other_persons_objective_rejected(world):
    other = world.other_appraisal.objectives.first()
    messages = errors_of(world, objectives=[other])
    assert messages["objectives"] == [
        f"Objective {other.pk} is not one of Staff Persona's appraisal objectives; "
        "link only objectives of their own appraisals."
    ]


def test_entry_save_other_persons_need_rejected(world):
    need = DevelopmentNeed.objects.create(
        appraisal=world.other_appraisal, description="Behaviour routines"
    )
    messages = errors_of(world, development_need=need)
    assert messages["development_need"] == [
        f"Development need {need.pk} is not from one of Staff Persona's appraisals."
    ]


def test_entry_save_unknown_standard_rejected(world):
    messages = errors_of(world, standards=[999_999])
    assert "Standard 999999 is not a standard of an active standard set" in messages["standards"][0]


def test_entry_save_retired_standard_rejected(world):
    standard = world.standards[0]
    standard.standard_set.is_active = False
    standard.standard_set.save()
    messages = errors_of(world, standards=[standard])
    assert messages["standards"] == [
        f"Standard {standard.pk} is not a standard of an active standard set; "
        "choose one from the list."
    ]


@pytest.mark.parametrize("actor", ["teacher", "head_of_year", "headteacher", "trustee"])
def test_entry_save_by_others_denied(world, actor):
    with pytest.raises(PermissionDenied):
        save(world, actor_key=actor)
    assert PortfolioEntry.objects.count() == 0


def test_entry_save_by_trust_hr_allowed(world):
    entry = save(world, actor_key="trust_hr")
    assert entry.staff == world.owner


def test_entry_save_entry_of_other_staff_denied(world):
    entry = save(world)
    with pytest.raises(PermissionDenied):
        portfolio.entry_save(
            world.user("trust_hr"), staff=world.personas.staff["teacher"], entry=entry, title="x"
        )


def test_entry_delete_by_appraiser_denied(world):
    entry = save(world)
    with pytest.raises(PermissionDenied):
        portfolio.entry_delete(world.user("head_of_year"), entry)
    assert PortfolioEntry.objects.filter(pk=entry.pk).exists()


# Suggested entries --------------------------------------------------------------------------


def test_suggested_entry_listed(world):
    assert portfolio.suggested_entries(world.owner) == [world.need]


def test_suggested_entry_gone_when_addressed(world):
    save(world, development_need=world.need)
    assert portfolio.suggested_entries(world.owner) == []


def test_suggested_entry_back_when_entry_deleted(world):
    entry = save(world, development_need=world.need)
    portfolio.entry_delete(world.user("staff"), entry)
    assert portfolio.suggested_entries(world.owner) == [world.need]


def test_suggested_entry_gone_when_dismissed(world):
    portfolio.need_dismiss(world.user("staff"), world.need)
    world.need.refresh_from_db()
    assert world.need.dismissed is True
    assert portfolio.suggested_entries(world.owner) == []


def test_need_dismiss_by_appraiser_denied(world):
    with pytest.raises(PermissionDenied):
        portfolio.need_dismiss(world.user("head_of_year"), world.need)
    world.need.refresh_from_db()
    assert world.need.dismissed is False


def test_suggested_entries_only_own(world):
    DevelopmentNeed.objects.create(appraisal=world.other_appraisal, description="Other need")
    assert portfolio.suggested_entries(world.personas.staff["teacher"])[0].description == (
        "Other need"
    )
    assert portfolio.suggested_entries(world.owner) == [world.need]


# Yearly totals ------------------------------------------------------------------------------


def test_year_totals_by_kind(world):
    save(world, kind="course", hours="6", cost="100", started_on="12/10/2026")
    save(world, kind="course", hours="1.5", cost="20.25", started_on="01/06/2027")
    save(world, kind="reading", hours="3", started_on="01/09/2026")
    save(world, kind="coaching", hours="2", started_on="31/08/2026")
    totals = portfolio.year_totals(world.owner, TODAY.date())
    assert totals.start == datetime.date(2026, 9, 1)
    assert totals.end == datetime.date(2027, 8, 31)
    assert [(row.kind, row.entries, row.hours, row.cost) for row in totals.rows] == [
        ("course", 2, Decimal("7.5"), Decimal("120.25")),
        ("reading", 1, Decimal("3.0"), Decimal("0.00")),
    ]
    assert totals.hours == Decimal("10.5")
    assert totals.cost == Decimal("120.25")
    assert totals.name == "2026/27"


def test_totals_chart_text_alternative(world):
    save(world, kind="course", hours="6")
    save(world, kind="reading", hours="2")
    chart = portfolio.totals_chart(portfolio.year_totals(world.owner, TODAY.date()))
    assert chart.summary == "Course has the most hours (6.0); Reading the fewest (2.0)."
    assert chart.rows == [["Course", 6.0], ["Reading", 2.0]]


# Pages --------------------------------------------------------------------------------------


def test_portfolio_page_shows_entries_and_totals(client, world):
    save(world, kind="course", title="Retrieval practice", hours="6", cost="150")
    save(world, kind="peer_visit", title="Visit to Elm maths", hours="3")
    client.force_login(world.user("staff"))
    response = client.get(reverse("appraisal:portfolio"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>My CPD portfolio</h1>" in body
    assert "Retrieval practice" in body
    assert "Peer visit to another academy" in body
    assert "12/10/2026" in body
    assert "CPD hours by kind, 2026/27" in body
    assert "Course has the most hours (6.0)" in body
    assert '<td class="num">9</td>' in body
    assert "£150.00" in body
    assert "Adaptive teaching for pupils with SEND" in body


def test_portfolio_page_suggestion_actions(client, world):
    client.force_login(world.user("staff"))
    body = client.get(reverse("appraisal:portfolio")).content.decode()
    add_url = reverse("appraisal:portfolio-entry-add") + f"?need={world.need.pk}"
    assert f'href="{add_url}"' in body
    assert reverse("appraisal:portfolio-need-dismiss", args=[world.need.pk]) in body
    assert "<td>Course</td>" in body


def test_portfolio_page_without_staff_record(client, world, django_user_model):
    user = django_user_model.objects.create_user("nostaff", password="x")
    client.force_login(user)
    response = client.get(reverse("appraisal:portfolio"))
    assert response.status_code == 200
    assert "No staff record is linked to your login" in response.content.decode()


@pytest.mark.parametrize("persona", ["head_of_year", "headteacher", "trust_hr"])
def test_staff_portfolio_visible(client, world, persona):
    save(world, title="Retrieval practice")
    client.force_login(world.user(persona))
    response = client.get(reverse("appraisal:portfolio-staff", args=[world.owner.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "CPD portfolio of Staff Persona" in body
    assert "Retrieval practice" in body


@pytest.mark.parametrize("persona", ["teacher", "elm_teacher", "trustee", "trust_leader"])
def test_staff_portfolio_hidden_404(client, world, persona):
    client.force_login(world.user(persona))
    response = client.get(reverse("appraisal:portfolio-staff", args=[world.owner.pk]))
    assert response.status_code == 404


def test_staff_portfolio_anonymous_redirects(client, world):
    response = client.get(reverse("appraisal:portfolio-staff", args=[world.owner.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_portfolio_appraiser_has_no_edit_links(client, world):
    entry = save(world)
    client.force_login(world.user("head_of_year"))
    body = client.get(reverse("appraisal:portfolio-staff", args=[world.owner.pk])).content
    assert reverse("appraisal:portfolio-entry-edit", args=[entry.pk]).encode() not in body
    assert b"Add to portfolio" not in body


def entry_post(**overrides) -> dict:
    data = {
        "kind": "course",
        "title": "Adaptive teaching course",
        "provider": "The trust",
        "started_on": "12/10/2026",
        "ended_on": "",
        "hours": "6",
        "cost": "0",
        "reflection": "",
    }
    data.update(overrides)
    return data


def test_add_page_prefilled_from_need(client, world):
    client.force_login(world.user("staff"))
    url = reverse("appraisal:portfolio-entry-add") + f"?need={world.need.pk}"
    body = client.get(url).content.decode()
    assert 'value="Adaptive teaching for pupils with SEND"' in body
    assert f'<option value="{world.need.pk}" selected>' in body


def test_add_page_saves_and_addresses_need(client, world):
    client.force_login(world.user("staff"))
    objective = world.appraisal.objectives.first()
    response = client.post(
        reverse("appraisal:portfolio-entry-add"),
        entry_post(development_need=world.need.pk, objectives=[objective.pk]),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisal:portfolio")
    entry = PortfolioEntry.objects.get()
    assert entry.development_need == world.need
    assert list(entry.objectives.all()) == [objective]
    assert portfolio.suggested_entries(world.owner) == []


def test_add_page_lists_only_own_objectives(client, world):
    client.force_login(world.user("staff"))
    body = client.get(reverse("appraisal:portfolio-entry-add")).content.decode()
    assert "Lead the Year 9 reading programme" in body
    assert "Another teacher's objective on questioning" not in body


def test_add_page_other_objective_400(client, world):
    client.force_login(world.user("staff"))
    other = world.other_appraisal.objectives.first()
    response = client.post(
        reverse("appraisal:portfolio-entry-add"), entry_post(objectives=[other.pk])
    )
    assert response.status_code == 400
    assert "is not one you can choose here" in response.content.decode()
    assert PortfolioEntry.objects.count() == 0


def test_add_page_bad_input_400(client, world):
    client.force_login(world.user("staff"))
    response = client.post(
        reverse("appraisal:portfolio-entry-add"),
        entry_post(started_on="12/13/2026", hours="1500", cost="12.345", title=""),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "“12/13/2026” is not a date; enter it as dd/mm/yyyy" in body
    assert "The title is missing." in body
    assert PortfolioEntry.objects.count() == 0


def test_add_page_service_range_errors_400(client, world):
    client.force_login(world.user("staff"))
    response = client.post(
        reverse("appraisal:portfolio-entry-add"),
        entry_post(hours="1500", cost="12.345", ended_on="01/10/2026"),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Hours must be from 0 to 1,000; “1500” is outside that range." in body
    assert "Cost may have at most 2 decimal places; round “12.345” to 2 decimal places." in body
    assert "The end date 01/10/2026 is before the start date 12/10/2026" in body
    assert 'value="Adaptive teaching course"' in body


def test_add_page_for_other_staff_403_or_404(client, world):
    client.force_login(world.user("head_of_year"))
    url = reverse("appraisal:portfolio-entry-add") + f"?staff={world.owner.pk}"
    assert client.get(url).status_code == 403
    client.force_login(world.user("teacher"))
    assert client.get(url).status_code == 404


def test_add_page_bad_staff_parameter_400(client, world):
    client.force_login(world.user("staff"))
    response = client.get(reverse("appraisal:portfolio-entry-add") + "?staff=abc")
    assert response.status_code == 400
    assert "“abc”" in response.content.decode()


def test_add_page_trust_hr_for_owner(client, world):
    client.force_login(world.user("trust_hr"))
    url = reverse("appraisal:portfolio-entry-add") + f"?staff={world.owner.pk}"
    response = client.post(url, entry_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisal:portfolio-staff", args=[world.owner.pk])
    assert PortfolioEntry.objects.get().staff == world.owner


def test_edit_page_changes_entry(client, world):
    entry = save(world, title="Old title")
    client.force_login(world.user("staff"))
    url = reverse("appraisal:portfolio-entry-edit", args=[entry.pk])
    assert 'value="Old title"' in client.get(url).content.decode()
    response = client.post(url, entry_post(title="New title", hours="2.5"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.title == "New title"
    assert entry.hours == Decimal("2.5")


@pytest.mark.parametrize(("persona", "status"), [("head_of_year", 403), ("teacher", 404)])
def test_edit_page_refused(client, world, persona, status):
    entry = save(world, title="Old title")
    client.force_login(world.user(persona))
    url = reverse("appraisal:portfolio-entry-edit", args=[entry.pk])
    assert client.post(url, entry_post(title="Changed")).status_code == status
    entry.refresh_from_db()
    assert entry.title == "Old title"


def test_delete_page_deletes_entry(client, world):
    entry = save(world)
    client.force_login(world.user("staff"))
    url = reverse("appraisal:portfolio-entry-delete", args=[entry.pk])
    assert "Delete “Retrieval practice in science”" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not PortfolioEntry.objects.filter(pk=entry.pk).exists()


def test_dismiss_page(client, world):
    client.force_login(world.user("staff"))
    response = client.post(reverse("appraisal:portfolio-need-dismiss", args=[world.need.pk]))
    assert response.status_code == 302
    world.need.refresh_from_db()
    assert world.need.dismissed is True
    body = client.get(reverse("appraisal:portfolio")).content.decode()
    assert "Dismissed the suggestion “Adaptive teaching for pupils with SEND”." in body
    assert f"?need={world.need.pk}" not in body
    assert "No suggestions." in body


@pytest.mark.parametrize(("persona", "status"), [("head_of_year", 403), ("teacher", 404)])
def test_dismiss_page_refused(client, world, persona, status):
    client.force_login(world.user(persona))
    response = client.post(reverse("appraisal:portfolio-need-dismiss", args=[world.need.pk]))
    assert response.status_code == status
    world.need.refresh_from_db()
    assert world.need.dismissed is False


def test_dismiss_page_get_not_allowed(client, world):
    client.force_login(world.user("staff"))
    response = client.get(reverse("appraisal:portfolio-need-dismiss", args=[world.need.pk]))
    assert response.status_code == 405


def add_entries(world, count: int) -> None:
    objectives = list(world.appraisal.objectives.all())
    standards = world.standards
    for number in range(count):
        entry = save(
            world,
            kind=CpdKind.values[number % len(CpdKind.values)],
            title=f"Entry {number}",
            objectives=objectives,
            standards=standards,
        )
        # Rows only: the page lists evidence names and never opens the files.
        EvidenceFile.objects.bulk_create(
            EvidenceFile(
                entry=entry,
                file=f"evidence/{world.owner.pk}/{entry.pk}{letter}.pdf",
                token=f"{entry.pk}{letter}",
                extension=".pdf",
                original_name=f"Certificate {letter}.pdf",
                content_type="application/pdf",
                size=1000,
            )
            for letter in "ab"
        )


@pytest.mark.parametrize("count", [2, 16])
def test_portfolio_page_query_count(client, world, django_assert_max_num_queries, count):
    add_entries(world, count)
    for number in range(3):
        DevelopmentNeed.objects.create(appraisal=world.appraisal, description=f"Need {number}")
    client.force_login(world.user("staff"))
    # Twelve queries whatever the number of entries, needs and evidence files.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("appraisal:portfolio"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('<section class="card"') == count
    assert body.count("Certificate a.pdf") == count
