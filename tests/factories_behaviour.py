"""factory-boy factories for behaviour categories."""

import factory

from behaviour.models import BehaviourCategory, Polarity

from .factories import TrustFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    """A trust category: negative with -1 to -3 points unless the test sets other values."""

    class Meta:
        model = BehaviourCategory

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    polarity = Polarity.NEGATIVE
    severity = 2
    default_points = -1
    min_points = -3
    max_points = 0


class PositiveCategoryFactory(CategoryFactory):
    polarity = Polarity.POSITIVE
    severity = None
    default_points = 1
    min_points = 0
    max_points = 3
