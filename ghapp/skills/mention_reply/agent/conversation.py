"""One mention's conversation with the model: ask, run the tools it calls, ask again.

The model sees the prompt and the tools; when it calls tools they run (`tools.Toolbox`)
and their results go back to it, until it answers in words. The last round offers no
tools, so it ends with an answer. The model calls together must end by `deadline`
(AGENT_TIMEOUT); a command, once started, is never cut off half-way by it. Every API
call is counted (`agent_calls{outcome}`), with the tokens the API reports in `usage`
(`agent_tokens{kind}`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from openai import APITimeoutError, AsyncOpenAI

from ghapp import Context
from ghapp.skills.mention_reply.agent.metrics import AGENT_CALLS, AGENT_TOKENS
from ghapp.skills.mention_reply.agent.tools import MAX_CALLS, Toolbox

MAX_ROUNDS = MAX_CALLS + 2  # tool rounds, then one for the answer


class Refused(Exception):
    """The model declined to answer (its `refusal`)."""


class Malformed(Exception):
    """The API's answer is not something to post: no choice, no text, broken calls."""


async def converse(
    ctx: Context[Any],
    client: AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    toolbox: Toolbox,
    *,
    deadline: float,
) -> str:
    """The model's final answer; tool calls on the way run through `toolbox`.

    `deadline` is the event loop's time by which the model calls must be done."""
    tools = toolbox.tools
    for round_no in range(MAX_ROUNDS):
        offer = tools if round_no < MAX_ROUNDS - 1 else []
        async with asyncio.timeout_at(deadline):
            message = await _complete(ctx, client, model, messages, offer)
        if getattr(message, "refusal", None):
            raise Refused(str(message.refusal)[:200])
        calls = list(getattr(message, "tool_calls", None) or [])
        if calls:
            messages.append(_assistant_turn(message.content, calls))
            for call in calls:
                function = getattr(call, "function", None)
                if function is None:
                    result = await toolbox.call("", None)  # a call kind we never offered
                else:
                    result = await toolbox.call(str(function.name), function.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
            continue
        text = (message.content or "").strip() if isinstance(message.content, str) else ""
        if not text:
            raise Malformed("the model gave an empty answer")
        return text
    raise Malformed("the model gave no answer after its tool calls")


async def _complete(
    ctx: Context[Any],
    client: AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
) -> Any:
    kwargs: dict[str, Any] = {"model": model, "messages": messages}
    if tools:
        kwargs["tools"] = tools
    try:
        completion = await client.chat.completions.create(**kwargs)
    except APITimeoutError:
        ctx.count(AGENT_CALLS, outcome="timeout")
        raise
    except Exception:
        ctx.count(AGENT_CALLS, outcome="error")
        raise
    ctx.count(AGENT_CALLS, outcome="ok")
    usage = getattr(completion, "usage", None)
    for kind in ("prompt", "completion"):
        used = getattr(usage, f"{kind}_tokens", None)
        if isinstance(used, int) and used > 0:
            ctx.count(AGENT_TOKENS, used, kind=kind)
    choices = getattr(completion, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise Malformed("the API's answer has no choice")
    return choices[0].message


def _assistant_turn(content: object, calls: list[Any]) -> dict[str, Any]:
    """The model's tool calls, as they go back to it with their results."""
    return {
        "role": "assistant",
        "content": content if isinstance(content, str) else None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": str(getattr(call.function, "name", "")),
                    "arguments": str(getattr(call.function, "arguments", "")),
                },
            }
            for call in calls
            if getattr(call, "function", None) is not None
        ],
    }
