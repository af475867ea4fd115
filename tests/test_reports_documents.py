"""The PDF documents of report runs, built in-process and read back with
poppler-utils through the helpers of test_pdf."""

import datetime
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from academies.models import Term
from progress.grades import default_subjects_ensure
from progress.models import Intervention, InterventionPupil, ParentContact
from pupils.models import Enrolment, Pupil, SenStatus
from reports.documents import Document, ReportFailed, build_document
from reports.models import Measure, ReportRun, Target

from . import test_pdf as pdf_tools
from .factories import (
    AcademyFactory,
    PupilFactory,
    TutorGroupFactory,
    YearGroupFactory,
)
from .factories_attstats import mark_days, whole_year_term
from .factories_output import ContactFactory
from .factories_progress import (
    AssessmentPointFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    grade_of,
)
from .personas import PUPILS, TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")

AS_OF = TODAY.date()
FIRST_MONDAY = datetime.date(2026, 11, 2)
# Pupils added to Oak's Year 9, so Oak's figures rest on enough pupils to show.
OAK_NAMES = [
    ("Quillon", "Zebedee"),
    ("Marisol", "Featherstonehaugh"),
    ("Ignatius", "Wolstenholme"),
    ("Perpetua", "Ravenscroft"),
    ("Lysander", "Thistlewood"),
    ("Octavia", "Pemberton-Oakes"),
]


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def text_of(pdf: bytes, tmp_path: Path, page: int | None = None) -> str:
    return pdf_tools.normalised(pdf_tools.pdf_text(pdf, tmp_path, page))


def has_name(text: str, name: str) -> bool:
    """Whether `name` is in `text`, ignoring the spaces pdftotext puts between CJK characters."""
    return pdf_tools.contains_name(CJK_GAP.sub("", text), name)


def layout_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    """Return the PDF's lines with table rows kept on one line each."""
    source = tmp_path / "layout.pdf"
    source.write_bytes(pdf)
    text = pdf_tools.run_poppler("pdftotext", "-layout", "-enc", "UTF-8", str(source), "-")
    return [" ".join(line.split()) for line in text.splitlines()]


def line_of(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert found, f"no line starts with {start!r}"
    return found[0]


def enrol(world: Personas, group_name: str, **fields: Any) -> Pupil:
    group = world.tutor_groups[group_name]
    pupil = PupilFactory(**fields)
    Enrolment.objects.create(
        pupil=pupil,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
    )
    return pupil


def run_of(kind: str, world: Personas, **fields: Any) -> ReportRun:
    fields.setdefault("as_of", AS_OF)
    return ReportRun.objects.create(kind=kind, **fields)


class Steps:
    """A progress callback that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def __call__(self, percent: int, step: str) -> None:
        self.calls.append((percent, step))

    @property
    def percents(self) -> list[int]:
        return [percent for percent, _ in self.calls]


def build(run: ReportRun) -> tuple[Document, Steps]:
    steps = Steps()
    return build_document(run, steps), steps


# Governance report -----------------------------------------------------------------------


@pytest.fixture
def trust_world() -> Personas:
    """Personas, six more pupils at Oak with attendance marks, SEN at both
    academies and attendance targets for the year."""
    world = build_personas()
    whole_year_term(world.academic_year)
    world.extra = [
        enrol(world, "9A", legal_forename=forename, legal_surname=surname)
        for forename, surname in OAK_NAMES
    ]
    for index, pupil in enumerate(world.extra):
        # Five days each: pupil 0 misses four sessions, the others none.
        mark_days(pupil, FIRST_MONDAY, ["N"] * 4 + ["/"] * 6 if index == 0 else ["/"] * 10)
        pupil.sen_status = SenStatus.SEN_SUPPORT
        pupil.save()
    ashdown = world.pupils["elm9e_ashdown"]
    mark_days(ashdown, FIRST_MONDAY, ["/"] * 4)
    ashdown.sen_status = SenStatus.EHC_PLAN
    ashdown.save()
    Target.objects.create(
        measure=Measure.ATTENDANCE, academic_year=world.academic_year, value=Decimal("95.0")
    )
    Target.objects.create(
        measure=Measure.ATTENDANCE,
        academic_year=world.academic_year,
        academy=world.academies["oak"],
        value=Decimal("99.0"),
    )
    return world


def all_names(world: Personas) -> list[str]:
    names = [f"{forename} {surname}" for _, forename, surname in PUPILS.values()]
    names += [surname for _, _, surname in PUPILS.values()]
    names += [f"{forename} {surname}" for forename, surname in OAK_NAMES]
    names += [surname for _, surname in OAK_NAMES]
    return names


def test_governance_heading_and_pages(trust_world, tmp_path):
    document, _ = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world, scheduled=True))

    assert document.content.startswith(b"%PDF-")
    assert document.filename == "governance-report-2026-12-04.pdf"
    assert document.pages == pdf_tools.pdf_pages(document.content, tmp_path)
    text = text_of(document.content, tmp_path)
    assert trust_world.academies["oak"].trust.name in text
    assert "Governance report 2026/27" in text
    assert "Printed 04/12/2026" in text
    assert "figures as of 04/12/2026" in text
    assert f"Page 1 of {document.pages}" in text
    assert "Oak Academy" in text
    assert "Elm Academy" in text
    assert document.pages >= 2
    for page in range(2, document.pages + 1):
        running = text_of(document.content, tmp_path, page)
        assert "Severn Valley Learning Trust" in running, page
        assert "Governance report 2026/27" in running, page
        assert "Printed 04/12/2026" in running, page
        assert f"Page {page} of {document.pages}" in running, page


def test_governance_names_its_term(trust_world, tmp_path):
    autumn = Term.objects.get(academic_year=trust_world.academic_year)
    run = run_of(ReportRun.Kind.GOVERNANCE, trust_world, scheduled=True, params={"term": autumn.pk})

    document, _ = build(run)

    assert "Governance report: Autumn term 2026/27" in text_of(document.content, tmp_path)


def test_governance_targets_and_england(trust_world, tmp_path):
    document, _ = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))

    text = text_of(document.content, tmp_path)
    lines = layout_lines(document.content, tmp_path)
    assert "England 2025/26 (latest published)" in text
    # England's secondary attendance of the seeded 2025/26 row.
    assert "91.5%" in text
    # All academies: 60 of 64 sessions attended, against the trust's 95.0.
    total = line_of(lines, "All academies 12")
    assert total.startswith("All academies 12 93.8% 95.0%")
    assert "not met" in lines[lines.index(total) + 1]
    # Oak has its own target; Elm follows the trust's.
    assert "99.0%" in line_of(lines, "Oak Academy 10")
    assert "95.0%" in line_of(lines, "Elm Academy 2")


def test_governance_names_no_pupil(trust_world, tmp_path):
    document, _ = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))

    text = text_of(document.content, tmp_path)
    for name in all_names(trust_world):
        assert name not in text, name


def test_governance_suppresses_small_groups(trust_world, tmp_path):
    document, _ = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))

    lines = layout_lines(document.content, tmp_path)
    send_header = next(i for i, line in enumerate(lines) if "SEN support and EHC plans" in line)
    rows = lines[send_header:]
    # Oak: 7 with SEN support of 10 on roll. Elm: 1 EHC plan, so hidden,
    # and Oak's EHC count (0) has no pupils to hide in its place.
    assert line_of(rows, "Oak Academy").startswith("Oak Academy 10 7 70.0%")
    elm = line_of(rows, "Elm Academy")
    assert "fewer than 5" in elm
    assert " 1 " not in f" {elm} "
    # Elm's attendance rests on one pupil's marks, and Oak's is hidden too
    # because the total would give Elm's away.
    attendance = line_of(lines, "Elm Academy 2")
    assert attendance.startswith("Elm Academy 2 not shown")
    assert "100.0%" not in attendance
    assert line_of(lines, "Oak Academy 10").startswith("Oak Academy 10 not shown")


def test_governance_progress_moves(trust_world):
    _, steps = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))

    assert len(steps.calls) >= 5
    assert steps.percents == sorted(steps.percents)
    assert steps.percents[-1] >= 90
    assert all(label for _, label in steps.calls)


def test_governance_queries_constant(trust_world):
    with CaptureQueriesContext(connection) as two:
        build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))
    oak = trust_world.academies["oak"]
    ash = AcademyFactory(trust=oak.trust, name="Ash Academy")
    group = TutorGroupFactory(
        academy=ash,
        academic_year=trust_world.academic_year,
        year_group=YearGroupFactory(academy=ash, nc_year=9),
        name="9Ash",
    )
    for number in range(6):
        pupil = PupilFactory(legal_surname=f"Ash{number}")
        Enrolment.objects.create(
            pupil=pupil,
            academy=ash,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=group.academic_year.start_date,
        )
        mark_days(pupil, FIRST_MONDAY, ["/"] * 2)

    with CaptureQueriesContext(connection) as three:
        document, _ = build(run_of(ReportRun.Kind.GOVERNANCE, trust_world))

    assert b"%PDF-" in document.content[:8]
    assert len(three.captured_queries) == len(two.captured_queries)


def test_governance_one_academy_without_pupils(trust_world):
    empty = type(trust_world.academies["oak"]).objects.create(
        trust=trust_world.academies["oak"].trust,
        name="Ash Academy",
        urn="149999",
        dfe_number="999/4999",
        phase="primary",
        age_range_low=4,
        age_range_high=11,
        joined_trust_on=datetime.date(2020, 9, 1),
    )

    with pytest.raises(ReportFailed, match="No pupil is on roll in Ash Academy on 04/12/2026"):
        build(run_of(ReportRun.Kind.GOVERNANCE, trust_world, academy=empty))


def test_unknown_kind_fails(trust_world):
    with pytest.raises(ReportFailed, match="Report kind 'minutes' is not valid"):
        build(run_of("minutes", trust_world))


# Intervention report ---------------------------------------------------------------------

ZOE = ("Zoë", "Nguyễn 王芳")
FORMULA_NAME = ('=HYPERLINK("http://127.0.0.1/x","Click")', "Formula")
# Enough pupils below TMG in maths for their table to run onto a second page.
MANY_BELOW = 45


class Grades:
    """GCSE qualifications and an assessment point for Oak's Year 9."""

    def __init__(self, world: Personas) -> None:
        oak = world.academies["oak"]
        self.world = world
        self.quals = default_subjects_ensure(oak.trust)
        self.scale = self.quals["gcse_maths"].scale
        self.point = AssessmentPointFactory(
            academy=oak,
            academic_year=world.academic_year,
            year_group=world.year_groups["oak9"],
            name="Autumn 2026",
            date=datetime.date(2026, 11, 20),
        )

    def below(self, pupil: Pupil, qual: str, grade: str = "4", tmg: str = "6") -> None:
        GradeEntryFactory(
            pupil=pupil,
            qualification=self.quals[qual],
            assessment_point=self.point,
            grade=grade_of(self.scale, grade),
        )
        TargetGradeFactory(
            pupil=pupil,
            qualification=self.quals[qual],
            academic_year=self.world.academic_year,
            grade=grade_of(self.scale, tmg),
        )

    def support(self, pupil: Pupil, qual: str, title: str) -> Intervention:
        intervention = Intervention.objects.create(
            academy=self.world.academies["oak"],
            academic_year=self.world.academic_year,
            kind=Intervention.Kind.TUTORING,
            title=title,
            qualification=self.quals[qual],
            owner=self.world.staff["teacher"],
            start_date=datetime.date(2026, 11, 23),
            review_date=datetime.date(2027, 1, 15),
        )
        InterventionPupil.objects.create(intervention=intervention, pupil=pupil)
        return intervention


@pytest.fixture
def attention_world() -> Personas:
    """Oak's Year 9 with Zoë below TMG in English and no intervention, a
    pupil named like a formula below in maths, O'Brien below in maths with
    tutoring in place, and MANY_BELOW more pupils below in maths."""
    world = build_personas()
    grades = Grades(world)
    world.zoe = enrol(world, "9A", legal_forename=ZOE[0], legal_surname=ZOE[1])
    grades.below(world.zoe, "gcse_english_language")
    world.formula = enrol(
        world, "9B", legal_forename=FORMULA_NAME[0], legal_surname=FORMULA_NAME[1]
    )
    grades.below(world.formula, "gcse_maths")
    obrien = world.pupils["oak9a_obrien"]
    grades.below(obrien, "gcse_maths")
    grades.support(obrien, "gcse_maths", "Maths tutoring with Mr Persona")
    world.many = []
    for number in range(MANY_BELOW):
        pupil = enrol(world, "9B", legal_forename="Many", legal_surname=f"Below{number:02d}")
        grades.below(pupil, "gcse_maths")
        world.many.append(pupil)
    return world


def test_intervention_lists_pupil_and_gap(attention_world, tmp_path):
    world = attention_world
    run = run_of(
        ReportRun.Kind.INTERVENTION,
        world,
        academy=world.academies["oak"],
        requested_by=world.users["head_of_year"],
        year_group_id=world.year_groups["oak9"].pk,
    )

    document, _ = build(run)

    text = text_of(document.content, tmp_path)
    assert "Intervention report: Year 9, Oak Academy" in text
    assert has_name(text, "Zoë Nguyễn 王芳")
    zoe_row = (
        "Zoë Nguyễn 王芳 Year 9, 9A GCSE English language: grade 4 against a TMG of grade 6 "
        "Gap: no intervention in place"
    )
    assert zoe_row in CJK_GAP.sub("", text)
    assert "Maths tutoring with Mr Persona (Tutoring, review 15/01/2027)" in text
    assert f"Page 1 of {document.pages}" in text
    assert document.filename == (
        f"intervention-report-year-group{world.year_groups['oak9'].pk}-2026-12-04.pdf"
    )


def test_intervention_prints_formula_as_text(attention_world, tmp_path):
    world = attention_world
    run = run_of(ReportRun.Kind.INTERVENTION, world, academy=world.academies["oak"], scheduled=True)

    document, _ = build(run)

    # A long cell wraps, so compare without whitespace.
    text = "".join(text_of(document.content, tmp_path).split())
    assert '=HYPERLINK("http://127.0.0.1/x","Click")Formula' in text


def test_intervention_header_repeats(attention_world, tmp_path):
    world = attention_world
    run = run_of(ReportRun.Kind.INTERVENTION, world, academy=world.academies["oak"], scheduled=True)

    document, _ = build(run)

    assert document.pages >= 3
    maths_pages = [
        page
        for page in range(1, document.pages + 1)
        if "Below23" in text_of(document.content, tmp_path, page)
        or "Below44" in text_of(document.content, tmp_path, page)
    ]
    assert maths_pages
    later = text_of(document.content, tmp_path, maths_pages[-1])
    assert "Interventions in place" in later
    assert "Year and tutor group" in later
    assert f"Page {maths_pages[-1]} of {document.pages}" in later
    assert "Intervention report: Oak Academy" in later


def test_intervention_trustee_sees_counts(attention_world, tmp_path):
    world = attention_world
    run = run_of(
        ReportRun.Kind.INTERVENTION,
        world,
        academy=world.academies["oak"],
        requested_by=world.users["trustee"],
    )

    document, _ = build(run)

    text = text_of(document.content, tmp_path)
    lines = layout_lines(document.content, tmp_path)
    assert not has_name(text, "Zoë Nguyễn 王芳")
    assert "Nguy" not in text
    assert "HYPERLINK" not in text
    assert "Below00" not in text
    for name in all_names(world):
        assert name not in text, name
    # 47 pupils below in maths, one of them with tutoring: that count and
    # then the gaps are hidden. English rests on Zoë alone.
    assert line_of(lines, "Below TMG in mathematics 47") == (
        "Below TMG in mathematics 47 fewer than 5 not shown"
    )
    assert line_of(lines, "Below TMG in English") == (
        "Below TMG in English fewer than 5 not shown fewer than 5"
    )
    assert line_of(lines, "Year 9").startswith("Year 9 fewer than 5 47")
    assert document.filename.endswith("-counts.pdf")


def test_intervention_scheduled_names_pupils(attention_world, tmp_path):
    world = attention_world
    run = run_of(ReportRun.Kind.INTERVENTION, world, academy=world.academies["oak"], scheduled=True)

    document, _ = build(run)

    assert has_name(text_of(document.content, tmp_path), "Zoë Nguyễn 王芳")


def test_intervention_progress_moves(attention_world):
    world = attention_world
    run = run_of(ReportRun.Kind.INTERVENTION, world, academy=world.academies["oak"], scheduled=True)

    _, steps = build(run)

    assert len(steps.calls) >= 4
    assert steps.percents == sorted(steps.percents)
    assert steps.percents[-1] >= 90


def test_intervention_academy_without_pupils(trust_world):
    oak = trust_world.academies["oak"]
    empty = type(oak).objects.create(
        trust=oak.trust,
        name="Ash Academy",
        urn="149998",
        dfe_number="999/4998",
        phase="primary",
        age_range_low=4,
        age_range_high=11,
        joined_trust_on=datetime.date(2020, 9, 1),
    )
    run = run_of(ReportRun.Kind.INTERVENTION, trust_world, academy=empty, scheduled=True)

    with pytest.raises(ReportFailed, match="No pupil is on roll in Ash Academy on 04/12/2026"):
        build(run)


def test_intervention_other_academy_year_group(trust_world):
    run = run_of(
        ReportRun.Kind.INTERVENTION,
        trust_world,
        academy=trust_world.academies["oak"],
        year_group_id=trust_world.year_groups["elm9"].pk,
        scheduled=True,
    )

    with pytest.raises(ReportFailed, match="is not a year group of Oak Academy"):
        build(run)


def test_intervention_without_academy(trust_world):
    run = run_of(ReportRun.Kind.INTERVENTION, trust_world, scheduled=True)

    with pytest.raises(ReportFailed, match="Choose an academy or a year group"):
        build(run)


# Parents' letters ------------------------------------------------------------------------

# One more pupil than a rendering chunk, so the last chunk contains one letter
# and the chunks' pages are joined.
LETTER_PUPILS = 26
WITHHELD_ADDRESS = "7 Quarry Lane\nKnighton\nLD7 1EE"


@pytest.fixture
def letters_world() -> Personas:
    """Oak's Year 9 with LETTER_PUPILS pupils below TMG in maths, each with one
    parent (the last one's address withheld from other contacts), and Patel
    below in history only (no letter)."""
    world = build_personas()
    grades = Grades(world)
    world.letter_pupils = []
    for number in range(LETTER_PUPILS):
        pupil = enrol(world, "9A", legal_forename="Letter", legal_surname=f"Pupil{number:02d}")
        grades.below(pupil, "gcse_maths")
        ContactFactory(pupil=pupil, name=f"Parent of Pupil{number:02d}")
        world.letter_pupils.append(pupil)
    withheld = world.letter_pupils[-1].contacts.get()
    withheld.address = WITHHELD_ADDRESS
    withheld.address_shareable = False
    withheld.save()
    patel = world.pupils["oak9b_patel"]
    grades.below(patel, "gcse_history")
    ContactFactory(pupil=patel, name="Parent of Patel")
    return world


def letters_run(world: Personas, persona: str = "head_of_year") -> ReportRun:
    return run_of(
        ReportRun.Kind.PARENT_LETTERS,
        world,
        academy=world.academies["oak"],
        year_group_id=world.year_groups["oak9"].pk,
        requested_by=world.users[persona],
    )


def test_letters_one_per_page(letters_world, tmp_path):
    document, _ = build(letters_run(letters_world))

    assert document.pages == LETTER_PUPILS
    assert pdf_tools.pdf_pages(document.content, tmp_path) == LETTER_PUPILS
    for page in range(1, LETTER_PUPILS + 1):
        text = text_of(document.content, tmp_path, page)
        parents = [n for n in range(LETTER_PUPILS) if f"Parent of Pupil{n:02d}" in text]
        assert parents == [page - 1], page
    assert "Parent of Patel" not in text_of(document.content, tmp_path)
    last = text_of(document.content, tmp_path, LETTER_PUPILS)
    assert "Quarry Lane" not in last
    assert "Address withheld from other contacts" in last
    assert document.filename == (
        f"progress-letters-year9-{letters_world.year_groups['oak9'].pk}-2026-12-04.pdf"
    )


def test_letters_logged_once(letters_world):
    run = letters_run(letters_world)

    build(run)
    build(run)

    logged = ParentContact.objects.filter(method=ParentContact.Method.LETTER)
    assert logged.count() == LETTER_PUPILS
    assert {c.pupil_id for c in logged} == {p.pk for p in letters_world.letter_pupils}
    assert {c.staff_id for c in logged} == {letters_world.staff["head_of_year"].pk}


def test_letters_progress_per_chunk(letters_world):
    _, steps = build(letters_run(letters_world))

    chunk_steps = [label for _, label in steps.calls if label.startswith("Letters for pupils")]
    assert chunk_steps == [
        f"Letters for pupils 1 to 25 of {LETTER_PUPILS}",
        f"Letters for pupils 26 to 26 of {LETTER_PUPILS}",
    ]
    assert steps.percents == sorted(steps.percents)
    assert steps.percents[-1] >= 90


def test_letters_trustee_rejected(letters_world):
    with pytest.raises(ReportFailed, match="Only the heads of Year 9"):
        build(letters_run(letters_world, "trustee"))

    assert not ParentContact.objects.exists()


def test_letters_other_academy_year_group(letters_world):
    run = letters_run(letters_world)
    run.year_group_id = letters_world.year_groups["elm9"].pk

    with pytest.raises(ReportFailed, match="is not in Oak Academy"):
        build(run)
