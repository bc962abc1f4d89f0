"""onboarding: the pull request that proposes `.github/ghapp.yml` (PRODUCT.md §7).

As Renovate does: when the App is installed on a repository (`installation.created`,
`installation_repositories.added`) that has no `.github/ghapp.yml`, it opens one pull
request, "Configure ghapp", from the branch `ghapp/configure`, adding a starter file
written for that repository (its labels, its release-drafter settings, milestone
progress on) and a description of what each section does and what merging changes
(label-sync's plan, through the function label-sync offers). Nothing else of ghapp's
bulk work happens before a person merges it.

It is proposed once per repository. GitHub itself remembers it (the branch and its pull
requests, open or closed), so redeliveries, a second worker, the repository added again,
a lost database or a reinstall propose nothing new, and a proposal closed unmerged is not
reopened; `ctx.once` keeps the delivery's own bookkeeping. `@slug config` asks for it on
demand: it links the open one, or opens a new one if the last was closed. Installation
owners switch onboarding off on the settings page like any skill.

Where it is written: `starter` (the pure file and description), `proposal` (what GitHub
has, and opening the pull request), `handlers`.
"""

from __future__ import annotations

from ghapp import NoOptions, Skill
from ghapp.skills.onboarding import handlers

__all__ = ["skill"]

skill = Skill(
    "onboarding",
    "Opens one pull request proposing .github/ghapp.yml where a repository has none.",
    # contents: the branch and the commit; pull_requests: the pull request itself;
    # issues: reading the labels the file declares.
    permissions={"contents": "write", "pull_requests": "write", "issues": "read"},
    options=NoOptions,
)

skill.on("installation.created", "installation_repositories.added")(
    handlers.onboard_new_repositories
)

skill.command(
    "config",
    usage="config",
    description="Opens the pull request that adds .github/ghapp.yml, or links the open one",
    example="@slug config",
    permission="write",
)(handlers.config_command)
