"""`ghapp redeliver`: ask GitHub again for deliveries that failed or never arrived.

GitHub lists every attempt of the App's deliveries (`GET /app/hook/deliveries`, cursor
paginated, newest first). A delivery (guid) none of whose attempts succeeded, and that
this App has not processed, is asked for again once (`POST …/{id}/attempts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ghapp.config import Settings
from ghapp.github import GitHubClients
from ghapp.store import Database, DeliveryStore


@dataclass
class RedeliverySummary:
    examined: int = 0
    requested: list[str] = field(default_factory=list)
    already_processed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"examined {self.examined} deliveries"]
        out += [f"redelivery requested: {guid}" for guid in self.requested]
        out += [f"already processed here: {guid}" for guid in self.already_processed]
        out += [f"error: {e}" for e in self.errors]
        return out


def _failed_guids(items: list[dict[str, Any]], since: datetime) -> dict[str, int]:
    """guid → id of its latest attempt, for guids with no successful attempt since `since`."""
    latest: dict[str, tuple[datetime, int]] = {}
    succeeded: set[str] = set()
    for item in items:
        delivered = datetime.fromisoformat(str(item["delivered_at"]).replace("Z", "+00:00"))
        if delivered < since:
            continue
        guid = item["guid"]
        if 200 <= int(item.get("status_code") or 0) < 300:
            succeeded.add(guid)
        if guid not in latest or delivered > latest[guid][0]:
            latest[guid] = (delivered, int(item["id"]))
    return {g: i for g, (_, i) in latest.items() if g not in succeeded}


async def redeliver_missed(
    settings: Settings,
    *,
    since: timedelta,
    dry_run: bool = False,
    clients: GitHubClients | None = None,
) -> RedeliverySummary:
    assert settings.app_id is not None and settings.private_key is not None
    own = clients is None
    clients = clients or GitHubClients(
        app_id=settings.app_id,
        private_key=settings.private_key.get_secret_value(),
        api_url=settings.github_api_url,
    )
    db = Database(settings.database_url)
    summary = RedeliverySummary()
    cutoff = datetime.now(UTC) - since
    try:
        items: list[dict[str, Any]] = []
        async for item in clients.app.rest.paginate(
            clients.app.rest.apps.async_list_webhook_deliveries,
            map_func=lambda r: r.json(),
            per_page=100,
        ):
            data = item if isinstance(item, dict) else {}
            items.append(data)
            delivered = str(data.get("delivered_at", ""))
            if delivered and datetime.fromisoformat(delivered.replace("Z", "+00:00")) < cutoff:
                break  # newest first: everything after this is older
        summary.examined = len(items)
        failed = _failed_guids(items, cutoff)
        processed = await DeliveryStore(db).ids_seen(list(failed))
        for guid, attempt_id in sorted(failed.items()):
            if guid in processed:
                summary.already_processed.append(guid)
                continue
            if not dry_run:
                try:
                    await clients.app.rest.apps.async_redeliver_webhook_delivery(attempt_id)
                except Exception as exc:
                    summary.errors.append(f"{guid}: {type(exc).__name__}")
                    continue
            summary.requested.append(guid)
    finally:
        await db.close()
        if own:
            await clients.close()
    return summary
