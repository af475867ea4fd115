"""Grade scales and the status rules: boundaries on every default scale,
the TMG 6 examples, averages over entered grades only, sort order,
rounding on boundaries and parse_grade messages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from academies.models import AcademicYear
from progress.grades import (
    STATUS_LABELS,
    STATUS_SYMBOLS,
    Status,
    average_points,
    default_scales_ensure,
    default_subjects_ensure,
    entry_status,
    grade_for_points,
    grade_sort_key,
    parse_grade,
    round_points,
    status_between,
)
from progress.models import (
    AssessmentPoint,
    Grade,
    GradeEntry,
    GradeEquivalent,
    GradeScale,
    TargetGrade,
)
from trust.models import AuditEvent

from .factories import AcademicYearFactory, AcademyFactory, PupilFactory, YearGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def academy():
    return AcademyFactory()


@pytest.fixture
def scales(academy):
    return default_scales_ensure(academy.trust)


@pytest.fixture
def qualifications(academy, scales):
    return default_subjects_ensure(academy.trust)


def grade(scale: GradeScale, label: str) -> Grade:
    return Grade.objects.get(scale=scale, label=label)


class Drop:
    """One pupil, one assessment point and TMGs, for building entries."""

    def __init__(self, academy, qualification):
        self.academy = academy
        self.qualification = qualification
        self.year: AcademicYear = AcademicYearFactory(trust=academy.trust, start_year=2026)
        self.year_group = YearGroupFactory(academy=academy, nc_year=10)
        self.pupil = PupilFactory()
        self.point = AssessmentPoint.objects.create(
            academy=academy,
            academic_year=self.year,
            year_group=self.year_group,
            name="Autumn",
            date=datetime.date(2026, 11, 20),
            kind=AssessmentPoint.Kind.WORKING_AT,
        )

    def entry(self, grade_row=None, value=None) -> GradeEntry:
        return GradeEntry(
            pupil=self.pupil,
            qualification=self.qualification,
            assessment_point=self.point,
            grade=grade_row,
            value=value,
            academy=self.academy,
            academic_year=self.year,
            year_group=self.year_group,
            entered_at=timezone.now(),
        )

    def tmg(self, grade_row=None, value=None) -> TargetGrade:
        return TargetGrade(
            pupil=self.pupil,
            qualification=self.qualification,
            academic_year=self.year,
            grade=grade_row,
            value=value,
            basis=TargetGrade.Basis.MANUAL,
            reason="test",
            set_at=timezone.now(),
        )


# Default scales -------------------------------------------------------------------------------


def test_default_scales_created_once(academy):
    first = default_scales_ensure(academy.trust)
    count = Grade.objects.count()
    second = default_scales_ensure(academy.trust)

    assert set(first) == {
        "gcse",
        "a_level",
        "btec",
        "cambridge_national",
        "primary_ta",
        "ks2_scaled",
    }
    assert {k: s.pk for k, s in first.items()} == {k: s.pk for k, s in second.items()}
    assert Grade.objects.count() == count


def test_default_scales_keep_trust_points(academy, scales):
    merit = grade(scales["btec"], "Merit")
    merit.points = Decimal("2.5")
    merit.save()

    default_scales_ensure(academy.trust)

    merit.refresh_from_db()
    assert merit.points == Decimal("2.5")


def test_default_scales_grades_audited(academy, scales):
    created = AuditEvent.objects.filter(model="progress.Grade", action=AuditEvent.Action.CREATE)

    assert created.count() == Grade.objects.count()


def test_gcse_scale_points(scales):
    gcse = scales["gcse"]
    points = {g.label: g.points for g in gcse.grades.all()}

    assert gcse.counts_in_attainment8
    assert gcse.step == 1
    assert points["9"] == Decimal("9")
    assert points["9-"] == Decimal("8.67")
    assert points["6+"] == Decimal("6.33")
    assert points["6-"] == Decimal("5.67")
    assert points["1-"] == Decimal("0.67")
    assert points["U"] == Decimal("0")
    assert "9+" not in points
    assert points["Absent"] is None
    assert points["Not sat"] is None


def test_gcse_dfe_points_on_whole_grades_only(scales):
    gcse = scales["gcse"]

    assert grade(gcse, "7").dfe_points == Decimal("7")
    assert grade(gcse, "U").dfe_points == Decimal("0")
    assert grade(gcse, "7+").dfe_points is None
    assert grade(gcse, "Absent").dfe_points is None


def test_other_scales_points(scales):
    a_level = {g.label: g.points for g in scales["a_level"].grades.filter(is_result=True)}
    btec = {g.label: g.points for g in scales["btec"].grades.filter(is_result=True)}
    primary = {g.label: g.points for g in scales["primary_ta"].grades.filter(is_result=True)}

    assert a_level == {"A*": 6, "A": 5, "B": 4, "C": 3, "D": 2, "E": 1, "U": 0}
    assert btec == {
        "Distinction*": 4,
        "Distinction": 3,
        "Merit": 2,
        "Pass": 1,
        "U": 0,
    }
    assert primary == {"GDS": 3, "EXS": 2, "WTS": 1}
    assert not scales["btec"].counts_in_attainment8
    assert not scales["cambridge_national"].counts_in_attainment8
    assert scales["ks2_scaled"].numeric
    assert scales["ks2_scaled"].min_value == 80
    assert scales["ks2_scaled"].max_value == 120


def test_default_subjects_keys(academy, qualifications):
    again = default_subjects_ensure(academy.trust)

    assert qualifications["gcse_maths"].element == "maths"
    assert qualifications["gcse_combined_science"].slots == 2
    assert qualifications["btec_sport"].scale.code == "btec"
    assert qualifications["ks2_reading_scaled"].scale.code == "ks2_scaled"
    assert {k: q.pk for k, q in again.items()} == {k: q.pk for k, q in qualifications.items()}


# status_between on every scale ----------------------------------------------------------------

STEP = Decimal(1)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("9", Status.ABOVE),
        ("7", Status.ABOVE),
        ("7-", Status.ON),
        ("6+", Status.ON),
        ("6", Status.ON),
        ("6-", Status.BELOW),
        ("5+", Status.BELOW),
        ("5", Status.WELL_BELOW),
        ("5-", Status.WELL_BELOW),
        ("U", Status.WELL_BELOW),
    ],
)
def test_gcse_status_against_tmg_6(scales, label, expected):
    gcse = scales["gcse"]

    status = status_between(grade(gcse, label).points, grade(gcse, "6").points, gcse.step)

    assert status == expected


@pytest.mark.parametrize(
    ("scale_code", "label", "tmg_label", "expected"),
    [
        ("a_level", "A", "B", Status.ABOVE),
        ("a_level", "B", "B", Status.ON),
        ("a_level", "C", "B", Status.WELL_BELOW),
        ("a_level", "U", "E", Status.WELL_BELOW),
        ("a_level", "A*", "A", Status.ABOVE),
        ("btec", "Distinction*", "Distinction", Status.ABOVE),
        ("btec", "Merit", "Merit", Status.ON),
        ("btec", "Pass", "Merit", Status.WELL_BELOW),
        ("cambridge_national", "Distinction", "Merit", Status.ABOVE),
        ("cambridge_national", "U", "Pass", Status.WELL_BELOW),
        ("primary_ta", "GDS", "EXS", Status.ABOVE),
        ("primary_ta", "EXS", "EXS", Status.ON),
        ("primary_ta", "WTS", "EXS", Status.WELL_BELOW),
    ],
)
def test_listed_scales_status(scales, scale_code, label, tmg_label, expected):
    scale = scales[scale_code]

    status = status_between(grade(scale, label).points, grade(scale, tmg_label).points, scale.step)

    assert status == expected


@pytest.mark.parametrize(
    ("score", "tmg", "expected"),
    [
        ("106", "105", Status.ABOVE),
        ("105.5", "105", Status.ON),
        ("105", "105", Status.ON),
        ("104.5", "105", Status.BELOW),
        ("104.01", "105", Status.BELOW),
        ("104", "105", Status.WELL_BELOW),
        ("80", "120", Status.WELL_BELOW),
    ],
)
def test_ks2_scaled_status(scales, score, tmg, expected):
    assert status_between(Decimal(score), Decimal(tmg), scales["ks2_scaled"].step) == expected


@pytest.mark.parametrize(
    ("points", "tmg", "step", "expected"),
    [
        ("8", "6", "2", Status.ABOVE),
        ("7.99", "6", "2", Status.ON),
        ("6", "6", "2", Status.ON),
        ("5.99", "6", "2", Status.BELOW),
        ("4.01", "6", "2", Status.BELOW),
        ("4", "6", "2", Status.WELL_BELOW),
    ],
)
def test_status_uses_scale_step(points, tmg, step, expected):
    assert status_between(Decimal(points), Decimal(tmg), Decimal(step)) == expected


def test_status_fine_grade_float_error():
    # 17/3 carries float error; compared on two decimals it is 5.67, below 6.
    fine = Decimal(17) / Decimal(3)

    assert status_between(fine, Decimal(6), STEP) == Status.BELOW
    assert status_between(Decimal(6) + Decimal(1) / 3, Decimal(6), STEP) == Status.ON
    assert status_between(Decimal("5.0000001"), Decimal(6), STEP) == Status.WELL_BELOW


def test_status_without_grade_or_tmg():
    assert status_between(None, Decimal(6), STEP) == Status.NO_GRADE
    assert status_between(Decimal(6), None, STEP) == Status.NO_TMG
    assert status_between(None, None, STEP) == Status.NO_GRADE


def test_status_labels_and_symbols_cover_every_status():
    for status in Status:
        assert STATUS_LABELS[status] == status.label
        assert STATUS_SYMBOLS[status]


# entry_status: the TMG 6 examples and other scales --------------------------------------------


@pytest.fixture
def drop(academy, qualifications):
    return Drop(academy, qualifications["gcse_maths"])


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("7", Status.ABOVE),
        ("6", Status.ON),
        ("6+", Status.ON),
        ("6-", Status.BELOW),
        ("5", Status.WELL_BELOW),
        ("U", Status.WELL_BELOW),
        ("Absent", Status.NO_GRADE),
        ("Not sat", Status.NO_GRADE),
    ],
)
def test_entry_status_tmg_6(scales, drop, label, expected):
    gcse = scales["gcse"]
    tmg = drop.tmg(grade(gcse, "6"))

    assert entry_status(drop.entry(grade(gcse, label)), tmg, gcse) == expected


def test_entry_status_missing_entry_and_tmg(scales, drop):
    gcse = scales["gcse"]

    assert entry_status(None, drop.tmg(grade(gcse, "6")), gcse) == Status.NO_GRADE
    assert entry_status(drop.entry(grade(gcse, "6")), None, gcse) == Status.NO_TMG
    assert entry_status(drop.entry(grade(gcse, "Absent")), None, gcse) == Status.NO_GRADE


def test_no_tmg_never_on_target(scales, drop):
    gcse = scales["gcse"]

    for label in ("9", "6", "U"):
        status = entry_status(drop.entry(grade(gcse, label)), None, gcse)
        assert status == Status.NO_TMG
        assert status != Status.ON


@pytest.fixture
def legacy(academy):
    scale = GradeScale.objects.create(
        trust=academy.trust, code="legacy", name="Legacy GCSE A* to G", kind="gcse"
    )
    return {
        label: Grade.objects.create(scale=scale, label=label, points=points, position=i)
        for i, (label, points) in enumerate([("A", 7), ("B", 6), ("6", 1)])
    }


def test_legacy_grade_without_mapping_not_compared(scales, drop, legacy):
    gcse = scales["gcse"]
    tmg = drop.tmg(grade(gcse, "6"))

    assert entry_status(drop.entry(legacy["B"]), tmg, gcse) == Status.NOT_COMPARABLE


def test_legacy_label_never_compared_as_text(scales, drop, legacy):
    # The legacy grade labelled "6" is worth 1 point on its own scale and has
    # no mapping onto GCSE 9 to 1, so it is not read as a GCSE 6.
    gcse = scales["gcse"]
    tmg = drop.tmg(grade(gcse, "6"))

    assert entry_status(drop.entry(legacy["6"]), tmg, gcse) == Status.NOT_COMPARABLE


def test_legacy_grade_compared_through_mapping(scales, drop, legacy):
    gcse = scales["gcse"]
    GradeEquivalent.objects.create(grade=legacy["B"], scale=gcse, points=Decimal("5.5"))
    GradeEquivalent.objects.create(grade=legacy["A"], scale=gcse, points=Decimal("7"))
    tmg = drop.tmg(grade(gcse, "6"))

    assert entry_status(drop.entry(legacy["B"]), tmg, gcse) == Status.BELOW
    assert entry_status(drop.entry(legacy["A"]), tmg, gcse) == Status.ABOVE


def test_entry_status_numeric_scale(academy, scales, qualifications):
    drop = Drop(academy, qualifications["ks2_maths_scaled"])
    ks2 = scales["ks2_scaled"]
    tmg = drop.tmg(value=Decimal("105"))

    assert entry_status(drop.entry(value=Decimal("106")), tmg, ks2) == Status.ABOVE
    assert entry_status(drop.entry(value=Decimal("104")), tmg, ks2) == Status.WELL_BELOW
    assert entry_status(drop.entry(grade(ks2, "Absent")), tmg, ks2) == Status.NO_GRADE


def test_grades_sort_highest_first_then_non_results(scales):
    gcse = scales["gcse"]
    mixed = [grade(gcse, label) for label in ("U", "Absent", "4", "9", "Not sat", "7")]

    ordered = sorted([*mixed, None], key=grade_sort_key)

    assert [g.label if g else None for g in ordered] == [
        "9",
        "7",
        "4",
        "U",
        "Absent",
        "Not sat",
        None,
    ]


def test_grades_position_order_matches_sort(scales):
    gcse = scales["gcse"]
    by_position = list(gcse.grades.all())

    assert by_position == sorted(by_position, key=grade_sort_key)
    assert [g.label for g in by_position][-3:] == ["U", "Absent", "Not sat"]


# Averages: missing is not zero ----------------------------------------------------------------


def test_average_over_entered_grades_only(scales, drop):
    gcse = scales["gcse"]
    entries = [drop.entry(grade(gcse, "6")), drop.entry(grade(gcse, "5")), None]

    assert average_points(entries) == Decimal("5.50")


def test_average_skips_absent_and_not_sat(scales, drop):
    gcse = scales["gcse"]
    entries = [
        drop.entry(grade(gcse, "6")),
        drop.entry(grade(gcse, "Absent")),
        drop.entry(grade(gcse, "Not sat")),
    ]

    assert average_points(entries) == Decimal("6.00")


def test_average_counts_u_as_zero_points(scales, drop):
    gcse = scales["gcse"]

    assert average_points([drop.entry(grade(gcse, "6")), drop.entry(grade(gcse, "U"))]) == 3


def test_average_without_results_is_none(scales, drop):
    gcse = scales["gcse"]

    assert average_points([]) is None
    assert average_points([None, drop.entry(grade(gcse, "Absent"))]) is None


def test_average_of_fine_grades_rounded(scales, drop):
    gcse = scales["gcse"]
    entries = [drop.entry(grade(gcse, label)) for label in ("6-", "6-", "6")]

    assert average_points(entries) == Decimal("5.78")


# Rounding and boundaries agree ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "shown", "label"),
    [
        ("5.5", "5.50", "6"),
        ("5.495", "5.50", "6"),
        ("5.494", "5.49", "5"),
        ("5.4999", "5.50", "6"),
        ("6.33", "6.33", "6"),
        ("0.5", "0.50", "1"),
        ("0.49", "0.49", "U"),
        ("8.6", "8.60", "9"),
        ("9.4", "9.40", "9"),
        ("-1", "-1.00", "U"),
    ],
)
def test_grade_for_points_boundaries(scales, points, shown, label):
    gcse = scales["gcse"]

    assert str(round_points(Decimal(points))) == shown
    assert grade_for_points(gcse, Decimal(points)).label == label


def test_grade_for_points_agrees_with_shown_figure(scales):
    gcse = scales["gcse"]
    # Every value in steps of 0.001: the grade read from the shown figure
    # equals the grade read from the raw value.
    for thousandths in range(0, 9001, 7):
        raw = Decimal(thousandths) / 1000
        shown = round_points(raw)
        assert grade_for_points(gcse, raw) == grade_for_points(gcse, shown)


def test_grade_for_points_other_scales(scales):
    assert grade_for_points(scales["a_level"], Decimal("4.5")).label == "A"
    assert grade_for_points(scales["btec"], Decimal("2.49")).label == "Merit"
    assert grade_for_points(scales["primary_ta"], Decimal("1.5")).label == "EXS"


def test_grade_for_points_numeric_scale_rejected(scales):
    with pytest.raises(ValueError, match="KS2 scaled score"):
        grade_for_points(scales["ks2_scaled"], Decimal("100"))


# parse_grade ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [("6", "6"), (" 6+ ", "6+"), ("u", "U"), ("ABSENT", "Absent"), ("not  sat", "Not sat")],
)
def test_parse_grade_gcse_labels(scales, text, label):
    parsed = parse_grade(scales["gcse"], text)

    assert isinstance(parsed, Grade)
    assert parsed.label == label


def test_parse_grade_other_scales(scales):
    assert parse_grade(scales["a_level"], "a*").label == "A*"
    assert parse_grade(scales["btec"], "distinction*").label == "Distinction*"
    assert parse_grade(scales["primary_ta"], "exs").label == "EXS"
    assert parse_grade(scales["primary_ta"], "Greater depth").label == "GDS"


def test_parse_grade_rejects_unknown_with_allowed(scales):
    with pytest.raises(ValidationError) as caught:
        parse_grade(scales["gcse"], "6++")

    message = caught.value.message_dict["grade"][0]
    assert message.startswith("Grade '6++' is not on GCSE 9 to 1; allowed: 9, 9-, 8+, 8, 8-,")
    assert message.endswith("1+, 1, 1-, U, Absent, Not sat.")


def test_parse_grade_rejects_9_plus(scales):
    with pytest.raises(ValidationError, match="Grade '9\\+' is not on GCSE 9 to 1"):
        parse_grade(scales["gcse"], "9+")


def test_parse_grade_rejects_legacy_letter(scales):
    with pytest.raises(ValidationError, match="Grade 'B' is not on GCSE 9 to 1"):
        parse_grade(scales["gcse"], "B")


def test_parse_grade_blank(scales):
    with pytest.raises(ValidationError) as caught:
        parse_grade(scales["a_level"], "  ")

    assert caught.value.message_dict["grade"] == [
        "Grade is blank; allowed on A level: A*, A, B, C, D, E, U, Absent, Not sat."
    ]


def test_parse_grade_final_rejects_fine_grade(scales):
    with pytest.raises(ValidationError) as caught:
        parse_grade(scales["gcse"], "6+", final=True)

    message = caught.value.message_dict["grade"][0]
    assert message == (
        "Grade '6+' is a fine grade, but a final result must be a whole grade; "
        "allowed: 9, 8, 7, 6, 5, 4, 3, 2, 1, U, Absent, Not sat."
    )
    assert parse_grade(scales["gcse"], "6", final=True).label == "6"


@pytest.mark.parametrize("text", ["100", " 80 ", "120"])
def test_parse_grade_scaled_score(scales, text):
    assert parse_grade(scales["ks2_scaled"], text) == Decimal(text.strip())


@pytest.mark.parametrize("text", ["79", "121", "100.5", "abc", "NaN", "1e2x"])
def test_parse_grade_scaled_score_rejected(scales, text):
    with pytest.raises(ValidationError) as caught:
        parse_grade(scales["ks2_scaled"], text)

    assert caught.value.message_dict["grade"] == [
        f"Score '{text}' is not valid on KS2 scaled score; allowed: "
        "a whole number from 80 to 120, Absent, Not sat."
    ]


def test_parse_grade_scaled_score_absent(scales):
    parsed = parse_grade(scales["ks2_scaled"], "absent")

    assert isinstance(parsed, Grade)
    assert not parsed.is_result


def test_parse_grade_reads_scale_once(scales, django_assert_num_queries):
    gcse = GradeScale.objects.get(pk=scales["gcse"].pk)

    with django_assert_num_queries(1):
        for text in ("6", "7", "U", "5-", "Absent"):
            parse_grade(gcse, text)
