"""Parent contacts, the progress letter PDF and a year group's letters.

PDFs are read back with poppler-utils through the helpers of test_pdf.
"""

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academies.models import YearGroup
from progress.grades import default_subjects_ensure
from progress.models import (
    AssessmentPoint,
    GradeScale,
    Intervention,
    InterventionPupil,
    ParentContact,
)
from progress.parents import (
    grade_in_words,
    parent_contact_log,
    standings_for,
    year_group_standings,
)
from pupils.models import Enrolment, Pupil
from staff.models import Role
from trust import clock
from trust.models import AuditEvent

from . import test_pdf as pdf_tools
from .factories import PupilFactory, grant
from .factories_output import ContactFactory
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

OWN_ADDRESS = "14 Castle Street\nLudlow\nSY8 1AT"
WITHHELD_ADDRESS = "7 Quarry Lane\nKnighton\nLD7 1EE"
AUTUMN = datetime.date(2026, 11, 20)


class World:
    """Personas with GCSE grades and TMGs for Oak's Year 9 at one assessment point."""

    def __init__(self, personas: Personas) -> None:
        self.p = personas
        oak = personas.academies["oak"]
        self.quals = default_subjects_ensure(oak.trust)
        self.scale = self.quals["gcse_maths"].scale
        self.point = AssessmentPointFactory(
            academy=oak,
            academic_year=personas.academic_year,
            year_group=personas.year_groups["oak9"],
            name="Autumn 2026",
            date=AUTUMN,
        )
        self.maths_class = TeachingGroupFactory(
            academy=oak,
            academic_year=personas.academic_year,
            year_group=personas.year_groups["oak9"],
            qualification=self.quals["gcse_maths"],
            name="9Ma1",
            teachers=[personas.staff["teacher"]],
        )

    def pupil(self, key: str) -> Pupil:
        return self.p.pupils[key]

    def grade(self, key: str | Pupil, qual: str, grade: str, tmg: str, point: Any = None) -> None:
        pupil = self.pupil(key) if isinstance(key, str) else key
        point = point or self.point
        GradeEntryFactory(
            pupil=pupil,
            qualification=self.quals[qual],
            assessment_point=point,
            grade=grade_of(self.scale, grade),
        )
        TargetGradeFactory(
            pupil=pupil,
            qualification=self.quals[qual],
            academic_year=point.academic_year,
            grade=grade_of(self.scale, tmg),
        )

    def user(self, persona: str) -> Any:
        return type(self.p.users[persona]).objects.get(pk=self.p.users[persona].pk)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        built = World(build_personas())
        obrien = built.pupil("oak9a_obrien")
        ClassMembershipFactory(group=built.maths_class, pupil=obrien)
        # Maths well below, English language a little below, history above.
        built.grade("oak9a_obrien", "gcse_maths", "4", "6")
        built.grade("oak9a_obrien", "gcse_english_language", "5-", "5")
        built.grade("oak9a_obrien", "gcse_history", "7", "6")
        yield built


def family(pupil: Pupil) -> dict[str, Any]:
    """Give `pupil` a mother, a father whose address is withheld and a
    stepfather without parental responsibility."""
    return {
        "mother": ContactFactory(
            pupil=pupil, name="Siobhan O'Brien", priority=1, address=OWN_ADDRESS
        ),
        "father": ContactFactory(
            pupil=pupil,
            name="Declan Fitzgerald",
            relationship="Father",
            priority=2,
            address=WITHHELD_ADDRESS,
            address_shareable=False,
        ),
        "stepfather": ContactFactory(
            pupil=pupil,
            name="Gareth Pryce",
            relationship="Stepfather",
            parental_responsibility=False,
            priority=3,
            address="3 Mill Road\nClun\nSY7 8JA",
        ),
    }


def text_of(pdf: bytes, tmp_path: Path, page: int | None = None) -> str:
    return pdf_tools.normalised(pdf_tools.pdf_text(pdf, tmp_path, page))


def one_line(address: str) -> list[str]:
    return [line.strip() for line in address.splitlines()]


def letter(client, world: World, persona: str, pupil: Pupil, **query: Any):
    client.force_login(world.p.users[persona])
    return client.get(reverse("progress:parent-letter", args=[pupil.pk]), query)


# Grades in words ---------------------------------------------------------------------------


def test_grade_words_gcse(world):
    scale = world.scale
    assert grade_in_words(grade_of(scale, "6"), None, scale) == "grade 6"
    assert grade_in_words(grade_of(scale, "6-"), None, scale) == "a low grade 6 (6-)"
    assert grade_in_words(grade_of(scale, "6+"), None, scale) == "a high grade 6 (6+)"
    assert grade_in_words(grade_of(scale, "U"), None, scale) == "ungraded (U)"


def test_grade_words_other_scales(world):
    scales = {s.code: s for s in GradeScale.objects.filter(trust=world.p.academies["oak"].trust)}
    a_level = scales["a_level"]
    btec = scales["btec"]
    primary = scales["primary_ta"]
    assert grade_in_words(grade_of(a_level, "A*"), None, a_level) == "grade A* (A star)"
    assert grade_in_words(grade_of(a_level, "B"), None, a_level) == "grade B"
    assert (
        grade_in_words(grade_of(btec, "Distinction*"), None, btec)
        == "Distinction star (Distinction*)"
    )
    assert "expected standard" in grade_in_words(grade_of(primary, "EXS"), None, primary)
    assert grade_in_words(None, Decimal("98"), scales["ks2_scaled"]) == "a scaled score of 98"


# Below TMG ---------------------------------------------------------------------------------


def test_standing_lists_below_only(world):
    with time_machine.travel(TODAY, tick=False):
        obrien = world.pupil("oak9a_obrien")
        enrolment = Enrolment.objects.get(pupil=obrien)
        standing = standings_for([enrolment], clock.today())[obrien.pk]

    assert standing.point == world.point
    names = [subject.qualification.name for subject in standing.below]
    assert names == ["GCSE English language", "GCSE mathematics"]
    maths = standing.below[1]
    assert maths.grade_words == "grade 4"
    assert maths.tmg_words == "grade 6"
    assert maths.how_far == "well below the target"
    assert standing.below[0].how_far == "a little below the target"
    assert standing.needs_letter


def test_standing_uses_latest_point(world):
    with time_machine.travel(TODAY, tick=False):
        later = AssessmentPointFactory(
            academy=world.point.academy,
            academic_year=world.point.academic_year,
            year_group=world.point.year_group,
            name="Mock December",
            date=datetime.date(2026, 12, 1),
            kind=AssessmentPoint.Kind.MOCK,
        )
        obrien = world.pupil("oak9a_obrien")
        GradeEntryFactory(
            pupil=obrien,
            qualification=world.quals["gcse_maths"],
            assessment_point=later,
            grade=grade_of(world.scale, "6"),
        )
        standing = standings_for([Enrolment.objects.get(pupil=obrien)], clock.today())[obrien.pk]

    assert standing.point == later
    assert standing.below == []
    assert standing.grade_heading == "Mock exam grade"


def test_standing_ignores_future_point(world):
    with time_machine.travel(TODAY, tick=False):
        future = AssessmentPointFactory(
            academy=world.point.academy,
            academic_year=world.point.academic_year,
            year_group=world.point.year_group,
            name="Spring 2027",
            date=datetime.date(2027, 3, 19),
        )
        obrien = world.pupil("oak9a_obrien")
        GradeEntryFactory(
            pupil=obrien,
            qualification=world.quals["gcse_maths"],
            assessment_point=future,
            grade=grade_of(world.scale, "8"),
        )
        standing = standings_for([Enrolment.objects.get(pupil=obrien)], clock.today())[obrien.pk]

    assert standing.point == world.point
    assert len(standing.below) == 2


# The letter --------------------------------------------------------------------------------


def test_letter_lists_below_subjects(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    family(obrien)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = text_of(response.content, tmp_path)
    assert "GCSE mathematics" in text
    assert "GCSE English language" in text
    assert "a low grade 5 (5-)" in text
    assert "well below the target" in text
    assert "GCSE history" not in text
    assert "04/12/2026" in text
    assert "Oak Academy" in text
    assert "Autumn 2026 on 20/11/2026" in text


def test_letter_x3_withheld_address(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    people = family(obrien)
    with time_machine.travel(TODAY, tick=False):
        to_mother = letter(client, world, "head_of_year", obrien, contact=people["mother"].pk)
        to_father = letter(client, world, "head_of_year", obrien, contact=people["father"].pk)

    assert to_mother.status_code == 200
    mother_text = text_of(to_mother.content, tmp_path)
    for line in one_line(OWN_ADDRESS):
        assert line in mother_text
    for line in one_line(WITHHELD_ADDRESS):
        assert line not in mother_text
    assert "Declan Fitzgerald" not in mother_text

    father_text = text_of(to_father.content, tmp_path)
    for line in one_line(WITHHELD_ADDRESS):
        assert line in father_text
    assert "Siobhan O'Brien" not in father_text


def test_letter_one_page_per_recipient(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    family(obrien)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)

    assert pdf_tools.pdf_pages(response.content, tmp_path) == 2
    first = text_of(response.content, tmp_path, 1)
    second = text_of(response.content, tmp_path, 2)
    assert "Dear Siobhan O'Brien" in first
    assert "Quarry Lane" not in first
    assert "Dear Declan Fitzgerald" in second
    assert "Castle Street" not in second
    # Both letters share the file, so the father's withheld address is left
    # off his own letter too; his letter printed alone carries it.
    assert "Quarry Lane" not in text_of(response.content, tmp_path)
    assert "Address withheld from other contacts" in second


def test_letter_only_parental_responsibility(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    people = family(obrien)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)
        refused = letter(client, world, "head_of_year", obrien, contact=people["stepfather"].pk)

    text = text_of(response.content, tmp_path)
    assert "Gareth Pryce" not in text
    assert "Mill Road" not in text
    assert refused.status_code == 400
    logged = set(ParentContact.objects.values_list("contact_id", flat=True))
    assert logged == {people["mother"].pk, people["father"].pk}


def test_letter_contact_of_other_pupil_rejected(client, world):
    obrien = world.pupil("oak9a_obrien")
    family(obrien)
    other = ContactFactory(pupil=world.pupil("oak9a_smithjones"), name="Priya Smith")
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien, contact=other.pk)

    assert response.status_code == 400
    assert b"Priya Smith" not in response.content
    assert not ParentContact.objects.exists()


def test_letter_without_recipients_explains(client, world):
    obrien = world.pupil("oak9a_obrien")
    ContactFactory(pupil=obrien, name="Gareth Pryce", parental_responsibility=False)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)

    assert response.status_code == 409
    assert b"parental responsibility" in response.content
    assert not ParentContact.objects.exists()


def test_letter_lists_interventions(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    family(obrien)
    owner = world.p.staff["teacher"]
    with time_machine.travel(TODAY, tick=False):
        kept = Intervention.objects.create(
            academy=world.p.academies["oak"],
            academic_year=world.p.academic_year,
            kind=Intervention.Kind.TUTORING,
            title="Small-group algebra tutoring",
            qualification=world.quals["gcse_maths"],
            owner=owner,
            start_date=datetime.date(2026, 11, 23),
            review_date=datetime.date(2027, 1, 29),
        )
        stopped = Intervention.objects.create(
            academy=world.p.academies["oak"],
            academic_year=world.p.academic_year,
            kind=Intervention.Kind.MENTORING,
            title="Friday mentoring sessions",
            owner=owner,
            start_date=datetime.date(2026, 9, 14),
            review_date=datetime.date(2026, 10, 16),
            status=Intervention.Status.STOPPED,
        )
        for intervention in (kept, stopped):
            InterventionPupil.objects.create(intervention=intervention, pupil=obrien)
        response = letter(client, world, "head_of_year", obrien)

    text = text_of(response.content, tmp_path)
    assert "Small-group algebra tutoring" in text
    assert "Tutoring" in text
    assert owner.formal_name in text
    assert "29/01/2027" in text
    assert "Friday mentoring sessions" not in text


def test_letter_on_target_is_short(client, world, tmp_path):
    patel = world.pupil("oak9b_patel")
    ContactFactory(pupil=patel, name="Anita Patel")
    with time_machine.travel(TODAY, tick=False):
        world.grade("oak9b_patel", "gcse_maths", "7", "6")
        response = letter(client, world, "head_of_year", patel)

    text = text_of(response.content, tmp_path)
    assert "at or above their target minimum grade in every subject" in text
    assert "Support in place" not in text
    assert pdf_tools.pdf_pages(response.content, tmp_path) == 1


def test_letter_logs_contacts(client, world):
    obrien = world.pupil("oak9a_obrien")
    people = family(obrien)
    with time_machine.travel(TODAY, tick=False):
        letter(client, world, "head_of_year", obrien, contact=people["mother"].pk)

    logged = ParentContact.objects.get()
    assert logged.method == ParentContact.Method.LETTER
    assert logged.contact_id == people["mother"].pk
    assert logged.pupil_id == obrien.pk
    assert logged.staff == world.p.staff["head_of_year"]
    assert logged.academy == world.p.academies["oak"]
    assert "GCSE mathematics" in logged.summary
    assert AuditEvent.objects.filter(
        model="progress.ParentContact", pupil_ref=obrien.pk, action=AuditEvent.Action.CREATE
    ).exists()


def test_letter_file_name_has_upn(client, world):
    obrien = world.pupil("oak9a_obrien")
    family(obrien)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)

    disposition = response["Content-Disposition"]
    assert obrien.upn in disposition
    assert "Brien" not in disposition
    assert response["Cache-Control"] == "private, no-store"


def test_letter_r3_names_print(client, world, tmp_path):
    obrien = world.pupil("oak9a_obrien")
    obrien.legal_forename, obrien.legal_surname = "Zoë", "Ní Bhriain"
    obrien.save()
    ContactFactory(pupil=obrien, name="محمد علي", priority=1)
    ContactFactory(pupil=obrien, name="李明", priority=2)
    ContactFactory(pupil=obrien, name="Łukasz Wiśniewski", priority=3)
    with time_machine.travel(TODAY, tick=False):
        response = letter(client, world, "head_of_year", obrien)

    text = pdf_tools.pdf_text(response.content, tmp_path)
    for name in ("Zoë Ní Bhriain", "محمد علي", "李明", "Łukasz Wiśniewski"):
        assert pdf_tools.contains_name(text, name), name
    fonts = pdf_tools.pdf_fonts(response.content, tmp_path)
    assert all(embedded == "yes" for _, embedded in fonts), fonts


def test_letter_access(client, world):
    obrien = world.pupil("oak9a_obrien")
    patel = world.pupil("oak9b_patel")
    elm = world.pupil("elm9e_ashdown")
    for pupil in (obrien, patel, elm):
        ContactFactory(pupil=pupil)
    with time_machine.travel(TODAY, tick=False):
        assert letter(client, world, "teacher", obrien).status_code == 200
        assert letter(client, world, "teacher", patel).status_code == 404
        assert letter(client, world, "trustee", obrien).status_code == 404
        assert letter(client, world, "elm_teacher", obrien).status_code == 404
        assert letter(client, world, "head_of_year", elm).status_code == 404
    assert set(ParentContact.objects.values_list("pupil_id", flat=True)) == {obrien.pk}


# The contact log ---------------------------------------------------------------------------


def contact_form(**changes: Any) -> dict[str, Any]:
    data = {
        "method": "phone",
        "occurred_date": "03/12/2026",
        "occurred_time": "16:30",
        "contact": "",
        "staff": "",
        "summary": "Talked about maths homework and the tutoring group.",
    }
    data.update(changes)
    return data


def post_contact(client, world: World, persona: str, pupil: Pupil, data: dict[str, Any]):
    client.force_login(world.p.users[persona])
    return client.post(reverse("progress:parent-contacts", args=[pupil.pk]), data)


def test_contact_logged(client, world):
    obrien = world.pupil("oak9a_obrien")
    people = family(obrien)
    teacher = world.p.staff["teacher"]
    with time_machine.travel(TODAY, tick=False):
        response = post_contact(
            client,
            world,
            "teacher",
            obrien,
            contact_form(contact=str(people["father"].pk), staff=str(teacher.pk)),
        )

    assert response.status_code == 302
    logged = ParentContact.objects.get()
    assert logged.method == ParentContact.Method.PHONE
    assert logged.contact_id == people["father"].pk
    assert logged.staff == teacher
    assert logged.occurred_at.astimezone(clock.LONDON) == datetime.datetime(
        2026, 12, 3, 16, 30, tzinfo=clock.LONDON
    )
    assert logged.created_by == world.p.users["teacher"]


def test_contacts_listed_newest_first(client, world):
    obrien = world.pupil("oak9a_obrien")
    teacher = world.p.staff["teacher"]
    with time_machine.travel(TODAY, tick=False):
        for day, summary in (("01/12/2026", "Older call"), ("03/12/2026", "Newer meeting")):
            post_contact(
                client,
                world,
                "teacher",
                obrien,
                contact_form(occurred_date=day, staff=str(teacher.pk), summary=summary),
            )
        page = client.get(reverse("progress:parent-contacts", args=[obrien.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert body.index("Newer meeting") < body.index("Older call")
    assert "03/12/2026 16:30" in body


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"occurred_date": "05/12/2026"}, "in the future"),
        ({"occurred_time": "10:01", "occurred_date": "04/12/2026"}, "in the future"),
        ({"summary": "   "}, "Summary is missing"),
        ({"method": "carrier_pigeon"}, "carrier_pigeon"),
        ({"occurred_date": "31/02/2026"}, "31/02/2026"),
        ({"staff": ""}, "Staff member is missing"),
    ],
)
def test_contact_invalid_rejected(client, world, changes, fragment):
    obrien = world.pupil("oak9a_obrien")
    data = contact_form(staff=str(world.p.staff["teacher"].pk))
    data.update(changes)
    with time_machine.travel(TODAY, tick=False):
        response = post_contact(client, world, "teacher", obrien, data)

    assert response.status_code == 400
    assert fragment in response.content.decode()
    assert not ParentContact.objects.exists()


def test_contact_of_other_pupil_rejected(client, world):
    obrien = world.pupil("oak9a_obrien")
    other = ContactFactory(pupil=world.pupil("oak9a_smithjones"), name="Priya Smith")
    data = contact_form(staff=str(world.p.staff["teacher"].pk), contact=str(other.pk))
    with time_machine.travel(TODAY, tick=False):
        response = post_contact(client, world, "teacher", obrien, data)

    assert response.status_code == 400
    assert not ParentContact.objects.exists()


def test_contact_service_rejects_bad_values(world):
    obrien = world.pupil("oak9a_obrien")
    other = ContactFactory(pupil=world.pupil("oak9a_smithjones"))
    with time_machine.travel(TODAY, tick=False), pytest.raises(ValidationError) as raised:
        parent_contact_log(
            actor=world.p.users["teacher"],
            pupil=obrien,
            method="letter",
            occurred_at=clock.now() + datetime.timedelta(hours=1),
            summary="Sent the report.",
            staff_id=world.p.staff["elm_teacher"].pk,
            contact_id=other.pk,
        )

    errors = raised.value.message_dict
    assert set(errors) == {"occurred_at", "staff", "contact"}
    assert "04/12/2026 11:00" in errors["occurred_at"][0]
    assert str(other.pk) in errors["contact"][0]
    assert not ParentContact.objects.exists()


def test_contact_elm_staff_rejected(client, world):
    obrien = world.pupil("oak9a_obrien")
    data = contact_form(staff=str(world.p.staff["elm_teacher"].pk))
    with time_machine.travel(TODAY, tick=False):
        response = post_contact(client, world, "head_of_year", obrien, data)

    assert response.status_code == 400
    assert not ParentContact.objects.exists()


@pytest.mark.parametrize(
    ("persona", "pupil_key"),
    [
        ("teacher", "oak9b_patel"),
        ("elm_teacher", "oak9a_obrien"),
        ("trustee", "oak9a_obrien"),
        ("head_of_year", "oak10a_taylor"),
    ],
)
def test_contacts_out_of_scope_404(client, world, persona, pupil_key):
    pupil = world.pupil(pupil_key)
    data = contact_form(staff=str(world.p.staff["teacher"].pk))
    with time_machine.travel(TODAY, tick=False):
        client.force_login(world.p.users[persona])
        page = client.get(reverse("progress:parent-contacts", args=[pupil.pk]))
        posted = client.post(reverse("progress:parent-contacts", args=[pupil.pk]), data)

    assert page.status_code == 404
    assert posted.status_code == 404
    assert pupil.legal_surname.encode() not in page.content
    assert not ParentContact.objects.exists()


def test_contacts_page_links_letters(client, world):
    obrien = world.pupil("oak9a_obrien")
    people = family(obrien)
    with time_machine.travel(TODAY, tick=False):
        client.force_login(world.p.users["teacher"])
        page = client.get(reverse("progress:parent-contacts", args=[obrien.pk]))

    body = page.content.decode()
    letter_url = reverse("progress:parent-letter", args=[obrien.pk])
    assert f'href="{letter_url}"' in body
    assert f'href="{letter_url}?contact={people["mother"].pk}"' in body
    assert f"?contact={people['stepfather'].pk}" not in body
    assert "Gareth Pryce" in body  # named as getting no letter


# A year group's letters ------------------------------------------------------------------


@pytest.fixture
def year_nine(world):
    """Oak Year 9: O'Brien below in maths (in the batch), Patel below in
    history only (not), Smith-Jones below in history and geography (in)."""
    with time_machine.travel(TODAY, tick=False):
        world.grade("oak9b_patel", "gcse_history", "4", "6")
        world.grade("oak9b_patel", "gcse_maths", "6", "6")
        world.grade("oak9a_smithjones", "gcse_history", "4", "5")
        world.grade("oak9a_smithjones", "gcse_geography", "3", "5")
        for key in ("oak9a_obrien", "oak9b_patel", "oak9a_smithjones", "oak10a_taylor"):
            ContactFactory(pupil=world.pupil(key), name=f"Parent of {key}")
        world.grade(
            "oak10a_taylor",
            "gcse_maths",
            "2",
            "6",
            point=AssessmentPointFactory(
                academy=world.point.academy,
                academic_year=world.point.academic_year,
                year_group=world.p.year_groups["oak10"],
                date=AUTUMN,
            ),
        )
    return world


def batch(client, world: World, persona: str, year_group: YearGroup, **query: Any):
    client.force_login(world.p.users[persona])
    return client.get(reverse("progress:year-group-letters", args=[year_group.pk]), query)


def test_batch_contains_right_pupils(client, year_nine, tmp_path):
    with time_machine.travel(TODAY, tick=False):
        response = batch(client, year_nine, "head_of_year", year_nine.p.year_groups["oak9"])

    assert response.status_code == 200
    text = text_of(response.content, tmp_path)
    assert "Parent of oak9a_obrien" in text
    assert "Parent of oak9a_smithjones" in text
    assert "Parent of oak9b_patel" not in text
    assert "Parent of oak10a_taylor" not in text
    assert pdf_tools.pdf_pages(response.content, tmp_path) == 2
    assert ParentContact.objects.count() == 2
    assert "Smith-Jones" not in response["Content-Disposition"]


def test_batch_selection_rule(year_nine):
    with time_machine.travel(TODAY, tick=False):
        chosen = year_group_standings(year_nine.p.year_groups["oak9"], clock.today())

    assert [s.pupil.legal_surname for s in chosen] == ["O'Brien", "Smith-Jones"]


def test_batch_queries_constant(year_nine):
    year_group = year_nine.p.year_groups["oak9"]
    with time_machine.travel(TODAY, tick=False):
        with CaptureQueriesContext(connection) as few:
            year_group_standings(year_group, clock.today())
        for number in range(6):
            pupil = PupilFactory(legal_surname=f"Extra{number}")
            Enrolment.objects.create(
                pupil=pupil,
                academy=year_group.academy,
                academic_year=year_nine.p.academic_year,
                year_group=year_group,
                start_date=year_nine.p.academic_year.start_date,
            )
            year_nine.grade(pupil, "gcse_maths", "3", "6")
        with CaptureQueriesContext(connection) as many:
            chosen = year_group_standings(year_group, clock.today())

    assert len(chosen) == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_batch_page_lists_parts(client, year_nine):
    year_group = year_nine.p.year_groups["oak9"]
    with time_machine.travel(TODAY, tick=False):
        client.force_login(year_nine.p.users["academy_leader"])
        page = client.get(reverse("progress:year-group-letters-page", args=[year_group.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert reverse("progress:year-group-letters", args=[year_group.pk]) in body
    assert "O&#x27;Brien" in body or "O'Brien" in body
    assert "Patel" not in body


def test_batch_part_out_of_range(client, year_nine):
    with time_machine.travel(TODAY, tick=False):
        response = batch(
            client, year_nine, "head_of_year", year_nine.p.year_groups["oak9"], part="3"
        )

    assert response.status_code == 400
    assert not ParentContact.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("head_of_year", 200),
        ("headteacher", 200),
        ("trust_leader", 200),
        ("attendance_officer", 403),
        ("teacher", 404),
        ("tutor", 404),
        ("trustee", 404),
        ("elm_teacher", 404),
    ],
)
def test_batch_access(client, year_nine, persona, status):
    year_group = year_nine.p.year_groups["oak9"]
    with time_machine.travel(TODAY, tick=False):
        response = batch(client, year_nine, persona, year_group)
        client.force_login(year_nine.p.users[persona])
        page = client.get(reverse("progress:year-group-letters-page", args=[year_group.pk]))

    assert response.status_code == status
    assert page.status_code == status
    if status != 200:
        assert not ParentContact.objects.exists()


def test_batch_other_year_404(client, year_nine):
    head = year_nine.p.staff["head_of_year"]
    with time_machine.travel(TODAY, tick=False):
        grant(head, Role.TUTOR, year_nine.p.tutor_groups["10A"])
        response = batch(client, year_nine, "head_of_year", year_nine.p.year_groups["oak10"])

    assert response.status_code == 404


# Links -------------------------------------------------------------------------------------


def test_progress_page_links_contacts(client, world):
    obrien = world.pupil("oak9a_obrien")
    with time_machine.travel(TODAY, tick=False):
        client.force_login(world.p.users["teacher"])
        page = client.get(reverse("progress:pupil-progress", args=[obrien.pk]))

    assert reverse("progress:parent-contacts", args=[obrien.pk]) in page.content.decode()


@pytest.mark.parametrize(
    ("persona", "linked"), [("head_of_year", True), ("attendance_officer", False)]
)
def test_year_group_page_links_letters(client, world, persona, linked):
    year_group = world.p.year_groups["oak9"]
    with time_machine.travel(TODAY, tick=False):
        client.force_login(world.p.users[persona])
        page = client.get(reverse("academies:year-group", args=[year_group.pk]))

    assert page.status_code == 200
    letters_url = reverse("progress:year-group-letters-page", args=[year_group.pk])
    assert (letters_url in page.content.decode()) is linked


# Demo data ---------------------------------------------------------------------------------

DEMO = ["--academies", "3", "--pupils-per-academy", "80", "--today", "2026-12-04"]


def seed_support(seed: int) -> dict[str, list]:
    """Seed the demo trust with `seed` in a rolled-back transaction and
    return its interventions and parent contacts without database ids."""
    with time_machine.travel(TODAY, tick=False), transaction.atomic():
        call_command("seed_demo", *DEMO, "--seed", str(seed), stdout=StringIO())
        result = {
            "interventions": sorted(
                Intervention.objects.values_list(
                    "academy__urn",
                    "kind",
                    "title",
                    "qualification__name",
                    "owner__email",
                    "start_date",
                    "review_date",
                    "status",
                    "reviewed_on",
                )
            ),
            "pupils": sorted(
                InterventionPupil.objects.values_list(
                    "intervention__title",
                    "intervention__academy__urn",
                    "pupil__upn",
                    "start_points",
                    "tmg_points",
                    "review_points",
                ),
                key=str,
            ),
            "contacts": sorted(
                ParentContact.objects.values_list(
                    "pupil__upn", "contact__name", "method", "occurred_at", "staff__email"
                ),
                key=str,
            ),
            "audit": [AuditEvent.objects.filter(model__startswith="progress.").count()],
        }
        transaction.set_rollback(True)
    return result


def test_demo_support_seeded():
    found = seed_support(5)

    assert found["interventions"]
    statuses = {row[7] for row in found["interventions"]}
    assert Intervention.Status.REVIEWED in statuses
    assert Intervention.Status.ACTIVE in statuses
    for row in found["interventions"]:
        assert row[4], row  # an owner
        assert row[5] <= row[6] <= datetime.date(2027, 8, 31), row
        assert row[5] <= TODAY.date(), row
    for _title, _urn, _upn, start, tmg, _review in found["pupils"]:
        assert start is not None
        assert tmg is not None
        assert start < tmg  # every pupil started below TMG
    reviewed_pupils = [row for row in found["pupils"] if row[5] is not None]
    assert reviewed_pupils
    pupils = {row[2] for row in found["pupils"]}
    assert {row[0] for row in found["contacts"]} == pupils
    assert all(row[3].date() <= TODAY.date() for row in found["contacts"])
    assert found["audit"] == [0]


def test_demo_support_same_seed():
    first = seed_support(3)
    second = seed_support(3)
    other = seed_support(4)

    for key in first:
        assert first[key] == second[key], key
    assert first["pupils"] != other["pupils"]


def test_contact_form_describes_errors(client, world):
    obrien = world.pupil("oak9a_obrien")
    data = contact_form(staff=str(world.p.staff["teacher"].pk), summary="")
    with time_machine.travel(TODAY, tick=False):
        response = post_contact(client, world, "teacher", obrien, data)

    body = response.content.decode()
    assert 'aria-describedby="id_summary-help id_summary-error"' in body
    assert 'id="id_summary-help"' in body
    assert 'id="id_summary-error"' in body
    assert 'aria-invalid="true"' in body
