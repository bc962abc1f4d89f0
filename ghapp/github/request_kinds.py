"""What kind of GitHub request a request is: a read or a write, a token request, a request
that creates content. Transport, retry policy and pacing all decide by these."""

from __future__ import annotations

import httpx

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_write(method: str) -> bool:
    return method.upper() not in READ_METHODS


def is_token_request(url: httpx.URL) -> bool:
    return url.path.endswith("/access_tokens") or "/app-manifests/" in url.path


def creates_content(request: httpx.Request) -> bool:
    """Requests GitHub's guidance asks to space 3 s apart (comments, issues, releases…)."""
    if request.method != "POST":
        return False
    path = request.url.path
    if path.endswith("/graphql"):
        return b"addDiscussionComment" in request.content
    return path.endswith(("/comments", "/replies", "/issues", "/releases", "/pulls"))
