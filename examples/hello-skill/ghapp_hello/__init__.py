"""hello: greets the author of every new issue, and answers `@bot hello [NAME]`."""

from __future__ import annotations

from ghapp import Context, Skill, SkillOptions


class HelloOptions(SkillOptions):
    greeting: str = "Hello"


skill = Skill(
    "hello",
    "Greets the author of every new issue.",
    permissions={"issues": "write"},
    options=HelloOptions,
)


@skill.on("issues.opened")
async def greet(ctx: Context[HelloOptions]) -> None:
    if ctx.sender_is_bot:
        return
    greeting = f"{ctx.options.greeting} @{ctx.sender['login']}!"

    async def post(retrying: bool) -> None:
        # An earlier attempt may have crashed after posting: look before greeting again.
        if not retrying or not await already_greeted(ctx, greeting):
            await ctx.reply(greeting)

    await ctx.once(f"greet:{ctx.issue_number}", post)


async def already_greeted(ctx: Context[HelloOptions], greeting: str) -> bool:
    """Whether this App's bot has posted `greeting` on the issue."""
    bot = f"{ctx.app.slug}[bot]".lower()
    comments = ctx.github.rest.issues.async_list_comments
    async for comment in ctx.paginate(comments, issue_number=ctx.issue_number or 0):
        if comment.user and comment.user.login.lower() == bot and comment.body == greeting:
            return True
    return False


@skill.command(
    "hello",
    usage="hello [NAME]",
    description="Says hello.",
    example="@bot hello Mona",
    permission="read",
)
async def hello(ctx: Context[HelloOptions], args: tuple[str, ...]) -> str:
    return f"{ctx.options.greeting} {' '.join(args) or ctx.sender.get('login', 'there')}!"
