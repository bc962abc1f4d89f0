"""The chat-completions API, through the official `openai` package.

Any OpenAI-compatible server answers: OpenAI, Azure OpenAI (its `/openai/v1` base URL),
Ollama, vLLM, llama.cpp's server. The client is configured explicitly — base URL, key,
model, timeout, retries — and reads nothing from the environment itself. Transient
failures (connection errors, 408, 409, 429, 5xx) are retried by the package with its
backoff, `MAX_RETRIES` times, honouring `Retry-After`, inside the agent's time budget.
"""

from __future__ import annotations

from openai import AsyncOpenAI

from ghapp.skills.mention_reply.operator import ResponderSettings

MAX_RETRIES = 2
NO_KEY = "unused"  # local servers (Ollama, llama.cpp) take any key; the package wants one


def open_client(settings: ResponderSettings) -> AsyncOpenAI:
    """A client for one mention (closed by the caller: `async with`)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else NO_KEY
    return AsyncOpenAI(
        api_key=key,
        base_url=settings.openai_base_url,  # None: OpenAI's API
        max_retries=MAX_RETRIES,
        timeout=settings.agent_timeout,  # each request; the whole mention is bounded too
    )
