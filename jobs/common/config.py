"""Environment configuration: conf/<env>.toml, overridable from the command line."""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = Path(os.environ.get("SHORTVIDEO_CONF_DIR", PROJECT_ROOT / "conf"))
LOG4J_CONF = PROJECT_ROOT / "conf" / "log4j2.properties"


class ConfigError(ValueError):
    """A configuration that cannot be used; the launcher turns it into exit code 2."""


@dataclass(frozen=True)
class EngagementType:
    engagement_type: str
    key: int
    weight: int
    counts_as_view: bool


@dataclass(frozen=True)
class Conf:
    env: str
    settings: dict[str, Any] = field(repr=False)

    def section(self, name: str) -> dict[str, Any]:
        return self.settings.get(name, {})

    def get(self, dotted: str) -> Any:
        node: Any = self.settings
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"configuration '{self.env}' has no key '{dotted}'")
            node = node[part]
        return node

    @property
    def lake(self) -> str:
        return self.get("paths.lake")

    @property
    def landing(self) -> str:
        return self.get("paths.landing")

    @property
    def archive(self) -> str:
        return self.get("paths.archive") or join_path(self.lake, "archive")

    @property
    def engagement_types(self) -> list[EngagementType]:
        return sorted(
            (
                EngagementType(name, int(spec["key"]), int(spec["weight"]), bool(spec["counts_as_view"]))
                for name, spec in self.section("engagement_types").items()
            ),
            key=lambda t: t.key,
        )


def join_path(root: str, *parts: str) -> str:
    """Join lake paths as strings: they may be URIs (s3a://, abfss://) that pathlib would mangle."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


def is_uri(path: str) -> bool:
    return "://" in path


def absolute(path: str) -> str:
    """Local relative paths are taken from the working directory; URIs are left as they are."""
    return path if is_uri(path) or not path else str(Path(path).expanduser().resolve())


def parse_override(assignment: str) -> tuple[str, Any]:
    """Parse one `section.key=value`; the value is read as TOML when it can be, else as a string."""
    if "=" not in assignment:
        raise ConfigError(f"--set expects section.key=value, got '{assignment}'")
    key, raw = assignment.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


SPARK_CONF_SECTION = "spark.conf."


def _key_path(key: str) -> list[str]:
    """`section.key` -> path; Spark's own keys are dotted, so `spark.conf.<spark key>` keeps them whole."""
    if key.startswith(SPARK_CONF_SECTION):
        return ["spark", "conf", key[len(SPARK_CONF_SECTION):]]
    return key.split(".")


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_environment(env: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """conf/<env>.toml; a file with `extends = "other"` holds only what differs from conf/other.toml."""
    conf_file = CONF_DIR / f"{env}.toml"
    if not conf_file.is_file():
        known = ", ".join(sorted(p.stem for p in CONF_DIR.glob("*.toml")))
        raise ConfigError(f"no configuration '{env}' ({conf_file} not found; known: {known})")
    if env in seen:
        raise ConfigError(f"configuration '{env}' extends itself ({' -> '.join((*seen, env))})")
    try:
        settings = tomllib.loads(conf_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"unreadable configuration {conf_file}: {error}") from error
    parent = settings.pop("extends", None)
    return _merged(read_environment(parent, (*seen, env)), settings) if parent else settings


def load_conf(env: str = "local", overrides: list[str] | None = None, **paths: str | None) -> Conf:
    """Read conf/<env>.toml, then apply `--set` overrides, then explicit path options."""
    settings = read_environment(env)
    for assignment in overrides or []:
        key, value = parse_override(assignment)
        node = settings
        *parents, leaf = _key_path(key)
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: '{part}' is not a section")
        node[leaf] = value
    for name, value in paths.items():
        if value:
            settings.setdefault("paths", {})[name] = value
    for name in ("landing", "lake", "archive"):
        settings.setdefault("paths", {}).setdefault(name, "")
        settings["paths"][name] = absolute(settings["paths"][name])
    return Conf(env=env, settings=settings)
