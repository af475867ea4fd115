"""The PDF documents of report runs, built in-process and read back with
poppler-utils through the helpers of test_pdf."""

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine

from pupils.models import Enrolment, Pupil, SenStatus
from reports.documents import Document, ReportFailed, build_document
from reports.models import Measure, ReportRun, Target

from . import test_pdf as pdf_tools
from .factories import PupilFactory
from .factories_attstats import mark_days, whole_year_term
from .personas import PUPILS, TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

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
    with pytest.raises(ReportFailed, match="Report kind 'minutes' is not known"):
        build(run_of("minutes", trust_world))
