"""Deliveries as the settings page shows them: when (relative, exact on hover), what
they came from (a link to the issue or pull request), and for each skill its outcome
with the reason in plain words and the next step (`ghapp.failures`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ghapp.failures import FailureReason, read_reason
from ghapp.store.database import utcnow
from ghapp.store.deliveries import Delivery

STATUS_TEXT = {
    "done": "done",
    "failed": "failed",
    "queued": "waiting",
    "running": "running",
    "ignored": "ignored — no skill handles this event",
}
OUTCOME_TEXT = {"ok": "ok", "error": "failed", "skipped": "skipped", "retry": "will retry"}
UNFINISHED = ("queued", "running")


@dataclass
class RunView:
    skill: str
    outcome: str
    outcome_text: str
    reason: FailureReason | None
    link: str | None  # the next step's link, resolved


@dataclass
class SourceLink:
    url: str
    text: str  # "#12 Title"


@dataclass
class DeliveryRow:
    id: str
    name: str
    repository: str | None
    status: str
    status_text: str
    received_at: datetime
    ago: str
    source: SourceLink | None
    runs: list[RunView] = field(default_factory=list)
    error: FailureReason | None = None  # the delivery failed before any skill ran
    error_link: str | None = None
    can_redeliver: bool = False

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED


def relative(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "min")):
        if seconds >= size:
            count = round(seconds / size) if unit != "min" else max(1, round(seconds / 60))
            if unit == "day" and count > 30:
                return moment.strftime("%Y-%m-%d")
            plural = "s" if count != 1 and unit != "min" else ""
            return f"{count} {unit}{plural} ago"
    return "just now"


def _source(payload: bytes, github_url: str) -> SourceLink | None:
    """The issue or pull request a delivery came from, when its payload names one."""
    if len(payload) > 2_000_000:
        return None  # a huge push: not worth parsing for a link
    try:
        data: Any = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("pull_request", "issue", "discussion"):
        item = data.get(key)
        if not isinstance(item, dict):
            continue
        url, number = item.get("html_url"), item.get("number")
        if isinstance(url, str) and _web_url(url, github_url) and isinstance(number, int):
            title = str(item.get("title") or "")[:80]
            return SourceLink(url, f"#{number} {title}".strip())
    return None


def _web_url(url: str, github_url: str) -> bool:
    # Only a link into GitHub itself: never `javascript:` or another site from a payload.
    return url.startswith(github_url.rstrip("/") + "/") or url.startswith("https://github.com/")


def delivery_rows(
    found: list[Delivery],
    *,
    github_url: str,
    installation_url: str | None,
    redeliverable: set[str] | None,
) -> list[DeliveryRow]:
    """Rows for `found`; `redeliverable`: repositories whose failed deliveries the person
    may run again (None: every one)."""
    now = utcnow()
    rows = []
    for d in found:
        row = DeliveryRow(
            id=d.id,
            name=d.name,
            repository=d.repository,
            status=d.status,
            status_text=STATUS_TEXT.get(d.status, d.status),
            received_at=d.received_at,
            ago=relative(d.received_at, now),
            source=_source(d.payload, github_url),
        )
        for run in d.runs:
            reason = read_reason(run.detail)
            row.runs.append(
                RunView(
                    run.skill,
                    run.outcome,
                    OUTCOME_TEXT.get(run.outcome, run.outcome),
                    reason,
                    reason.link_for(github_url, installation_url) if reason else None,
                )
            )
        if d.status == "failed" and not any(r.outcome == "error" for r in d.runs):
            row.error = read_reason(d.error) or FailureReason("failed for an unknown reason")
            row.error_link = row.error.link_for(github_url, installation_url)
        row.can_redeliver = d.status == "failed" and (
            redeliverable is None or (d.repository or "") in redeliverable
        )
        rows.append(row)
    return rows
