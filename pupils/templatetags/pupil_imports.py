"""Template filters for the pupil import pages."""

from django import template

from academies.models import parse_nc_year, year_group_name

register = template.Library()


@register.filter
def imported_year_name(text: object) -> str:
    """Name the year group an import file gives as "Year 11" or "Reception".

    A file may write it as "11", "Y11", "year 11" or "R"; text that is not a
    year group is shown as the file gave it.
    """
    raw = str(text or "").strip()
    nc_year = parse_nc_year(raw)
    if nc_year is None:
        return raw
    return year_group_name(nc_year)
