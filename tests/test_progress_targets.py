"""TMGs: estimate table import, generation from KS2 prior attainment
(the 2024 worked example, uplift, cap and floor), TMGs set by hand with
their history and the leader rule, and the TMG pages."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from progress.grades import default_subjects_ensure
from progress.models import (
    ClassMembership,
    EstimateRow,
    EstimateTable,
    ProgressSettings,
    TargetGrade,
    TeachingGroup,
)
from progress.targets import (
    TmgConflict,
    current_tmgs,
    estimate_plan,
    estimate_table_import,
    prior_attainment_group,
    tmg_baseline,
    tmg_generate,
    tmg_generate_plan,
    tmg_history,
    tmg_set,
    tmg_whole_grade,
)
from pupils.models import Enrolment
from trust.clock import LONDON
from trust.models import AuditEvent

from .factories import AcademicYearFactory, PupilFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

ESTIMATES_2024 = Path(__file__).resolve().parent.parent / "progress" / "data"
ESTIMATES_FILE = ESTIMATES_2024 / "attainment8-estimates-2024.csv"
HEADER = (
    "prior_attainment_group,ks2_average_scaled_score_from,ks2_average_scaled_score_to,"
    "attainment8_estimate,english_element,maths_element,ebacc_element,open_element\n"
)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    trust = world.academies["oak"].trust
    world.qualifications = default_subjects_ensure(trust)  # type: ignore[attr-defined]
    for key, (reading, maths) in {
        "oak9a_obrien": (104, 106),
        "oak9a_smithjones": (120, 120),
        "oak9b_patel": (None, 99),
        "oak10a_taylor": (82, 83),
    }.items():
        pupil = world.pupils[key]
        pupil.ks2_reading, pupil.ks2_maths = reading, maths
        pupil.save()
    return world


@pytest.fixture
def table(world):
    return estimate_table_import(
        actor=world.users["trust_leader"],
        trust=world.academies["oak"].trust,
        name="DfE 2024 estimates",
        year=2024,
        source="DfE KS4 ready reckoner, provisional 2024",
        rows_file=ESTIMATES_FILE.read_bytes(),
    )


def quals(world, *keys):
    return [world.qualifications[key] for key in keys]


def generate(world, table, *keys, persona="headteacher", year_group="oak9"):
    return tmg_generate(
        actor=world.users[persona],
        year_group=world.year_groups[year_group],
        academic_year=world.academic_year,
        table=table,
        qualifications=quals(world, *keys),
    )


def tmg_label(world, pupil_key, qualification_key):
    target = TargetGrade.objects.get(
        pupil=world.pupils[pupil_key],
        qualification=world.qualifications[qualification_key],
        academic_year=world.academic_year,
    )
    return target.grade.label


def set_uplift(world, uplift):
    ProgressSettings.objects.update_or_create(
        academy=world.academies["oak"], defaults={"uplift": Decimal(uplift)}
    )


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


# Prior attainment groups and baselines --------------------------------------------------------


def test_estimate_table_2024_rows(table):
    rows = list(table.rows.order_by("group"))

    assert len(rows) == 34
    assert rows[18].group == 19
    assert rows[18].english == Decimal("9.85")
    assert rows[18].maths == Decimal("8.97")
    assert rows[18].ebacc == Decimal("12.95")


@pytest.mark.parametrize(
    ("reading", "maths", "group"),
    [
        (104, 106, 19),
        (105, 105, 19),
        (104, 105, 19),
        (104, 104, 18),
        (82, 82, 1),
        (82, 83, 2),
        (80, 80, 1),
        (120, 120, 34),
        (119, 120, 34),
        (119, 119, 33),
        (92, 93, 7),
    ],
)
def test_prior_attainment_group(table, reading, maths, group):
    assert prior_attainment_group(table, reading, maths).group == group


def test_prior_attainment_group_needs_both_scores(table):
    assert prior_attainment_group(table, None, 100) is None
    assert prior_attainment_group(table, 100, None) is None


def test_prior_attainment_group_gap_goes_up(world):
    gapped = EstimateTable.objects.create(
        trust=world.academies["oak"].trust, name="Gapped", year=2024, source="Test"
    )
    numbers = {"attainment8": 1, "english": 1, "maths": 1, "ebacc": 1, "open": 1}
    EstimateRow.objects.create(table=gapped, group=1, ks2_from=80, ks2_to=90, **numbers)
    EstimateRow.objects.create(table=gapped, group=2, ks2_from=95, ks2_to=100, **numbers)

    assert prior_attainment_group(gapped, 92, 93).group == 2
    assert prior_attainment_group(gapped, 110, 110).group == 2


def test_baselines_worked_example(table):
    row = prior_attainment_group(table, 104, 106)

    assert tmg_baseline(row, "english_language") == Decimal("4.925")
    assert tmg_baseline(row, "english_literature") == Decimal("4.925")
    assert tmg_baseline(row, "maths") == Decimal("4.485")
    assert round(tmg_baseline(row, "ebacc_humanities"), 2) == Decimal("4.32")
    assert round(tmg_baseline(row, "open"), 2) == Decimal("4.45")
    assert round(tmg_baseline(row, "none"), 2) == Decimal("4.45")


@pytest.mark.parametrize(
    ("baseline", "uplift", "grade"),
    [
        ("4.925", "0", 5),
        ("4.925", "1", 6),
        ("4.485", "0", 5),
        ("4.3166", "0", 5),
        ("5.00", "0", 5),
        ("5.001", "0", 5),
        ("5.006", "0", 6),
        ("8.07", "2", 9),
        ("0", "0", 1),
        ("0.2", "0", 1),
        ("4.5", "0.5", 5),
    ],
)
def test_tmg_whole_grade(baseline, uplift, grade):
    assert tmg_whole_grade(Decimal(baseline), Decimal(uplift)) == grade


# Generation -----------------------------------------------------------------------------------


def test_generate_worked_example(world, table):
    result = generate(world, table, "gcse_english_language", "gcse_maths", "gcse_history")

    assert tmg_label(world, "oak9a_obrien", "gcse_english_language") == "5"
    assert tmg_label(world, "oak9a_obrien", "gcse_maths") == "5"
    assert tmg_label(world, "oak9a_obrien", "gcse_history") == "5"
    assert len(result.created) == 6
    assert result.saved


def test_generate_records_basis_table_uplift(world, table):
    generate(world, table, "gcse_maths")

    target = TargetGrade.objects.get(
        pupil=world.pupils["oak9a_obrien"], qualification=world.qualifications["gcse_maths"]
    )
    assert target.basis == TargetGrade.Basis.GENERATED
    assert target.estimate_table == table
    assert target.uplift == 0
    assert target.set_by == world.users["headteacher"]
    assert "group 19" in target.reason


def test_generate_with_uplift(world, table):
    set_uplift(world, "1")

    generate(world, table, "gcse_english_language", "gcse_maths", "gcse_history")

    assert tmg_label(world, "oak9a_obrien", "gcse_english_language") == "6"
    assert tmg_label(world, "oak9a_obrien", "gcse_maths") == "6"
    assert tmg_label(world, "oak9a_obrien", "gcse_history") == "6"


def test_generate_caps_at_9(world, table):
    set_uplift(world, "2")

    generate(world, table, "gcse_english_language", "gcse_maths", "gcse_history")

    # KS2 120 and 120: group 34, English 16.14 / 2 + 2 = 10.07.
    assert tmg_label(world, "oak9a_smithjones", "gcse_english_language") == "9"
    assert tmg_label(world, "oak9a_smithjones", "gcse_maths") == "9"


def test_generate_floor_at_1(world):
    low = EstimateTable.objects.create(
        trust=world.academies["oak"].trust, name="Low", year=2024, source="Test"
    )
    numbers = {"attainment8": 0, "english": 0, "maths": 0, "ebacc": 0, "open": 0}
    EstimateRow.objects.create(table=low, group=1, ks2_from=59, ks2_to=120, **numbers)

    generate(world, low, "gcse_maths")

    assert tmg_label(world, "oak9a_obrien", "gcse_maths") == "1"


def test_generate_lists_pupils_without_ks2(world, table):
    result = generate(world, table, "gcse_maths")

    assert [p.pk for p in result.missing_ks2] == [world.pupils["oak9b_patel"].pk]
    assert not TargetGrade.objects.filter(pupil=world.pupils["oak9b_patel"]).exists()
    assert result.pupil_count == 3


def test_generate_keeps_manual_tmg(world, table):
    tmg_set(
        actor=world.users["headteacher"],
        pupil_id=world.pupils["oak9a_obrien"].pk,
        qualification_id=world.qualifications["gcse_maths"].pk,
        academic_year_id=world.academic_year.pk,
        grade_text="7",
        reason="Strong Year 8 results",
    )

    result = generate(world, table, "gcse_maths")

    target = TargetGrade.objects.get(
        pupil=world.pupils["oak9a_obrien"], qualification=world.qualifications["gcse_maths"]
    )
    assert target.grade.label == "7"
    assert target.basis == TargetGrade.Basis.MANUAL
    assert len(result.kept_manual) == 1


def test_generate_again_updates_only_changes(world, table):
    generate(world, table, "gcse_maths")
    again = generate(world, table, "gcse_maths")
    set_uplift(world, "1")
    uplifted = generate(world, table, "gcse_maths")

    assert len(again.unchanged) == 2
    assert not again.created
    assert len(uplifted.updated) == 2
    target = TargetGrade.objects.get(
        pupil=world.pupils["oak9a_obrien"], qualification=world.qualifications["gcse_maths"]
    )
    assert target.version == 2
    assert target.grade.label == "6"
    assert target.uplift == 1


def test_generate_audited_in_bulk(world, table):
    generate(world, table, "gcse_maths")
    set_uplift(world, "1")
    generate(world, table, "gcse_maths")

    events = AuditEvent.objects.filter(model="progress.TargetGrade")
    obrien = world.pupils["oak9a_obrien"].pk
    assert events.filter(action=AuditEvent.Action.CREATE).count() == 2
    assert events.filter(action=AuditEvent.Action.UPDATE).count() == 2
    assert events.filter(pupil_ref=obrien).count() == 2
    assert set(events.values_list("actor", flat=True)) == {world.users["headteacher"].pk}
    assert all("DfE 2024 estimates" in reason for reason in events.values_list("reason", flat=True))


def test_generate_queries_do_not_grow(world, table):
    def count_queries():
        TargetGrade.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            generate(world, table, "gcse_english_language", "gcse_maths")
        return len(queries)

    # The first run reads the user's roles and the scale's grades once.
    count_queries()
    few = count_queries()
    group = world.tutor_groups["9A"]
    for score in range(90, 110, 2):
        pupil = PupilFactory(ks2_reading=score, ks2_maths=score + 1)
        Enrolment.objects.create(
            pupil=pupil,
            academy=group.academy,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=group.academic_year.start_date,
        )
    many = count_queries()

    assert many == few


def test_generate_default_qualifications_are_taught(world, table):
    maths = world.qualifications["gcse_maths"]
    TeachingGroup.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=maths,
        name="9Ma1",
    )

    result = tmg_generate_plan(
        year_group=world.year_groups["oak9"], academic_year=world.academic_year, table=table
    )

    assert result.qualifications == [maths]


def test_generate_rejects_non_gcse(world, table):
    with pytest.raises(ValidationError) as caught:
        generate(world, table, "btec_sport")

    assert "BTEC Tech Award in sport" in caught.value.message_dict["qualifications"][0]


def test_generate_needs_leader_or_head_of_year(world, table):
    with pytest.raises(PermissionDenied):
        generate(world, table, "gcse_maths", persona="teacher")
    with pytest.raises(PermissionDenied):
        generate(world, table, "gcse_maths", persona="head_of_year", year_group="oak10")

    result = generate(world, table, "gcse_maths", persona="head_of_year")
    assert len(result.created) == 2


# TMGs set by hand -----------------------------------------------------------------------------


def set_tmg(world, persona, grade, *, pupil="oak9a_obrien", reason="Reviewed", **extra):
    return tmg_set(
        actor=world.users[persona],
        pupil_id=world.pupils[pupil].pk,
        qualification_id=world.qualifications[extra.pop("qualification", "gcse_maths")].pk,
        academic_year_id=extra.pop("academic_year_id", world.academic_year.pk),
        grade_text=grade,
        reason=reason,
        **extra,
    )


def test_tmg_set_manual_with_reason(world):
    target = set_tmg(world, "head_of_year", " 6 ", reason="Moved up a set")

    assert target.grade.label == "6"
    assert target.basis == TargetGrade.Basis.MANUAL
    assert target.reason == "Moved up a set"
    assert target.version == 1


def test_tmg_set_needs_reason(world):
    with pytest.raises(ValidationError) as caught:
        set_tmg(world, "headteacher", "6", reason="  ")

    assert caught.value.message_dict["reason"] == [
        "Reason is missing; say why this TMG is set by hand."
    ]


def test_tmg_set_rejects_fine_and_unknown_grades(world):
    with pytest.raises(ValidationError) as fine:
        set_tmg(world, "headteacher", "6+")
    with pytest.raises(ValidationError) as unknown:
        set_tmg(world, "headteacher", "B")
    with pytest.raises(ValidationError) as absent:
        set_tmg(world, "headteacher", "Absent")

    assert "fine grade" in fine.value.message_dict["grade"][0]
    assert unknown.value.message_dict["grade"][0].startswith("Grade 'B' is not on GCSE 9 to 1")
    assert "is not a result" in absent.value.message_dict["grade"][0]


def test_tmg_lowering_needs_leader(world):
    set_tmg(world, "head_of_year", "6")

    with pytest.raises(PermissionDenied) as caught:
        set_tmg(world, "head_of_year", "5", seen_version=1)

    assert "from 6 to 5" in str(caught.value)
    target = TargetGrade.objects.get(pupil=world.pupils["oak9a_obrien"])
    assert target.grade.label == "6"


@pytest.mark.parametrize("persona", ["headteacher", "academy_leader", "trust_leader"])
def test_tmg_lowering_by_leader(world, persona):
    set_tmg(world, "head_of_year", "6")

    target = set_tmg(world, persona, "5", reason="Long absence")

    assert target.grade.label == "5"
    assert target.version == 2


def test_tmg_raising_by_head_of_year(world):
    set_tmg(world, "headteacher", "5")

    assert set_tmg(world, "head_of_year", "7").grade.label == "7"


def test_tmg_set_by_class_teacher(world):
    group = TeachingGroup.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=world.qualifications["gcse_maths"],
        name="9Ma1",
    )
    group.teachers.add(world.staff["teacher"])
    ClassMembership.objects.create(
        group=group, pupil=world.pupils["oak9a_obrien"], start_date=datetime.date(2026, 9, 1)
    )

    assert set_tmg(world, "teacher", "6").grade.label == "6"
    with pytest.raises(PermissionDenied):
        set_tmg(world, "teacher", "6", qualification="gcse_history")
    with pytest.raises(PermissionDenied):
        set_tmg(world, "tutor", "6")


def test_tmg_set_pupil_not_enrolled(world):
    next_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2027)

    with pytest.raises(ValidationError) as caught:
        set_tmg(world, "headteacher", "6", academic_year_id=next_year.pk)

    message = caught.value.message_dict["pupil"][0]
    assert message.startswith("Aoife O'Brien (UPN ")
    assert "is not enrolled at an academy in 2027/28" in message


def test_tmg_set_stale_version_conflict(world):
    set_tmg(world, "headteacher", "6", seen_version=0)
    set_tmg(world, "headteacher", "7", seen_version=1)

    with pytest.raises(TmgConflict) as caught:
        set_tmg(world, "headteacher", "8", seen_version=1)
    with pytest.raises(TmgConflict):
        set_tmg(world, "headteacher", "8", seen_version=0, pupil="oak9a_obrien")

    assert caught.value.current.grade.label == "7"


def test_tmg_history_from_audit(world, table):
    generate(world, table, "gcse_maths")
    set_tmg(world, "head_of_year", "7", reason="Top set")
    set_tmg(world, "headteacher", "6", reason="Illness this term")

    history = tmg_history(world.pupils["oak9a_obrien"].pk, world.academic_year.pk)

    assert [(h.before, h.after) for h in history] == [("7", "6"), ("5", "7"), ("", "5")]
    assert history[0].reason == "Illness this term"
    assert history[1].basis == "Set by hand"
    assert history[2].basis == "Generated from KS2 prior attainment"
    assert "DfE 2024 estimates" in history[2].reason
    assert history[0].qualification == "GCSE mathematics"


def test_current_tmgs_keyed_by_pupil_and_qualification(world, table):
    generate(world, table, "gcse_maths", "gcse_history")
    obrien = world.pupils["oak9a_obrien"].pk

    tmgs = current_tmgs([obrien], world.academic_year.pk)

    assert set(tmgs) == {
        (obrien, world.qualifications["gcse_maths"].pk),
        (obrien, world.qualifications["gcse_history"].pk),
    }


# Estimate table import ------------------------------------------------------------------------


def csv_bytes(*lines):
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def import_table(world, content, **fields):
    values = {"name": "Trust table", "year": 2025, "source": "Trust aspirational table"}
    values.update(fields)
    return estimate_table_import(
        actor=world.users[fields.pop("persona", "trust_admin")],
        trust=world.academies["oak"].trust,
        rows_file=content,
        **{k: v for k, v in values.items() if k != "persona"},
    )


def test_estimate_import_lists_every_bad_row(world):
    content = csv_bytes(
        "1,59,82,15.96,3.86,2.39,4.36,5.34",
        "2,82.5,86,16.63,abc,2.5,4.37,5.58",
        "3,87.5,86.5,19.01,4.76,3.07,4.99,6.19",
        "4,88,89,20.78,5.14,3.455,5.49,6.7",
        "x,89.5,90.5,22,5.37,3.75,5.86,7.02",
        "6,91,92,23.7,5.73,4.16,6.33,99",
    )

    with pytest.raises(ValidationError) as caught:
        import_table(world, content)

    assert caught.value.message_dict["rows_file"] == [
        "Line 3, English element 'abc': is not a number; use digits with a full stop, such as 9.85",
        "Line 4, KS2 average to '86.5': is below the KS2 average from (87.5)",
        "Line 5, Maths element '3.455': must be a number with at most two decimal places",
        "Line 6, Prior attainment group 'x': must be a whole number from 1 to 99",
        "Line 7, Open element '99': must be from 0 to 27",
    ]
    assert not EstimateTable.objects.exists()
    assert not EstimateRow.objects.exists()


def test_estimate_import_duplicate_and_overlap(world):
    content = csv_bytes(
        "1,59,82,15.96,3.86,2.39,4.36,5.34",
        "2,82,86,16.63,4.18,2.5,4.37,5.58",
        "2,86.5,87.5,19.01,4.76,3.07,4.99,6.19",
    )

    plan = estimate_plan(content, "table.csv")

    assert [str(e) for e in plan.errors] == [
        "Line 3, KS2 average from '82': overlaps group 1 (59 to 82); each group's range "
        "must start above the previous group's",
        "Line 4, Prior attainment group '2': appears again; line 3 has the same group",
    ]
    assert not plan.is_valid


def test_estimate_import_fields_required(world):
    with pytest.raises(ValidationError) as caught:
        content = csv_bytes("1,59,82,15.96,3.86,2.39,4.36,5.34")
        import_table(world, content, name=" ", year=1999, source="")

    errors = caught.value.message_dict
    assert errors["name"] == ["Name is missing; enter a name such as 'DfE 2024 estimates'."]
    assert errors["year"][0].startswith("Year '1999' is invalid")
    assert errors["source"][0].startswith("Source is missing")


def test_estimate_import_header_only(world):
    with pytest.raises(ValidationError) as caught:
        import_table(world, HEADER.encode())

    assert "no data rows" in caught.value.message_dict["rows_file"][0]


def test_estimate_import_only_trust_uploaders(world):
    with pytest.raises(PermissionDenied):
        import_table(world, ESTIMATES_FILE.read_bytes(), persona="headteacher")


def test_estimate_import_semicolons_and_file_object(world):
    text = ESTIMATES_FILE.read_text().replace(",", ";")

    created = import_table(world, io.BytesIO(text.encode()))

    assert created.rows.count() == 34
    assert created.source == "Trust aspirational table"


# Pages ----------------------------------------------------------------------------------------


def test_estimate_tables_page_access(world, table):
    leader = client_for(world, "trust_leader").get("/progress/estimate-tables/")
    head = client_for(world, "headteacher").get("/progress/estimate-tables/")
    teacher = client_for(world, "teacher").get("/progress/estimate-tables/")

    assert leader.status_code == 200
    assert "Upload a table" in leader.content.decode()
    assert head.status_code == 200
    assert "DfE KS4 ready reckoner, provisional 2024" in head.content.decode()
    assert "Upload a table" not in head.content.decode()
    assert teacher.status_code == 404


def test_estimate_table_detail_page(world, table):
    response = client_for(world, "head_of_year").get(f"/progress/estimate-tables/{table.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "104.50 to 105.00" in html
    assert "9.85" in html


def test_estimate_upload_preview_and_confirm(world):
    client = client_for(world, "trust_admin")
    upload = io.BytesIO(ESTIMATES_FILE.read_bytes())
    upload.name = "estimates.csv"

    response = client.post(
        "/progress/estimate-tables/",
        {"name": "DfE 2024", "year": "2024", "source": "DfE ready reckoner", "file": upload},
    )
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert "34 groups read" in preview.content.decode()
    assert not EstimateTable.objects.exists()

    confirmed = client.post(response["Location"] + "confirm/")

    assert confirmed.status_code == 302
    assert EstimateTable.objects.get().rows.count() == 34


def test_estimate_upload_bad_rows_write_nothing(world):
    client = client_for(world, "trust_admin")
    upload = io.BytesIO(csv_bytes("1,59,82,15.96,3.86,2.39,4.36,5.34", "2,82.5,86,x,4,2,4,5"))
    upload.name = "bad.csv"

    response = client.post(
        "/progress/estimate-tables/",
        {"name": "Bad", "year": "2024", "source": "Test", "file": upload},
    )
    preview = client.get(response["Location"])
    confirmed = client.post(response["Location"] + "confirm/")

    html = preview.content.decode()
    assert '<td class="num">3</td><td>Attainment 8 estimate</td><td>x</td>' in html
    assert "is not a number" in html
    assert "Nothing can be imported" in html
    assert confirmed.status_code == 400
    assert not EstimateTable.objects.exists()


def test_estimate_upload_forbidden_for_headteacher(world):
    upload = io.BytesIO(ESTIMATES_FILE.read_bytes())
    upload.name = "estimates.csv"

    response = client_for(world, "headteacher").post(
        "/progress/estimate-tables/",
        {"name": "DfE 2024", "year": "2024", "source": "DfE", "file": upload},
    )

    assert response.status_code == 403
    assert not EstimateTable.objects.exists()


def test_generate_page_access(world, table):
    oak9 = world.year_groups["oak9"].pk
    oak10 = world.year_groups["oak10"].pk

    assert client_for(world, "head_of_year").get("/progress/targets/generate/").status_code == 200
    assert (
        client_for(world, "head_of_year")
        .get(f"/progress/targets/generate/?year_group={oak10}")
        .status_code
        == 404
    )
    assert (
        client_for(world, "headteacher").get(f"/progress/targets/generate/?year_group={oak9}")
    ).status_code == 200
    assert client_for(world, "teacher").get("/progress/targets/generate/").status_code == 404
    assert client_for(world, "tutor").get("/progress/targets/generate/").status_code == 404


def test_generate_page_bad_parameters(world, table):
    client = client_for(world, "headteacher")
    oak9 = world.year_groups["oak9"].pk

    assert client.get("/progress/targets/generate/?year_group=abc").status_code == 400
    response = client.get(f"/progress/targets/generate/?year_group={oak9}&table=999999")
    assert response.status_code == 400
    assert "not one of this trust" in response.content.decode()


def test_generate_page_preview_then_post(world, table):
    client = client_for(world, "head_of_year")
    oak9 = world.year_groups["oak9"].pk
    maths = world.qualifications["gcse_maths"].pk
    url = f"/progress/targets/generate/?year_group={oak9}"
    TeachingGroup.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=world.qualifications["gcse_maths"],
        name="9Ma1",
    )

    preview = client.get(f"{url}&table={table.pk}&qualifications={maths}")
    html = preview.content.decode()

    assert preview.status_code == 200
    assert "DfE KS4 ready reckoner, provisional 2024" in html
    assert "cohort year 2024" in html
    assert "GCSE mathematics (taught)" in html
    assert "Isla Patel" in html
    assert not TargetGrade.objects.exists()

    posted = client.post(url, {"table": table.pk, "qualifications": [maths]})

    assert posted.status_code == 302
    assert TargetGrade.objects.count() == 2
    after = client.get(posted["Location"])
    assert "2 TMGs created" in after.content.decode()


def test_tmg_edit_page_access(world, table):
    obrien = world.pupils["oak9a_obrien"].pk
    url = f"/progress/pupils/{obrien}/targets/"
    generate(world, table, "gcse_maths")

    head = client_for(world, "headteacher").get(url)
    tutor = client_for(world, "tutor").get(url)

    assert head.status_code == 200
    assert "Set a TMG by hand" in head.content.decode()
    assert "DfE 2024 estimates, cohort year 2024" in head.content.decode()
    assert tutor.status_code == 200
    assert "Set a TMG by hand" not in tutor.content.decode()
    assert client_for(world, "elm_teacher").get(url).status_code == 404
    assert client_for(world, "tutor").post(url, {}).status_code == 403


def test_tmg_edit_page_bad_parameters(world):
    client = client_for(world, "headteacher")
    obrien = world.pupils["oak9a_obrien"].pk

    assert client.get(f"/progress/pupils/{obrien}/targets/?academic_year=x").status_code == 400
    assert client.get(f"/progress/pupils/{obrien}/targets/?qualification=0").status_code == 400


def test_tmg_edit_page_sets_and_shows_history(world):
    client = client_for(world, "headteacher")
    obrien = world.pupils["oak9a_obrien"].pk
    maths = world.qualifications["gcse_maths"].pk
    url = f"/progress/pupils/{obrien}/targets/"

    posted = client.post(
        url, {"qualification": maths, "grade": "6", "reason": "Set after review", "seen_version": 0}
    )
    page = client.get(posted["Location"])
    html = page.content.decode()

    assert posted.status_code == 302
    assert "TMG in GCSE mathematics set to 6." in html
    assert "Set after review" in html
    assert "Set by hand" in html


def test_tmg_edit_page_lowering_and_conflict(world):
    obrien = world.pupils["oak9a_obrien"].pk
    maths = world.qualifications["gcse_maths"].pk
    url = f"/progress/pupils/{obrien}/targets/"
    set_tmg(world, "headteacher", "6")

    lowered = client_for(world, "head_of_year").post(
        url, {"qualification": maths, "grade": "5", "reason": "Lower", "seen_version": 1}
    )
    stale = client_for(world, "headteacher").post(
        url, {"qualification": maths, "grade": "7", "reason": "Raise", "seen_version": 0}
    )
    missing_reason = client_for(world, "headteacher").post(
        url, {"qualification": maths, "grade": "7", "reason": ""}
    )

    assert lowered.status_code == 403
    assert "needs a headteacher" in lowered.content.decode()
    assert stale.status_code == 409
    assert missing_reason.status_code == 400
    assert "Reason is missing" in missing_reason.content.decode()


def test_year_group_page_links_tmg_pages(world):
    oak9 = world.year_groups["oak9"].pk

    html = client_for(world, "headteacher").get(f"/academies/year-groups/{oak9}/").content.decode()

    assert f"/progress/targets/generate/?year_group={oak9}" in html
    assert "/progress/estimate-tables/" in html
