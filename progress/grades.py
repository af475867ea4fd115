"""Grade scales and the rules that read grades: parsing, sorting, averages
and the status of a grade against a Target Minimum Grade (TMG).

Default scales (default_scales_ensure creates any that are missing):
- "gcse", GCSE 9 to 1: whole grades 9 to 1 worth 9 to 1 points and U worth 0,
  with DfE Attainment 8 points on the whole grades. Fine grades split every
  whole grade from 1 to 9 in thirds: 6- is 5.67 and 6+ is 6.33. There is no
  9+, because no result is above 9, but there is 1- (0.67) for pupils working
  towards grade 1.
- "a_level": A* 6, A 5, B 4, C 3, D 2, E 1, U 0.
- "btec" and "cambridge_national": Distinction* 4, Distinction 3, Merit 2,
  Pass 1, U 0. These points are defaults for comparing grades within the
  scale; the trust can change them in the admin site. Neither scale counts
  in Attainment 8 unless the trust enters DfE points.
- "primary_ta", end of key stage teacher assessment: WTS (working towards
  the expected standard) 1, EXS (expected standard) 2, GDS (greater depth) 3.
- "ks2_scaled", KS2 scaled scores: whole numbers from 80 to 120.
Every listed scale and the KS2 scale also have "Absent" and "Not sat", which
are entries but not results: they are shown and flagged, never scored.
Every default scale has a step of 1 point per whole grade.
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction

from academies.models import Trust
from trust import audit
from trust.models import AuditEvent

from .models import Grade, GradeEntry, GradeScale, Qualification, Subject, TargetGrade

CENTS = Decimal("0.01")
ABSENT = "Absent"
NOT_SAT = "Not sat"
NON_RESULTS = (ABSENT, NOT_SAT)


class Status(models.TextChoices):
    ABOVE = "above", "Above TMG"
    ON = "on", "On TMG"
    BELOW = "below", "Below TMG"
    WELL_BELOW = "well_below", "Well below TMG"
    NO_GRADE = "no_grade", "No grade"
    NO_TMG = "no_tmg", "No TMG"
    NOT_COMPARABLE = "not_comparable", "Not comparable"


STATUS_LABELS: dict[str, str] = {status.value: str(status.label) for status in Status}
# Shown beside the word so a status never depends on colour alone.
STATUS_SYMBOLS: dict[str, str] = {
    Status.ABOVE: "▲",
    Status.ON: "●",
    Status.BELOW: "▼",
    Status.WELL_BELOW: "▼▼",
    Status.NO_GRADE: "–",
    Status.NO_TMG: "?",
    Status.NOT_COMPARABLE: "≠",
}


def round_points(points: Decimal | int | float | str) -> Decimal:
    """Round points to two decimals, half up: the figure shown and the one compared."""
    return Decimal(str(points)).quantize(CENTS, rounding=ROUND_HALF_UP)


# Default scales -------------------------------------------------------------------------

# (label, points, dfe_points, fine) from the highest grade down.
GradeSpec = tuple[str, Decimal, Decimal | None, bool]


def _gcse_grades() -> list[GradeSpec]:
    grades: list[GradeSpec] = []
    third = Decimal(1) / 3
    for whole in range(9, 0, -1):
        value = Decimal(whole)
        if whole < 9:
            grades.append((f"{whole}+", round_points(value + third), None, True))
        grades.append((str(whole), value, value, False))
        grades.append((f"{whole}-", round_points(value - third), None, True))
    grades.append(("U", Decimal(0), Decimal(0), False))
    return grades


def _vocational_grades() -> list[GradeSpec]:
    labels = ["Distinction*", "Distinction", "Merit", "Pass", "U"]
    return [(label, Decimal(4 - i), None, False) for i, label in enumerate(labels)]


A_LEVEL_LABELS = ["A*", "A", "B", "C", "D", "E", "U"]

# code -> name, kind, counts in Attainment 8, grades (None for a numeric scale).
DEFAULT_SCALES: dict[str, tuple[str, str, bool, list[GradeSpec] | None]] = {
    "gcse": ("GCSE 9 to 1", GradeScale.Kind.GCSE, True, _gcse_grades()),
    "a_level": (
        "A level",
        GradeScale.Kind.A_LEVEL,
        False,
        [
            (label, Decimal(6 - i), None, False)
            for i, label in enumerate(["A*", "A", "B", "C", "D", "E", "U"])
        ],
    ),
    "btec": ("BTEC", GradeScale.Kind.VOCATIONAL, False, _vocational_grades()),
    "cambridge_national": (
        "Cambridge National",
        GradeScale.Kind.VOCATIONAL,
        False,
        _vocational_grades(),
    ),
    "primary_ta": (
        "Primary teacher assessment",
        GradeScale.Kind.PRIMARY_TA,
        False,
        [
            ("GDS", Decimal(3), None, False),
            ("EXS", Decimal(2), None, False),
            ("WTS", Decimal(1), None, False),
        ],
    ),
    "ks2_scaled": ("KS2 scaled score", GradeScale.Kind.SCALED_SCORE, False, None),
}
KS2_MIN, KS2_MAX = Decimal(80), Decimal(120)

# Other spellings parse_grade accepts on a default scale, folded to lower case.
ALIASES: dict[str, dict[str, str]] = {
    "primary_ta": {
        "working towards": "WTS",
        "working towards the expected standard": "WTS",
        "expected standard": "EXS",
        "expected": "EXS",
        "greater depth": "GDS",
        "greater depth within the expected standard": "GDS",
    },
}


@transaction.atomic
def default_scales_ensure(trust: Trust) -> dict[str, GradeScale]:
    """Create the default scales and grades the trust does not have yet.

    Existing scales and grades are left as they are, so points the trust
    changed are kept. Returns the scales by code.
    """
    existing = {s.code: s for s in GradeScale.objects.filter(trust=trust, code__in=DEFAULT_SCALES)}
    scales: dict[str, GradeScale] = {}
    for code, (name, kind, counts, grade_specs) in DEFAULT_SCALES.items():
        scale = existing.get(code)
        if scale is None:
            numeric = grade_specs is None
            scale = GradeScale.objects.create(
                trust=trust,
                code=code,
                name=name,
                kind=kind,
                step=Decimal(1),
                counts_in_attainment8=counts,
                numeric=numeric,
                min_value=KS2_MIN if numeric else None,
                max_value=KS2_MAX if numeric else None,
            )
        scales[code] = scale

    labels = set(Grade.objects.filter(scale__in=scales.values()).values_list("scale_id", "label"))
    new_grades = []
    for code, (_, _, _, grade_specs) in DEFAULT_SCALES.items():
        scale = scales[code]
        specs = grade_specs or []
        for position, (label, points, dfe_points, fine) in enumerate(specs):
            if (scale.pk, label) not in labels:
                new_grades.append(
                    Grade(
                        scale=scale,
                        label=label,
                        points=points,
                        dfe_points=dfe_points,
                        fine=fine,
                        position=position,
                    )
                )
        for offset, label in enumerate(NON_RESULTS):
            if (scale.pk, label) not in labels:
                new_grades.append(
                    Grade(scale=scale, label=label, is_result=False, position=100 + offset)
                )
    if new_grades:
        Grade.objects.bulk_create(new_grades)
        audit.record_bulk(new_grades, AuditEvent.Action.CREATE)
    return scales


# Default subjects: key -> (subject code, subject name, qualification name, scale code,
# Attainment 8 element, slots).
DEFAULT_QUALIFICATIONS: dict[str, tuple[str, str, str, str, str, int]] = {
    "gcse_english_language": (
        "english",
        "English",
        "GCSE English language",
        "gcse",
        Qualification.Element.ENGLISH_LANGUAGE,
        1,
    ),
    "gcse_english_literature": (
        "english",
        "English",
        "GCSE English literature",
        "gcse",
        Qualification.Element.ENGLISH_LITERATURE,
        1,
    ),
    "gcse_maths": (
        "maths",
        "Mathematics",
        "GCSE mathematics",
        "gcse",
        Qualification.Element.MATHS,
        1,
    ),
    "gcse_combined_science": (
        "science",
        "Science",
        "GCSE combined science",
        "gcse",
        Qualification.Element.EBACC_SCIENCE,
        2,
    ),
    "gcse_computer_science": (
        "computing",
        "Computing",
        "GCSE computer science",
        "gcse",
        Qualification.Element.EBACC_SCIENCE,
        1,
    ),
    "gcse_history": (
        "history",
        "History",
        "GCSE history",
        "gcse",
        Qualification.Element.EBACC_HUMANITIES,
        1,
    ),
    "gcse_geography": (
        "geography",
        "Geography",
        "GCSE geography",
        "gcse",
        Qualification.Element.EBACC_HUMANITIES,
        1,
    ),
    "gcse_french": (
        "french",
        "French",
        "GCSE French",
        "gcse",
        Qualification.Element.EBACC_LANGUAGE,
        1,
    ),
    "gcse_spanish": (
        "spanish",
        "Spanish",
        "GCSE Spanish",
        "gcse",
        Qualification.Element.EBACC_LANGUAGE,
        1,
    ),
    "gcse_art": (
        "art",
        "Art and design",
        "GCSE art and design",
        "gcse",
        Qualification.Element.OPEN,
        1,
    ),
    "gcse_religious_studies": (
        "religious-studies",
        "Religious studies",
        "GCSE religious studies",
        "gcse",
        Qualification.Element.OPEN,
        1,
    ),
    "gcse_music": ("music", "Music", "GCSE music", "gcse", Qualification.Element.OPEN, 1),
    "btec_sport": (
        "sport",
        "Sport",
        "BTEC Tech Award in sport",
        "btec",
        Qualification.Element.NONE,
        1,
    ),
    "cambridge_national_imedia": (
        "imedia",
        "Creative iMedia",
        "Cambridge National in creative iMedia",
        "cambridge_national",
        Qualification.Element.NONE,
        1,
    ),
    "a_level_maths": (
        "maths",
        "Mathematics",
        "A level mathematics",
        "a_level",
        Qualification.Element.NONE,
        1,
    ),
    "a_level_english_literature": (
        "english",
        "English",
        "A level English literature",
        "a_level",
        Qualification.Element.NONE,
        1,
    ),
    "a_level_history": (
        "history",
        "History",
        "A level history",
        "a_level",
        Qualification.Element.NONE,
        1,
    ),
    "ks2_reading_scaled": (
        "reading",
        "Reading",
        "KS2 reading scaled score",
        "ks2_scaled",
        Qualification.Element.NONE,
        1,
    ),
    "ks2_maths_scaled": (
        "maths",
        "Mathematics",
        "KS2 mathematics scaled score",
        "ks2_scaled",
        Qualification.Element.NONE,
        1,
    ),
    "ks2_reading_ta": (
        "reading",
        "Reading",
        "KS2 reading teacher assessment",
        "primary_ta",
        Qualification.Element.NONE,
        1,
    ),
    "ks2_writing_ta": (
        "writing",
        "Writing",
        "KS2 writing teacher assessment",
        "primary_ta",
        Qualification.Element.NONE,
        1,
    ),
    "ks2_maths_ta": (
        "maths",
        "Mathematics",
        "KS2 mathematics teacher assessment",
        "primary_ta",
        Qualification.Element.NONE,
        1,
    ),
}


@transaction.atomic
def default_subjects_ensure(trust: Trust) -> dict[str, Qualification]:
    """Create the default subjects and qualifications the trust does not have yet.

    Returns the qualifications keyed as in DEFAULT_QUALIFICATIONS, such as
    "gcse_maths" or "ks2_reading_scaled". Existing rows are left unchanged.
    """
    scales = default_scales_ensure(trust)
    subjects = {s.code: s for s in Subject.objects.filter(trust=trust)}
    result: dict[str, Qualification] = {}
    for key, (
        code,
        subject_name,
        name,
        scale_code,
        element,
        slots,
    ) in DEFAULT_QUALIFICATIONS.items():
        subject = subjects.get(code)
        if subject is None:
            subject = Subject.objects.create(trust=trust, code=code, name=subject_name)
            subjects[code] = subject
        qualification, _ = Qualification.objects.get_or_create(
            subject=subject,
            name=name,
            defaults={"scale": scales[scale_code], "element": element, "slots": slots},
        )
        result[key] = qualification
    return result


# Reading grades -------------------------------------------------------------------------


def scale_grades(scale: GradeScale) -> list[Grade]:
    """Return the grades of `scale` in sort order, read once per scale object."""
    cached = getattr(scale, "_progress_grades", None)
    if cached is None:
        cached = sorted(scale.grades.all(), key=lambda g: (g.position, g.pk or 0))
        scale._progress_grades = cached  # type: ignore[attr-defined]
    return cached


def _allowed(scale: GradeScale, *, final: bool) -> str:
    if scale.numeric:
        values = [f"a whole number from {_plain(scale.min_value)} to {_plain(scale.max_value)}"]
        values += [g.label for g in scale_grades(scale) if not g.is_result]
        return ", ".join(values)
    return ", ".join(g.label for g in scale_grades(scale) if not (final and g.fine))


def _plain(value: Decimal | None) -> str:
    if value is None:
        return "any"
    if value == value.to_integral_value():
        return str(int(value))
    return str(value.normalize())


def parse_grade(scale: GradeScale, text: str, *, final: bool = False) -> Grade | Decimal:
    """Return the grade of `scale` written as `text`, or the number on a numeric scale.

    Labels match without regard to case or surrounding spaces. Fine grades
    (6-, 6+) are rejected when `final` is true, because a final result is a
    whole grade. Raises ValidationError on "grade" naming the value and the
    allowed values.
    """
    written = (text or "").strip()
    folded = " ".join(written.lower().split())
    if not folded:
        raise ValidationError(
            {"grade": [f"Grade is blank; allowed on {scale.name}: {_allowed(scale, final=final)}."]}
        )
    folded = ALIASES.get(scale.code, {}).get(folded, folded).lower()
    for grade in scale_grades(scale):
        if grade.label.lower() == folded:
            if final and grade.fine:
                raise ValidationError(
                    {
                        "grade": [
                            f"Grade '{written}' is a fine grade, but a final result must be a "
                            f"whole grade; allowed: {_allowed(scale, final=True)}."
                        ]
                    }
                )
            return grade
    if scale.numeric:
        return _parse_number(scale, written)
    raise ValidationError(
        {
            "grade": [
                f"Grade '{written}' is not on {scale.name}; "
                f"allowed: {_allowed(scale, final=final)}."
            ]
        }
    )


def _parse_number(scale: GradeScale, written: str) -> Decimal:
    message = (
        f"Score '{written}' is not valid on {scale.name}; allowed: {_allowed(scale, final=False)}."
    )
    try:
        value = Decimal(written)
    except InvalidOperation:
        raise ValidationError({"grade": [message]}) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationError({"grade": [message]})
    too_low = scale.min_value is not None and value < scale.min_value
    too_high = scale.max_value is not None and value > scale.max_value
    if too_low or too_high:
        raise ValidationError({"grade": [message]})
    return value.quantize(CENTS)


def grade_for_points(scale: GradeScale, points: Decimal) -> Grade:
    """Return the whole grade of `scale` nearest to `points`.

    The points are first rounded to two decimals (round_points), the same
    rounding as the figure shown beside the grade. A value exactly halfway
    between two grades, such as 5.50, gets the higher grade. Raises
    ValueError for a numeric scale or a scale without whole grades.
    """
    whole = [g for g in scale_grades(scale) if g.is_result and not g.fine]
    if scale.numeric or not whole:
        raise ValueError(f"The scale {scale.name} has no whole grades to round to.")
    rounded = round_points(points)
    best = whole[0]
    best_points = round_points(best.points or 0)
    for grade in whole[1:]:
        grade_points = round_points(grade.points or 0)
        distance = abs(rounded - grade_points)
        best_distance = abs(rounded - best_points)
        # A tie goes to the higher grade.
        if distance < best_distance or (distance == best_distance and grade_points > best_points):
            best, best_points = grade, grade_points
    return best


def grade_sort_key(grade: Grade | None) -> tuple[int, Decimal, int]:
    """Return a key that sorts grades highest first, then non-results, then no entry."""
    if grade is None:
        return (2, Decimal(0), 0)
    if not grade.is_result or grade.points is None:
        return (1, Decimal(0), grade.position)
    return (0, -grade.points, grade.position)


def entry_points(entry: GradeEntry | None) -> Decimal | None:
    """Return the points of an entry on its own scale, or None for no entry or a non-result."""
    if entry is None:
        return None
    if entry.grade_id is not None:
        grade = entry.grade
        if grade is None or not grade.is_result or grade.points is None:
            return None
        return round_points(grade.points)
    if entry.value is not None:
        return round_points(entry.value)
    return None


def average_points(entries: Iterable[GradeEntry | None]) -> Decimal | None:
    """Return the mean points of the entered results, rounded to two decimals.

    Missing entries and non-results (absent, not sat) are left out, never
    counted as zero. Returns None when no entry is a result.
    """
    values = [p for p in (entry_points(e) for e in entries) if p is not None]
    if not values:
        return None
    return round_points(sum(values, Decimal(0)) / len(values))


# Status against the TMG ----------------------------------------------------------------


def status_between(points: Decimal | None, tmg_points: Decimal | None, step: Decimal) -> Status:
    """Return the status of `points` against `tmg_points`, in whole-grade steps of `step`.

    With d = (points - TMG points) / step, both rounded to two decimals
    first: above when d >= 1, on when 0 <= d < 1, below when -1 < d < 0,
    well below when d <= -1. No grade is NO_GRADE and takes precedence over
    no TMG, which is NO_TMG.
    """
    if points is None:
        return Status.NO_GRADE
    if tmg_points is None:
        return Status.NO_TMG
    difference = (round_points(points) - round_points(tmg_points)) / Decimal(step)
    if difference >= 1:
        return Status.ABOVE
    if difference >= 0:
        return Status.ON
    if difference > -1:
        return Status.BELOW
    return Status.WELL_BELOW


def _points_on(grade: Grade, scale: GradeScale) -> Decimal | None:
    """Return the points of `grade` on `scale`: its own points, or an explicit equivalent."""
    if grade.scale_id == scale.pk:
        return grade.points
    for equivalent in grade.equivalents.all():
        if equivalent.scale_id == scale.pk:
            return equivalent.points
    return None


def status_of(
    *, graded: bool, points: Decimal | None, tmg: Decimal | Status | None, step: Decimal
) -> Status:
    """Return the status of a grade against a TMG from plain values, the rule of entry_status.

    `graded` is false for no entry or a non-result. `points` are the grade's
    points on the TMG's scale, None when it cannot be placed there. `tmg` is
    None without a TMG, else its points on that scale or, when it has none
    there, the status it gives: NO_TMG for a non-result or an empty value,
    NOT_COMPARABLE for a grade without an equivalent on that scale.
    """
    if not graded:
        return Status.NO_GRADE
    if points is None:
        # A result that cannot be placed on the TMG's scale.
        return Status.NOT_COMPARABLE if tmg is not None else Status.NO_TMG
    if tmg is None:
        return Status.NO_TMG
    if isinstance(tmg, Status):
        return tmg
    return status_between(points, tmg, step)


def entry_status(entry: GradeEntry | None, tmg: TargetGrade | None, scale: GradeScale) -> Status:
    """Return the status of a grade entry against a TMG, both read on `scale`.

    A grade of another scale is compared only through a GradeEquivalent row
    onto `scale`, never by its label; without one the result is
    NOT_COMPARABLE. Prefetch "grade__equivalents" to read many entries
    without a query each.
    """
    if entry is None:
        return Status.NO_GRADE
    if entry.grade_id is not None:
        grade = entry.grade
        if grade is None or not grade.is_result:
            return Status.NO_GRADE
        points = _points_on(grade, scale)
    elif scale.numeric:
        points = entry.value
    else:
        points = None

    target: Decimal | Status | None
    if tmg is None or points is None:
        # Only whether there is a TMG matters here, so its grade is left unread.
        target = None if tmg is None else Status.NOT_COMPARABLE
    elif tmg.grade_id is not None:
        tmg_grade = tmg.grade
        if tmg_grade is None or not tmg_grade.is_result:
            target = Status.NO_TMG
        else:
            tmg_points = _points_on(tmg_grade, scale)
            target = Status.NOT_COMPARABLE if tmg_points is None else tmg_points
    elif scale.numeric:
        target = Status.NO_TMG if tmg.value is None else tmg.value
    else:
        target = Status.NOT_COMPARABLE
    return status_of(graded=True, points=points, tmg=target, step=scale.step)


class GradeFacts(NamedTuple):
    """A grade as plain values, for reading many entries without model instances."""

    scale_id: int
    points: Decimal | None
    is_result: bool
    # Points of its GradeEquivalent rows, by scale id.
    equivalents: Mapping[int, Decimal]

    def points_on(self, scale_id: int) -> Decimal | None:
        """Return the points on `scale_id`, as _points_on does for a Grade."""
        if self.scale_id == scale_id:
            return self.points
        return self.equivalents.get(scale_id)


def plain_status(
    entry: tuple[int | None, Decimal | None] | None,
    tmg: tuple[int | None, Decimal | None] | None,
    grades: Mapping[int, GradeFacts],
    scale: tuple[int, bool, Decimal],
) -> Status:
    """Return what entry_status returns, from plain values.

    `entry` and `tmg` are (grade id, value) pairs or None, `grades` contains
    their grades by id and `scale` is (id, numeric, step). Both functions
    place the grades on the scale the same way and share status_of.
    """
    if entry is None:
        return Status.NO_GRADE
    scale_id, numeric, step = scale
    grade_id, value = entry
    points: Decimal | None
    if grade_id is not None:
        grade = grades.get(grade_id)
        if grade is None or not grade.is_result:
            return Status.NO_GRADE
        points = grade.points_on(scale_id)
    elif numeric:
        points = value
    else:
        points = None

    target: Decimal | Status | None
    if tmg is None or points is None:
        target = None if tmg is None else Status.NOT_COMPARABLE
    elif tmg[0] is not None:
        tmg_grade = grades.get(tmg[0])
        if tmg_grade is None or not tmg_grade.is_result:
            target = Status.NO_TMG
        else:
            tmg_points = tmg_grade.points_on(scale_id)
            target = Status.NOT_COMPARABLE if tmg_points is None else tmg_points
    elif numeric:
        target = Status.NO_TMG if tmg[1] is None else tmg[1]
    else:
        target = Status.NOT_COMPARABLE
    return status_of(graded=True, points=points, tmg=target, step=step)


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """Return how many of `statuses` there are of each Status, every status included."""
    counts: dict[str, Any] = {status.value: 0 for status in Status}
    for status in statuses:
        counts[status] += 1
    return counts
