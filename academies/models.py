"""The trust, its academies, the academic calendar and the groups pupils belong to."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q


class Trust(models.Model):
    name = models.CharField(max_length=200)
    companies_house_number = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return self.name


class Phase(models.TextChoices):
    NURSERY = "nursery", "Nursery"
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    SPECIAL = "special", "Special"
    ALTERNATIVE_PROVISION = "alternative_provision", "Alternative provision"


urn_validator = RegexValidator(r"^\d{6}$", "A URN is 6 digits, for example 137092.")
dfe_number_validator = RegexValidator(
    r"^\d{3}/\d{4}$",
    "A DfE number is the 3-digit LA code and the 4-digit establishment number, e.g. 317/4032.",
)


class Academy(models.Model):
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="academies")
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    urn = models.CharField("URN", max_length=6, unique=True, validators=[urn_validator])
    dfe_number = models.CharField(
        "DfE number", max_length=8, unique=True, validators=[dfe_number_validator]
    )
    phase = models.CharField(max_length=24, choices=Phase.choices)
    age_range_low = models.PositiveSmallIntegerField()
    age_range_high = models.PositiveSmallIntegerField()
    joined_trust_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "academies"
        constraints = [
            models.CheckConstraint(
                condition=Q(age_range_low__lte=models.F("age_range_high")),
                name="academy_age_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def la_code(self) -> str:
        return self.dfe_number.split("/")[0]

    @property
    def establishment_number(self) -> str:
        return self.dfe_number.split("/")[1]

    @property
    def age_range(self) -> str:
        return f"{self.age_range_low}–{self.age_range_high}"

    def is_open_on(self, day: datetime.date) -> bool:
        return self.closed_on is None or day < self.closed_on


class OfstedGrade(models.IntegerChoices):
    OUTSTANDING = 1, "Outstanding"
    GOOD = 2, "Good"
    REQUIRES_IMPROVEMENT = 3, "Requires improvement"
    INADEQUATE = 4, "Inadequate"


class OfstedInspection(models.Model):
    """One inspection. Before November 2025 Ofsted gave an overall grade; from
    then on a report card with an evaluation per area, kept as text here."""

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField()
    overall_grade = models.PositiveSmallIntegerField(
        choices=OfstedGrade.choices, null=True, blank=True
    )
    special_measures = models.BooleanField(default=False)
    report_card = models.JSONField(
        default=dict,
        blank=True,
        help_text="Report card evaluations by area, for inspections from November 2025.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["academy", "-inspected_on"]

    def __str__(self) -> str:
        return f"{self.academy} {self.inspected_on:%d/%m/%Y}"

    @property
    def report_card_rows(self) -> list[tuple[str, str]]:
        """Return the report card as (area, evaluation) pairs, safeguarding first."""
        card = self.report_card or {}
        rows = []
        if "safeguarding" in card:
            rows.append(("Safeguarding", str(card["safeguarding"])))
        evaluations = card.get("evaluations", {})
        if isinstance(evaluations, dict):
            rows += [(str(area), str(value)) for area, value in evaluations.items()]
        return rows

    @property
    def outcome(self) -> str:
        if self.overall_grade:
            label = OfstedGrade(self.overall_grade).label
            return f"{label} (special measures)" if self.special_measures else label
        if self.report_card:
            return "Report card"
        return "Not graded"


class AcademicYear(models.Model):
    """An English academic year, 1 September to 31 August."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="academic_years")
    start_year = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_year"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "start_year"], name="academic_year_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    def contains(self, day: datetime.date) -> bool:
        return self.start_date <= day <= self.end_date

    def clean(self) -> None:
        if self.start_date != datetime.date(self.start_year, 9, 1) or self.end_date != (
            datetime.date(self.start_year + 1, 8, 31)
        ):
            raise ValidationError(
                f"Academic year {self.start_year} must run from 01/09/{self.start_year} "
                f"to 31/08/{self.start_year + 1}."
            )


class Term(models.Model):
    """A term or a half term. Half terms point at their term through `parent`."""

    class Season(models.TextChoices):
        AUTUMN = "autumn", "Autumn"
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"

    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="terms")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="half_terms"
    )
    season = models.CharField(max_length=6, choices=Season.choices)
    half = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 or 2 for a half term"
    )
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date", "half"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=models.F("end_date")), name="term_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        label = self.Season(self.season).label
        return f"{label} {self.half}" if self.half else f"{label} term"


class Closure(models.Model):
    """A day (or one session of it) within term on which an academy is closed."""

    class Kind(models.TextChoices):
        INSET = "inset", "INSET day"
        PLANNED = "planned", "Other planned closure"
        UNEXPECTED = "unexpected", "Unexpected whole-site closure"

    class Sessions(models.TextChoices):
        BOTH = "both", "Whole day"
        AM = "am", "Morning only"
        PM = "pm", "Afternoon only"

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    sessions = models.CharField(max_length=4, choices=Sessions.choices, default=Sessions.BOTH)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["academy", "date"]
        constraints = [
            models.UniqueConstraint(fields=["academy", "date"], name="closure_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.academy} {self.date:%d/%m/%Y} {self.get_kind_display()}"


class KeyStage(models.TextChoices):
    EYFS = "EYFS", "Early years foundation stage"
    KS1 = "KS1", "Key stage 1"
    KS2 = "KS2", "Key stage 2"
    KS3 = "KS3", "Key stage 3"
    KS4 = "KS4", "Key stage 4"
    KS5 = "KS5", "16 to 19"


# National curriculum year: Nursery is -1 and Reception 0, so the number is
# the pupil's age on 31 August minus 4 for every year group.
NURSERY = -1
RECEPTION = 0


def year_group_name(nc_year: int) -> str:
    if nc_year == NURSERY:
        return "Nursery"
    if nc_year == RECEPTION:
        return "Reception"
    return f"Year {nc_year}"


def key_stage_for(nc_year: int) -> str:
    if nc_year <= RECEPTION:
        return KeyStage.EYFS
    if nc_year <= 2:
        return KeyStage.KS1
    if nc_year <= 6:
        return KeyStage.KS2
    if nc_year <= 9:
        return KeyStage.KS3
    if nc_year <= 11:
        return KeyStage.KS4
    return KeyStage.KS5


_YEAR_NAME = re.compile(r"^\s*(?:year|yr|y)?\s*(\d{1,2})\s*$", re.IGNORECASE)


def parse_nc_year(text: str) -> int | None:
    """Read a year group as an MIS export writes it: "N", "R", "Reception", "Year 9", "Y9", "9"."""
    cleaned = text.strip().lower()
    if cleaned in {"n", "n1", "n2", "nursery"}:
        return NURSERY
    if cleaned in {"r", "rec", "reception"}:
        return RECEPTION
    match = _YEAR_NAME.match(cleaned)
    if match and 1 <= int(match.group(1)) <= 13:
        return int(match.group(1))
    return None


class YearGroup(models.Model):
    """A year group of one academy. It persists across academic years; pupils
    move through it by enrolment."""

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="year_groups")
    nc_year = models.SmallIntegerField(help_text="Nursery -1, Reception 0, then 1 to 13")
    key_stage = models.CharField(max_length=4, choices=KeyStage.choices)

    class Meta:
        ordering = ["academy", "nc_year"]
        constraints = [
            models.UniqueConstraint(fields=["academy", "nc_year"], name="year_group_unique"),
            models.CheckConstraint(
                condition=Q(nc_year__gte=NURSERY, nc_year__lte=13), name="year_group_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.academy.name}"

    @property
    def name(self) -> str:
        return year_group_name(self.nc_year)

    def save(self, *args, **kwargs) -> None:
        self.key_stage = key_stage_for(self.nc_year)
        super().save(*args, **kwargs)


class TutorGroup(models.Model):
    """A registration group for one academic year, with its tutor."""

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="tutor_groups")
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="tutor_groups"
    )
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="tutor_groups")
    name = models.CharField(max_length=20)
    tutor = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tutor_groups",
    )
    room = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["academy", "academic_year", "year_group__nc_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["academy", "academic_year", "name"], name="tutor_group_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.academic_year})"


class Department(models.Model):
    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=100)
    head = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="departments_led",
    )

    class Meta:
        ordering = ["academy", "name"]
        constraints = [
            models.UniqueConstraint(fields=["academy", "name"], name="department_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.academy.name}"
