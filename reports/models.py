"""Read-side records of the dashboards and reports: trust targets, England's
published figures to compare with, and report runs with their files.

No model here contains pupil data of its own. Dashboards read the domain apps;
a report run stores only its parameters and the PDF it produced.
"""

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q

from academies.models import AcademicYear, Academy


class Measure(models.TextChoices):
    """The figures of the dashboards that a target can be set for."""

    ATTENDANCE = "attendance", "Attendance rate"
    PERSISTENT_ABSENCE = "persistent_absence", "Persistent absence rate"
    SEVERE_ABSENCE = "severe_absence", "Severe absence rate"
    NEGATIVE_PER_100 = "negative_per_100", "Negative incidents per 100 pupils"
    SUSPENSION_RATE = "suspension_rate", "Suspensions per 100 pupils"
    TMG_ENGLISH = "tmg_english", "On or above TMG in English"
    TMG_MATHS = "tmg_maths", "On or above TMG in mathematics"
    TMG_ALL = "tmg_all", "On or above TMG in all subjects"
    STAFF_ABSENCE = "staff_absence", "Staff absence rate"
    APPRAISAL_COMPLETION = "appraisal_completion", "Appraisal objectives agreed"


# Measures where a lower figure is better, so "meets target" means at or below it.
LOWER_IS_BETTER = frozenset(
    {
        Measure.PERSISTENT_ABSENCE,
        Measure.SEVERE_ABSENCE,
        Measure.NEGATIVE_PER_100,
        Measure.SUSPENSION_RATE,
        Measure.STAFF_ABSENCE,
    }
)


class Target(models.Model):
    """A trust leader's target for one measure in one academic year: trust-wide
    when `academy` is empty, otherwise that academy's override."""

    measure = models.CharField(max_length=30, choices=Measure.choices)
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.CASCADE, related_name="report_targets"
    )
    academy = models.ForeignKey(
        Academy, on_delete=models.CASCADE, null=True, blank=True, related_name="report_targets"
    )
    value = models.DecimalField(max_digits=6, decimal_places=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["academic_year", "measure", "academy__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "academic_year"],
                condition=Q(academy__isnull=True),
                name="report_target_trust_unique",
            ),
            models.UniqueConstraint(
                fields=["measure", "academic_year", "academy"],
                condition=Q(academy__isnull=False),
                name="report_target_academy_unique",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0) & Q(value__lte=1000), name="report_target_value_range"
            ),
        ]

    def __str__(self) -> str:
        where = self.academy.name if self.academy_id and self.academy else "trust"
        return f"{self.get_measure_display()} {self.value} ({where})"


class NationalPhase(models.TextChoices):
    """Phases the DfE publishes attendance for. Nursery and alternative
    provision have no row, so academies of those phases show no comparison."""

    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    SPECIAL = "special", "Special"
    TOTAL = "total", "All state-funded schools"


class NationalFigure(models.Model):
    """England's published figures for one academic year and phase.

    The rows are seeded from the DfE's attendance file, which covers pupils
    of compulsory school age (5 to 15 on 31 August). An administrator adds or
    corrects rows as the DfE publishes them.
    """

    start_year = models.PositiveSmallIntegerField(
        help_text="The year the academic year starts in: 2025 for 2025/26."
    )
    phase = models.CharField(max_length=20, choices=NationalPhase.choices)
    period = models.CharField(
        max_length=80, default="Academic year to date", help_text="What the figures cover."
    )
    attendance_rate = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    persistent_absence_rate = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    severe_absence_rate = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    suspension_rate = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Suspensions per 100."
    )
    source = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_year", "phase"]
        constraints = [
            models.UniqueConstraint(fields=["start_year", "phase"], name="national_figure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year_label} {self.get_phase_display()}"

    @property
    def year_label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"


def report_storage() -> Storage:
    return storages["reports"]


class ReportRun(models.Model):
    """One request for a PDF report, queued for a Celery worker.

    The worker moves it from queued to running to done (with the file) or
    failed (with the error). `params` contains what the kind needs: an academy
    id, a year group id, the "as of" date. A scheduled run has no requester.
    """

    class Kind(models.TextChoices):
        INTERVENTION = "intervention", "Intervention report"
        GOVERNANCE = "governance", "Governance report"
        PARENT_LETTERS = "parent_letters", "Parents' letters"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    # Denormalised from params so scoping and the list of past runs filter in SQL.
    academy = models.ForeignKey(
        Academy, on_delete=models.SET_NULL, null=True, blank=True, related_name="report_runs"
    )
    year_group_id = models.PositiveIntegerField(null=True, blank=True)
    as_of = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_runs",
    )
    scheduled = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True)
    file = models.FileField(storage=report_storage, upload_to="runs/", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"]),
            models.Index(fields=["kind", "academy", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="report_run_progress_percent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
