"""mention-reply's handler: answer a mention once, in the thread it came from.

The pure side (`plan`) reads the comment and decides the steps; this module does the
I/O around them: the 👀, the role checks and commands (`commands`), the responder
(`responders`, with the thread from `thread`), and the one reply, kept single by
`ctx.once` under the triggering object's key.
"""

from __future__ import annotations

from ghapp import AvailableCommand, Context, is_transient
from ghapp.skills.mention_reply.commands import (
    RoleLookup,
    format_help,
    format_unknown,
    help_entries,
    run_command,
    syntax_reply,
)
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
from ghapp.skills.mention_reply.responders import ResponderError, ask
from ghapp.skills.mention_reply.thread import find_reply, thread_excerpt

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
        steps = plan_reply(lines, free_text, known, has_responder=options.responder is not None)
        sections = await _answer(ctx, trigger, steps, available)
        body = compose_reply(
            sections,
            header=options.reply_header,
            footer=options.reply_footer,
            marker=trigger.marker,
        )
        await ctx.reply(body)

    await ctx.once(trigger.effect_key, reply)


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
                sections.append((None, await _respond(ctx, trigger, text)))
    return sections


async def _respond(ctx: Context[MentionReplyOptions], trigger: Trigger, text: str) -> str:
    responder = ctx.options.responder
    assert responder is not None
    try:
        thread = await thread_excerpt(ctx, trigger, text)
    except Exception as exc:
        if is_transient(exc):
            raise
        ctx.log.warning("cannot read the thread for the responder: %s", exc)
        return RESPONDER_APOLOGY
    try:
        return await ask(responder, thread, timeout=ctx.options.responder_timeout)
    except ResponderError as exc:
        ctx.log.warning("responder %s: %s", responder, exc)
        return RESPONDER_APOLOGY
