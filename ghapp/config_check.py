"""The config check: a push that changes `.github/ghapp.yml` gets a check run saying
whether every skill's section validates, on the commit that introduced the change.

An invalid file is reported where its author will see it, and nothing destructive
happens (each skill falls back to the last valid file; see `ghapp.options`). A valid
one becomes that last valid file. This is a built-in behaviour, not a skill people
switch: the bus runs it before the skills, always; a failure of it fails the delivery,
but it has no outcome among the skills'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ghapp.context import Context
from ghapp.failures import invalid_options
from ghapp.options import OptionsResolver
from ghapp.repo_config import CONFIG_PATH, Problem
from ghapp.skill import Skill

NAME = "config-check"
CHECK_NAME = f"ghapp: {CONFIG_PATH}"
VALID_SUMMARY = "Every skill's section validates."


def touches_config(payload: dict[str, Any]) -> bool:
    """A push to the default branch that adds or changes `.github/ghapp.yml`."""
    default_branch = (payload.get("repository") or {}).get("default_branch")
    if payload.get("ref") != f"refs/heads/{default_branch}" or payload.get("deleted"):
        return False
    return any(
        CONFIG_PATH in (commit.get("added") or []) + (commit.get("modified") or [])
        for commit in payload.get("commits") or []
    )


class ConfigCheck:
    """Reports on a config change; `skill` is what the bus runs."""

    def __init__(self, resolver: OptionsResolver) -> None:
        self.resolver = resolver
        self.skill = Skill(
            NAME,
            f"Reports on each commit that changes {CONFIG_PATH} whether it validates.",
            permissions={"checks": "write", "contents": "read"},
        )
        self.skill.on("push")(self.report)

    async def report(self, ctx: Context[Any]) -> None:
        if ctx.repo is None or not touches_config(ctx.payload):
            return
        config, problems = await self.resolver.checked_problems(ctx.github, ctx.repo)
        if config is not None and not problems:
            await self.resolver.remember_valid(ctx.repo, config)
        head = ctx.payload.get("after")
        if not head:
            return
        repository = ctx.payload.get("repository") or {}
        await ctx.github.rest.checks.async_create(
            ctx.repo.owner,
            ctx.repo.name,
            name=CHECK_NAME,
            head_sha=head,
            status="completed",
            **check_output(
                problems,
                config.notes if config is not None else [],
                repo=ctx.repo.full_name,
                branch=repository.get("default_branch"),
                site=_site(repository.get("html_url"), ctx.repo.full_name),
            ),
        )


def check_output(
    problems: Sequence[str | Problem],
    notes: list[str],
    *,
    repo: str | None = None,
    branch: str | None = None,
    site: str = "https://github.com",
) -> dict[str, Any]:
    """The check run's conclusion and output: failure for problems; neutral (shown, yet
    not red) when the file applies but something is amiss, such as a missing
    `_extends` base; success otherwise. Problems say their line, and the next step
    links the first one on `site` (the default branch, `branch`, is what was read)."""
    reason = invalid_options(NAME, problems, repo, branch=branch) if problems else None
    listed = "\n".join(f"- {line}" for line in [*(reason.problems if reason else ()), *notes])
    if reason is not None and reason.link and reason.link.startswith("/") and "#L" in reason.link:
        link = site.rstrip("/") + reason.link
        listed += f"\n\n**Next:** {reason.next_step} [{reason.link_text}]({link})"
    if problems:
        conclusion, title = "failure", "Invalid configuration"
    elif notes:
        conclusion, title = "neutral", "Configuration applies, with warnings"
    else:
        conclusion, title = "success", "Configuration is valid"
    return {
        "conclusion": conclusion,
        "output": {"title": title, "summary": fit_summary(listed or VALID_SUMMARY)},
    }


def _site(html_url: Any, full_name: str) -> str:
    """The GitHub web site's root, from the repository's page (GitHub Enterprise too)."""
    suffix = "/" + full_name
    if isinstance(html_url, str) and html_url.lower().endswith(suffix.lower()):
        return html_url[: -len(suffix)]
    return "https://github.com"


def fit_summary(text: str, limit: int = 65_535) -> str:
    """GitHub refuses a check run summary over 65,535 characters."""
    return text if len(text) <= limit else text[: limit - 20] + "\n\n… (cut short)"
