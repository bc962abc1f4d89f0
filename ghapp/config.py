"""Configuration: the environment (and `.env`) read once into one frozen `Settings`.

pydantic-settings reads `.env` and validates every variable; names follow Probot's so an
existing `.env` works (PRODUCT.md §2). `load_settings` hands the process environment in
above `.env` (the environment wins, as with Probot) and adds what depends on the
process rather than on a variable: the App's key found as the single `*.pem` in the
working directory.

Every bad value becomes a `ConfigError` whose message is one line naming the variable
and what is wrong. Secrets are `SecretStr`s, so they stay out of reprs, and they never
appear in those messages: pydantic's own errors echo their input, so only the messages
written here, which never quote a secret, are shown.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ghapp.config_values import (
    ConfigError,
    check_url,
    key_from_variables,
    key_in_directory,
    normalize_database_url,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ghapp.db"
WEB_URL_VARIABLES = {
    "github_api_url": "GITHUB_API_URL",
    "github_url": "GITHUB_URL",
    "base_url": "BASE_URL",
}
# Shorter parts of WEBHOOK_SECRET are refused: most likely a secret split at its comma.
MIN_WEBHOOK_SECRET = 6
LOG_LEVELS = ("debug", "info", "warning", "error", "critical", "trace", "fatal")


_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]+")  # a name or an address
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # an entry point's name
RESPONDER_FIELDS = ("responder", "agent_model", "responder_allowed_hosts")


def check_responder_setting(field: str, value: object) -> object:
    """RESPONDER (none, agent, an entry point, a URL) and its companions, as §2 allows."""
    text = str(value).strip()
    if field == "agent_model" and not (0 < len(text) <= 200 and text.isprintable()):
        raise ConfigError("AGENT_MODEL", "must be a model name, such as gpt-4o-mini")
    if field == "responder_allowed_hosts":
        hosts = tuple(h.strip().lower().rstrip(".") for h in text.split(",") if h.strip())
        wrong = [h for h in hosts if not _HOST.fullmatch(h)]
        if wrong:
            raise ConfigError("RESPONDER_ALLOWED_HOSTS", f"not a bare host name: {wrong[0]!r}")
        return value if isinstance(value, tuple) else hosts
    if field == "responder" and text.lower() in ("none", "agent"):
        return text.lower()
    if field == "responder" and "://" in text:
        if urlsplit(text).scheme not in ("https", "http") or not urlsplit(text).hostname:
            raise ConfigError("RESPONDER", "a responder URL must be https://HOST/…")
    elif field == "responder" and not _NAME.fullmatch(text):
        raise ConfigError("RESPONDER", "expected none, agent, an entry-point name or a URL")
    return text


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"expected 1 or 0, got {value!r}")


class Settings(BaseSettings):
    """Every variable of PRODUCT.md §2, validated; build it with `load_settings`."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        env_file=".env",
        hide_input_in_errors=True,
        validate_default=False,  # the defaults below are already in their final form
    )

    app_id: int | None = Field(None, validation_alias="APP_ID")
    # The PEM text, from PRIVATE_KEY or PRIVATE_KEY_PATH (read only once APP_ID is set).
    private_key: SecretStr | None = Field(None, validation_alias="PRIVATE_KEY")
    # Several, comma-separated, are all accepted (secret rotation).
    webhook_secrets: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), validation_alias="WEBHOOK_SECRET"
    )
    github_api_url: str = Field("https://api.github.com", validation_alias="GITHUB_API_URL")
    github_url: str = Field("https://github.com", validation_alias="GITHUB_URL")
    client_id: str | None = Field(None, validation_alias="GITHUB_CLIENT_ID")
    client_secret: SecretStr | None = Field(None, validation_alias="GITHUB_CLIENT_SECRET")
    host: str = Field("127.0.0.1", validation_alias="HOST")
    port: int = Field(3000, validation_alias="PORT")
    base_url: str | None = Field(None, validation_alias="BASE_URL")
    webhook_path: str = Field("/api/github/webhooks", validation_alias="WEBHOOK_PATH")
    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    session_secret: SecretStr | None = Field(None, validation_alias="SESSION_SECRET")
    log_level: str = Field("info", validation_alias="LOG_LEVEL")
    # None: pretty on a TTY, else json.
    log_format: Literal["json", "pretty"] | None = Field(None, validation_alias="LOG_FORMAT")
    dry_run: bool = Field(False, validation_alias="DRY_RUN")
    pacing: bool = Field(True, validation_alias="GITHUB_PACING")
    # Who answers free text (§5.1); the built-in agent's API (None: OpenAI's), key, model.
    responder: str = Field("none", validation_alias="RESPONDER")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    agent_model: str | None = Field(None, validation_alias="AGENT_MODEL")
    agent_timeout: float = Field(60.0, gt=0, le=600, validation_alias="AGENT_TIMEOUT")
    # Hosts a repository's `.github/ghapp.yml` may name as its responder URL; their signature.
    responder_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="RESPONDER_ALLOWED_HOSTS"
    )
    responder_secret: SecretStr | None = Field(None, validation_alias="RESPONDER_SECRET")
    # The `.env` these settings were read with (set by load_settings, never by a variable);
    # setup mode writes the App's credentials there.
    env_file: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment arrives as init values (`load_settings` hands in os.environ, or
        # the mapping a test or subcommand gives), and wins over `.env`.
        return init_settings, dotenv_settings

    @property
    def configured(self) -> bool:
        """An App is configured; otherwise `ghapp run` serves setup mode."""
        return self.app_id is not None

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every secret this process knows, for redaction in logs and pages."""
        # Every SecretStr field, present and future (API keys, responder secrets), so a
        # secret added to Settings is scrubbed without anyone remembering to list it here.
        found: list[SecretStr] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                found.append(value)
            elif isinstance(value, tuple):
                found += [item for item in value if isinstance(item, SecretStr)]
        values = (secret.get_secret_value() for secret in found)
        return tuple(v for v in values if len(v) >= 6)

    # -- validation: each message names what is wrong, never the secret itself ----------

    @model_validator(mode="before")
    @classmethod
    def _read_variables(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # An empty variable counts as unset, in the environment and in `.env` alike.
        values = {k: v for k, v in data.items() if v != "" and k != "env_file"}
        app_id = str(values.get("APP_ID", "")).strip()
        key = None
        if app_id.isascii() and app_id.isdigit():
            key = key_from_variables(values)
        # Without an App (setup mode) nothing reads the key: a stale one is no error.
        values.pop("PRIVATE_KEY_PATH", None)
        values["PRIVATE_KEY"] = key
        return values

    @field_validator("app_id", mode="before")
    @classmethod
    def _app_id(cls, value: object) -> object:
        raw = str(value).strip()
        if not (raw.isascii() and raw.isdigit()):
            raise ConfigError("APP_ID", f"must be the App's numeric id, got {raw!r}")
        return int(raw)

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _webhook_secrets(cls, value: object) -> object:
        # A comma always separates two secrets (PRODUCT.md §2: rotation), so no secret can
        # contain one. What a comma inside a secret would leave behind — an empty part, or
        # a part too short to be a secret — stops start-up instead of silently verifying
        # deliveries with a weaker secret.
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",")]
        for number, part in enumerate(parts, 1):
            where = f"secret {number} of {len(parts)}" if len(parts) > 1 else "the secret"
            if len(part) < MIN_WEBHOOK_SECRET:
                raise ConfigError(
                    "WEBHOOK_SECRET",
                    f"{where} is {'empty' if not part else 'shorter than 6 characters'}; "
                    "a comma separates secrets (rotation), so a secret cannot contain one",
                )
        return tuple(parts)

    @field_validator("github_api_url", "github_url", "base_url", mode="before")
    @classmethod
    def _web_url(cls, value: object, info: ValidationInfo) -> str:
        return check_url(WEB_URL_VARIABLES[str(info.field_name)], str(value))

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> int:
        raw = str(value)
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
            raise ConfigError("PORT", f"must be a port number, got {raw!r}")
        return int(raw)

    @field_validator("webhook_path", mode="before")
    @classmethod
    def _webhook_path(cls, value: object) -> str:
        if not str(value).startswith("/"):
            raise ConfigError("WEBHOOK_PATH", "must start with /")
        return str(value)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> str:
        return normalize_database_url(str(value))

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: object) -> str:
        return check_url("REDIS_URL", str(value), schemes=("redis", "rediss", "unix"))

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> str:
        level = str(value).lower()
        if level not in LOG_LEVELS:
            raise ConfigError("LOG_LEVEL", f"unknown level {level!r}")
        return {"trace": "debug", "fatal": "critical"}.get(level, level)

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if value not in ("json", "pretty"):
            raise ConfigError("LOG_FORMAT", f"expected json or pretty, got {value!r}")
        return value

    @field_validator("dry_run", mode="before")
    @classmethod
    def _dry_run(cls, value: object) -> bool:
        return _flag("DRY_RUN", value)

    @field_validator("pacing", mode="before")
    @classmethod
    def _pacing(cls, value: object) -> bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered not in ("github", "off"):
            raise ConfigError("GITHUB_PACING", f"expected github or off, got {lowered!r}")
        return lowered == "github"

    @field_validator(*RESPONDER_FIELDS, mode="before")
    @classmethod
    def _responder_settings(cls, value: object, info: ValidationInfo) -> object:
        return check_responder_setting(str(info.field_name), value)

    @field_validator("openai_base_url", mode="before")
    @classmethod
    def _openai_base_url(cls, value: object) -> str:
        return check_url("OPENAI_BASE_URL", str(value))

    @model_validator(mode="after")
    def _configured_app_can_verify_deliveries(self) -> Settings:
        if self.app_id is not None and not self.webhook_secrets:
            raise ConfigError("WEBHOOK_SECRET", "missing: deliveries cannot be verified without it")
        if self.responder == "agent" and self.agent_model is None:
            raise ConfigError("AGENT_MODEL", "missing: RESPONDER=agent needs the model's name")
        urls = self.responder_allowed_hosts or "://" in self.responder
        if urls and self.responder_secret is None:
            raise ConfigError("RESPONDER_SECRET", "missing: URL responders' requests are signed")
        return self


def _config_error(exc: ValidationError) -> ConfigError:
    """The first problem, as one line naming the variable (the input is never quoted)."""
    first = exc.errors(include_input=False)[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        return cause
    variable = str(first["loc"][0]) if first["loc"] else "configuration"
    return ConfigError(variable, first["msg"])


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    workdir: Path | None = None,
) -> Settings:
    """Read and validate the configuration; raise ConfigError on the first bad value.

    `environ` defaults to the process environment; `workdir` (default: the current
    directory) is where the App's key is looked for when no variable names it.
    """
    environment = dict(os.environ if environ is None else environ)
    try:
        # `_env_file` is pydantic-settings' own argument, hidden from type checkers by
        # the fields' synthesized signature.
        settings = Settings(_env_file=env_file, **environment)  # pyright: ignore[reportCallIssue]
    except ValidationError as exc:
        raise _config_error(exc) from None
    if settings.configured and settings.private_key is None:
        found = key_in_directory(workdir or Path.cwd())
        if found is None:
            raise ConfigError("PRIVATE_KEY", "missing: set PRIVATE_KEY or PRIVATE_KEY_PATH")
        settings = settings.model_copy(update={"private_key": SecretStr(found)})
    return settings.model_copy(update={"env_file": env_file})


def new_secret() -> str:
    return secrets.token_urlsafe(32)
