"""label-sync's handlers: the I/O around the pure decisions, in the order the skill's
story tells it (see the package docstring): sync, swaps, preview, commands.
"""

from __future__ import annotations

from ghapp import CONFIG_PATH, Context, RepositoriesFailed, for_each_added_repository
from ghapp.skills.label_sync.apply import (
    plan_for,
    read_issue_labels,
    read_repo_labels,
    set_issue_labels,
    sync_labels,
)
from ghapp.skills.label_sync.issue_labels import (
    labels_after_adding,
    labels_after_removing,
    render_label_reply,
    resolve_label_names,
)
from ghapp.skills.label_sync.options import LabelSyncOptions
from ghapp.skills.label_sync.status_labels import set_status
from ghapp.skills.label_sync.swaps import (
    exclusive_swap_for_label_event,
    is_exclusive,
    lifecycle_event,
)
from ghapp.skills.label_sync.triggers import (
    PREVIEW_CHECK_NAME,
    config_changed_on_default_branch,
    fit_for_github,
    invalid_config_check,
    label_to_restore,
    plan_preview_check,
    touches_config,
)

DRY_RUN_FLAG = "--dry-run"

LABEL_USAGE = "Usage: `label add NAME…` or `label remove NAME…` (quote names with spaces)."
LABELS_USAGE = "Usage: `labels sync` or `labels sync --dry-run`."
NO_ISSUE = "Labels can only be added or removed on an issue or a pull request."
INVALID_CONFIG = (
    "Nothing was changed, because `{path}` is invalid:\n\n{problems}\n\n"
    "Fix the file on the default branch and try again."
)
SYNC_DRY_RUN = "**Dry run:** nothing was changed. Without `--dry-run` I would apply this.\n\n"
SYNC_DONE = "Labels synced.\n\n"
NOT_CONFIGURED = "\n_`{path}` has no `label-sync:` section, so no labels are declared here._\n"


class FirstSyncFailed(RepositoriesFailed):
    """Some repositories of an installation could not be synced (the others were)."""


# -- sync ---------------------------------------------------------------------------------


async def first_sync(ctx: Context[LabelSyncOptions]) -> None:
    """Onboarding: sync every repository that declares labels (syncs are idempotent)."""

    async def sync(repo_ctx: Context[LabelSyncOptions]) -> None:
        # Bulk changes nobody asked for happen only where the file has a section for us.
        if repo_ctx.configured:
            options = repo_ctx.options
            await sync_labels(
                repo_ctx, options.labels, delete_undeclared=options.delete_undeclared, apply=True
            )

    await for_each_added_repository(ctx, sync, what="first label sync", failed=FirstSyncFailed)


async def sync_on_config_change(ctx: Context[LabelSyncOptions]) -> None:
    """A push to the default branch that changed the file: sync to what it now declares.
    An invalid file changes nothing (the bus reports it on the commit)."""
    if not config_changed_on_default_branch(ctx.payload):
        return
    after = ctx.payload.get("after")
    if not isinstance(after, str) or not ctx.configured:
        return
    options, problems = await ctx.options_at(after)
    if options is None:
        ctx.log.info("not syncing labels: %s is invalid: %s", CONFIG_PATH, "; ".join(problems))
        return
    await sync_labels(ctx, options.labels, delete_undeclared=options.delete_undeclared, apply=True)


async def restore_hand_edits(ctx: Context[LabelSyncOptions]) -> None:
    """`strict: true`: a declared label edited or deleted by a person is put back (a
    rename is undone by renaming back, so its issues keep it)."""
    options = ctx.options
    if ctx.sender_is_bot or not options.strict or not ctx.configured:
        return
    declared = label_to_restore(ctx.action, ctx.payload, options.labels)
    if declared is None:
        return
    # Only that label: a hand edit is not a reason for changes nobody asked for.
    await sync_labels(ctx, [declared], delete_undeclared=False, apply=True)


# -- swaps --------------------------------------------------------------------------------


async def keep_scopes_exclusive(ctx: Context[LabelSyncOptions]) -> None:
    """`priority:high` added: other `priority:` labels come off, in one request."""
    options = ctx.options
    label = (ctx.payload.get("label") or {}).get("name")
    number = ctx.issue_number
    # The App's own label changes come back as events: acting on them would loop.
    if ctx.sender_is_bot or not isinstance(label, str) or number is None:
        return
    if not is_exclusive(label, options.exclusive_scopes, options.scope_separator):
        return
    snapshot = [
        entry["name"]
        for entry in (ctx.issue or {}).get("labels") or []
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    ]
    current = await read_issue_labels(ctx, number)
    labels = exclusive_swap_for_label_event(
        current, snapshot, label, options.exclusive_scopes, options.scope_separator
    )
    if labels is not None:
        await set_issue_labels(ctx, number, labels)


async def set_status_label(ctx: Context[LabelSyncOptions]) -> None:
    """The status label configured for this lifecycle event replaces the other status
    labels, in one request computed from the issue's labels now."""
    options = ctx.options
    event = lifecycle_event(ctx.event, ctx.action or "", ctx.payload)
    status = options.status_labels.label_for(event) if event else None
    number = ctx.issue_number
    if event is None or status is None or number is None:
        return
    await set_status(ctx, number, event, status)


# -- preview ------------------------------------------------------------------------------


async def preview_plan(ctx: Context[LabelSyncOptions]) -> None:
    """A pull request changing the file gets a check run with the plan merging it would
    apply, or a failed one saying why the file is invalid."""
    repo = ctx.require_repo()
    head = (ctx.payload.get("pull_request") or {}).get("head") or {}
    head_sha = head.get("sha")
    number = ctx.issue_number
    if not isinstance(head_sha, str) or number is None:
        return
    rest = ctx.github.rest
    paths: list[str | None] = []
    async for diff in ctx.paginate(rest.pulls.async_list_files, pull_number=number):
        paths += [diff.filename, diff.previous_filename or None]
    if not touches_config(paths):
        return

    async def post_preview(retrying: bool) -> None:
        options, problems = await ctx.options_at(head_sha)
        if options is None:
            output = invalid_config_check(problems)
        else:
            output = plan_preview_check(await plan_for(ctx, options))
        await rest.checks.async_create(
            repo.owner,
            repo.name,
            name=PREVIEW_CHECK_NAME,
            head_sha=head_sha,
            status="completed",
            conclusion=output.conclusion,
            output={"title": output.title, "summary": output.summary},
        )

    # One check run per head commit, however often the event is delivered (a second
    # after a crash is harmless: GitHub shows the latest run of a name).
    await ctx.once(f"plan-preview:{head_sha}", post_preview)


# -- commands -----------------------------------------------------------------------------


async def _current_options(
    ctx: Context[LabelSyncOptions],
) -> tuple[LabelSyncOptions | None, list[str]]:
    """The options as the default branch declares them now, or the file's problems: a
    command must not act on the last valid file while the current one is broken."""
    repository = ctx.payload.get("repository") or {}
    branch = repository.get("default_branch") if isinstance(repository, dict) else None
    if not isinstance(branch, str):
        return ctx.options, []
    return await ctx.options_at(branch)


def _invalid(problems: list[str]) -> str:
    listed = "\n".join(f"- {problem}" for problem in problems)
    return INVALID_CONFIG.format(path=CONFIG_PATH, problems=listed)


async def label_command(ctx: Context[LabelSyncOptions], args: tuple[str, ...]) -> str:
    if len(args) < 2 or args[0].lower() not in ("add", "remove"):
        return LABEL_USAGE
    number = ctx.issue_number
    if number is None:
        return NO_ISSUE
    options, problems = await _current_options(ctx)
    if options is None:
        return _invalid(problems)
    adding = args[0].lower() == "add"
    asked = resolve_label_names(args[1:], [label.name for label in await read_repo_labels(ctx)])
    current = await read_issue_labels(ctx, number)
    if adding:
        labels = labels_after_adding(
            current, asked.found, options.exclusive_scopes, options.scope_separator
        )
    else:
        labels = labels_after_removing(current, asked.found)
    if labels != current:
        await set_issue_labels(ctx, number, labels)
    thing = "pull request" if "pull_request" in (ctx.issue or {}) else "issue"
    return render_label_reply(adding=adding, before=current, after=labels, asked=asked, thing=thing)


async def labels_command(ctx: Context[LabelSyncOptions], args: tuple[str, ...]) -> str:
    flags = [arg.lower() for arg in args[1:]]
    if not args or args[0].lower() != "sync" or any(flag != DRY_RUN_FLAG for flag in flags):
        return LABELS_USAGE
    options, problems = await _current_options(ctx)
    if options is None:
        return _invalid(problems)
    dry_run = DRY_RUN_FLAG in flags
    plan = await sync_labels(
        ctx, options.labels, delete_undeclared=options.delete_undeclared, apply=not dry_run
    )
    reply = (SYNC_DRY_RUN if dry_run else SYNC_DONE) + plan.render_markdown()
    if not ctx.configured:
        reply += NOT_CONFIGURED.format(path=CONFIG_PATH)
    return fit_for_github(reply)
