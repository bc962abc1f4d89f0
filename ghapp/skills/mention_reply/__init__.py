"""mention-reply: `@slug` chat-ops — commands from every enabled skill, free text to a responder.

Someone writes `@slug label add bug` (or `@slug help`, or `@slug can you summarise
this?`) in an issue, a pull request, a review thread or a discussion. The App looks at
`👀` at once, then answers once, in the same thread: each command line runs in order
(each with its own permission check) and the answers make one comment; free text goes to
the configured responder, or gets the help when there is none.

Bots, the App included, never trigger it, and only new comments do (edits never re-run
commands). The reply is owed to the comment, not to the delivery: a redelivery, or the
same comment under a new delivery id, finds the effect done; a retry after a crash
looks for the reply's invisible marker before posting again.
"""

from __future__ import annotations

from ghapp.commands import RoleLookup, help_entries, run_command, syntax_reply
from ghapp.commands_text import format_help, format_unknown
from ghapp.context import AvailableCommand, Context
from ghapp.github import GitHubUnavailable, RetryLater, classify_failure
from ghapp.skill import Skill
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

skill = Skill(
    "mention-reply",
    "Answers @mentions: runs commands from enabled skills, or hands free text to a responder.",
    permissions={"issues": "write", "pull_requests": "write", "discussions": "write"},
    options=MentionReplyOptions,
)


@skill.on(
    "issue_comment.created",
    "issues.opened",
    "pull_request.opened",
    "pull_request_review_comment.created",
    "discussion_comment.created",
)
async def answer_mention(ctx: Context) -> None:
    options: MentionReplyOptions = ctx.options
    if ctx.event not in options.events or ctx.sender_is_bot:
        return
    trigger = trigger_of(ctx.event, ctx.payload)
    if trigger is None or trigger.author.lower().endswith("[bot]"):
        return
    lines, free_text = read_comment(trigger.text, ctx.app.slug)
    if not lines and free_text is None:
        return  # the App was not addressed

    # A dry run writes nothing, the effects table included: a later real run must act.
    state = "new" if ctx.dry_run else await ctx.begin_effect(trigger.effect_key)
    if state == "done":
        return
    if options.reaction:
        await _look(ctx)
    if state == "retry" and await find_reply(ctx, trigger):
        ctx.log.info("reply to %s was posted before a crash", trigger.effect_key)
        await ctx.finish_effect(trigger.effect_key)
        return

    available = await ctx.available_commands()
    known = {c.command.name for c in available}
    steps = plan_reply(lines, free_text, known, has_responder=options.responder is not None)
    sections = await _answer(ctx, trigger, steps, available)
    body = compose_reply(
        sections,
        header=options.reply_header,
        footer=options.reply_footer,
        marker=trigger.marker,
    )
    await ctx.reply(body)
    if not ctx.dry_run:
        await ctx.finish_effect(trigger.effect_key)


async def _look(ctx: Context) -> None:
    """👀 — a courtesy: when GitHub refuses it (a locked thread), the reply still comes."""
    try:
        await ctx.react("eyes")
    except Exception as exc:
        if _transient(exc):
            raise
        ctx.log.warning("could not react to the mention: %s", exc)


def _transient(exc: Exception) -> bool:
    """GitHub down or rate-limited: the whole delivery is tried again later."""
    return isinstance(exc, RetryLater | GitHubUnavailable) or classify_failure(exc) is not None


async def _answer(
    ctx: Context, trigger: Trigger, steps: list[Step], available: list[AvailableCommand]
) -> list[tuple[str | None, str]]:
    """(title, markdown) for each step, in order."""
    options: MentionReplyOptions = ctx.options
    slug = ctx.app.slug
    by_name = {c.command.name: c for c in available}
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
                usage = by_name[line.name].command.usage
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
                sections.append((None, await _respond(ctx, trigger, text, options)))
    return sections


async def _respond(ctx: Context, trigger: Trigger, text: str, options: MentionReplyOptions) -> str:
    assert options.responder is not None
    try:
        thread = await thread_excerpt(ctx, trigger, text)
    except Exception as exc:
        if _transient(exc):
            raise
        ctx.log.warning("cannot read the thread for the responder: %s", exc)
        return RESPONDER_APOLOGY
    try:
        return await ask(options.responder, thread, timeout=options.responder_timeout)
    except ResponderError as exc:
        ctx.log.warning("responder %s: %s", options.responder, exc)
        return RESPONDER_APOLOGY
