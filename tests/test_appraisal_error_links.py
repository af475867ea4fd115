"""On every appraisal form re-rendered with errors, each invalid input is
linked to the message that explains it, so a screen reader announces it."""

from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from appraisal.models import Appraisal, CpdEvent

from .factories import AcademicYearFactory
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

Status = Appraisal.Status

VOID_ELEMENTS = {
    "area",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
CONTROLS = {"input", "select", "textarea"}


class ErrorLinks(HTMLParser):
    """Collect the text of every element with an id, and for every input
    marked aria-invalid the ids its description comes from: its own
    aria-describedby, or the enclosing fieldset's for a group of choices."""

    def __init__(self) -> None:
        super().__init__()
        self.text_by_id: dict[str, str] = {}
        self.invalid: list[tuple[str, list[str]]] = []
        self._open: list[tuple[str, str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        element_id = attributes.get("id")
        if element_id:
            self.text_by_id.setdefault(element_id, "")
        if tag in CONTROLS and attributes.get("aria-invalid") == "true":
            described = attributes.get("aria-describedby") or self._fieldset_description()
            name = attributes.get("name") or element_id or tag
            self.invalid.append((name, (described or "").split()))
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, element_id, attributes.get("aria-describedby")))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for _tag, element_id, _described in self._open:
            if element_id:
                self.text_by_id[element_id] += data

    def _fieldset_description(self) -> str | None:
        for tag, _element_id, described in reversed(self._open):
            if tag == "fieldset" and described:
                return described
        return None


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        world.cycle = cycle_2026(world)  # type: ignore[attr-defined]
        yield world


def appraisal_at(world, status: str) -> Appraisal:
    return make_appraisal(
        world.cycle, world.staff["teacher"], world.staff["academy_leader"], status=status
    )


def objective_add(world):
    appraisal = appraisal_at(world, Status.DRAFT)
    data = {"title": "", "weighting": "forty", "measure": "attendance", "target_value": "x"}
    return "academy_leader", reverse("appraisal:objective-add", args=[appraisal.pk]), data


def objective_sign(world):
    appraisal = appraisal_at(world, Status.DRAFT)
    return "teacher", reverse("appraisal:objectives-sign", args=[appraisal.pk]), {"agrees": ""}


def appraiser_change(world):
    appraisal = appraisal_at(world, Status.DRAFT)
    url = reverse("appraisal:appraiser", args=[appraisal.pk])
    return "headteacher", url, {"appraiser": "999999"}


def final_review(world):
    appraisal = appraisal_at(world, Status.MID_YEAR_REVIEWED)
    data = {"summary": "", "pay_recommendation": "maybe"}
    return "academy_leader", reverse("appraisal:final-review", args=[appraisal.pk]), data


def final_review_outcome(world):
    appraisal = appraisal_at(world, Status.MID_YEAR_REVIEWED)
    objective = appraisal.objectives.order_by("pk").first()
    url = reverse("appraisal:review", args=[objective.pk, "final"])
    return "academy_leader", url, {"appraiser_comment": "Good", "outcome": "excellent"}


def annotate(world):
    appraisal = appraisal_at(world, Status.SIGNED_OFF)
    return "academy_leader", reverse("appraisal:annotate", args=[appraisal.pk]), {"text": ""}


def cpd_event_add(world):
    data = {"title": "", "kind": "course", "starts_on": "35/01/2027", "places": "ten"}
    return "trust_hr", reverse("appraisal:cpd-event-add"), data


def cpd_event_edit(world):
    event = CpdEvent.objects.create(
        title="Questioning in maths",
        kind="course",
        starts_on=TODAY.date(),
        ends_on=TODAY.date(),
        hours=2,
        places=10,
    )
    url = reverse("appraisal:cpd-event-edit", args=[event.pk])
    return "trust_hr", url, {"title": "Questioning", "hours": "NaN", "places": "0"}


def portfolio_entry_add(world):
    data = {"kind": "", "title": "", "started_on": "31/02/2027", "hours": "-1", "standards": "x"}
    return "teacher", reverse("appraisal:portfolio-entry-add"), data


def cycle_create(world):
    AcademicYearFactory(trust=world.academic_year.trust, start_year=2027)
    return "trust_hr", reverse("appraisal:cycle-create"), {"academic_year": ""}


def cycle_deadlines(world):
    url = reverse("appraisal:cycle-deadlines", args=[world.cycle.pk])
    return "trust_hr", url, {"staff_objectives": "31/13/2026", "staff_mid_year": ""}


def academy_deadlines(world):
    url = reverse("appraisal:academy-deadlines", args=[world.cycle.pk, world.academies["oak"].pk])
    return "headteacher", url, {"staff_objectives": "not a date"}


def cycle_open_all(world):
    url = reverse("appraisal:cycle-open-all", args=[world.cycle.pk])
    return "headteacher", url, {"academy": str(world.academies["elm"].pk)}


FORMS = [
    objective_add,
    objective_sign,
    appraiser_change,
    final_review,
    final_review_outcome,
    annotate,
    cpd_event_add,
    cpd_event_edit,
    portfolio_entry_add,
    cycle_create,
    cycle_deadlines,
    academy_deadlines,
    cycle_open_all,
]


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.__name__)
def test_invalid_inputs_name_their_message(client, world, form):
    with time_machine.travel(TODAY, tick=False):
        persona, url, data = form(world)
        client.force_login(world.users[persona])
        response = client.post(url, data)

    assert response.status_code == 400
    page = ErrorLinks()
    page.feed(response.content.decode())
    assert page.invalid, "no input is marked aria-invalid"
    for name, described in page.invalid:
        error_ids = [ref for ref in described if ref.endswith("error")]
        assert error_ids, f"{name} is described by {described}, none of them an error"
        for ref in described:
            assert ref in page.text_by_id, f"{name} points at missing id {ref}"
        for ref in error_ids:
            assert page.text_by_id[ref].strip(), f"{name}: error element {ref} is empty"
