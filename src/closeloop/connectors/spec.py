"""One entry of the configuration's `sources:` section: a tool, the survey it feeds, its secret and map.

```yaml
sources:
  - key: typeform-install          # the endpoint is POST /hooks/typeform-install
    tool: typeform
    survey: upgrade-install
    secret_file: /run/secrets/typeform-install
    tolerance: 5m                  # for tools that sign a timestamp
    audio_hosts: [recordings.example.com]   # optional; default: organization.audio_hosts
    map:
      answers:
        ease: {ref: q_ease, scale: [1, 5]}
        comment: q_comment         # a bare name is looked up in the tool's default namespace
      unit: {hidden: store}
      ticket: {hidden: ticket_id}
      customer: {email: {hidden: email}}
    options: {}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from closeloop.connectors import registry
from closeloop.connectors.base import Connector
from closeloop.connectors.errors import ConnectorError
from closeloop.connectors.mapping import MapInvalid, Rules, parse_map, survey_problems
from closeloop.connectors.survey import Survey
from closeloop.core.durations import BadDuration, parse_duration
from closeloop.core.hosts import host_problem, normalise_hosts

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")


class SecretUnavailable(ConnectorError):
    """The source's secret file cannot be read on this server; the tool should deliver again later."""

    status = 503


class SourceInvalid(ValueError):
    """A `sources:` entry that cannot be used; `problems` are "path: message" lines, path from the entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_secret(value: SecretStr | None, file: Path | None) -> str:
    """The secret given inline or in a file (read on every use, so a rotated file takes effect at once)."""
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return ""
    try:
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretUnavailable(f"the secret file {file} cannot be read ({exc.strerror})") from None


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(min_length=1, max_length=100)]
    tool: str
    survey: Annotated[str, Field(min_length=1, max_length=100)]
    secret: SecretStr | None = None
    secret_file: Path | None = None
    tolerance: str = "5m"
    map: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    # The hosts whose https addresses this source's `audio_url`s may link to (core.hosts); None: the
    # organisation's `audio_hosts`.
    audio_hosts: list[str] | None = None

    _connector: Connector = PrivateAttr()
    _rules: Rules = PrivateAttr(default_factory=dict)
    _settings: Any = PrivateAttr(default=None)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.fullmatch(value):
            raise PydanticCustomError("closeloop", f"{value!r} is not a key: use letters, digits and _ . @ + -")
        return value

    @field_validator("tool")
    @classmethod
    def _tool(cls, value: str) -> str:
        if value not in registry.slugs():
            raise PydanticCustomError("closeloop", f"unknown tool {value!r} (one of {', '.join(registry.slugs())})")
        return value

    @field_validator("audio_hosts")
    @classmethod
    def _audio_hosts(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for entry in value:
            problem = host_problem(entry)
            if problem:
                raise PydanticCustomError("closeloop", problem)
        return normalise_hosts(value)

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, value: str) -> str:
        try:
            parse_duration(value)
        except BadDuration as exc:
            raise PydanticCustomError("closeloop", str(exc)) from None
        return value

    @model_validator(mode="after")
    def _whole(self, info: ValidationInfo) -> SourceSpec:
        connector = registry.get(self.tool)
        # The server that receives may see other files than the machine that checks the configuration:
        # there a missing secret file is a 503 at use (SecretUnavailable), not a reason to refuse the entry.
        check_files = bool((info.context or {}).get("check_files", True))
        problems: list[tuple[str, str]] = []
        if self.secret is not None and self.secret_file is not None:
            problems.append(("secret", "give secret or secret_file, not both"))
        elif connector.secret_required and self.secret is None and self.secret_file is None:
            problems.append(("secret", f"{connector.title} sources need a secret or secret_file"))
        elif self.secret is not None and not self.secret.get_secret_value().strip():
            problems.append(("secret", "must not be empty"))
        elif self.secret_file is not None and check_files and not self.secret_file.is_file():
            problems.append(("secret_file", f"no such file: {self.secret_file}"))
        elif self.secret is not None or (self.secret_file is not None and check_files):
            problem = connector.secret_problem(read_secret(self.secret, self.secret_file))
            if problem:
                problems.append(("secret_file" if self.secret_file else "secret", problem))
        settings = None
        try:
            settings = connector.options_model.model_validate(self.options)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join(str(part) for part in ("options", *error["loc"]))
                problems.append((where, "unknown option" if error["type"] == "extra_forbidden" else error["msg"]))
        if settings is not None:
            problems.extend(connector.options_problems(settings))
        try:
            rules = parse_map(self.map, namespaces=connector.namespaces, default_namespace=connector.default_namespace)
        except MapInvalid as exc:
            problems.extend(exc.problems)
            rules = {}
        collected = (info.context or {}).get("problems") if info.context else None
        if problems:
            if isinstance(collected, list):
                collected.extend(f"{path}: {message}" for path, message in problems)
            else:
                path, message = problems[0]
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise PydanticCustomError("closeloop", message + more, {"at_field": path})
        self._connector = connector
        self._rules = rules
        self._settings = settings
        return self

    @property
    def connector(self) -> Connector:
        return self._connector

    @property
    def rules(self) -> Rules:
        """The map as written, parsed."""
        return self._rules

    @property
    def maps_answers(self) -> bool:
        """Whether the source writes its own `answers` (then the tool's default answers are not used)."""
        return bool(self.map) and "answers" in (self.map or {})

    @property
    def settings(self) -> Any:
        """The tool's options, parsed by its options model."""
        return self._settings

    @property
    def tolerance_delta(self) -> timedelta:
        return parse_duration(self.tolerance)

    def secret_value(self) -> str:
        return read_secret(self.secret, self.secret_file)

    def survey_problems(self, survey: Survey) -> list[str]:
        """What in the map does not fit the survey, for `config apply` (which knows the surveys)."""
        problems = []
        if survey.key != self.survey:
            problems.append(f"survey: the source feeds {self.survey!r}, not {survey.key!r}")
        problems.extend(f"{path}: {message}" for path, message in survey_problems(self.rules, survey))
        return problems


def load_source(raw: Mapping[str, Any], *, check_files: bool = True) -> SourceSpec:
    """A source from its YAML mapping; raises SourceInvalid listing every problem as "path: message".

    `check_files=False` leaves `secret_file` unread: it is read (and may be missing) when the source is used.
    """
    collected: list[str] = []
    try:
        spec = SourceSpec.model_validate(raw, context={"problems": collected, "check_files": check_files})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = [str(part) for part in error["loc"]]
            at_field = (error.get("ctx") or {}).get("at_field")
            if at_field:
                loc.append(at_field)
            message = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
            message = "is required" if error["type"] == "missing" else message
            problems.append(f"{'.'.join(loc) or '(entry)'}: {message}")
        raise SourceInvalid(problems + collected) from None
    if collected:
        raise SourceInvalid(collected)
    return spec
