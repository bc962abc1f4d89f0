"""label-sync's hourly drift repair, for repositories with `strict: true`.

A strict repository's labels are put back as declared when a person edits one, but only
if the App hears of it: an edit made while the App was down, or whose event was lost,
would stay. Once an hour per repository (ghapp's scheduler, once across all workers) the
labels are read and the same fewest-changes plan a sync makes is applied; a repository
whose labels match costs one read and no write.
"""

from __future__ import annotations

from datetime import timedelta

from ghapp import Context
from ghapp.skills.label_sync.apply import sync_labels
from ghapp.skills.label_sync.options import LabelSyncOptions

REPAIR = "repair-drift"
EVERY = timedelta(hours=1)


async def repair_drift(ctx: Context[LabelSyncOptions]) -> None:
    options = ctx.options
    if not ctx.configured or not options.strict:
        return
    await sync_labels(ctx, options.labels, delete_undeclared=options.delete_undeclared, apply=True)
