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
    """Create the Teachers' Standards set and any of its missing standards, and
    return the set.

    Takes the model classes so the data migration can pass its historical
    ones. Rows are inserted with bulk_create: this is reference data, put
    back after a flush, not a change anyone made, so it writes no audit
    record.
    """
    standard_set = standard_set_model.objects.filter(name=TEACHERS_STANDARDS).first()
    if standard_set is None:
        standard_set = standard_set_model(
            name=TEACHERS_STANDARDS,
            description="Part One (teaching) and Part Two (personal and professional "
            "conduct). Part Two is not graded.",
            post_types=["teacher", "leadership"],
        )
        standard_set_model.objects.bulk_create([standard_set])
    present = set(
        standard_model.objects.filter(standard_set=standard_set).values_list("code", flat=True)
    )
    standard_model.objects.bulk_create(
        standard_model(
            standard_set=standard_set,
            code=code,
            title=title,
            position=position,
            graded=code != "Part Two",
        )
        for position, (code, title) in enumerate(TEACHERS_STANDARDS_ROWS, start=1)
        if code not in present
    )
    return standard_set
