"""factory-boy factories for the progress app: scales, subjects,
qualifications, classes, assessment points, grades and TMGs.

Qualifications are graded on the trust's default GCSE 9 to 1 scale unless
a test passes another, so grades typed in tests use the seeded labels.
"""

import datetime
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from academies.models import Trust
from progress.models import (
    AssessmentPoint,
    ClassMembership,
    Grade,
    GradeEntry,
    GradeScale,
    Qualification,
    Subject,
    TargetGrade,
    TeachingGroup,
)

from .factories import AcademicYearFactory, AcademyFactory, TrustFactory, YearGroupFactory


def default_scale(trust: Trust, code: str = "gcse") -> GradeScale:
    """Return one of the trust's default scales, creating them on first use."""
    from progress.grades import default_scales_ensure

    return default_scales_ensure(trust)[code]


def grade_of(scale: GradeScale, label: str) -> Grade:
    return Grade.objects.get(scale=scale, label=label)


class GradeScaleFactory(factory.django.DjangoModelFactory):
    """A listed scale with no grades, which tests add with GradeFactory."""

    class Meta:
        model = GradeScale

    trust = factory.SubFactory(TrustFactory)
    code = factory.Sequence(lambda n: f"scale-{n}")
    name = factory.Sequence(lambda n: f"Scale {n}")
    kind = GradeScale.Kind.VOCATIONAL
    step = Decimal("1")


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade

    scale = factory.SubFactory(GradeScaleFactory)
    label = factory.Sequence(lambda n: f"G{n}")
    points = Decimal("1")
    position = factory.Sequence(lambda n: n)


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject
        django_get_or_create = ("trust", "code")

    trust = factory.SubFactory(TrustFactory)
    name = "Mathematics"
    code = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-")[:20])


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification
        django_get_or_create = ("subject", "name")

    subject = factory.SubFactory(SubjectFactory)
    name = factory.LazyAttribute(lambda o: f"GCSE {o.subject.name}")
    scale = factory.LazyAttribute(lambda o: default_scale(o.subject.trust))
    element = Qualification.Element.NONE


class TeachingGroupFactory(factory.django.DjangoModelFactory):
    """A class in the academy's current academic year (2026/27 by default)."""

    class Meta:
        model = TeachingGroup
        skip_postgeneration_save = True

    academy = factory.SubFactory(AcademyFactory)
    academic_year = factory.SubFactory(
        AcademicYearFactory, trust=factory.SelfAttribute("..academy.trust")
    )
    year_group = factory.SubFactory(YearGroupFactory, academy=factory.SelfAttribute("..academy"))
    qualification = factory.SubFactory(
        QualificationFactory, subject__trust=factory.SelfAttribute("...academy.trust")
    )
    name = factory.Sequence(lambda n: f"9Ma{n}")

    @factory.post_generation
    def teachers(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.teachers.add(*extracted)  # type: ignore[attr-defined]


class ClassMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassMembership

    group = factory.SubFactory(TeachingGroupFactory)
    pupil = factory.SubFactory("tests.factories.PupilFactory")
    start_date = factory.LazyAttribute(lambda o: o.group.academic_year.start_date)
    end_date = None


class AssessmentPointFactory(factory.django.DjangoModelFactory):
    """A data drop for the year group of `group`, or of the fields given."""

    class Meta:
        model = AssessmentPoint

    class Params:
        group = None

    academy = factory.LazyAttribute(lambda o: o.group.academy if o.group else AcademyFactory())
    academic_year = factory.LazyAttribute(
        lambda o: (
            o.group.academic_year
            if o.group
            else AcademicYearFactory(trust=o.academy.trust, start_year=2026)
        )
    )
    year_group = factory.LazyAttribute(
        lambda o: o.group.year_group if o.group else YearGroupFactory(academy=o.academy)
    )
    name = factory.Sequence(lambda n: f"Data drop {n}")
    date = datetime.date(2026, 11, 20)
    kind = AssessmentPoint.Kind.WORKING_AT


class GradeEntryFactory(factory.django.DjangoModelFactory):
    """A grade entry copying the assessment point's academy, academic year and year group."""

    class Meta:
        model = GradeEntry

    pupil = factory.SubFactory("tests.factories.PupilFactory")
    assessment_point = factory.SubFactory(AssessmentPointFactory)
    qualification = factory.SubFactory(QualificationFactory)
    grade = None
    value = None
    academy = factory.SelfAttribute("assessment_point.academy")
    academic_year = factory.SelfAttribute("assessment_point.academic_year")
    year_group = factory.SelfAttribute("assessment_point.year_group")
    entered_at = factory.LazyFunction(timezone.now)


class TargetGradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetGrade

    pupil = factory.SubFactory("tests.factories.PupilFactory")
    qualification = factory.SubFactory(QualificationFactory)
    academic_year = factory.SubFactory(AcademicYearFactory)
    grade = None
    value = None
    basis = TargetGrade.Basis.MANUAL
    reason = "Set in a test"
    set_at = factory.LazyFunction(timezone.now)
