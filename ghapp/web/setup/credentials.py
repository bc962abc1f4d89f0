"""The new App's credentials: traded for the manifest flow's code, then put to use.

`convert_manifest_code` asks GitHub for them once (the code is single use);
`configured_settings` turns the running settings into the configured App's; and
`scrub_from_logs` teaches the log redactor the secrets just received. Writing them to
`.env` is `ghapp.env_file`'s job.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import RequestError, RequestFailed
from pydantic import SecretStr

from ghapp.config import Settings
from ghapp.config_values import load_private_key
from ghapp.logs import SecretScrubber


@dataclass(frozen=True)
class AppCredentials:
    """What GitHub hands over for a registered App (secrets kept out of reprs)."""

    app_id: int
    slug: str
    name: str
    html_url: str
    client_id: str
    pem: str = dataclasses.field(repr=False)
    webhook_secret: str = dataclasses.field(repr=False)
    client_secret: str = dataclasses.field(repr=False)

    def env_values(self) -> dict[str, str]:
        return {
            "APP_ID": str(self.app_id),
            "PRIVATE_KEY": self.pem.strip(),
            "WEBHOOK_SECRET": self.webhook_secret,
            "GITHUB_CLIENT_ID": self.client_id,
            "GITHUB_CLIENT_SECRET": self.client_secret,
        }


class SetupFailed(Exception):
    """Setup cannot go on; the message is for the person at the browser (no secrets)."""

    def __init__(self, title: str, message: str, status: int) -> None:
        super().__init__(message)
        self.title = title
        self.status = status


async def convert_manifest_code(
    api_url: str, code: str, *, timeout: float = 15.0
) -> AppCredentials:
    """Trade the manifest flow's code for the new App's id, key and secrets."""
    github = GitHub(
        UnauthAuthStrategy(),
        base_url=api_url + "/",
        http_cache=False,  # a cached client would ignore the timeout (LIBRARIES.md)
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        auto_retry=False,  # the code is single use: never send it twice
        user_agent="ghapp",
    )
    try:
        async with github:
            data = (await github.rest.apps.async_create_from_manifest(code)).parsed_data
    except RequestFailed as exc:
        status = exc.response.status_code
        raise SetupFailed(
            "GitHub did not accept the registration",
            f"GitHub answered {status} to the code exchange. The code may have expired (it "
            "is valid for one hour) or been used already. Start again from the first page.",
            502,
        ) from None
    except RequestError as exc:
        raise SetupFailed(
            "GitHub could not be reached",
            f"Exchanging the code with {api_url} failed ({type(exc).__name__}). Check "
            "GITHUB_API_URL and this server's network, then start again.",
            502,
        ) from None
    if not data.webhook_secret:
        raise SetupFailed(
            "GitHub returned no webhook secret",
            f"The App {data.slug} was created without a webhook secret. Set one in the App's "
            "settings on GitHub and put it in WEBHOOK_SECRET, with the App's id and key.",
            502,
        )
    if "," in data.webhook_secret:
        # A comma separates WEBHOOK_SECRET's secrets (rotation): saved, it would split.
        raise SetupFailed(
            "GitHub returned a webhook secret ghapp cannot store",
            f"The App {data.slug} was created with a webhook secret containing a comma, "
            "which WEBHOOK_SECRET reads as two secrets. Set a new secret without commas in "
            "the App's settings on GitHub and put it in WEBHOOK_SECRET, with the App's id "
            "and key.",
            502,
        )
    return AppCredentials(
        app_id=data.id,
        slug=str(data.slug or data.name),
        name=data.name,
        html_url=data.html_url,
        client_id=data.client_id,
        pem=data.pem,
        webhook_secret=data.webhook_secret,
        client_secret=data.client_secret,
    )


def configured_settings(settings: Settings, credentials: AppCredentials) -> Settings:
    """The running settings with the new App's credentials (as `.env` now holds them)."""
    return settings.model_copy(
        update={
            "app_id": credentials.app_id,
            "private_key": SecretStr(load_private_key(credentials.pem, source="PRIVATE_KEY")),
            "webhook_secrets": (SecretStr(credentials.webhook_secret),),
            "client_id": credentials.client_id,
            "client_secret": SecretStr(credentials.client_secret),
        }
    )


def scrub_from_logs(secrets: Iterable[str]) -> None:
    """Teach the log scrubbers installed at start-up the secrets setup just received."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretScrubber):
                found.secrets = sorted({*found.secrets, *secrets}, key=len, reverse=True)


def env_path(settings: Settings) -> Path:
    """Where the credentials are written: the `.env` the settings were read from."""
    return settings.env_file or Path(".env")
