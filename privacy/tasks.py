"""Celery tasks of the privacy app: thin, load by id and call the service. JSON arguments only.

Named `<entity>_<action>` like the services they call. The two requested by people (an export,
an erasure) also answer to the names they had before (`*_task`), so a message queued across
the deploy that renamed them is still done.
"""

import smtplib

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import erasure, exports, retention


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def export_build(export_id: str) -> str | None:
    export = exports.export_build(export_id=export_id)
    return export.status if export else None


@shared_task(bind=True, acks_late=True, soft_time_limit=60, time_limit=90, max_retries=5)
def export_notify(self, export_id: str) -> bool:
    # At most once: the send is claimed before it is made (a second delivery sends nothing), so a
    # worker killed between the claim and the SMTP call loses that one email. The page the email
    # links to shows the same state, so nothing but the nudge is lost.
    try:
        return exports.export_notify(export_id=export_id)
    except (smtplib.SMTPException, OSError, SoftTimeLimitExceeded) as exc:
        # A mail server that is down or slow is transient; the claim was released, so retry.
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(bind=True, acks_late=True, soft_time_limit=600, time_limit=660, max_retries=3, default_retry_delay=60)
def account_erase(self, record_id: int) -> str | None:
    try:
        record = erasure.account_erase(record_id=record_id)
    except Exception as exc:
        # The record is marked failed; retry with backoff (the job only does what is missing).
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    return record.status if record else None


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def retention_purge() -> dict:
    return retention.retention_purge()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def exports_expire() -> int:
    return exports.exports_expire()


@shared_task(acks_late=True)
def erasures_retry() -> int:
    return erasure.erasures_retry()


# --- the names before the rename (messages queued across that deploy) ---------------------------


@shared_task(name="privacy.tasks.export_build_task", acks_late=True, soft_time_limit=600, time_limit=660)
def _export_build_legacy(export_id: str) -> str | None:
    export = exports.export_build(export_id=export_id)
    return export.status if export else None


@shared_task(name="privacy.tasks.account_erase_task", acks_late=True, soft_time_limit=600, time_limit=660)
def _account_erase_legacy(record_id: int) -> str | None:
    # A failure leaves the record failed; erasures_retry (beat) queues it again under the new name.
    record = erasure.account_erase(record_id=record_id)
    return record.status if record else None
