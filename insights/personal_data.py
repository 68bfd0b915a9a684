"""What insights holds about a person: raw impressions and clicks (analytics purpose).

Registered with the privacy registry from InsightsConfig.ready(). The daily aggregates,
snapshot and title stats carry no profile; the preview audit log is declared below.
"""

from datetime import timedelta

from django.conf import settings

from insights import models
from privacy import registry


def retention_days() -> int:
    return settings.IMPRESSION_RETENTION_DAYS


def _export(account) -> list[dict]:
    rows = [
        {
            "profile_id": i.profile_id,
            "kind": "shown",
            "title_id": i.title_id,
            "row": i.row_key,
            "at": i.shown_at.isoformat(),
        }
        for i in models.Impression.objects.filter(profile__account=account).order_by("profile_id", "id")
    ]
    rows += [
        {
            "profile_id": c.profile_id,
            "kind": "opened",
            "title_id": c.title_id,
            "row": c.row_key,
            "at": c.clicked_at.isoformat(),
        }
        for c in models.Click.objects.filter(profile__account=account).order_by("profile_id", "id")
    ]
    return rows


def _erase(account) -> int:
    return (
        models.Impression.objects.filter(profile__account=account).delete()[0]
        + models.Click.objects.filter(profile__account=account).delete()[0]
    )


def _count(account) -> int:
    return (
        models.Impression.objects.filter(profile__account=account).count()
        + models.Click.objects.filter(profile__account=account).count()
    )


def purge(now) -> int:
    """Raw rows past IMPRESSION_RETENTION_DAYS; the daily aggregates (no profile) stay."""
    cutoff = now - timedelta(days=retention_days())
    return (
        models.Impression.objects.filter(shown_at__lt=cutoff).delete()[0]
        + models.Click.objects.filter(clicked_at__lt=cutoff).delete()[0]
    )


def register() -> None:
    registry.register_section(
        registry.Section(
            name="impressions",
            label="Home page impressions",
            description=(
                "Which titles were shown to each profile in which home row, and which were opened from it "
                f"(kept {retention_days()} days, only with analytics consent)."
            ),
            models=("insights.Impression", "insights.Click"),
            export=_export,
            erase=_erase,
            count=_count,
            export_order=60,
            erase_order=400,
            columns=("profile_id", "kind", "title_id", "row", "at"),
        )
    )
    registry.register_purpose_eraser("analytics", "impressions", _erase, _count)
    registry.register_retention("impressions", purge)
    registry.declare_not_personal(
        "insights.PreviewAudit",
        "Staff accountability log of home previews: staff account and profile id only, no engagement; "
        "the profile link is nulled when the profile is erased.",
    )
