"""Failures: which heal by waiting, and how to tell a person what failed and what to do.

GitHub down (5xx, a timeout, the connection lost), a rate limit, or Redis (through which
tokens, locks and pacing pass) unavailable: none of these is the skill's fault, and the
whole delivery is tried again later. A skill that catches exceptions to turn them into a
friendly line re-raises these:

    except Exception as exc:
        if is_transient(exc):
            raise
        ...

Everything else is final for the skill that raised it.

What is recorded of a failure (a skill run's `detail`, a delivery's `error`) is a
`FailureReason`: a plain-language summary built from what ghapp knows (the request that
failed, GitHub's status and message, the invalid option and why, the rate limit's reset)
and, where one exists, the next step with a link. It is stored as text (`encode`), so
the tables keep their shape; text stored before reasons existed reads back as a summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed

from ghapp.github import GitHubUnavailable, RetryLater, classify_failure, request_of
from ghapp.repo_config.model import Location, Problem

__all__ = [
    "CONFIG_FILE",
    "INSTALLATION_LINK",
    "FailureReason",
    "explain",
    "invalid_options",
    "is_transient",
    "plain_detail",
    "read_reason",
    "transient_failure",
]

MARKER = "ghapp-reason:"  # what a stored reason starts with (older rows are plain text)
INSTALLATION_LINK = "installation"  # the link to the installation's page on GitHub
CONFIG_FILE = ".github/ghapp.yml"
MAX_MESSAGE = 300  # GitHub's message and the technical text are cut to this
GITHUB_STATUS = "https://www.githubstatus.com"


def transient_failure(exc: BaseException) -> RetryLater | GitHubUnavailable | None:
    """`exc` as the reason to try again later (with GitHub's wait, for a rate limit), or
    None when waiting will not help."""
    if isinstance(exc, RetryLater | GitHubUnavailable):
        return exc
    found = classify_failure(exc)
    return found if isinstance(found, RetryLater | GitHubUnavailable) else None


def is_transient(exc: BaseException) -> bool:
    """Whether trying the delivery again later may succeed where this attempt failed."""
    return transient_failure(exc) is not None


@dataclass(frozen=True)
class FailureReason:
    """Why something failed, in words a person acts on.

    `link` is an absolute URL, a path on the GitHub web site (starting with `/`, joined
    to GITHUB_URL when shown), or `INSTALLATION_LINK` (the installation's page, where an
    owner accepts new permissions); `link_for` makes it a URL.
    """

    summary: str
    request: str | None = None  # "GET /repos/octo/hello/contents/.github/ghapp.yml"
    status: int | None = None
    message: str | None = None  # GitHub's own words
    problems: tuple[str, ...] = field(default=())  # invalid options: "where: why"
    next_step: str | None = None
    link: str | None = None
    link_text: str | None = None
    technical: str | None = None  # the exception, for whoever reads on

    def encode(self) -> str:
        fields = {k: v for k, v in asdict(self).items() if v not in (None, ())}
        return MARKER + json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    def line(self) -> str:
        """One line: the summary, GitHub's message and the next step (the CLI's form)."""
        parts = [self.summary]
        if self.message:
            parts.append(f"GitHub said: {self.message}")
        if self.problems:
            parts.append("; ".join(self.problems))
        if self.next_step:
            parts.append(f"Next: {self.next_step}")
        return " — ".join(parts)

    def short(self) -> str:
        """The exception as raised when there was one, else the summary (tests match it)."""
        return self.technical or self.summary

    def link_for(self, github_url: str, installation_url: str | None) -> str | None:
        if self.link == INSTALLATION_LINK:
            return installation_url
        if self.link and self.link.startswith("/"):
            return github_url.rstrip("/") + self.link
        if self.link and self.link.startswith("https://"):
            return self.link
        return None


def read_reason(text: str | None) -> FailureReason | None:
    """A stored reason (or older plain text, as its summary); None for nothing stored."""
    if not text:
        return None
    if not text.startswith(MARKER):
        return FailureReason(summary=text)
    try:
        data, end = json.JSONDecoder().raw_decode(text, len(MARKER))
        reason = FailureReason(
            summary=str(data["summary"]),
            request=_text(data.get("request")),
            status=data["status"] if isinstance(data.get("status"), int) else None,
            message=_text(data.get("message")),
            problems=tuple(str(p) for p in data.get("problems") or ()),
            next_step=_text(data.get("next_step")),
            link=_text(data.get("link")),
            link_text=_text(data.get("link_text")),
            technical=_text(data.get("technical")),
        )
    except (ValueError, KeyError, TypeError):
        return FailureReason(summary=text[len(MARKER) :])
    rest = text[end:].strip(" ;")
    if rest:  # the worker appends "gave up after N attempts" to a delivery's error
        reason = FailureReason(**{**asdict(reason), "summary": f"{reason.summary} ({rest})"})
    return reason


def plain_detail(text: str | None) -> str | None:
    """A stored detail or error as one short line (`FailureReason.short`)."""
    reason = read_reason(text)
    return reason.short() if reason else None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def config_file_link(repo: str | None) -> str | None:
    return f"/{repo}/blob/HEAD/{CONFIG_FILE}" if repo else None


def invalid_options(
    skill: str,
    problems: Sequence[str | Problem],
    repo: str | None,
    *,
    summary: str | None = None,
    branch: str | None = None,
) -> FailureReason:
    """A skill skipped because its section of the config file does not validate (or,
    with `summary`, a configuration that does not load). A problem whose line is known
    says it, and the next step is to fix the first such line, linked on GitHub at the
    ref ghapp read (`branch` names the default branch where the read was of it)."""
    located = [p if isinstance(p, Problem) else Problem(p) for p in problems[:10]]
    first = next((p.location for p in located if p.location is not None), None)
    reason = FailureReason(
        summary=summary or f"invalid {CONFIG_FILE} section",
        problems=tuple(_cut(p.text) + _at_line(p) for p in located),
        next_step=f"Fix the option named above in {CONFIG_FILE}; the next event uses it.",
        link=config_file_link(repo),
        link_text=f"Open {CONFIG_FILE}" if repo else None,
    )
    if first is None:
        return reason
    where = first.path if _is_own(first, repo) else f"`{first.label}`"
    others = sorted(
        {p.location.line for p in located if p.location and p.location.label == first.label}
        - {first.line}
    )
    also = f" (and {'line' if len(others) == 1 else 'lines'} {', '.join(map(str, others))})"
    ref = first.ref or (branch if _is_own(first, repo) else None)
    return replace(
        reason,
        next_step=f"Fix line {first.line} of {where}{also if others else ''}; "
        "the next event uses it.",
        link=replace(first, ref=ref).blob_path(),
        link_text=f"Open line {first.line} of {first.path}",
    )


def _at_line(problem: Problem) -> str:
    """What follows a problem whose line is known, `(line N)`, unless it says its line
    already (a YAML syntax error says "at line N, column M")."""
    line = problem.location.line if problem.location is not None else None
    return "" if line is None or f"line {line}," in problem.text else f" (line {line})"


def _is_own(location: Location, repo: str | None) -> bool:
    return f"{location.owner}/{location.repo}".lower() == (repo or "").lower()


def explain(exc: BaseException, *, repo: str | None = None) -> FailureReason:
    """What a person needs to know about `exc`, raised while handling an event in `repo`."""
    technical = _cut(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, RateLimitExceeded | RetryLater):
        return _rate_limited(exc, technical)
    transient = transient_failure(exc)
    if isinstance(transient, RetryLater):
        return _rate_limited(transient, technical)
    if transient is None and isinstance(exc, RequestFailed):
        return _refused(exc, repo, technical)
    if transient is not None:
        failed = isinstance(exc, RequestFailed)
        return FailureReason(
            summary=f"GitHub could not be reached or failed ({transient})",
            request=_request_line(exc),
            status=exc.response.status_code if failed else None,
            message=_github_message(exc) if failed else None,
            next_step="Nothing to do: ghapp tries again by itself. If it lasts, check "
            "GitHub's status page.",
            link=GITHUB_STATUS,
            link_text="GitHub status",
            technical=technical,
        )
    if isinstance(exc, RequestError) and isinstance(exc.exc, GitHubException):
        return explain(exc.exc, repo=repo)
    return FailureReason(
        summary=f"The skill stopped with an error it did not expect ({type(exc).__name__})",
        message=_cut(str(exc)) or None,
        next_step="This looks like a bug in the skill, not in your settings. Redeliver to "
        "try again; the server log has the details under this delivery's id.",
        technical=technical,
    )


def _rate_limited(exc: Exception, technical: str) -> FailureReason:
    if isinstance(exc, RateLimitExceeded):
        delay = max(exc.retry_after.total_seconds(), 1.0)
    else:
        delay = exc.delay if isinstance(exc, RetryLater) else 60.0
    reset = datetime.now(UTC) + timedelta(seconds=delay)
    if isinstance(exc, RequestFailed):
        header = exc.response.raw_response.headers.get("x-ratelimit-reset", "")
        if header.isascii() and header.isdigit():
            reset = datetime.fromtimestamp(int(header), UTC)
    return FailureReason(
        summary="GitHub's rate limit for this installation is used up",
        request=_request_line(exc),
        status=exc.response.status_code if isinstance(exc, RequestFailed) else None,
        next_step=f"Wait for the limit to reset (about {reset:%H:%M} UTC): ghapp tries "
        "again by itself, sending nothing for this installation until then.",
        technical=technical,
    )


def _refused(exc: RequestFailed, repo: str | None, technical: str) -> FailureReason:
    status = exc.response.status_code
    request = _request_line(exc)
    message = _github_message(exc)
    on = f" to {request}" if request else ""
    common: dict[str, Any] = {
        "request": request,
        "status": status,
        "message": message,
        "technical": technical,
    }
    if status == 403 and not _rate_limit_headers(exc):
        return FailureReason(
            summary=f"GitHub refused{on} (403): the App lacks a permission for it",
            next_step="An owner of the installation accepts the App's requested permissions "
            "(or grants the one missing), then redelivers.",
            link=INSTALLATION_LINK,
            link_text="Review the installation's permissions",
            **common,
        )
    if status == 403:
        return _rate_limited(exc, technical)
    if status == 404:
        return FailureReason(
            summary=f"GitHub answered 404 Not Found{on}: it does not exist, or the "
            "installation cannot see it",
            next_step="Check that the App is installed on this repository and that the "
            "issue, branch or file still exists.",
            link=INSTALLATION_LINK,
            link_text="Installation's repositories",
            **common,
        )
    if status == 401:
        return FailureReason(
            summary=f"GitHub did not accept the App's credentials{on} (401)",
            next_step="Run `ghapp doctor` on the server: the App id or private key may be "
            "wrong, or the installation was removed.",
            **common,
        )
    if status == 422:
        return FailureReason(
            summary=f"GitHub rejected{on} as invalid (422)",
            next_step=f"Check this skill's options in {CONFIG_FILE} (a label, branch or "
            "name GitHub does not accept); if they look right, it is a bug in the skill.",
            link=config_file_link(repo),
            link_text=f"Open {CONFIG_FILE}" if repo else None,
            **common,
        )
    return FailureReason(
        summary=f"GitHub answered {status}{on}",
        next_step="Redeliver to try again; if it fails the same way, the message above "
        "says what GitHub objects to.",
        **common,
    )


def _request_line(exc: BaseException) -> str | None:
    if not isinstance(exc, GitHubException):
        return None
    request = request_of(exc)
    if request is None:
        return None
    path = request.url.path
    if path.startswith("/api/v3/"):  # GitHub Enterprise Server's API root
        path = path[len("/api/v3") :]
    return f"{request.method} {path}"


def _github_message(exc: RequestFailed) -> str | None:
    try:
        body = exc.response.raw_response.json()
    except Exception:  # an HTML error page, an empty body: no message to show
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if not isinstance(message, str) or not message:
        return None
    errors = body.get("errors")
    if isinstance(errors, list):
        found = [
            str(e.get("message") or f"{e.get('field')}: {e.get('code')}")
            for e in errors
            if isinstance(e, dict)
        ]
        if found:
            message = f"{message} ({'; '.join(found[:3])})"
    return _cut(message)


def _rate_limit_headers(exc: RequestFailed) -> bool:
    headers = exc.response.raw_response.headers
    return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
