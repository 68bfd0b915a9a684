from django import template

register = template.Library()


@register.simple_tag
def cell(row: dict, key: str, percent_cols=()):
    """A table cell: shares as percentages, other numbers with separators, text as is."""
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and key in percent_cols:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


@register.filter
def pct(value):
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""
