"""The Teachers' Standards (DfE, in force since September 2012), seeded as
the first standard set. Part One has eight graded standards; Part Two,
personal and professional conduct, is not graded."""

from typing import Any

TEACHERS_STANDARDS = "Teachers' Standards (2012)"

TEACHERS_STANDARDS_ROWS: list[tuple[str, str]] = [
    ("TS1", "Set high expectations which inspire, motivate and challenge pupils"),
    ("TS2", "Promote good progress and outcomes by pupils"),
    ("TS3", "Demonstrate good subject and curriculum knowledge"),
    ("TS4", "Plan and teach well structured lessons"),
    ("TS5", "Adapt teaching to respond to the strengths and needs of all pupils"),
    ("TS6", "Make accurate and productive use of assessment"),
    ("TS7", "Manage behaviour effectively to ensure a good and safe learning environment"),
    ("TS8", "Fulfil wider professional responsibilities"),
    ("Part Two", "Personal and professional conduct"),
]


def teachers_standards_ensure(standard_set_model: Any, standard_model: Any) -> Any:
    """Create the Teachers' Standards set if it is missing and return it.

    Takes the model classes so the data migration can pass its historical ones.
    """
    standard_set, _ = standard_set_model.objects.get_or_create(
        name=TEACHERS_STANDARDS,
        defaults={
            "description": "Part One (teaching) and Part Two (personal and professional "
            "conduct). Part Two is not graded.",
            "post_types": ["teacher", "leadership"],
        },
    )
    for position, (code, title) in enumerate(TEACHERS_STANDARDS_ROWS, start=1):
        standard_model.objects.get_or_create(
            standard_set=standard_set,
            code=code,
            defaults={"title": title, "position": position, "graded": code != "Part Two"},
        )
    return standard_set
