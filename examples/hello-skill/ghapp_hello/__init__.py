"""hello: greets the author of every new issue, and answers `@bot hello [NAME]`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ghapp import Context, Skill


class HelloOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str = "Hello"


skill = Skill(
    "hello",
    "Greets the author of every new issue.",
    permissions={"issues": "write"},
    options=HelloOptions,
)


@skill.on("issues.opened")
async def greet(ctx: Context) -> None:
    if ctx.sender_is_bot:
        return
    state = await ctx.begin_effect(f"greet:{ctx.issue_number}")
    if state == "done":
        return
    await ctx.reply(f"{ctx.options.greeting} @{ctx.sender['login']}!")
    await ctx.finish_effect(f"greet:{ctx.issue_number}")


@skill.command(
    "hello",
    usage="hello [NAME]",
    description="Says hello.",
    example="@bot hello Mona",
    permission="read",
)
async def hello(ctx: Context, args: tuple[str, ...]) -> str:
    return f"{ctx.options.greeting} {' '.join(args) or ctx.sender.get('login', 'there')}!"
