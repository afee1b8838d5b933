"""The ``channels:`` of a rules file: each name's type and its checked options.

Secrets are never written in the file: a channel names a file (``secret_file``, readable by its
owner only, checked when perfmon starts and by ``perfmon alerts check``) or an environment
variable (``secret_env``) that holds one. A secret written inline is refused with that advice.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from perfmon.alerts.model import SEVERITIES, Channel, ChannelType
from perfmon.alerts.quantities import QuantityError, duration
from perfmon.alerts.yamlfile import Located

# timeout: seconds a delivery may take; group_wait: seconds a new notification waits for others to join it
COMMON = ("type", "severities", "send_resolved", "timeout", "group_wait")
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_GROUP_WAIT_SECONDS = 1.0  # short enough that a firing still reaches its receiver within 2 s
MAX_GROUP_WAIT_SECONDS = 60.0
OPTIONS: dict[ChannelType, tuple[str, ...]] = {
    "webhook": ("url", "secret_file", "secret_env"),
    "ntfy": ("url", "token_file", "token_env", "priority", "tags"),
    "email": ("host", "port", "starttls", "tls", "from", "to", "username", "password_file", "password_env",
              "ca_file"),
    "apprise": ("urls_file", "urls_env"),
}
REQUIRED: dict[ChannelType, tuple[str, ...]] = {
    "webhook": ("url",), "ntfy": ("url",), "email": ("host", "from", "to"), "apprise": (),
}
INLINE_SECRETS = {"secret": "secret", "token": "token", "password": "password", "urls": "urls"}
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PRIORITIES = ("min", "low", "default", "high", "max")


def read_channels(node: Located | None, source: str) -> dict[str, Channel]:
    """Every channel of the ``channels:`` mapping, by name."""
    if node is None:
        return {}
    if not isinstance(node.value, dict):
        raise node.at(source, "channels must be a mapping of names to channels, such as "
                              "ops: {type: webhook, url: ...}")
    channels = {}
    for name, item in node.value.items():
        if not NAME.fullmatch(name):
            raise item.at(source, f"a channel's name is letters, digits, '_', '.' and '-', not {name!r}")
        channels[name] = read_channel(name, item, source)
    return channels


def read_channel(name: str, node: Located, source: str) -> Channel:
    """One channel, its options checked for its type."""
    what = f"channel {name}"
    if not isinstance(node.value, dict):
        raise node.at(source, f"{what} must be a mapping, such as {{type: webhook, url: ...}}")
    keys: dict[str, Located] = node.value
    kind = keys.get("type")
    if kind is None or kind.value not in OPTIONS:
        where = node if kind is None else kind
        raise where.at(source, f"{what}: type must be one of {', '.join(OPTIONS)}")
    channel_type: ChannelType = kind.value
    allowed = (*COMMON, *OPTIONS[channel_type])
    for key, value in keys.items():
        if key in INLINE_SECRETS:
            raise value.at(source, f"{what}: a {key} is not written in the rules file: name a file "
                                   f"that holds it ({key}_file, readable by its owner only) or a "
                                   f"variable ({key}_env)")
        if key not in allowed:
            raise value.at(source, f"{what}: unknown key {key!r} for a {channel_type} channel "
                                   f"(known: {', '.join(allowed)})")
    for key in REQUIRED[channel_type]:
        if key not in keys:
            raise node.at(source, f"{what}: a {channel_type} channel needs {key}")
    options = {key: option(key, value, source, what) for key, value in keys.items() if key not in COMMON}
    if channel_type == "apprise" and not options:
        raise node.at(source, f"{what}: an apprise channel needs urls_file or urls_env")
    if channel_type == "email":
        check_email(keys, options, source, what)
    return Channel(name, channel_type, options, severities(keys.get("severities"), source, what),
                   flag(keys.get("send_resolved"), source, what, True), node.line,
                   timeout(keys.get("timeout"), source, what),
                   group_wait(keys.get("group_wait"), source, what))


def check_email(keys: dict[str, Located], options: dict[str, Any], source: str, what: str) -> None:
    """A login only inside TLS, and one kind of TLS."""
    if "username" in options and not (options.get("tls") or options.get("starttls")):
        raise keys["username"].at(source, f"{what}: a login is sent only inside TLS: add tls: true "
                                          f"(port 465) or starttls: true (587)")
    if options.get("tls") and options.get("starttls"):
        raise keys["tls"].at(source, f"{what}: tls and starttls exclude each other (port 465 is tls, 587 "
                                     f"starttls)")


def timeout(node: Located | None, source: str, what: str) -> float:
    """Seconds a delivery may take (default 10), from 1 s to 5 minutes."""
    return seconds_of(node, source, f"{what}: timeout", DEFAULT_TIMEOUT_SECONDS, (1, 300), "from 1s to 5m")


def group_wait(node: Located | None, source: str, what: str) -> float:
    """Seconds a new notification waits for the others of its channel and kind to join it as one
    message (default 1), from 0 (none: one message per sample, sent at once) to a minute: longer
    would only delay the news."""
    return seconds_of(node, source, f"{what}: group_wait", DEFAULT_GROUP_WAIT_SECONDS,
                      (0, MAX_GROUP_WAIT_SECONDS), "from 0 (no grouping) to 1m")


def seconds_of(node: Located | None, source: str, what: str, default: float, bounds: tuple[float, float],
               words: str) -> float:
    """A channel's duration option within ``bounds`` (said as ``words``); ``default`` when not given."""
    if node is None:
        return default
    try:
        seconds = duration(node.value, what)
    except QuantityError as exc:
        raise node.at(source, str(exc)) from None
    if not bounds[0] <= seconds <= bounds[1]:
        raise node.at(source, f"{what} must be {words}, not {node.value!r}")
    return seconds


def option(key: str, node: Located, source: str, what: str) -> Any:
    """One option's value, checked by what its name says it is."""
    value = node.value
    if key == "url":
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise node.at(source, f"{what}: url must be an http:// or https:// URL, not {value!r}")
        return value
    if key.endswith("_env"):
        if not isinstance(value, str) or not ENV.fullmatch(value):
            raise node.at(source, f"{what}: {key} names an environment variable, such as "
                                  f"PERFMON_SMTP_PASSWORD")
        return value
    if key in ("starttls", "tls"):
        return flag(node, source, what, False)
    if key == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise node.at(source, f"{what}: port must be a number from 1 to 65535, not {value!r}")
        return value
    if key == "priority":
        if value not in PRIORITIES and value not in (1, 2, 3, 4, 5):
            raise node.at(source, f"{what}: priority is 1-5 or one of {', '.join(PRIORITIES)}")
        return value
    if key in ("to", "tags"):
        items = value if isinstance(value, list) else [node]
        texts = [item.value for item in items if isinstance(item.value, str) and item.value.strip()]
        if len(texts) != len(items) or not texts:
            raise node.at(source, f"{what}: {key} is one text or a list of them")
        return tuple(texts)
    if not isinstance(value, str) or not value.strip():
        raise node.at(source, f"{what}: {key} must be text, not {value!r}")
    return value.strip()


def severities(node: Located | None, source: str, what: str) -> tuple[Any, ...]:
    """The severities a channel is told of (default: all)."""
    if node is None:
        return SEVERITIES
    items = node.value if isinstance(node.value, list) else [node]
    found = tuple(item.value for item in items)
    if not found or any(s not in SEVERITIES for s in found):
        raise node.at(source, f"{what}: severities lists some of {', '.join(SEVERITIES)}")
    return found


def flag(node: Located | None, source: str, what: str, default: bool) -> bool:
    """A true/false option."""
    if node is None:
        return default
    if not isinstance(node.value, bool):
        raise node.at(source, f"{what}: expected true or false, not {node.value!r}")
    return node.value
