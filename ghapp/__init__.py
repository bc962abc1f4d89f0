"""ghapp: a GitHub App in Python. Everything a skill needs is imported from here:

    from ghapp import Context, Skill, SkillOptions

    class HelloOptions(SkillOptions):
        greeting: str = "Hello"

    skill = Skill("hello", "Greets new issues.", permissions={"issues": "write"},
                  options=HelloOptions)

    @skill.on("issues.opened")
    async def greet(ctx: Context[HelloOptions]) -> None:
        async def post(retrying: bool) -> None:
            await ctx.reply(f"{ctx.options.greeting} @{ctx.sender['login']}!")
        await ctx.once(f"greet:{ctx.issue_number}", post)

Importing it loads no database, queue or web module: a skill depends on this contract,
not on how ghapp stores, queues or serves. `ghapp.testing` runs skills in tests.
"""

from ghapp.added_repositories import RepositoriesFailed, for_each_added_repository
from ghapp.context import AvailableCommand, Context, RepoRef
from ghapp.failures import is_transient
from ghapp.github import AppInfo
from ghapp.markdown import code_span
from ghapp.repo_config import CONFIG_PATH
from ghapp.skill import (
    Command,
    CommandPermission,
    Feature,
    NoOptions,
    Role,
    Skill,
    SkillOptions,
    UsageError,
    role_allows,
)

__all__ = [
    "CONFIG_PATH",
    "AppInfo",
    "AvailableCommand",
    "Command",
    "CommandPermission",
    "Context",
    "Feature",
    "NoOptions",
    "RepoRef",
    "RepositoriesFailed",
    "Role",
    "Skill",
    "SkillOptions",
    "UsageError",
    "code_span",
    "for_each_added_repository",
    "is_transient",
    "role_allows",
]
__version__ = "0.1.0"
