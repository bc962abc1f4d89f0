"""The built-in agent: a free-text mention answered by an OpenAI-compatible model.

`answer` builds the prompt from the thread (`prompt`), offers this repository's commands
as tools (`tools`), talks to the API (`client`, `conversation`) within `AGENT_TIMEOUT`,
and writes the reply: the model's answer and what it ran, was refused or failed. Every
failure — the API down or slow, a refusal, an answer that makes no sense — ends in a
short apology (with what already ran), never a traceback; a GitHub outage during a
command is not the agent's failure and propagates, so the delivery is tried again.

The `openai` package (~20 MiB kept for the life of a process, and a second of CPU to
import) is loaded by the first free-text mention the agent answers, not when the skill is
loaded: a process whose installations never switch the agent on never pays for it
(issue 17's memory target; `tests/test_startup_imports.py`).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ghapp import Context, is_transient
from ghapp.skills.mention_reply.agent.metrics import AGENT_CALLS, AGENT_FAILURES, AGENT_TOKENS
from ghapp.skills.mention_reply.agent.prompt import messages
from ghapp.skills.mention_reply.agent.tools import MAX_CALLS, Toolbox, ToolRun
from ghapp.skills.mention_reply.commands import RoleLookup
from ghapp.skills.mention_reply.operator import ResponderSettings

__all__ = ["AGENT_CALLS", "AGENT_FAILURES", "AGENT_TOKENS", "FEATURE", "answer", "compose"]

FEATURE = "agent"  # the switch `mention-reply/agent`
APOLOGIES = {
    "timeout": "Sorry, I could not come up with an answer in time. Please try again later.",
    "api": "Sorry, I cannot reach my AI service right now. Please try again later.",
    "refusal": "Sorry, I cannot help with that.",
    "malformed": "Sorry, my AI service gave an answer I could not use. Please try again later.",
}
_HIDDEN = re.compile(r"<!--.*?-->", re.DOTALL)
_DONE = {"ran": "Ran", "refused": "Refused", "failed": "Failed", "skipped": "Did not run"}


async def answer(
    ctx: Context[Any],
    *,
    login: str,
    thread: dict[str, Any],
    settings: ResponderSettings,
    budget: int,
    roles: RoleLookup,
) -> str:
    """The reply to `login`'s mention, in markdown."""
    assert settings.agent_model is not None
    from openai import APIError, APITimeoutError  # loaded here: see the module

    from ghapp.skills.mention_reply.agent.client import open_client
    from ghapp.skills.mention_reply.agent.conversation import Malformed, Refused, converse

    toolbox = Toolbox(ctx, login, await ctx.available_commands(), roles)
    description = (ctx.payload.get("repository") or {}).get("description")
    chat = messages(
        thread,
        slug=ctx.app.slug,
        description=description if isinstance(description, str) else None,
        budget=budget,
        max_tools=MAX_CALLS,
    )
    text: str | None = None
    failure: str | None = None
    deadline = asyncio.get_running_loop().time() + settings.agent_timeout
    try:
        async with open_client(settings) as client:
            text = await converse(
                ctx, client, settings.agent_model, chat, toolbox, deadline=deadline
            )
    except (TimeoutError, APITimeoutError):
        failure = "timeout"
    except APIError as exc:
        failure = "api"
        ctx.log.warning("agent: the API failed: %s", type(exc).__name__)
    except Refused:
        failure = "refusal"
    except Malformed as exc:
        failure = "malformed"
        ctx.log.warning("agent: %s", exc)
    except Exception as exc:
        if is_transient(exc):
            raise  # GitHub is down during a command: the delivery is tried again
        ctx.log.exception("agent failed")
        failure = "malformed"
    if failure is not None:
        ctx.count(AGENT_FAILURES, reason=failure)
        ctx.log.warning("agent could not answer: %s", failure)
    return compose(text, failure, toolbox.runs, ctx.app.slug)


def _shown(text: str) -> str:
    """The model's words without hidden HTML comments: a model talked into writing
    another comment's reply marker must not make that comment look answered."""
    return _HIDDEN.sub("", text).replace("<!--", "&lt;!--").strip() or APOLOGIES["malformed"]


def compose(text: str | None, failure: str | None, runs: list[ToolRun], slug: str) -> str:
    """The model's answer (or the apology), then what was run, refused or failed."""
    body = _shown(text) if failure is None and text else APOLOGIES[failure or "malformed"]
    if not runs:
        return body
    lines = []
    for run in runs:
        reply = "\n".join("  " + line if line else "" for line in run.text.strip().splitlines())
        shown = run.line.replace("`", "'")
        lines.append(f"- {_DONE.get(run.outcome, 'Failed')} `@{slug} {shown}`:\n{reply}")
    return f"{body}\n\n**Commands:**\n\n" + "\n".join(lines)
