"""Template hooks for personalized artwork (recommendations.artwork).

`{% artwork_choice title row_key as art %}` on a card: `art.url` is the poster to show and
`art.variant` the variant it is ("" when the card shows the default poster). Only home-row
cards (a `row_key`) are personalized: those are the impressions and takes the bandit counts.
Elsewhere, and for titles with uploaded artwork (when loaded: rows defer that field, and then
the variant URL serves the upload anyway), the plain poster URL. Queries: none per card;
the first personalized card of a page computes the page's policy (see artwork.policy_for),
unless the home's impression receiver already did.

`{% artwork_rates title %}` renders the per-variant take rates table for staff.
"""

from dataclasses import dataclass

from django import template

from catalog.posters import DEFAULT_VARIANT
from catalog.templatetags.catalog_cards import _url

from .. import artwork

register = template.Library()


@dataclass(frozen=True)
class Art:
    url: str
    variant: str


@register.simple_tag(takes_context=True)
def artwork_choice(context, title, row_key="") -> Art:
    request = context.get("request")
    profile = getattr(request, "profile", None)
    if not row_key or profile is None or artwork.has_upload(title):
        return Art(_url("title-poster", title.slug), "")
    variant = artwork.policy_for(profile).choose(title.pk)
    if variant == DEFAULT_VARIANT:
        # The default keeps the bare URL the rest of the site shows (one cached image).
        return Art(_url("title-poster", title.slug), variant)
    return Art(_url("title-poster", title.slug).removesuffix(".svg") + f"/{variant}.svg", variant)


@register.inclusion_tag("recommendations/_artwork_rates.html")
def artwork_rates(title):
    return {
        "title": title,
        "rates": artwork.title_rates(title),
        "min_impressions": artwork.MIN_IMPRESSIONS_SHOWN,
        "floor": round(artwork.FLOOR * 100),
        "ceiling": round(artwork.CEILING * 100),
    }
