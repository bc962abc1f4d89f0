"""onboarding's handlers: a new installation or repository gets the proposal once;
`@slug config` asks for it on demand."""

from __future__ import annotations

from typing import Any

from ghapp import CONFIG_PATH, Context, NoOptions, UsageError, code_span, is_transient
from ghapp.skills.onboarding.proposal import Proposal, propose
from ghapp.skills.onboarding.starter import TITLE

CONFIGURED_REPLY = "This repository has {path} already: edit it to change what ghapp does here."
OPEN_REPLY = "The pull request that configures ghapp is open: #{number}."
OPENED_REPLY = "Opened #{number}, which adds {path} written for this repository."
DRY_RUN_REPLY = "Dry run: the pull request “{title}” would be opened; nothing was sent."
ARCHIVED_REPLY = "This repository is archived, so no pull request can be opened here."
EMPTY_REPLY = "This repository has no commits yet; push one, then ask again."


class OnboardingFailed(Exception):
    """Some repositories of an installation got no proposal (the others did)."""


async def onboard_new_repositories(ctx: Context[NoOptions]) -> None:
    """`installation.created` and `installation_repositories.added`: each repository
    (where onboarding is switched on) gets the proposal once, ever. One repository
    failing does not stop the others; a GitHub outage retries the delivery."""
    key = "repositories" if ctx.event == "installation" else "repositories_added"
    entries = ctx.payload.get(key) or []
    names = [e["full_name"] for e in entries if isinstance(e, dict) and e.get("full_name")]
    failures: list[str] = []
    for full_name in names:
        repo_ctx = await ctx.for_repo(full_name)
        if repo_ctx is None:
            continue  # switched off for this repository

        async def act(retrying: bool, repo_ctx: Context[Any] = repo_ctx) -> str:
            # GitHub is asked every time (the branch, its pull requests, the file), so a
            # retry after a crash finds what the first attempt did.
            proposal = await propose(repo_ctx, on_demand=False)
            return _summary(proposal)

        try:
            await repo_ctx.once("proposal", act)
        except Exception as exc:
            if is_transient(exc):
                raise
            repo_ctx.log.exception("onboarding pull request failed")
            failures.append(f"{full_name}: {type(exc).__name__}: {exc}")
    if failures:
        raise OnboardingFailed("; ".join(failures))


def _summary(proposal: Proposal) -> str:
    number = f" #{proposal.number}" if proposal.number is not None else ""
    return f"{proposal.outcome}{number}"


async def config_command(ctx: Context[NoOptions], args: tuple[str, ...]) -> str:
    """`@slug config`: open the proposal (a new one if the last was closed) or link it."""
    if args:
        raise UsageError("`config` takes no arguments")
    proposal = await propose(ctx, on_demand=True)
    path = code_span(CONFIG_PATH)
    match proposal.outcome:
        case "configured":
            return CONFIGURED_REPLY.format(path=path)
        case "open":
            return OPEN_REPLY.format(number=proposal.number)
        case "opened":
            return OPENED_REPLY.format(number=proposal.number, path=path)
        case "dry_run":
            return DRY_RUN_REPLY.format(title=TITLE)
        case "empty":
            return EMPTY_REPLY
        case "archived":
            return ARCHIVED_REPLY
        case "declined":  # only a proposal nobody asked for stops at a closed one
            raise AssertionError("an on-demand proposal is never declined")
