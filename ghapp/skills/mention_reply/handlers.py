"""mention-reply's handler: answer a mention once, in the thread it came from.

The pure side (`plan`) reads the comment and decides the steps; this module does the
I/O around them: the 👀, the role checks and commands (`commands`), the responder
(`responders`, with the thread from `thread`), and the one reply, kept single by
`ctx.once` under the triggering object's key.
"""

from __future__ import annotations

from ghapp import AvailableCommand, Context, is_transient
from ghapp.skills.mention_reply import agent
from ghapp.skills.mention_reply.commands import (
    RoleLookup,
    format_help,
    format_unknown,
    help_entries,
    run_command,
    syntax_reply,
)
from ghapp.skills.mention_reply.operator import ResponderSettings, responder_settings
from ghapp.skills.mention_reply.options import MentionReplyOptions
from ghapp.skills.mention_reply.plan import (
    AskResponder,
    BadSyntax,
    RunCommand,
    ShowHelp,
    Step,
    Trigger,
    Unknown,
    compose_reply,
    plan_reply,
    read_comment,
    trigger_of,
)
from ghapp.skills.mention_reply.responders import ResponderError, UrlPolicy, ask
from ghapp.skills.mention_reply.thread import AGENT_THREAD_LENGTH, find_reply, thread_excerpt

RESPONDER_APOLOGY = "Sorry, I could not come up with an answer this time. Please try again later."
NO_RESPONDER = "I answer commands here. This is what I can do:"


async def answer_mention(ctx: Context[MentionReplyOptions]) -> None:
    options = ctx.options
    if ctx.event not in options.events or ctx.sender_is_bot:
        return
    trigger = trigger_of(ctx.event, ctx.payload)
    if trigger is None or trigger.author.lower().endswith("[bot]"):
        return
    lines, free_text = read_comment(trigger.text, ctx.app.slug)
    if not lines and free_text is None:
        return  # the App was not addressed

    async def reply(retrying: bool) -> None:
        if options.reaction:
            await _look(ctx)
        if retrying and await find_reply(ctx, trigger):
            ctx.log.info("reply to %s was posted before a crash", trigger.effect_key)
            return
        available = await ctx.available_commands()
        known = {c.name for c in available}
        responder = await choose_responder(ctx)
        steps = plan_reply(lines, free_text, known, has_responder=responder is not None)
        sections = await _answer(ctx, trigger, steps, available, responder)
        body = compose_reply(
            sections,
            header=options.reply_header,
            footer=options.reply_footer,
            marker=trigger.marker,
        )
        await ctx.reply(body)

    await ctx.once(trigger.effect_key, reply)


async def choose_responder(ctx: Context[MentionReplyOptions]) -> tuple[str, bool] | None:
    """Who answers free text here, and whether the repository (not the operator) chose it:
    the repository's `responder`, else RESPONDER; `agent` only with a model configured and
    the `mention-reply/agent` switch on; None: nobody (the help)."""
    settings = responder_settings(ctx.operator_settings)
    chosen = ctx.options.responder
    spec, from_repository = (chosen, True) if chosen else (settings.responder, False)
    if spec.lower() == "none":
        return None
    if spec.lower() == "agent":
        if settings.agent_model is None:
            ctx.log.warning("responder agent chosen, but AGENT_MODEL is not set")
            return None
        if not await ctx.feature_on(agent.FEATURE):
            return None
        return "agent", from_repository
    return spec, from_repository


async def _look(ctx: Context[MentionReplyOptions]) -> None:
    """👀 — a courtesy: when GitHub refuses it (a locked thread), the reply still comes."""
    try:
        await ctx.react("eyes")
    except Exception as exc:
        if is_transient(exc):
            raise
        ctx.log.warning("could not react to the mention: %s", exc)


async def _answer(
    ctx: Context[MentionReplyOptions],
    trigger: Trigger,
    steps: list[Step],
    available: list[AvailableCommand],
    responder: tuple[str, bool] | None,
) -> list[tuple[str | None, str]]:
    """(title, markdown) for each step, in order."""
    slug = ctx.app.slug
    by_name = {c.name: c for c in available}
    roles = RoleLookup(ctx)
    entries = help_entries(available)
    help_text = format_help(entries, slug=slug)
    help_shown = False
    sections: list[tuple[str | None, str]] = []
    for step in steps:
        match step:
            case RunCommand(line=line):
                answer = await run_command(
                    ctx, by_name[line.name], line.args, login=trigger.author, roles=roles
                )
                sections.append((line.raw, answer))
            case BadSyntax(line=line):
                usage = by_name[line.name].usage
                sections.append((line.raw, syntax_reply(line.message, usage, slug)))
            case Unknown(name=name):
                # The note alone (with its "did you mean"); the help follows it once.
                text = format_unknown(name, entries, slug=slug).split("\n\n", 1)[0]
                if not help_shown:
                    text = f"{text}\n\n{help_text}"
                    help_shown = True
                sections.append((name, text))
            case ShowHelp(unasked=unasked):
                if not help_shown:
                    lead = f"{NO_RESPONDER}\n\n" if unasked else ""
                    sections.append(("help", lead + help_text))
                    help_shown = True
            case AskResponder(text=text):
                assert responder is not None
                sections.append((None, await _respond(ctx, trigger, text, responder, roles)))
    return sections


async def _respond(
    ctx: Context[MentionReplyOptions],
    trigger: Trigger,
    text: str,
    responder: tuple[str, bool],
    roles: RoleLookup,
) -> str:
    spec, from_repository = responder
    settings = responder_settings(ctx.operator_settings)
    length = AGENT_THREAD_LENGTH if spec == "agent" else None
    try:
        thread = await thread_excerpt(ctx, trigger, text, length=length)
    except Exception as exc:
        if is_transient(exc):
            raise
        ctx.log.warning("cannot read the thread for the responder: %s", exc)
        return RESPONDER_APOLOGY
    if spec == "agent":
        budget = ctx.options.agent_token_budget
        return await agent.answer(
            ctx, login=trigger.author, thread=thread, settings=settings, budget=budget, roles=roles
        )
    try:
        return await ask(
            spec,
            thread,
            timeout=ctx.options.responder_timeout,
            policy=_policy(settings, from_repository),
        )
    except ResponderError as exc:
        ctx.log.warning("responder %s: %s", spec, exc)
        return RESPONDER_APOLOGY


def _policy(settings: ResponderSettings, from_repository: bool) -> UrlPolicy:
    secret = settings.responder_secret
    return UrlPolicy(
        allowed_hosts=settings.responder_allowed_hosts,
        secret=secret.get_secret_value() if secret else None,
        from_repository=from_repository,
    )
