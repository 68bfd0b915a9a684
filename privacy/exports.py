"""Self-service export of an account's data (GDPR Art. 15 and 20).

Flow: `export_request_create` (web or API; at most one per account per
EXPORT_MIN_INTERVAL_HOURS, every request audit-logged) -> after commit the Celery task ->
`export_build` (claims the row, asks every registered section for its data, writes a ZIP
under EXPORT_ROOT) -> the owner downloads it until `expires_at` -> `exports_expire` (beat)
deletes the file and marks it expired.

The ZIP holds export.json (described by privacy/export.schema.json, which is copied into
the ZIP), one CSV per section and a README.txt.

When a build ends, `export_notify` (a task queued with the outcome, after commit) emails the owner
once: "your data is ready" with the link to the export's page, or "could not be prepared".
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.http import FileResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.csv import defuse
from ops import outbox
from ops.heartbeat import dead_before, job_heartbeat

from . import registry
from .models import AuditAction, AuditEvent, ExportRequest, ExportStatus
from .services import audit

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).with_name("export.schema.json")
FORMAT = "marquee-export"
FORMAT_VERSION = 1
# A worker that died mid-export leaves a row running forever; after this it counts as failed.
STALE_AFTER = timedelta(hours=1)
# A request no worker started within this is not waited for: asking again replaces it.
STUCK_AFTER = timedelta(minutes=10)


def expiry_days() -> int:
    return settings.EXPORT_EXPIRY_DAYS


def min_interval() -> timedelta:
    return timedelta(hours=settings.EXPORT_MIN_INTERVAL_HOURS)


class ExportThrottled(Exception):
    """The account already asked for an export within the interval."""

    def __init__(self, retry_at: datetime, existing: ExportRequest):
        self.retry_at = retry_at
        self.existing = existing
        super().__init__(f"one export per {int(min_interval().total_seconds() // 3600)} hours")


def export_path(export: ExportRequest) -> Path:
    return Path(settings.EXPORT_ROOT) / export.file_name


def _stuck(account, now: datetime | None = None):
    """The account's exports that will not finish on their own: never started within
    EXPORT_STUCK_AFTER (no worker took them), or running with a dead worker's heartbeat.
    A stuck request must not block the next one for the whole interval."""
    now = now or timezone.now()
    return ExportRequest.objects.filter(account=account).filter(
        Q(status=ExportStatus.PENDING, created_at__lt=now - STUCK_AFTER)
        | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=dead_before(now))
    )


def export_request_create(*, account, via: str) -> ExportRequest:
    """Queue an export for `account`, or raise ExportThrottled (which is audit-logged too)."""
    now = timezone.now()
    with transaction.atomic():
        # Lock the account row: two simultaneous clicks must not both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=account.pk).first()
        _stuck(account).update(status=ExportStatus.FAILED, error="stuck: superseded by a new request", finished_at=now)
        recent = (
            ExportRequest.objects.filter(account=account, created_at__gt=now - min_interval())
            .exclude(status=ExportStatus.FAILED)
            .order_by("-created_at")
            .first()
        )
        if recent is None:
            export = ExportRequest.objects.create(account=account, created_at=now)
            audit(account_id=account.pk, action=AuditAction.EXPORT_REQUESTED, via=via, object_id=str(export.id))
            # Recorded with the request (the outbox): a broker that is down delays the export,
            # it does not lose it.
            outbox.enqueue("privacy.tasks.export_build", str(export.id))
            return export
        audit(account_id=account.pk, action=AuditAction.EXPORT_REFUSED, via=via, object_id=str(recent.id))
    raise ExportThrottled(recent.created_at + min_interval(), recent)


def build_document(account, *, on_section=None) -> dict:
    """The content of export.json: a header, then every registered section by name."""
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "policy_version": settings.PRIVACY_POLICY_VERSION,
    }
    return {**header, **registry.export_account(account, on_section=on_section)}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, sort_keys=True)
    # Search queries are typed by people: never let a spreadsheet run one as a formula.
    return defuse(value)


def section_csv(rows, columns=None) -> str:
    rows = [rows] if isinstance(rows, dict) else list(rows)
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def readme(document: dict, export: ExportRequest) -> str:
    expires = export.expires_at.strftime("%Y-%m-%d %H:%M UTC") if export.expires_at else "-"
    lines = [
        "Your Marquee data",
        "=================",
        "",
        f"Generated: {document['generated_at']}",
        f"Privacy policy version: {document['policy_version']}",
        f"This download expires on {expires}; the file is then deleted from our servers.",
        "",
        "Files",
        "-----",
        "export.json         everything below in one machine-readable file (UTF-8 JSON).",
        "export.schema.json  the JSON Schema (draft 2020-12) that describes export.json.",
        "<section>.csv       the same data, one CSV file per section, for spreadsheets.",
        "                    Cells that would start a spreadsheet formula are prefixed with '.",
        "",
        "Sections",
        "--------",
    ]
    for s in registry.sections():
        if s.export is None:
            continue
        lines.append(f'{s.name}.csv / export.json "{s.name}": {s.label}.')
        lines.append(f"    {s.description}")
    lines += [
        "",
        "Ids: profile_id links rows to the profiles section; title_id is Marquee's id of a title.",
        "Times are ISO 8601 in UTC.",
        "",
    ]
    return "\n".join(lines)


def _write_zip(export: ExportRequest, document: dict) -> Path:
    root = Path(settings.EXPORT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{export.id}.zip"
    fd, tmp = tempfile.mkstemp(prefix=".export.", suffix=".zip", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("export.json", json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False))
            zf.writestr("export.schema.json", SCHEMA_PATH.read_text())
            for s in registry.sections():
                if s.export is not None:
                    zf.writestr(f"{s.name}.csv", section_csv(document[s.name], s.columns))
            zf.writestr("README.txt", readme(document, export))
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final


def export_build(*, export_id: str) -> ExportRequest | None:
    """Build the ZIP. Safe to run twice: only the run that claims a pending row works."""
    now = timezone.now()
    # Pending, or running under a worker that died (its heartbeat stopped): this run takes over.
    claimed = (
        ExportRequest.objects.filter(pk=export_id)
        .filter(
            Q(status=ExportStatus.PENDING)
            | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=dead_before(now))
            | Q(status=ExportStatus.RUNNING, heartbeat_at__isnull=True, started_at__lt=dead_before(now))
        )
        .update(status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now, progress=1)
    )
    if not claimed:
        return None
    export = ExportRequest.objects.select_related("account").get(pk=export_id)
    qs = ExportRequest.objects.filter(pk=export_id)
    with job_heartbeat(qs):
        return _export_run(export, qs)


def _export_run(export: ExportRequest, qs) -> ExportRequest:
    export_id = str(export.pk)

    def progress(done: int, total: int) -> None:
        qs.update(progress=max(1, min(90, int(90 * done / total))))

    try:
        document = build_document(export.account, on_section=progress)
        finished = timezone.now()
        export.expires_at = finished + timedelta(days=expiry_days())
        path = _write_zip(export, document)
    except Exception as exc:
        # Only the id and the error class reach the log: never the data being exported.
        log.exception("export %s failed", export_id)
        with transaction.atomic():
            qs.update(status=ExportStatus.FAILED, error=type(exc).__name__[:200], finished_at=timezone.now())
            audit(account_id=export.account_id, action=AuditAction.EXPORT_FAILED, via="system", object_id=export_id)
            _notify_queue(export_id)
        return ExportRequest.objects.get(pk=export_id)
    with transaction.atomic():
        marked = qs.update(
            status=ExportStatus.READY,
            progress=100,
            file_name=path.name,
            size_bytes=path.stat().st_size,
            finished_at=finished,
            expires_at=export.expires_at,
        )
        if not marked:
            # The request went while the ZIP was written (the account was erased, or the run
            # was taken over): the file must not outlive it, and nobody is told.
            path.unlink(missing_ok=True)
            return ExportRequest.objects.filter(pk=export_id).first() or export
        audit(account_id=export.account_id, action=AuditAction.EXPORT_READY, via="system", object_id=export_id)
        _notify_queue(export_id)
    return ExportRequest.objects.get(pk=export_id)


def _notify_queue(export_id: str) -> None:
    # With the outcome, in its transaction (the outbox): the mail goes after commit, and a process
    # that dies in between leaves the row for the sweeper instead of a person never told.
    outbox.enqueue("privacy.tasks.export_notify", str(export_id), key=f"export-notify:{export_id}")


def export_page_url(export: ExportRequest) -> str:
    """The export's page on the site, absolute (for email): it asks for sign-in, shows the export
    to its owner only (anyone else gets a 404) and downloads after the password is confirmed."""
    return settings.SITE_URL + reverse("privacy-export-status", args=[export.pk])


def _requested_by_staff(export: ExportRequest) -> bool:
    # Staff start exports through export_request_create too (privacy.staff), audited with via
    # "staff": the owner must learn that they did not ask for this copy themselves.
    via = (
        AuditEvent.objects.filter(action=AuditAction.EXPORT_REQUESTED, object_id=str(export.pk))
        .values_list("via", flat=True)
        .first()
    )
    return via == "staff"


def export_notify(*, export_id: str) -> bool:
    """Email the owner the outcome of a finished export, once. True when this call sent it.

    Safe to run twice: the send is claimed first with a conditional UPDATE on `notified_at`
    (a failed send releases the claim, so a retry sends it). Nothing is sent for an export that
    is not finished, an account without an email address, or a ready export already expired.
    The email holds the link and the expiry only: no username, no counts, no content.
    """
    export = ExportRequest.objects.select_related("account").filter(pk=export_id).first()
    if export is None or export.status not in (ExportStatus.READY, ExportStatus.FAILED):
        return False
    email = export.account.email
    if not email or export.notified_at is not None:
        return False
    if export.status == ExportStatus.READY and export_is_expired(export):
        return False
    now = timezone.now()
    claimed = ExportRequest.objects.filter(pk=export.pk, status=export.status, notified_at__isnull=True).update(
        notified_at=now
    )
    if not claimed:
        return False
    if export.status == ExportStatus.READY:
        subject = "Your Marquee data is ready"
        body = render_to_string(
            "privacy/email/export_ready.txt",
            {
                "url": export_page_url(export),
                "expires_at": export.expires_at,
                "expiry_days": expiry_days(),
                "by_staff": _requested_by_staff(export),
            },
        )
    else:
        subject = "Your Marquee data export could not be prepared"
        body = render_to_string("privacy/email/export_failed.txt", {"url": settings.SITE_URL + reverse("privacy-data")})
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    except Exception:
        # Not sent: release the claim so the task's retry (or a second delivery) sends it.
        ExportRequest.objects.filter(pk=export.pk, notified_at=now).update(notified_at=None)
        raise
    return True


def export_files_delete(exports) -> int:
    """Delete the ZIP files of these exports (rows are the caller's business)."""
    removed = 0
    for name in exports.exclude(file_name="").values_list("file_name", flat=True):
        path = Path(settings.EXPORT_ROOT) / name
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def export_is_expired(export: ExportRequest, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return export.status == ExportStatus.EXPIRED or (export.expires_at is not None and export.expires_at <= now)


def export_downloaded(*, export: ExportRequest, via: str) -> None:
    ExportRequest.objects.filter(pk=export.pk).update(download_count=F("download_count") + 1)
    audit(account_id=export.account_id, action=AuditAction.EXPORT_DOWNLOADED, via=via, object_id=str(export.pk))


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry and mark them expired; fail stale runs."""
    now = now or timezone.now()
    due = ExportRequest.objects.filter(status=ExportStatus.READY, expires_at__lte=now)
    expired = 0
    for export in due:
        export_files_delete(ExportRequest.objects.filter(pk=export.pk))
        ExportRequest.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
            status=ExportStatus.EXPIRED, file_name="", progress=0
        )
        audit(account_id=export.account_id, action=AuditAction.EXPORT_EXPIRED, via="system", object_id=str(export.pk))
        expired += 1
    stale = ExportRequest.objects.filter(status=ExportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    with transaction.atomic():
        stale_ids = [str(pk) for pk in stale.values_list("pk", flat=True)]
        ExportRequest.objects.filter(pk__in=stale_ids, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED, error="stale", finished_at=now
        )
        # The owner is waiting for an email: tell them it will not come, and that they may ask again.
        for export_id in stale_ids:
            _notify_queue(export_id)
    return expired


def export_file_response(export: ExportRequest, *, via: str) -> FileResponse:
    """The ZIP of a ready export as a download, recorded as downloaded. The caller checked that
    the export is the requester's, ready and not expired; a missing file raises FileNotFoundError."""
    path = export_path(export)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    export_downloaded(export=export, via=via)
    name = f"marquee-data-{export.created_at:%Y%m%d}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")
