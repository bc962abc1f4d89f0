"""Strict replay: a cassette test fails on any request its cassette does not answer.

vcrpy refuses a request missing from a cassette by raising inside the HTTP transport. The
code under test may well swallow that: githubkit wraps it as a `RequestError`, the bus
records an ordinary skill failure, and a test that only counts what was *written* still
passes. So the refusal is noted here, at the cassette, before anyone can catch it, and
`tests/conftest.py` fails the test with the method and path of every refused request.

The same goes the other way: a cassette whose recorded requests were not all played means
the code no longer does what was recorded (one PATCH instead of two, a read that stopped
happening). That fails the test too, unless the test says why with
`@pytest.mark.allow_unplayed(reason=...)` or `strict_replay.allow_unplayed(reason)`.

Nothing here applies while recording (`--record-mode` other than `none`): a cassette being
written has nothing to refuse and nothing to have played.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vcr.cassette import Cassette
from vcr.matchers import get_matchers_results
from vcr.request import Request


def describe(request: Request) -> str:
    """`METHOD /path?query` and, for a write, its JSON body (shortened)."""
    url = urlsplit(request.uri)
    target = url.path + (f"?{url.query}" if url.query else "")
    text = f"{request.method} {target}"
    body = request.body
    if body:
        shown = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        text += " " + (shown if len(shown) <= 200 else shown[:200] + "…")
    return text


@dataclass
class StrictReplay:
    """What one test's cassette refused and left unplayed; filled in while the test runs."""

    cassette: Cassette
    refused: list[str] = field(default_factory=list)
    unplayed_reason: str | None = None

    @property
    def replaying(self) -> bool:
        # Recording modes other than "none" let unknown requests through to the server.
        return bool(self.cassette.write_protected)

    def allow_unplayed(self, reason: str) -> None:
        """Declare, with a reason, that this test does not play every recorded request."""
        if not reason.strip():
            raise ValueError("allow_unplayed needs a reason")
        self.unplayed_reason = reason

    def install(self) -> None:
        """Wrap the cassette's lookups so that every refusal is written down first."""
        cassette = self.cassette
        can_play = cassette.can_play_response_for
        play = cassette.play_response

        def can_play_response_for(request: Request) -> Any:
            answer = can_play(request)
            if not answer and cassette.write_protected and cassette.filter_request(request):
                self.refused.append(self._refusal(request))
            return answer

        def play_response(request: Request) -> Any:
            try:
                return play(request)
            except Exception:  # matched a moment ago, played by someone else meanwhile
                self.refused.append(self._refusal(request))
                raise

        cassette.can_play_response_for = can_play_response_for  # type: ignore[method-assign]
        cassette.play_response = play_response  # type: ignore[method-assign]

    def _refusal(self, request: Request) -> str:
        if any(True for _ in self.cassette._responses(request)):
            # Recorded, and played already: the code repeats a request it made before.
            return f"{describe(request)}  (made more often than recorded)"
        line = f"{describe(request)}  (not in the cassette)"
        nearest = self._nearest(request)
        return f"{line}\n      nearest recorded: {nearest}" if nearest else line

    def _nearest(self, request: Request) -> str | None:
        """The recorded request of the same method and path, and what differs from it."""
        best: tuple[int, Request, list[Any]] | None = None
        for recorded in self.cassette.requests:
            ok, failed = get_matchers_results(request, recorded, self.cassette._match_on)
            if {"method", "path"} <= set(ok) and (best is None or len(ok) > best[0]):
                best = (len(ok), recorded, failed)
        if best is None:
            return None
        return f"{describe(best[1])}  (differs in: {', '.join(name for name, _ in best[2])})"

    def unplayed(self) -> list[str]:
        played = self.cassette.play_counts
        return [
            describe(request)
            for index, request in enumerate(self.cassette.requests)
            if not played[index]
        ]

    def problems(self, *, unplayed: bool = True) -> list[str]:
        """Everything strict replay holds against the test, as lines for its failure
        (`unplayed=False`: refusals only, for a test that stopped early anyway)."""
        if not self.replaying:
            return []
        found: list[str] = []
        if self.refused:
            found.append(
                f"requests not answered by the cassette {self.cassette._path}:\n"
                + "\n".join(f"  - {line}" for line in self.refused)
            )
        never = self.unplayed() if unplayed else []
        if never and self.unplayed_reason is None:
            found.append(
                f"recorded requests never played (cassette {self.cassette._path}); if that is"
                " intended, say why with @pytest.mark.allow_unplayed(reason=...):\n"
                + "\n".join(f"  - {line}" for line in never)
            )
        return found


class StrictReplayFailure(AssertionError):
    """A cassette test made a request its cassette does not hold, or left some unplayed."""
