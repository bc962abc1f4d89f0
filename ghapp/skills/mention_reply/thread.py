"""Reading the thread a mention lives in: an excerpt for the responder, and our own reply.

Issues and pull requests (opened, or commented on) are read through the issue comments
API, review comments through the pull request's review comments (only the same review
thread is kept), discussions through GraphQL (their REST API is gone). Every comment is
handed on as the REST shape's `{"user": {"login"}, "body"}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from githubkit.response import Response

from ghapp import Context
from ghapp.skills.mention_reply.plan import Trigger

THREAD_LENGTH = 10  # comments handed to a responder
AGENT_THREAD_LENGTH = 30  # to the built-in agent, which keeps what fits its token budget
DISCUSSION_COMMENTS = (
    "query($id: ID!) { node(id: $id) { ... on Discussion { comments(last: 50) { nodes { "
    "id body author { login } replies(last: 50) { nodes { id body author { login } } } } } } } }"
)
EXCERPT_CHARS = 2000  # of each comment's body


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _raw(response: Response[Any]) -> list[dict[str, Any]]:
    data = response.json()
    return data if isinstance(data, list) else []


def _since(trigger: Trigger) -> str | None:
    """The trigger's time as GitHub documents `since` (`YYYY-MM-DDTHH:MM:SSZ`); githubkit
    would send a datetime as `str()` does, with a space."""
    if not trigger.created_at:
        return None
    try:
        moment = datetime.fromisoformat(trigger.created_at).astimezone(UTC)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _issue_comments(
    ctx: Context[Any], number: int, count: int, length: int
) -> list[dict[str, Any]]:
    """The last `length` comments: the last page, and the one before when it is short."""
    repo = ctx.require_repo()
    last_page = max(1, -(-count // length))
    comments: list[dict[str, Any]] = []
    for page in (last_page - 1, last_page):
        if page < 1:
            continue
        response = await ctx.github.rest.issues.async_list_comments(
            repo.owner, repo.name, number, per_page=length, page=page
        )
        comments += _raw(response)
    return comments[-length:]


async def _review_thread(ctx: Context[Any], trigger: Trigger, length: int) -> list[dict[str, Any]]:
    repo = ctx.require_repo()
    comment = ctx.comment or {}
    number = ctx.issue_number
    if number is None:
        return []
    root = comment.get("in_reply_to_id") or comment.get("id")
    found: list[dict[str, Any]] = []
    paginator = ctx.github.rest.paginate(
        ctx.github.rest.pulls.async_list_review_comments,
        _raw,
        owner=repo.owner,
        repo=repo.name,
        pull_number=number,
        per_page=100,
    )
    async for item in paginator:
        if item.get("id") == root or item.get("in_reply_to_id") == root:
            found.append(item)
    return found[-length:]


async def _discussion_comments(ctx: Context[Any]) -> list[dict[str, Any]]:
    """The discussion's recent comments, each followed by its replies."""
    if ctx.dry_run:
        return []  # a GraphQL query is a POST, which a dry run does not send
    discussion = ctx.payload.get("discussion") or {}
    data = await ctx.github.async_graphql(DISCUSSION_COMMENTS, {"id": discussion.get("node_id")})
    found: list[dict[str, Any]] = []
    for comment in ((data.get("node") or {}).get("comments") or {}).get("nodes") or []:
        for item in [comment, *((comment.get("replies") or {}).get("nodes") or [])]:
            author = (item.get("author") or {}).get("login")
            found.append({"user": {"login": author}, "body": item.get("body")})
    return found


async def thread_excerpt(
    ctx: Context[Any], trigger: Trigger, text: str, *, length: int | None = None
) -> dict[str, Any]:
    """What a responder receives (see responders.py): the last `length` comments."""
    length = length or THREAD_LENGTH
    repo = ctx.require_repo()
    subject = ctx.issue or ctx.payload.get("discussion") or {}
    comments: list[dict[str, Any]] = []
    if trigger.kind == "review-comment":
        comments = await _review_thread(ctx, trigger, length)
    elif trigger.kind == "discussion-comment":
        comments = (await _discussion_comments(ctx))[-length:]
    elif ctx.issue_number is not None:
        count = subject.get("comments")
        if isinstance(count, int) and count > 0:
            comments = await _issue_comments(ctx, ctx.issue_number, count, length)
    return {
        "repository": repo.full_name,
        "issue": {
            "number": subject.get("number"),
            "title": subject.get("title"),
            "url": subject.get("html_url"),
            "body": excerpt(subject.get("body")),
        },
        "thread": [
            {"author": (c.get("user") or {}).get("login"), "body": excerpt(c.get("body"))}
            for c in comments
        ],
        "comment": {"author": trigger.author, "body": excerpt(trigger.text)},
        "text": text,
    }


async def find_reply(ctx: Context[Any], trigger: Trigger) -> bool:
    """Whether our reply to `trigger` is already on GitHub: its marker, by the App's bot."""
    repo = ctx.require_repo()
    bots = {ctx.app.slug.lower(), f"{ctx.app.slug}[bot]".lower()}  # GraphQL drops "[bot]"
    if trigger.kind == "discussion-comment":
        comments = await _discussion_comments(ctx)
        return any(_is_reply(c, trigger, bots) for c in comments)
    number = ctx.issue_number
    if number is None:
        return False
    kwargs: dict[str, Any] = {"owner": repo.owner, "repo": repo.name, "per_page": 100}
    since = _since(trigger)
    if since is not None:
        kwargs["since"] = since  # our reply came after the trigger: skip older comments
    if trigger.kind == "review-comment":
        paginator = ctx.github.rest.paginate(
            ctx.github.rest.pulls.async_list_review_comments, _raw, pull_number=number, **kwargs
        )
    else:
        paginator = ctx.github.rest.paginate(
            ctx.github.rest.issues.async_list_comments, _raw, issue_number=number, **kwargs
        )
    async for comment in paginator:
        if _is_reply(comment, trigger, bots):
            return True
    return False


def _is_reply(comment: dict[str, Any], trigger: Trigger, bots: set[str]) -> bool:
    author = str((comment.get("user") or {}).get("login") or "").lower()
    return author in bots and trigger.marker in str(comment.get("body") or "")
