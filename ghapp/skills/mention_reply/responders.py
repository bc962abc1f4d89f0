"""Responders: who answers a mention that is not a command — the hook for an AI agent.

A responder is either a Python entry point in the `ghapp.responders` group, an
`async (thread: dict) -> str` callable, or a URL that receives the same dict as JSON
(POST, signed: `X-Ghapp-Signature-256: sha256=HMAC(RESPONDER_SECRET, body)`) and
answers markdown, as `text/markdown` (any `text/*`) or as JSON `{"markdown": "..."}`;
where a URL may point is checked first (`url_guard`), and redirects are not followed.
The thread dict holds `repository`, `issue` (`number`, `title`,
`url`), `thread` (the last comments, each truncated), `comment` (`author`, `body`) and
`text` (what was said to the App, without the mention).

Whatever goes wrong — a timeout, an error status, an answer too large or empty, an
exception in the callable — is a ResponderError: the skill apologises in one line and
logs the cause; the commenter never sees a stack trace.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, cast

import httpx

from ghapp.skills.mention_reply.options import is_url
from ghapp.skills.mention_reply.url_guard import SIGNATURE_HEADER, ResponderRefused, resolve, sign

GROUP = "ghapp.responders"
MAX_RESPONSE_BYTES = 64 * 1024

Responder = Callable[[dict[str, Any]], Awaitable[str]]


class ResponderError(Exception):
    """The responder gave no usable answer; the message is for the logs."""


@dataclass(frozen=True)
class UrlPolicy:
    """Where URL responders may point (RESPONDER_ALLOWED_HOSTS) and how requests are signed."""

    allowed_hosts: tuple[str, ...] = ()
    secret: str | None = None
    from_repository: bool = True  # named in `.github/ghapp.yml`, not by the operator


def load_responder(name: str) -> Responder:
    """The entry point `name` of the `ghapp.responders` group."""
    found = list(entry_points(group=GROUP, name=name))
    if not found:
        raise ResponderError(f"no {GROUP} entry point named {name!r}")
    try:
        responder = found[0].load()
    except Exception as exc:  # a broken plugin is the responder's failure, not ours
        raise ResponderError(f"cannot load responder {name!r}: {exc}") from exc
    if not callable(responder):
        raise ResponderError(f"responder {name!r} is not callable")
    return cast(Responder, responder)


async def ask(
    spec: str, thread: dict[str, Any], *, timeout: float, policy: UrlPolicy | None = None
) -> str:
    """The responder's markdown for `thread`, within `timeout` seconds in all."""
    try:
        async with asyncio.timeout(timeout):
            if is_url(spec):
                answer = await _ask_url(spec, thread, timeout, policy or UrlPolicy())
            else:
                answer = await load_responder(spec)(thread)
    except TimeoutError:
        raise ResponderError(f"responder took longer than {timeout:g}s") from None
    except ResponderError:
        raise
    except ResponderRefused as exc:
        raise ResponderError(f"responder refused: {exc}") from None
    except Exception as exc:
        raise ResponderError(f"responder failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(answer, str) or not answer.strip():
        raise ResponderError("responder gave an empty answer")
    if len(answer.encode()) > MAX_RESPONSE_BYTES:
        raise ResponderError(f"responder answer is larger than {MAX_RESPONSE_BYTES} bytes")
    return answer.strip()


async def _ask_url(url: str, thread: dict[str, Any], timeout: float, policy: UrlPolicy) -> str:
    if policy.secret is None:
        raise ResponderRefused("RESPONDER_SECRET is not set: URL responders are not called")
    target = await resolve(
        url, allowed_hosts=policy.allowed_hosts, from_repository=policy.from_repository
    )
    body = json.dumps(thread).encode()
    headers = {
        "Accept": "text/markdown, application/json;q=0.9, text/*;q=0.5",
        "Content-Type": "application/json",
        "Host": target.host_header,
        SIGNATURE_HEADER: sign(policy.secret, body),
    }
    # The checked address, never a second DNS answer; TLS still verifies the name.
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        if response.status_code != 200:
            raise ResponderError(f"responder answered HTTP {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            raise ResponderError(f"responder answer is larger than {MAX_RESPONSE_BYTES} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise ResponderError(f"responder answer is larger than {MAX_RESPONSE_BYTES} bytes")
        return markdown_from(response.headers.get("content-type", ""), bytes(body))


def markdown_from(content_type: str, body: bytes) -> str:
    """The markdown in a responder's answer: `text/*` as it is, JSON's `markdown` field."""
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ResponderError("responder answer is not UTF-8") from None
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ResponderError("responder answered invalid JSON") from None
        markdown = data.get("markdown") if isinstance(data, dict) else None
        if not isinstance(markdown, str):
            raise ResponderError('responder JSON has no "markdown" string')
        return markdown
    if media.startswith("text/"):
        return text
    raise ResponderError(f"responder answered {media or 'no content type'}, not markdown")
