"""What the installation page's address may ask for, read strictly.

Every query parameter is outside input: a page number that is not a small ASCII number,
an outcome or event that is not one ghapp records, an over-long search — each is answered
400 with the parameter named (`BadQuery`), never a 500 and never silently something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

PAGE_SIZE = 20  # rows per page of repositories, overrides, deliveries and changes
MAX_PAGE = 10_000
MAX_ID = 2**63 - 1  # installation ids are BIGINT in the database
OUTCOMES = {
    "failed": "failed",
    "done": "done",
    "queued": "queued",
    "running": "running",
    "ignored": "ignored",
}
EVENT = re.compile(r"[a-z_]{1,64}(\.[a-z_]{1,64})?")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
T = TypeVar("T")


class BadQuery(ValueError):
    """A query parameter the page cannot use: the message names it, for a 400."""


def ascii_number(raw: str, what: str, *, low: int = 1, high: int = MAX_ID) -> int:
    """`raw` as an int in [low, high]: ASCII digits only (`²` and `٣` are digits to
    `str.isdigit`, and `int()` accepts some of them)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not low <= int(raw) <= high:
        raise BadQuery(f"{what} must be a number from {low} to {high}")
    return int(raw)


def _page(params: QueryParams, name: str) -> int:
    raw = params.get(name)
    return 1 if raw in (None, "") else ascii_number(raw, name, high=MAX_PAGE)


@dataclass(frozen=True)
class PageQuery:
    repo: str | None  # the chosen repository ("owner/name" as typed)
    search: str  # the repository search box
    outcome: str | None
    event: str | None
    repos_page: int
    overrides_page: int
    deliveries_page: int
    changes_page: int
    changed: str | None  # the control a change came from (its confirmation shows there)

    @classmethod
    def read(cls, params: QueryParams) -> PageQuery:
        repo = params.get("repo", "").strip() or None
        if repo is not None and not REPOSITORY.fullmatch(repo):
            raise BadQuery("repo must be a repository name like owner/name")
        search = params.get("q", "").strip()
        if len(search) > 100 or not search.isprintable():
            raise BadQuery("q must be at most 100 printable characters")
        outcome = params.get("outcome", "") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise BadQuery(f"outcome must be one of {', '.join(OUTCOMES)}")
        event = params.get("event", "").strip() or None
        if event is not None and not EVENT.fullmatch(event):
            raise BadQuery("event must be an event name like issues or issues.opened")
        changed = params.get("changed", "") or None
        if changed is not None and not re.fullmatch(r"[a-z0-9-]{1,120}", changed):
            changed = None  # only decides where a confirmation shows: ignore, never fail
        return cls(
            repo=repo,
            search=search,
            outcome=outcome,
            event=event,
            repos_page=_page(params, "rpage"),
            overrides_page=_page(params, "opage"),
            deliveries_page=_page(params, "dpage"),
            changes_page=_page(params, "cpage"),
            changed=changed,
        )


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a longer list, and whether more follow."""

    items: list[T]
    page: int
    more: bool

    @classmethod
    def of(cls, items: list[T], page: int) -> Paged[T]:
        """From a list read with PAGE_SIZE + 1 rows (the extra one says "more")."""
        return cls(items[:PAGE_SIZE], page, len(items) > PAGE_SIZE)

    @classmethod
    def slice(cls, items: list[T], page: int) -> Paged[T]:
        start = (page - 1) * PAGE_SIZE
        return cls.of(items[start : start + PAGE_SIZE + 1], page)


def offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def link_maker(params: QueryParams, *, drop: tuple[str, ...] = ()) -> Callable[..., str]:
    """`here(dpage=2)`: this page's address with one parameter changed (None drops it),
    without the one-off `notice` and `changed` (and `drop`)."""
    kept = {k: v for k, v in params.items() if k not in ("notice", "changed", *drop)}

    def here(**changes: object) -> str:
        merged = {**kept, **{k: str(v) for k, v in changes.items() if v is not None}}
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
        return "?" + urlencode(merged)

    return here
