"""British date formats from the project's format module, not Django's en_GB one."""

import datetime

import pytest
from django.test import override_settings
from django.utils import formats, translation

DAY = datetime.date(2026, 12, 4)
MOMENT = datetime.datetime(2026, 12, 4, 14, 5)


@pytest.fixture
def trust_formats():
    # Django caches format modules per language and does not reset that cache
    # when FORMAT_MODULE_PATH alone changes.
    formats.reset_format_cache()
    with override_settings(FORMAT_MODULE_PATH=["trust.formats"]), translation.override("en-gb"):
        yield
    formats.reset_format_cache()


def test_date_format_is_dd_mm_yyyy(trust_formats):
    assert formats.date_format(DAY) == "04/12/2026"


def test_short_date_format_is_dd_mm_yyyy(trust_formats):
    assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == "04/12/2026"


def test_datetime_format_uses_24_hour_clock(trust_formats):
    assert formats.date_format(MOMENT, "DATETIME_FORMAT") == "04/12/2026 14:05"


def test_localize_shows_dd_mm_yyyy(trust_formats):
    assert formats.localize(DAY) == "04/12/2026"


def test_input_formats_accept_uk_and_iso(trust_formats):
    assert formats.get_format("DATE_INPUT_FORMATS") == ["%d/%m/%Y", "%Y-%m-%d"]


def test_week_starts_on_monday(trust_formats):
    assert formats.get_format("FIRST_DAY_OF_WEEK") == 1


def test_django_en_gb_differs_without_module():
    # Shows why the module exists: Django's own en_GB format wins over settings.
    formats.reset_format_cache()
    with override_settings(FORMAT_MODULE_PATH=None), translation.override("en-gb"):
        assert formats.date_format(DAY) == "4 Dec 2026"
    formats.reset_format_cache()
