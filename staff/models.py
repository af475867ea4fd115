"""Staff members, their posts and line management, and the role assignments
that decide what each user may see."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from academies.models import Academy, TutorGroup, YearGroup


class PostType(models.TextChoices):
    TEACHER = "teacher", "Teacher"
    TEACHING_ASSISTANT = "teaching_assistant", "Teaching assistant"
    SUPPORT = "support", "Support staff"
    PASTORAL = "pastoral", "Pastoral"
    LEADERSHIP = "leadership", "Leadership"


class StaffMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_member",
    )
    # Null for the trust's central team.
    academy = models.ForeignKey(
        Academy, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    title = models.CharField(max_length=10, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    job_title = models.CharField(max_length=120)
    post_type = models.CharField(max_length=20, choices=PostType.choices)
    line_manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    # Full-time equivalent: 1.00 full time, 0.60 for three days a week.
    fte = models.DecimalField(
        "FTE",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1.00"))],
    )
    started_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def formal_name(self) -> str:
        return f"{self.title} {self.last_name}" if self.title else self.full_name

    @property
    def workplace(self) -> str:
        return self.academy.name if self.academy_id and self.academy else "Central team"

    def clean(self) -> None:
        if self.line_manager_id and self.line_manager_id == self.pk:
            raise ValidationError({"line_manager": "A staff member cannot line-manage themselves."})


class Role(models.TextChoices):
    TRUST_LEADER = "trust_leader", "Trust leader"
    TRUST_ADMIN = "trust_admin", "Trust administrator"
    TRUST_HR = "trust_hr", "Trust HR"
    TRUSTEE = "trustee", "Trustee"
    HEADTEACHER = "headteacher", "Headteacher"
    ACADEMY_LEADER = "academy_leader", "Academy leader"
    ATTENDANCE_OFFICER = "attendance_officer", "Attendance officer"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Safeguarding lead"
    HEAD_OF_YEAR = "head_of_year", "Head of year"
    TUTOR = "tutor", "Tutor"
    TEACHER = "teacher", "Teacher"


class ScopeKind(models.TextChoices):
    TRUST = "trust", "Trust"
    ACADEMY = "academy", "Academy"
    YEAR_GROUP = "year_group", "Year group"
    TUTOR_GROUP = "tutor_group", "Tutor group"


# The scopes each role may be granted at; the first is the usual one.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.TRUST_LEADER: (ScopeKind.TRUST,),
    Role.TRUST_ADMIN: (ScopeKind.TRUST,),
    Role.TRUST_HR: (ScopeKind.TRUST,),
    Role.TRUSTEE: (ScopeKind.TRUST,),
    Role.HEADTEACHER: (ScopeKind.ACADEMY,),
    Role.ACADEMY_LEADER: (ScopeKind.ACADEMY,),
    Role.ATTENDANCE_OFFICER: (ScopeKind.ACADEMY,),
    Role.SAFEGUARDING_LEAD: (ScopeKind.ACADEMY, ScopeKind.TRUST),
    Role.HEAD_OF_YEAR: (ScopeKind.YEAR_GROUP,),
    Role.TUTOR: (ScopeKind.TUTOR_GROUP,),
    Role.TEACHER: (ScopeKind.ACADEMY,),
}


class RoleAssignment(models.Model):
    """A role held by a staff member over one scope. Exactly the field for the
    scope is set: none for the trust, then academy, year group or tutor group."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    scope = models.CharField(max_length=12, choices=ScopeKind.choices)
    academy = models.ForeignKey(
        Academy, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year_group = models.ForeignKey(
        YearGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    tutor_group = models.ForeignKey(
        TutorGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # An acting headteacher may take the headteacher's decisions (suspensions).
    acting = models.BooleanField(default=False)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["staff", "role"]
        constraints = [
            models.CheckConstraint(
                name="role_scope_fields_match",
                condition=(
                    Q(
                        scope="trust",
                        academy__isnull=True,
                        year_group__isnull=True,
                        tutor_group__isnull=True,
                    )
                    | Q(
                        scope="academy",
                        academy__isnull=False,
                        year_group__isnull=True,
                        tutor_group__isnull=True,
                    )
                    | Q(scope="year_group", year_group__isnull=False, tutor_group__isnull=True)
                    | Q(scope="tutor_group", tutor_group__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        if self.scope == ScopeKind.TRUST:
            return "whole trust"
        if self.scope == ScopeKind.ACADEMY and self.academy:
            return self.academy.name
        if self.scope == ScopeKind.YEAR_GROUP and self.year_group:
            return str(self.year_group)
        if self.tutor_group:
            return f"{self.tutor_group.name}, {self.tutor_group.academy.name}"
        return self.get_scope_display()

    def clean(self) -> None:
        allowed = ROLE_SCOPES.get(self.role, ())
        if self.scope not in allowed:
            names = ", ".join(ScopeKind(s).label.lower() for s in allowed)
            raise ValidationError(
                {
                    "scope": f"Role {self.get_role_display()} cannot have scope {self.scope!r}; "
                    f"allowed: {names}."
                }
            )

    def save(self, *args, **kwargs) -> None:
        # Year and tutor group scopes carry their academy, so academy filters
        # on role assignments need no join.
        if self.year_group_id and not self.academy_id:
            self.academy_id = YearGroup.objects.values_list("academy_id", flat=True).get(
                pk=self.year_group_id
            )
        if self.tutor_group_id and not self.academy_id:
            self.academy_id = TutorGroup.objects.values_list("academy_id", flat=True).get(
                pk=self.tutor_group_id
            )
        super().save(*args, **kwargs)
