"""A fake GitHub for ghapp's tests, cassette recording and benchmarks.

A stateful in-memory Starlette app: REST under `/api/v3` (like GitHub Enterprise Server),
release uploads under `/api/uploads`, GraphQL at `/api/graphql`, web pages at the root. It
validates credentials, refuses what GitHub would refuse (its REST description, the
installation's permissions, its GraphQL schema: `contract.py`, `permissions.py`,
`graphql_contract.py`) and writes each refusal down for `pytest_plugin.py`, answers with
GitHub's shapes (they parse with githubkit's models), records every request and can inject
faults. See `core.FakeGitHub` for the helpers and docs/testing.md for the whole story.
"""

from .core import ApiError, ContractViolation, FakeGitHub, Fault, RecordedRequest
from .server import generate_test_key, other_test_key, run_fake_github
from .state import API_PREFIX, Repo

__all__ = [
    "API_PREFIX",
    "ApiError",
    "ContractViolation",
    "FakeGitHub",
    "Fault",
    "RecordedRequest",
    "Repo",
    "generate_test_key",
    "other_test_key",
    "run_fake_github",
]
