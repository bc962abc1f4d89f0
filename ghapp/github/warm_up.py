"""githubkit's lazily loaded parts that ghapp's requests use, loaded at start-up.

githubkit imports a REST namespace (`gh.rest.issues`) on first access, and each method
imports its request and response models on its first call (`from ..models import ...`
inside the method, each a pydantic module built on import); anyio loads its asyncio
backend on the first throttled request. Paid by the first deliveries, that was ~8 % of
the CPU of a 300-mention run, on the event loop (issue 17). `warm_up_rest` pays it while
ghapp starts, for the methods in `METHODS`: every REST method ghapp's own code calls
(`tests/test_github_warm_up.py` checks the list against the source).
"""

from __future__ import annotations

import importlib
from typing import Any

from anyio._core._eventloop import get_async_backend

# "namespace.method" for every githubkit REST method ghapp calls.
METHODS = (
    "actions.async_download_artifact",
    "actions.async_list_workflow_run_artifacts",
    "apps.async_create_from_manifest",
    "apps.async_create_installation_access_token",
    "apps.async_get_authenticated",
    "apps.async_get_installation",
    "apps.async_list_installation_repos_for_authenticated_user",
    "apps.async_list_installations_for_authenticated_user",
    "apps.async_list_webhook_deliveries",
    "apps.async_redeliver_webhook_delivery",
    "checks.async_create",
    "checks.async_list_for_ref",
    "issues.async_create_comment",
    "issues.async_delete_label",
    "issues.async_get_milestone",
    "issues.async_list_comments",
    "issues.async_list_labels_for_repo",
    "issues.async_list_labels_on_issue",
    "issues.async_list_milestones",
    "issues.async_set_labels",
    "issues.async_update",
    "issues.async_update_milestone",
    "orgs.async_get_membership_for_user",
    "pulls.async_create",
    "pulls.async_create_reply_for_review_comment",
    "pulls.async_get",
    "pulls.async_list",
    "pulls.async_list_files",
    "pulls.async_list_review_comments",
    "reactions.async_create_for_issue",
    "reactions.async_create_for_issue_comment",
    "reactions.async_create_for_pull_request_review_comment",
    "repos.async_compare_commits",
    "repos.async_create_dispatch_event",
    "repos.async_create_or_update_file_contents",
    "repos.async_create_release",
    "repos.async_delete_release_asset",
    "repos.async_get",
    "repos.async_get_collaborator_permission_level",
    "repos.async_get_content",
    "repos.async_get_release",
    "repos.async_get_release_by_tag",
    "repos.async_list_releases",
    "repos.async_update_release",
    "users.async_get_authenticated",
)


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
