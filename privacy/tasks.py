"""Celery tasks of the privacy app: thin, load by id and call the service. JSON arguments only."""

from celery import shared_task

from . import erasure, exports, retention


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def export_build_task(export_id: str) -> str | None:
    export = exports.export_build(export_id=export_id)
    return export.status if export else None


@shared_task(bind=True, acks_late=True, soft_time_limit=600, time_limit=660, max_retries=3, default_retry_delay=60)
def account_erase_task(self, record_id: int) -> str | None:
    try:
        record = erasure.account_erase(record_id=record_id)
    except Exception as exc:
        # The record is marked failed; retry with backoff (the job only does what is missing).
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    return record.status if record else None


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def retention_purge_task() -> dict:
    return retention.retention_purge()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def exports_expire_task() -> int:
    return exports.exports_expire()


@shared_task(acks_late=True)
def erasures_retry_task() -> int:
    return erasure.erasures_retry()
