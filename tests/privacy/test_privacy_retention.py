"""Retention purges under frozen time: searches, viewing, expired exports."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import SearchQuery, ViewingActivity
from privacy import exports, retention
from privacy.models import ExportRequest, ExportStatus
from privacy.tasks import retention_purge
from tests.support.accounts import make_account
from tests.support.factories import TitleFactory


@pytest.mark.django_db
def test_searches_older_than_the_retention_are_purged(settings):
    _, profile = make_account("searcher")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        catalog_services.search_record(profile=profile, query="old one", result_count=1)
    with time_machine.travel(start + timedelta(days=50), tick=False):
        catalog_services.search_record(profile=profile, query="newer", result_count=1)
    with time_machine.travel(start + timedelta(days=89, hours=23), tick=False):
        assert retention.retention_purge()["searches"] == 0
    with time_machine.travel(start + timedelta(days=90, minutes=1), tick=False):
        assert retention_purge.delay().get()["searches"] == 1
    assert list(SearchQuery.objects.values_list("query", flat=True)) == ["newer"]
    settings.SEARCH_RETENTION_DAYS = 10  # read at run time, not at import
    with time_machine.travel(start + timedelta(days=61), tick=False):
        assert retention.retention_purge()["searches"] == 1


@pytest.mark.django_db
def test_viewing_older_than_the_retention_is_purged_and_the_stamp_moves():
    _, profile = make_account("viewer")
    _, other = make_account("viewer2")
    old_title, new_title = TitleFactory(), TitleFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        catalog_services.viewing_record(
            profile=profile, title=old_title, episode=None, position_seconds=5, duration_seconds=100
        )
    with time_machine.travel(start + timedelta(days=400), tick=False):
        catalog_services.viewing_record(
            profile=other, title=new_title, episode=None, position_seconds=5, duration_seconds=100
        )
    profile.refresh_from_db()
    stamp = profile.engagement_stamp
    with time_machine.travel(start + timedelta(days=729), tick=False):
        assert retention.retention_purge()["viewing"] == 0
    with time_machine.travel(start + timedelta(days=730, hours=1), tick=False):
        assert retention.retention_purge()["viewing"] == 1
    assert list(ViewingActivity.objects.values_list("profile_id", flat=True)) == [other.pk]
    profile.refresh_from_db()
    assert profile.engagement_stamp == stamp + 1


@pytest.mark.django_db
def test_retention_purges_expired_exports_and_fails_stale_runs():
    user, _ = make_account("exporter")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ready = exports.export_build(export_id=str(ExportRequest.objects.create(account=user).pk))
    path = exports.export_path(ready)
    stale = ExportRequest.objects.create(account=user, status=ExportStatus.RUNNING, started_at=start)
    with time_machine.travel(start + timedelta(days=7, seconds=1), tick=False):
        assert retention.retention_purge()["exports_expired"] == 1
    assert not path.exists()
    assert ExportRequest.objects.get(pk=ready.pk).status == ExportStatus.EXPIRED
    assert ExportRequest.objects.get(pk=stale.pk).status == ExportStatus.FAILED
