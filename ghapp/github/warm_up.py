"""githubkit's lazily loaded parts that ghapp's requests use, loaded at start-up.

githubkit imports a REST namespace (`gh.rest.issues`) on first access, and each method
imports its request and response models on its first call (`from ..models import ...`
inside the method, each a pydantic module built on import); anyio loads its asyncio
backend on the first throttled request. Paid by the first deliveries, that was ~8 % of
the CPU of a 300-mention run, on the event loop (issue 17). `warm_up_rest` pays it while
ghapp starts, for the methods in `METHODS`: every REST method the core that each delivery
goes through calls (`tests/test_github_warm_up.py` checks the list against the source).
A skill's own methods (a release's, a label plan's, the settings page's) load on their
first call: warming all 45 kept ~8 MiB more in every process for requests many
installations never make (issue 17's memory target).
"""

from __future__ import annotations

import importlib
from typing import Any

from anyio._core._eventloop import get_async_backend

# "namespace.method" for every githubkit REST method of the core every delivery goes
# through (`CORE`: tokens, the repository's config, the `eyes` reaction, the reply, the
# permission check of a command, a new installation's look-up).
METHODS = (
    "apps.async_create_installation_access_token",
    "apps.async_get_authenticated",
    "apps.async_get_installation",
    "issues.async_create_comment",
    "issues.async_list_labels_for_repo",
    "pulls.async_create_reply_for_review_comment",
    "reactions.async_create_for_issue",
    "reactions.async_create_for_issue_comment",
    "reactions.async_create_for_pull_request_review_comment",
    "repos.async_get_collaborator_permission_level",
    "repos.async_get_content",
)
# The modules of that core, relative to the `ghapp` package (checked against METHODS).
CORE = ("context.py", "worker.py", "github", "repo_config")


def warm_up_rest(github: Any, methods: tuple[str, ...] = METHODS) -> None:
    """Import the namespaces of `methods` and the models each imports when first called."""
    get_async_backend("asyncio")
    for method in methods:
        namespace, _, name = method.partition(".")
        client_type = type(getattr(github.rest, namespace))
        function = getattr(client_type, name)
        # githubkit_schemas.<version>.rest.<namespace> -> githubkit_schemas.<version>.models
        models = importlib.import_module(client_type.__module__.rsplit(".", 2)[0] + ".models")
        # The names a method's body imports from `..models` are among its code's names;
        # asking the lazy models module for each loads exactly those (others: no such model).
        for attribute in function.__code__.co_names:
            getattr(models, attribute, None)
