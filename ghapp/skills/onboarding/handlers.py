"""onboarding's handlers: a new installation or repository gets the proposal once;
`@slug config` asks for it on demand."""

from __future__ import annotations

from typing import Any

from ghapp import (
    CONFIG_PATH,
    Context,
    NoOptions,
    RepositoriesFailed,
    UsageError,
    code_span,
    for_each_added_repository,
)
from ghapp.skills.onboarding.proposal import Proposal, propose
from ghapp.skills.onboarding.starter import TITLE

CONFIGURED_REPLY = "This repository has {path} already: edit it to change what ghapp does here."
OPEN_REPLY = "The pull request that configures ghapp is open: #{number}."
OPENED_REPLY = "Opened #{number}, which adds {path} written for this repository."
DRY_RUN_REPLY = "Dry run: the pull request “{title}” would be opened; nothing was sent."
ARCHIVED_REPLY = "This repository is archived, so no pull request can be opened here."
EMPTY_REPLY = "This repository has no commits yet; push one, then ask again."


class OnboardingFailed(RepositoriesFailed):
    """Some repositories of an installation got no proposal (the others did)."""


async def onboard_new_repositories(ctx: Context[NoOptions]) -> None:
    """`installation.created` and `installation_repositories.added`: each repository
    (where onboarding is switched on) gets the proposal once, ever."""

    async def onboard(repo_ctx: Context[Any]) -> None:
        async def act(retrying: bool) -> str:
            # GitHub is asked every time (the branch, its pull requests, the file), so a
            # retry after a crash finds what the first attempt did.
            return _summary(await propose(repo_ctx, on_demand=False))

        await repo_ctx.once("proposal", act)

    await for_each_added_repository(
        ctx, onboard, what="onboarding pull request", failed=OnboardingFailed
    )


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
