"""Behaviour categories: the default taxonomy, the rules and messages of the
services, academy categories, retiring, and the page and API access."""

import datetime
from dataclasses import replace
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from behaviour import taxonomy
from behaviour.models import BehaviourCategory, Incident, Polarity
from behaviour.taxonomy import CategoryInput
from trust.clock import LONDON
from trust.models import AuditEvent

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = TODAY.date()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    world.trust = world.academies["oak"].trust
    world.taxonomy = {c.name: c for c in taxonomy.default_taxonomy_ensure(world.trust)}
    return world


def negative(name: str = "Equipment missing", **fields: Any) -> CategoryInput:
    base = CategoryInput(
        name=name,
        polarity=Polarity.NEGATIVE,
        severity=1,
        default_points=-1,
        min_points=-2,
        max_points=0,
    )
    return replace(base, **fields)


def positive(name: str = "Reading challenge", **fields: Any) -> CategoryInput:
    base = CategoryInput(
        name=name,
        polarity=Polarity.POSITIVE,
        severity=None,
        default_points=1,
        min_points=0,
        max_points=3,
    )
    return replace(base, **fields)


def add_oak_category(world, data: CategoryInput | None = None) -> BehaviourCategory:
    parent = world.taxonomy["Low-level disruption"]
    return taxonomy.category_create(
        actor=world.users["headteacher"],
        trust=world.trust,
        academy=world.academies["oak"],
        data=data or negative(parent_id=parent.pk),
    )


def errors_of(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


# The default taxonomy ----------------------------------------------------------


def test_default_taxonomy_valid(world):
    categories = list(world.taxonomy.values())

    assert len(categories) == len(taxonomy.DEFAULT_TAXONOMY)
    for category in categories:
        category.full_clean()
        assert category.academy_id is None
        assert category.parent_id is None
    negatives = [c for c in categories if c.polarity == Polarity.NEGATIVE]
    positives = [c for c in categories if c.polarity == Polarity.POSITIVE]
    assert len(positives) >= 6
    assert len(negatives) >= 15
    assert all(c.severity in range(1, 6) for c in negatives)
    assert all(c.severity is None and c.min_points >= 0 for c in positives)
    assert all(c.max_points <= 0 for c in negatives)


def test_default_taxonomy_sensitive_categories(world):
    sensitive = {c.name for c in world.taxonomy.values() if c.sensitive}
    concern = world.taxonomy["Safeguarding concern"]

    assert sensitive == {"Bullying", "Prejudice-related incident", "Safeguarding concern"}
    assert (concern.default_points, concern.min_points, concern.max_points) == (0, 0, 0)


def test_default_taxonomy_idempotent(world):
    edited = world.taxonomy["Uniform"]
    edited.default_points = 0
    edited.save()

    again = taxonomy.default_taxonomy_ensure(world.trust)

    assert len(again) == len(taxonomy.DEFAULT_TAXONOMY)
    assert BehaviourCategory.objects.filter(trust=world.trust).count() == len(again)
    edited.refresh_from_db()
    assert edited.default_points == 0


def test_default_taxonomy_adds_only_missing(world):
    world.taxonomy["Theft"].delete()
    world.taxonomy["Praise"].name = "PRAISE"
    world.taxonomy["Praise"].save()

    again = taxonomy.default_taxonomy_ensure(world.trust)

    names = sorted(c.name for c in again)
    assert "Theft" in names
    assert "PRAISE" in names
    assert "Praise" not in names


def test_default_taxonomy_audited_with_actor(world):
    from tests.factories import TrustFactory

    other = TrustFactory()
    leader = world.users["trust_leader"]

    taxonomy.default_taxonomy_ensure(other, actor=leader)
    events = AuditEvent.objects.filter(model="behaviour.BehaviourCategory", actor=leader)

    assert events.count() == len(taxonomy.DEFAULT_TAXONOMY)


# Rules and messages ----------------------------------------------------------------


def test_create_trust_category_audited(world):
    leader = world.users["trust_leader"]

    category = taxonomy.category_create(actor=leader, trust=world.trust, data=positive())

    assert category.academy_id is None
    event = AuditEvent.objects.get(model="behaviour.BehaviourCategory", object_id=str(category.pk))
    assert event.actor == leader
    assert event.reason == "Behaviour category added"


def test_positive_points_below_zero_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=positive(min_points=-1),
    )

    assert "min_points" in errors
    assert "-1" in errors["min_points"][0]
    assert "0 or more" in errors["min_points"][0]


def test_negative_points_above_zero_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=negative(max_points=2),
    )

    assert "Maximum points 2" in errors["max_points"][0]
    assert "0 or fewer" in errors["max_points"][0]


def test_default_outside_range_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=negative(default_points=-5, min_points=-3),
    )

    assert list(errors) == ["default_points"]
    assert "-5" in errors["default_points"][0]
    assert "-3 to 0" in errors["default_points"][0]


def test_min_above_max_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=positive(min_points=3, max_points=1, default_points=2),
    )

    assert "above the maximum 1" in errors["min_points"][0]


def test_points_out_of_bounds_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=positive(max_points=500),
    )

    assert "500" in errors["max_points"][0]
    assert "-100 to 100" in errors["max_points"][0]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (negative(severity=None), "Severity missing"),
        (negative(severity=6), "Severity 6"),
        (positive(severity=2), "Severity 2 is set on a positive category"),
    ],
)
def test_severity_rules(world, data, fragment):
    errors = errors_of(
        taxonomy.category_create, actor=world.users["trust_leader"], trust=world.trust, data=data
    )

    assert fragment in errors["severity"][0]


def test_name_required_and_unique(world):
    leader = world.users["trust_leader"]

    blank = errors_of(taxonomy.category_create, actor=leader, trust=world.trust, data=positive(""))
    taken = errors_of(
        taxonomy.category_create, actor=leader, trust=world.trust, data=positive("praise")
    )
    long = errors_of(
        taxonomy.category_create, actor=leader, trust=world.trust, data=positive("x" * 81)
    )

    assert "name is missing" in blank["name"][0]
    assert "'praise' is already used in the trust taxonomy" in taken["name"][0]
    assert "81 characters" in long["name"][0]


def test_invalid_polarity_rejected(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=positive(polarity="neutral"),
    )

    assert "'neutral'" in errors["polarity"][0]
    assert "positive or negative" in errors["polarity"][0]


def test_rejected_create_writes_nothing(world):
    before = BehaviourCategory.objects.count()

    errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=negative(max_points=3, severity=None),
    )

    assert BehaviourCategory.objects.count() == before
    assert not AuditEvent.objects.filter(model="behaviour.BehaviourCategory").exists()


def test_trust_category_needs_trust_role(world):
    for persona in ("headteacher", "teacher", "trustee"):
        with pytest.raises(PermissionDenied):
            taxonomy.category_create(actor=world.users[persona], trust=world.trust, data=positive())


def test_academy_category_needs_leader_of_that_academy(world):
    parent = world.taxonomy["Low-level disruption"]
    data = negative(parent_id=parent.pk)

    with pytest.raises(PermissionDenied):
        taxonomy.category_create(
            actor=world.users["headteacher"],
            trust=world.trust,
            academy=world.academies["elm"],
            data=data,
        )
    with pytest.raises(PermissionDenied):
        taxonomy.category_create(
            actor=world.users["attendance_officer"],
            trust=world.trust,
            academy=world.academies["oak"],
            data=data,
        )
    made = taxonomy.category_create(
        actor=world.users["academy_leader"],
        trust=world.trust,
        academy=world.academies["oak"],
        data=data,
    )
    assert made.academy == world.academies["oak"]


def test_academy_category_needs_parent(world):
    errors = errors_of(add_oak_category, world=world, data=negative())

    assert "trust category is missing" in errors["parent"][0]


def test_academy_category_parent_same_polarity(world):
    praise = world.taxonomy["Praise"]

    errors = errors_of(add_oak_category, world=world, data=negative(parent_id=praise.pk))

    assert "Praise is positive" in errors["parent"][0]
    assert "same polarity" in errors["parent"][0]


def test_academy_category_parent_must_be_trust_category(world):
    own = add_oak_category(world)

    errors = errors_of(add_oak_category, world=world, data=negative("Other", parent_id=own.pk))

    assert f"Parent {own.pk} is not a trust category" in errors["parent"][0]


def test_academy_category_name_clashes_with_trust(world):
    parent = world.taxonomy["Uniform"]

    errors = errors_of(add_oak_category, world=world, data=negative("uniform", parent_id=parent.pk))

    assert "already a trust category" in errors["name"][0]


def test_trust_category_takes_no_parent(world):
    errors = errors_of(
        taxonomy.category_create,
        actor=world.users["trust_leader"],
        trust=world.trust,
        data=positive(parent_id=world.taxonomy["Praise"].pk),
    )

    assert "only an academy's own categories map" in errors["parent"][0]


def test_same_name_allowed_in_two_academies(world):
    parent = world.taxonomy["Low-level disruption"]
    add_oak_category(world)

    elm = taxonomy.category_create(
        actor=world.users["trust_leader"],
        trust=world.trust,
        academy=world.academies["elm"],
        data=negative(parent_id=parent.pk),
    )

    assert elm.name == "Equipment missing"


def test_update_changes_fields_and_audits(world):
    category = world.taxonomy["Mobile phone"]

    taxonomy.category_update(
        actor=world.users["trust_admin"], category=category, min_points=-4, name="Mobile phone use"
    )

    category.refresh_from_db()
    assert (category.name, category.min_points) == ("Mobile phone use", -4)
    event = AuditEvent.objects.get(model="behaviour.BehaviourCategory", action="update")
    assert event.changes["min_points"] == [-3, -4]


def test_update_keeps_polarity(world):
    category = world.taxonomy["Praise"]

    errors = errors_of(
        taxonomy.category_update,
        actor=world.users["trust_leader"],
        category=category,
        polarity=Polarity.NEGATIVE,
    )

    assert "Polarity cannot change" in errors["polarity"][0]
    category.refresh_from_db()
    assert category.polarity == Polarity.POSITIVE


def test_update_checks_range_with_stored_values(world):
    errors = errors_of(
        taxonomy.category_update,
        actor=world.users["trust_leader"],
        category=world.taxonomy["Theft"],
        max_points=-6,
    )

    assert "Default points -5 is outside the range -10 to -6" in errors["default_points"][0]


def test_update_name_taken(world):
    errors = errors_of(
        taxonomy.category_update,
        actor=world.users["trust_leader"],
        category=world.taxonomy["Theft"],
        name="Fighting",
    )

    assert "'Fighting' is already used" in errors["name"][0]


# Academy categories roll up ---------------------------------------------------------


def test_academy_category_rolls_up(world):
    own = add_oak_category(world)

    assert own.trust_category_id == world.taxonomy["Low-level disruption"].pk
    assert world.taxonomy["Theft"].trust_category_id == world.taxonomy["Theft"].pk


def test_categories_for_academy(world):
    own = add_oak_category(world)
    elm_own = taxonomy.category_create(
        actor=world.users["trust_leader"],
        trust=world.trust,
        academy=world.academies["elm"],
        data=positive("Elm star", parent_id=world.taxonomy["Praise"].pk),
    )

    with CaptureQueriesContext(connection) as queries:
        choices = taxonomy.categories_for(world.academies["oak"], DAY)
        parents = [c.parent.name for c in choices.negative if c.parent_id]

    assert len(queries.captured_queries) == 1
    assert parents == ["Low-level disruption"]
    assert own.pk in choices.ids()
    assert elm_own.pk not in choices.ids()
    assert all(c.polarity == Polarity.POSITIVE for c in choices.positive)
    assert all(c.polarity == Polarity.NEGATIVE for c in choices.negative)
    assert len(choices.all()) == len(taxonomy.DEFAULT_TAXONOMY) + 1
    assert [label for label, _rows in choices.groups()] == ["Positive", "Negative"]


def test_categories_for_by_id(world):
    by_object = taxonomy.categories_for(world.academies["oak"], DAY)
    by_id = taxonomy.categories_for(world.academies["oak"].pk, DAY)

    assert by_id.ids() == by_object.ids()


# Retiring -----------------------------------------------------------------------------


def make_incident(world, category: BehaviourCategory, day: datetime.date) -> Incident:
    occurred = datetime.datetime.combine(day, datetime.time(10), tzinfo=LONDON)
    return Incident.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        occurred_at=occurred,
        date=day,
        category=category,
        trust_category_id=category.trust_category_id,
        polarity=category.polarity,
        reported_by=world.staff["teacher"],
    )


def test_retire_blocks_new_use(world):
    uniform = world.taxonomy["Uniform"]

    taxonomy.category_retire(actor=world.users["trust_leader"], category=uniform)

    uniform.refresh_from_db()
    assert uniform.retired_on == DAY
    assert uniform.pk not in taxonomy.categories_for(world.academies["oak"], DAY).ids()
    yesterday = DAY - datetime.timedelta(days=1)
    assert uniform.pk in taxonomy.categories_for(world.academies["oak"], yesterday).ids()
    problem = taxonomy.category_usable_error(uniform, world.academies["oak"].pk, DAY)
    assert problem is not None
    assert "retired on 04/12/2026" in problem


def test_retire_keeps_history(world):
    uniform = world.taxonomy["Uniform"]
    old = make_incident(world, uniform, datetime.date(2026, 11, 2))

    taxonomy.category_retire(actor=world.users["trust_leader"], category=uniform)

    old.refresh_from_db()
    assert old.category == uniform
    assert BehaviourCategory.objects.filter(pk=uniform.pk).exists()
    page = client_for(world, "teacher").get("/behaviour/categories/")
    assert "Retired from 04/12/2026" in page.content.decode()


def test_retire_from_future_date(world):
    uniform = world.taxonomy["Uniform"]

    taxonomy.category_retire(
        actor=world.users["trust_leader"], category=uniform, on=datetime.date(2027, 1, 1)
    )

    assert uniform.pk in taxonomy.categories_for(world.academies["oak"], DAY).ids()
    after = taxonomy.categories_for(world.academies["oak"], datetime.date(2027, 1, 4))
    assert uniform.pk not in after.ids()


def test_retire_twice_rejected(world):
    uniform = world.taxonomy["Uniform"]
    taxonomy.category_retire(actor=world.users["trust_leader"], category=uniform)

    errors = errors_of(
        taxonomy.category_retire, actor=world.users["trust_leader"], category=uniform
    )

    assert "already retired from 04/12/2026" in errors["retired_on"][0]


def test_retired_trust_category_takes_no_new_academy_category(world):
    parent = world.taxonomy["Low-level disruption"]
    taxonomy.category_retire(actor=world.users["trust_leader"], category=parent)

    errors = errors_of(add_oak_category, world=world)

    assert "Low-level disruption was retired on 04/12/2026" in errors["parent"][0]


def test_retiring_trust_category_retires_academy_categories(world):
    own = add_oak_category(world)
    parent = world.taxonomy["Low-level disruption"]

    taxonomy.category_retire(actor=world.users["trust_leader"], category=parent)

    own.refresh_from_db()
    assert own.retired_on == DAY
    assert own.pk not in taxonomy.categories_for(world.academies["oak"], DAY).ids()
    with pytest.raises(ValidationError) as caught:
        taxonomy.category_reinstate(actor=world.users["headteacher"], category=own)
    assert "reinstate Low-level disruption first" in caught.value.messages[0]


def test_reinstate(world):
    uniform = world.taxonomy["Uniform"]
    taxonomy.category_retire(actor=world.users["trust_leader"], category=uniform)

    taxonomy.category_reinstate(actor=world.users["trust_leader"], category=uniform)

    uniform.refresh_from_db()
    assert uniform.retired_on is None
    assert uniform.pk in taxonomy.categories_for(world.academies["oak"], DAY).ids()


def test_usable_error_other_academy(world):
    own = add_oak_category(world)

    problem = taxonomy.category_usable_error(own, world.academies["elm"].pk, DAY)

    assert problem is not None
    assert "belongs to another academy" in problem
    assert taxonomy.category_usable_error(own, world.academies["oak"].pk, DAY) is None


# The page -----------------------------------------------------------------------------


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


@pytest.mark.parametrize("persona", ["trustee", "trust_hr", "staff"])
def test_page_hidden_without_pupil_scope(world, persona):
    client = client_for(world, persona)
    category = world.taxonomy["Uniform"]

    assert client.get("/behaviour/categories/").status_code == 404
    assert client.get(f"/behaviour/categories/{category.pk}/edit/").status_code == 404
    assert client.get("/behaviour/categories/new/").status_code == 404


@pytest.mark.parametrize("persona", ["teacher", "tutor", "head_of_year", "attendance_officer"])
def test_page_read_only_for_staff(world, persona):
    add_oak_category(world)
    client = client_for(world, persona)

    response = client.get("/behaviour/categories/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Low-level disruption" in html
    assert "Equipment missing" in html
    assert "Add a trust category" not in html
    assert "Add a category for" not in html
    assert "/edit/" not in html
    uniform = world.taxonomy["Uniform"]
    assert client.get(f"/behaviour/categories/{uniform.pk}/edit/").status_code == 403
    assert client.post(f"/behaviour/categories/{uniform.pk}/retire/").status_code == 403
    assert client.get("/behaviour/categories/new/").status_code == 403


def test_page_hides_other_academy_categories(world):
    elm_own = taxonomy.category_create(
        actor=world.users["trust_leader"],
        trust=world.trust,
        academy=world.academies["elm"],
        data=positive("Elm star", parent_id=world.taxonomy["Praise"].pk),
    )
    client = client_for(world, "headteacher")

    html = client.get("/behaviour/categories/").content.decode()

    assert "Elm star" not in html
    assert client.get(f"/behaviour/categories/{elm_own.pk}/edit/").status_code == 404
    elm_id = world.academies["elm"].pk
    assert client.get(f"/behaviour/categories/?academy={elm_id}").status_code == 404
    assert client.get(f"/behaviour/categories/new/?academy={elm_id}").status_code == 404


def test_page_bad_academy_parameter(world):
    response = client_for(world, "trust_leader").get("/behaviour/categories/?academy=oak")

    assert response.status_code == 400
    assert "“academy” has the value “oak”" in response.content.decode()


def test_page_leader_sees_every_academy(world):
    html = client_for(world, "trust_leader").get("/behaviour/categories/").content.decode()

    assert "Add a trust category" in html
    assert "Add a category for Oak" in html
    assert "Add a category for Elm" in html
    assert "<h1>Behaviour categories</h1>" in html
    assert html.index("<h2>Trust categories") < html.index("<h3>Positive</h3>")


def test_page_headteacher_adds_academy_category(world):
    client = client_for(world, "headteacher")
    oak = world.academies["oak"]
    parent = world.taxonomy["Achievement"]

    html = client.get("/behaviour/categories/").content.decode()
    form = client.get(f"/behaviour/categories/new/?academy={oak.pk}")
    response = client.post(
        f"/behaviour/categories/new/?academy={oak.pk}",
        {
            "name": "Reading challenge",
            "polarity": "positive",
            "parent": parent.pk,
            "severity": "",
            "default_points": "2",
            "min_points": "1",
            "max_points": "3",
            "position": "",
        },
    )

    assert "Add a category for Oak" in html
    assert "Add a trust category" not in html
    assert form.status_code == 200
    assert '<label for="id_parent">Counts as trust category</label>' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"/behaviour/categories/?academy={oak.pk}"
    made = BehaviourCategory.objects.get(name="Reading challenge")
    assert (made.academy, made.parent, made.position) == (oak, parent, 0)
    assert client.get("/behaviour/categories/new/").status_code == 403


def test_page_form_errors_shown(world):
    client = client_for(world, "trust_leader")

    response = client.post(
        "/behaviour/categories/new/",
        {
            "name": "Kindness",
            "polarity": "positive",
            "severity": "",
            "default_points": "1",
            "min_points": "-2",
            "max_points": "3",
        },
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "The category was not saved" in html
    assert "Minimum points -2 is below 0" in html
    assert 'aria-invalid="true"' in html
    assert not BehaviourCategory.objects.filter(name="Kindness").exists()


def test_page_edit_keeps_polarity(world):
    client = client_for(world, "trust_admin")
    theft = world.taxonomy["Theft"]

    response = client.post(
        f"/behaviour/categories/{theft.pk}/edit/",
        {
            "name": "Theft",
            "polarity": "positive",
            "severity": "5",
            "default_points": "-6",
            "min_points": "-10",
            "max_points": "0",
            "position": "3",
        },
    )

    assert response.status_code == 302
    theft.refresh_from_db()
    assert (theft.polarity, theft.severity, theft.default_points) == ("negative", 5, -6)


def test_page_retire_and_reinstate(world):
    client = client_for(world, "trust_leader")
    uniform = world.taxonomy["Uniform"]

    confirm = client.get(f"/behaviour/categories/{uniform.pk}/retire/")
    bad = client.post(f"/behaviour/categories/{uniform.pk}/retire/", {"retired_on": "31/02/2027"})
    done = client.post(f"/behaviour/categories/{uniform.pk}/retire/", {"retired_on": "04/12/2026"})
    uniform.refresh_from_db()
    retired_on = uniform.retired_on
    back = client.post(f"/behaviour/categories/{uniform.pk}/reinstate/")
    uniform.refresh_from_db()

    assert confirm.status_code == 200
    assert "Retire from" in confirm.content.decode()
    assert bad.status_code == 400
    assert "“31/02/2027” is not a date" in bad.content.decode()
    assert done.status_code == 302
    assert retired_on == DAY
    assert back.status_code == 302
    assert uniform.retired_on is None


def test_page_queries_do_not_grow(world):
    client = client_for(world, "trust_leader")
    client.get("/behaviour/categories/")
    with CaptureQueriesContext(connection) as first:
        client.get("/behaviour/categories/")
    for index in range(5):
        add_oak_category(world, negative(f"Extra {index}", parent_id=world.taxonomy["Uniform"].pk))

    with CaptureQueriesContext(connection) as second:
        client.get("/behaviour/categories/")

    assert len(second.captured_queries) == len(first.captured_queries)


# The API -------------------------------------------------------------------------------

URL = "/api/v1/behaviour-categories/"


def api_for(world, persona):
    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def elm_category(world) -> BehaviourCategory:
    return taxonomy.category_create(
        actor=world.users["trust_leader"],
        trust=world.trust,
        academy=world.academies["elm"],
        data=positive("Elm star", parent_id=world.taxonomy["Praise"].pk),
    )


def test_api_list_scoped(world):
    own = add_oak_category(world)
    elm_own = elm_category(world)

    response = api_for(world, "teacher").get(URL, {"page_size": 100})

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert own.pk in ids
    assert elm_own.pk not in ids
    assert world.taxonomy["Praise"].pk in ids
    row = next(r for r in response.json()["results"] if r["id"] == own.pk)
    assert row["parent_name"] == "Low-level disruption"
    assert row["trust_category"] == world.taxonomy["Low-level disruption"].pk
    assert row["min_points"] == -2
    assert row["in_use"] is True


def test_api_hidden_from_trustee(world):
    client = api_for(world, "trustee")
    praise = world.taxonomy["Praise"]

    listed = client.get(URL)
    detail = client.get(f"{URL}{praise.pk}/")
    changed = client.patch(f"{URL}{praise.pk}/", {"name": "Well done"}, format="json")

    assert listed.json()["count"] == 0
    assert detail.status_code == 404
    assert changed.status_code == 404


def test_api_filters(world):
    client = api_for(world, "trust_leader")
    own = add_oak_category(world)
    elm_own = elm_category(world)
    taxonomy.category_retire(actor=world.users["trust_leader"], category=world.taxonomy["Uniform"])
    oak = world.academies["oak"].pk

    at_oak = client.get(URL, {"academy": oak, "page_size": 100}).json()["results"]
    positives = client.get(URL, {"polarity": "positive", "page_size": 100}).json()["results"]
    all_rows = client.get(URL, {"include_retired": "true", "page_size": 100}).json()["results"]
    in_use = client.get(URL, {"page_size": 100}).json()["results"]

    assert own.pk in {r["id"] for r in at_oak}
    assert elm_own.pk not in {r["id"] for r in at_oak}
    assert {r["polarity"] for r in positives} == {"positive"}
    assert world.taxonomy["Uniform"].pk in {r["id"] for r in all_rows}
    assert world.taxonomy["Uniform"].pk not in {r["id"] for r in in_use}


def test_api_filter_errors(world):
    client = api_for(world, "trust_leader")

    polarity = client.get(URL, {"polarity": "neutral"})
    academy = client.get(URL, {"academy": "x"})
    retired = client.get(URL, {"include_retired": "maybe"})

    assert polarity.status_code == 400
    assert "'neutral' is not a valid polarity" in polarity.json()["polarity"][0]
    assert academy.status_code == 400
    assert "academy" in academy.json()
    assert retired.status_code == 400
    assert "'maybe'" in retired.json()["include_retired"][0]


def test_api_academy_filter_out_of_scope_empty(world):
    elm = world.academies["elm"].pk

    response = api_for(world, "teacher").get(URL, {"academy": elm})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_api_other_academy_category_404(world):
    elm_own = elm_category(world)

    response = api_for(world, "headteacher").get(f"{URL}{elm_own.pk}/")

    assert response.status_code == 404


def test_api_create_academy_category(world):
    parent = world.taxonomy["Lateness to lesson"]
    body = {
        "name": "Late to registration",
        "polarity": "negative",
        "severity": 1,
        "default_points": -1,
        "min_points": -1,
        "max_points": 0,
        "academy": world.academies["oak"].pk,
        "parent": parent.pk,
    }

    teacher = api_for(world, "teacher").post(URL, body, format="json")
    elm = api_for(world, "headteacher").post(
        URL, {**body, "academy": world.academies["elm"].pk}, format="json"
    )
    made = api_for(world, "headteacher").post(URL, body, format="json")

    assert teacher.status_code == 403
    assert elm.status_code == 404
    assert made.status_code == 201
    data = made.json()
    assert data["academy"] == world.academies["oak"].pk
    assert data["parent"] == parent.pk
    assert data["trust_category"] == parent.pk
    assert data["retired_on"] is None


def test_api_create_trust_category_rules(world):
    body = {
        "name": "Kindness",
        "polarity": "positive",
        "default_points": 1,
        "min_points": -1,
        "max_points": 2,
    }

    head = api_for(world, "headteacher").post(URL, body, format="json")
    trustee = api_for(world, "trustee").post(URL, body, format="json")
    invalid = api_for(world, "trust_leader").post(URL, body, format="json")
    valid = api_for(world, "trust_leader").post(URL, {**body, "min_points": 0}, format="json")

    assert head.status_code == 403
    assert trustee.status_code == 404
    assert invalid.status_code == 400
    assert list(invalid.json()) == ["min_points"]
    assert "Minimum points -1 is below 0" in invalid.json()["min_points"][0]
    assert valid.status_code == 201
    assert valid.json()["academy"] is None


def test_api_create_missing_fields(world):
    response = api_for(world, "trust_leader").post(URL, {"name": "Kindness"}, format="json")

    assert response.status_code == 400
    assert {"polarity", "default_points", "min_points", "max_points"} <= set(response.json())


def test_api_create_parent_errors_named_parent(world):
    response = api_for(world, "headteacher").post(
        URL,
        {
            "name": "Corridor",
            "polarity": "negative",
            "severity": 1,
            "default_points": -1,
            "min_points": -1,
            "max_points": 0,
            "academy": world.academies["oak"].pk,
            "parent": world.taxonomy["Praise"].pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "same polarity" in response.json()["parent"][0]


def test_api_patch(world):
    theft = world.taxonomy["Theft"]
    client = api_for(world, "trust_admin")

    teacher = api_for(world, "teacher").patch(f"{URL}{theft.pk}/", {"severity": 5}, format="json")
    changed = client.patch(f"{URL}{theft.pk}/", {"severity": 5}, format="json")
    polarity = client.patch(f"{URL}{theft.pk}/", {"polarity": "positive"}, format="json")
    retired = client.patch(f"{URL}{theft.pk}/", {"retired_on": "2026-12-04"}, format="json")
    back = client.patch(f"{URL}{theft.pk}/", {"retired_on": None}, format="json")
    put = client.put(f"{URL}{theft.pk}/", {"severity": 5}, format="json")
    delete = client.delete(f"{URL}{theft.pk}/")

    assert teacher.status_code == 403
    assert changed.status_code == 200
    assert changed.json()["severity"] == 5
    assert polarity.status_code == 400
    assert "Polarity cannot change" in polarity.json()["polarity"][0]
    assert retired.status_code == 200
    assert retired.json()["retired_on"] == "2026-12-04"
    assert retired.json()["in_use"] is False
    assert back.json()["retired_on"] is None
    assert put.status_code == 405
    assert delete.status_code == 405


def test_api_patch_rejected_changes_nothing(world):
    theft = world.taxonomy["Theft"]

    response = api_for(world, "trust_leader").patch(
        f"{URL}{theft.pk}/", {"name": "Stealing", "max_points": 4}, format="json"
    )

    assert response.status_code == 400
    theft.refresh_from_db()
    assert theft.name == "Theft"


def test_api_schema_generates(world):
    client = Client()
    client.force_login(world.users["trust_leader"])

    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/behaviour-categories/" in response.content
