"""Attainment 8 and Progress 8: the DfE slot rules, the worked examples of
the reference, and the pupil and academy pages."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import progress
from academies.models import AcademicYear, YearGroup
from progress.attainment import academy_attainment8, place_results, pupil_attainment8, signed
from progress.grades import default_subjects_ensure
from progress.models import (
    AssessmentPoint,
    EstimateRow,
    EstimateTable,
    Grade,
    GradeEntry,
    GradeScale,
    Qualification,
    TargetGrade,
)
from progress.targets import estimate_plan
from pupils.models import Enrolment, Pupil

from . import factories as base_factories
from . import factories_progress as progress_factories
from .factories_progress import default_scale, grade_of
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

# Factories typed as Any, because factory-boy calls return model instances.
AcademicYearFactory: Any = base_factories.AcademicYearFactory
PupilFactory: Any = base_factories.PupilFactory
YearGroupFactory: Any = base_factories.YearGroupFactory
AssessmentPointFactory: Any = progress_factories.AssessmentPointFactory
GradeEntryFactory: Any = progress_factories.GradeEntryFactory
GradeFactory: Any = progress_factories.GradeFactory
GradeScaleFactory: Any = progress_factories.GradeScaleFactory
QualificationFactory: Any = progress_factories.QualificationFactory
SubjectFactory: Any = progress_factories.SubjectFactory
TargetGradeFactory: Any = progress_factories.TargetGradeFactory

ESTIMATES = Path(progress.__file__).parent / "data" / "attainment8-estimates-2024.csv"
D = Decimal


def estimate_table(trust: Any, year: int = 2024, name: str = "DfE estimates") -> EstimateTable:
    plan = estimate_plan(ESTIMATES.read_bytes(), ESTIMATES.name)
    assert plan.is_valid
    table = EstimateTable.objects.create(
        trust=trust, name=name, year=year, source="DfE KS4 ready reckoner, 2024"
    )
    for row in plan.rows:
        row.table = table
    EstimateRow.objects.bulk_create(plan.rows)
    return table


def double_award_scale(trust: Any) -> GradeScale:
    """A combined science scale whose grades carry the mean of the pair as DfE points."""
    scale: GradeScale = GradeScaleFactory(
        trust=trust,
        code="gcse-double",
        name="GCSE double award 9-9 to 1-1",
        kind=GradeScale.Kind.GCSE,
        counts_in_attainment8=True,
    )
    position = 0
    for high in range(9, 0, -1):
        for low in (high, high - 1):
            if low < 1:
                continue
            mean = (D(high) + D(low)) / 2
            GradeFactory(
                scale=scale, label=f"{high}-{low}", points=mean, dfe_points=mean, position=position
            )
            position += 1
    GradeFactory(scale=scale, label="U", points=D(0), dfe_points=D(0), position=position)
    return scale


@dataclass
class A8World:
    world: Personas
    year: AcademicYear
    year_group: YearGroup
    point: AssessmentPoint
    table: EstimateTable
    quals: dict[str, Qualification]
    double: GradeScale
    combined: Qualification
    pupils: dict[str, Pupil] = field(default_factory=dict)

    def pupil(self, key: str, reading: int | None = 104, maths: int | None = 106) -> Pupil:
        pupil: Pupil = self.world.pupils.get(key) or PupilFactory()
        pupil.ks2_reading, pupil.ks2_maths = reading, maths
        pupil.save()
        self.pupils[key] = pupil
        return pupil

    def results(
        self, pupil: Pupil, grades: dict[str, str], point: AssessmentPoint | None = None
    ) -> None:
        for key, label in grades.items():
            qualification = self.combined if key == "combined" else self.quals[key]
            GradeEntryFactory(
                pupil=pupil,
                assessment_point=point or self.point,
                qualification=qualification,
                grade=grade_of(qualification.scale, label),
            )


EXAMPLE_A = {
    "gcse_english_language": "6",
    "gcse_english_literature": "5",
    "gcse_maths": "5",
    "gcse_history": "6",
    "combined": "5-4",
    "gcse_art": "7",
    "gcse_religious_studies": "4",
}


@pytest.fixture
def a8() -> Iterator[A8World]:
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        trust = world.academies["oak"].trust
        year = AcademicYearFactory(trust=trust, start_year=2023)
        year_group = YearGroupFactory(academy=world.academies["oak"], nc_year=11)
        point = AssessmentPointFactory(
            academy=world.academies["oak"],
            academic_year=year,
            year_group=year_group,
            name="GCSE results 2024",
            date=datetime.date(2024, 8, 22),
            kind=AssessmentPoint.Kind.FINAL,
        )
        double = double_award_scale(trust)
        quals = default_subjects_ensure(trust)
        combined = QualificationFactory(
            subject=quals["gcse_combined_science"].subject,
            name="GCSE combined science (double award)",
            scale=double,
            element=Qualification.Element.EBACC_SCIENCE,
            slots=2,
        )
        yield A8World(
            world=world,
            year=year,
            year_group=year_group,
            point=point,
            table=estimate_table(trust),
            quals=quals,
            double=double,
            combined=combined,
        )


def slot_map(result: object) -> dict[str, tuple[str, Decimal, int] | None]:
    return {
        s.label: (s.result.name, s.result.points, s.weight) if s.result else None
        for s in result.slots  # type: ignore[attr-defined]
    }


# The worked examples --------------------------------------------------------------------------


def test_worked_example_a(a8: A8World) -> None:
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, EXAMPLE_A)
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.english_double
    slots = slot_map(result)
    assert slots["English"] == ("GCSE English language", D(6), 2)
    assert slots["Mathematics"] == ("GCSE mathematics", D(5), 2)
    ebacc = [slots[f"EBacc {n}"] for n in (1, 2, 3)]
    assert ebacc == [
        ("GCSE history", D(6), 1),
        ("GCSE combined science (double award) (1 of 2)", D("4.5"), 1),
        ("GCSE combined science (double award) (2 of 2)", D("4.5"), 1),
    ]
    open_slots = [slots[f"Open {n}"] for n in (1, 2, 3)]
    assert open_slots == [
        ("GCSE art and design", D(7), 1),
        ("GCSE English literature", D(5), 1),
        ("GCSE religious studies", D(4), 1),
    ]
    assert result.totals == {"english": 12, "maths": 10, "ebacc": 15, "open": 16}
    assert result.attainment8 == D("53.0")
    p8 = result.progress8
    assert p8 is not None
    assert p8.ks2_average == D("105.0")
    assert p8.row.group == 19
    assert p8.row.attainment8 == D("45.12")
    assert p8.progress8 == D("0.788")
    assert (p8.english, p8.maths, p8.ebacc, p8.open) == (
        D("1.075"),
        D("0.515"),
        D("0.6833"),
        D("0.8833"),
    )
    assert p8.table == a8.table
    assert p8.same_year


def test_worked_example_a_variant(a8: A8World) -> None:
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, {k: v for k, v in EXAMPLE_A.items() if k != "gcse_english_literature"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert not result.english_double
    slots = slot_map(result)
    assert slots["English"] == ("GCSE English language", D(6), 1)
    assert [slots[f"Open {n}"] for n in (1, 2, 3)] == [
        ("GCSE art and design", D(7), 1),
        ("GCSE religious studies", D(4), 1),
        None,
    ]
    assert result.totals == {"english": 6, "maths": 10, "ebacc": 15, "open": 11}
    assert result.attainment8 == 42
    assert result.progress8 is not None
    assert result.progress8.progress8 == D("-0.312")


# Slot rules -------------------------------------------------------------------------------------


def test_english_single_and_never_ebacc(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"gcse_english_literature": "7", "gcse_maths": "4"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert slot_map(result)["English"] == ("GCSE English literature", D(7), 1)
    assert result.totals["english"] == 7
    assert result.attainment8 == 15

    both = a8.pupil("oak9a_smithjones")
    a8.results(both, {"gcse_english_language": "5", "gcse_english_literature": "8"})
    result = pupil_attainment8(both)
    assert result is not None
    slots = slot_map(result)
    # The higher of the two counts twice; the other goes to open, never to EBacc.
    assert slots["English"] == ("GCSE English literature", D(8), 2)
    assert [slots[f"EBacc {n}"] for n in (1, 2, 3)] == [None, None, None]
    assert slots["Open 1"] == ("GCSE English language", D(5), 1)
    assert result.attainment8 == 21


def test_english_double_with_u(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"gcse_english_language": "U", "gcse_english_literature": "6"})
    result = pupil_attainment8(pupil)
    assert result is not None and result.english_double
    assert result.totals["english"] == 12


def test_combined_science_split_slots(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(
        pupil,
        {"gcse_history": "7", "gcse_geography": "6", "combined": "6-5", "gcse_music": "3"},
    )
    result = pupil_attainment8(pupil)
    assert result is not None
    slots = slot_map(result)
    assert [slots[f"EBacc {n}"] for n in (1, 2, 3)] == [
        ("GCSE history", D(7), 1),
        ("GCSE geography", D(6), 1),
        ("GCSE combined science (double award) (1 of 2)", D("5.5"), 1),
    ]
    assert slots["Open 1"] == ("GCSE combined science (double award) (2 of 2)", D("5.5"), 1)
    assert slots["Open 2"] == ("GCSE music", D(3), 1)
    assert result.totals["ebacc"] == D("18.5")
    assert result.totals["open"] == D("8.5")


def test_combined_science_gcse_scale(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"gcse_combined_science": "5"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.totals["ebacc"] == 10
    assert result.filled_slots == 2


def test_ebacc_best_three_spare_open(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(
        pupil,
        {
            "gcse_history": "4",
            "gcse_geography": "8",
            "gcse_french": "6",
            "gcse_spanish": "7",
            "gcse_computer_science": "5",
            "gcse_art": "3",
        },
    )
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.totals["ebacc"] == 8 + 7 + 6
    # Computer science 5 and history 4 are better than art 3.
    assert result.totals["open"] == 5 + 4 + 3
    assert result.attainment8 == 33


def test_attainment8_maximum_ninety(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    grades = dict.fromkeys(
        [
            "gcse_english_language",
            "gcse_english_literature",
            "gcse_maths",
            "gcse_history",
            "gcse_geography",
            "gcse_french",
            "gcse_art",
            "gcse_music",
            "gcse_religious_studies",
        ],
        "9",
    )
    a8.results(pupil, grades)
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.attainment8 == 90
    assert [r.name for r in result.unplaced] == ["GCSE religious studies"]


def test_empty_slots_score_zero(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"gcse_maths": "7"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.attainment8 == 14
    assert result.filled_slots == 1
    assert slot_map(result)["English"] is None


# Missing results are not zeros -----------------------------------------------------------------


def test_attainment8_without_final_results(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    mock: AssessmentPoint = AssessmentPointFactory(
        academy=a8.point.academy,
        academic_year=a8.year,
        year_group=a8.year_group,
        name="Mock",
        date=datetime.date(2024, 1, 10),
        kind=AssessmentPoint.Kind.MOCK,
    )
    a8.results(pupil, {"gcse_maths": "7"}, point=mock)
    assert pupil_attainment8(pupil) is None


def test_absence_and_no_dfe_points(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"gcse_maths": "Absent", "gcse_history": "6", "btec_sport": "Merit"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.attainment8 == 6
    assert sorted(e.qualification.name for e in result.not_counted) == [
        "BTEC Tech Award in sport",
        "GCSE mathematics",
    ]
    assert slot_map(result)["Mathematics"] is None


def test_vocational_with_dfe_points(a8: A8World) -> None:
    sport = a8.quals["btec_sport"]
    sport.scale.counts_in_attainment8 = True
    sport.scale.save()
    Grade.objects.filter(scale=sport.scale, label="Merit").update(dfe_points=D("5.5"))
    sport.element = Qualification.Element.OPEN
    sport.save()
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, {"btec_sport": "Merit"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert slot_map(result)["Open 1"] == ("BTEC Tech Award in sport", D("5.5"), 1)


def test_resit_replaces_earlier_result(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    earlier: AssessmentPoint = AssessmentPointFactory(
        academy=a8.point.academy,
        academic_year=a8.year,
        year_group=a8.year_group,
        name="November resits",
        date=datetime.date(2023, 11, 20),
        kind=AssessmentPoint.Kind.FINAL,
    )
    a8.results(pupil, {"gcse_maths": "3"}, point=earlier)
    a8.results(pupil, {"gcse_maths": "5"})
    result = pupil_attainment8(pupil)
    assert result is not None
    assert result.totals["maths"] == 10


def test_place_results_element_none(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    other: Qualification = QualificationFactory(
        subject=SubjectFactory(trust=a8.year.trust, name="Citizenship"),
        scale=default_scale(a8.year.trust),
        element=Qualification.Element.NONE,
    )
    GradeEntryFactory(
        pupil=pupil,
        assessment_point=a8.point,
        qualification=other,
        grade=grade_of(other.scale, "9"),
    )
    entries = list(
        GradeEntry.objects.select_related("grade", "qualification__scale", "assessment_point")
    )
    slots, _, _, not_counted = place_results(entries)
    assert all(s.result is None for s in slots)
    assert [e.qualification_id for e in not_counted] == [other.pk]


# Progress 8 -----------------------------------------------------------------------------------


def test_progress8_without_ks2(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien", reading=None, maths=106)
    a8.results(pupil, EXAMPLE_A)
    result = pupil_attainment8(pupil)
    assert result is not None and result.attainment8 == 53
    assert result.progress8 is None


def test_progress8_without_table(a8: A8World) -> None:
    a8.table.year = 2023
    a8.table.save()
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, EXAMPLE_A)
    result = pupil_attainment8(pupil)
    assert result is not None and result.progress8 is None


def test_progress8_tmg_table_fallback(a8: A8World) -> None:
    a8.table.year = 2023
    a8.table.save()
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, EXAMPLE_A)
    TargetGradeFactory(
        pupil=pupil,
        qualification=a8.quals["gcse_maths"],
        academic_year=a8.year,
        grade=grade_of(a8.quals["gcse_maths"].scale, "5"),
        basis=TargetGrade.Basis.GENERATED,
        estimate_table=a8.table,
    )
    result = pupil_attainment8(pupil)
    assert result is not None and result.progress8 is not None
    assert result.progress8.progress8 == D("0.788")
    assert not result.progress8.same_year


def test_progress8_results_year_table(a8: A8World) -> None:
    newer = estimate_table(a8.year.trust, year=2024, name="Trust aspirational table")
    EstimateRow.objects.filter(table=newer, group=19).update(attainment8=D("50.00"))
    pupil = a8.pupil("oak9a_obrien")
    a8.results(pupil, EXAMPLE_A)
    result = pupil_attainment8(pupil)
    assert result is not None and result.progress8 is not None
    assert result.progress8.table == newer
    assert result.progress8.progress8 == D("0.3")


def test_signed_scores() -> None:
    assert signed(D("0.788")) == "+0.79"
    assert signed(D("-0.312")) == "-0.31"
    assert signed(D("-0.001")) == "0.00"
    assert signed(None) == ""


# An academy -------------------------------------------------------------------------------------


def test_academy_averages_skip_missing(a8: A8World) -> None:
    first = a8.pupil("oak10a_taylor")
    a8.results(first, EXAMPLE_A)
    second = a8.pupil("oak9a_obrien", reading=None, maths=None)
    a8.results(second, {k: v for k, v in EXAMPLE_A.items() if k != "gcse_english_literature"})
    a8.pupil("oak9a_smithjones")  # no results at all
    years = academy_attainment8(a8.world.academies["oak"])
    assert len(years) == 1
    year = years[0]
    assert year.academic_year == a8.year
    assert year.pupil_count == 2
    assert year.average_attainment8 == D("47.50")
    assert year.progress8_count == 1
    assert year.average_progress8 == D("0.79")
    assert year.tables == [(a8.table, True)]
    assert academy_attainment8(a8.world.academies["elm"]) == []


# Pages ------------------------------------------------------------------------------------------


def client_for(world: Personas, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def test_pupil_page_slots_and_table(a8: A8World) -> None:
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, EXAMPLE_A)
    with time_machine.travel(TODAY, tick=False):
        response = client_for(a8.world, "headteacher").get(
            reverse("progress:pupil-attainment8", args=[pupil.pk])
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert '<dd id="attainment8">53</dd>' in body
    assert '<dd id="progress8">+0.79</dd>' in body
    assert "DfE estimates (2024), source: DfE KS4 ready reckoner, 2024" in body
    assert "prior attainment group 19" in body
    assert "GCSE combined science (double award) (2 of 2)" in body
    assert reverse("progress:academy-attainment8", args=[a8.world.academies["oak"].pk]) in body


def test_pupil_page_without_results(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    with time_machine.travel(TODAY, tick=False):
        response = client_for(a8.world, "headteacher").get(
            reverse("progress:pupil-attainment8", args=[pupil.pk])
        )
    assert response.status_code == 200
    assert "has no final results yet" in response.content.decode()


def test_pupil_page_linked(a8: A8World) -> None:
    pupil = a8.pupil("oak9a_obrien")
    with time_machine.travel(TODAY, tick=False):
        response = client_for(a8.world, "headteacher").get(
            reverse("progress:pupil-progress", args=[pupil.pk])
        )
    assert reverse("progress:pupil-attainment8", args=[pupil.pk]) in response.content.decode()


def test_pages_outside_scope_404(a8: A8World) -> None:
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, EXAMPLE_A)
    with time_machine.travel(TODAY, tick=False):
        client = client_for(a8.world, "elm_teacher")
        response = client.get(reverse("progress:pupil-attainment8", args=[pupil.pk]))
        assert response.status_code == 404
        assert "Taylor" not in response.content.decode()
        oak = a8.world.academies["oak"]
        assert client.get(reverse("progress:academy-attainment8", args=[oak.pk])).status_code == 404


def test_academy_page_figures(a8: A8World) -> None:
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, EXAMPLE_A)
    oak = a8.world.academies["oak"]
    with time_machine.travel(TODAY, tick=False):
        response = client_for(a8.world, "headteacher").get(
            reverse("progress:academy-attainment8", args=[oak.pk])
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert "2023/24" in body
    assert "<td>53.00</td>" in body
    assert "<td>+0.79</td>" in body
    assert "DfE estimates (2024), source: DfE KS4 ready reckoner, 2024" in body


def test_academy_page_query_count(a8: A8World) -> None:
    oak = a8.world.academies["oak"]
    client = client_for(a8.world, "headteacher")
    url = reverse("progress:academy-attainment8", args=[oak.pk])

    def count() -> int:
        with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    a8.results(a8.pupil("oak10a_taylor"), EXAMPLE_A)
    few = count()
    for n in range(4):
        pupil = a8.pupil(f"extra{n}")
        Enrolment.objects.create(
            pupil=pupil,
            academy=oak,
            academic_year=a8.year,
            year_group=a8.year_group,
            start_date=a8.year.start_date,
        )
        a8.results(pupil, EXAMPLE_A)
    assert count() == few


def test_academy_page_linked(a8: A8World) -> None:
    oak = a8.world.academies["oak"]
    response = client_for(a8.world, "headteacher").get(reverse("academies:detail", args=[oak.pk]))
    assert response.status_code == 200
    assert reverse("progress:academy-attainment8", args=[oak.pk]) in response.content.decode()
