"""Settings from a file and the environment, beneath the command line.

Every sub-command's flags can also come from a TOML file (``dubbo-recsys --config
FILE COMMAND``, or ``$DUBBO_RECSYS_CONFIG``) with one table per command::

    [serve]
    port = 20880
    artifacts = "artifacts/ml-100k"
    registry = "nacos://nacos:8848?namespace=prod"

and from the environment, ``DUBBO_RECSYS_<COMMAND>_<SETTING>`` (``DUBBO_RECSYS_SERVE_PORT=20881``).
Precedence: a flag on the command line, then the environment, then the file, then the
built-in default. A setting is a flag's long name, with ``-`` or ``_``. Values go
through the flag's own type and choices, so a bad value fails at start with the
setting's name and source, and so does a setting no flag has.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

ENV_PREFIX = "DUBBO_RECSYS_"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A config file or environment setting that cannot be used."""


def load_file(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    return document


def _settable(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Flag actions by dest; positionals and --help are not settings."""
    return {a.dest: a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)}


def _convert(action: argparse.Action, value: Any, where: str) -> Any:
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if isinstance(value, (dict, list)) and action.nargs is None:
        raise SettingsError(f"{where}: expected a single value, got {type(value).__name__}")
    if action.type is not None and not isinstance(value, bool):
        try:
            # argparse also accepts a registered type name here; every action of ours has a callable
            convert = cast(Callable[[str], Any], action.type)
            value = convert(value) if isinstance(value, str) else convert(str(value))
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise SettingsError(f"{where}: {value!r} is not valid ({exc})") from None
    if action.choices is not None and value not in action.choices:
        raise SettingsError(f"{where}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def apply(
    command: str,
    parser: argparse.ArgumentParser,
    document: Mapping[str, Any] | None,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Turn the file's ``[command]`` table and the environment into ``parser``'s defaults."""
    actions = _settable(parser)
    defaults: dict[str, Any] = {}
    table = (document or {}).get(command, {})
    if not isinstance(table, Mapping):
        raise SettingsError(f"config file: [{command}] must be a table")
    for key, value in table.items():
        dest = str(key).replace("-", "_")
        if dest not in actions:
            raise SettingsError(f"config file: [{command}] has no setting {key!r}")
        defaults[dest] = _convert(actions[dest], value, f"config file [{command}] {key}")
    prefix = f"{ENV_PREFIX}{command.upper().replace('-', '_')}_"
    for name, value in environ.items():
        if not name.startswith(prefix):
            continue
        dest = name[len(prefix) :].lower()
        if dest not in actions:
            raise SettingsError(f"environment: {name} names no setting of {command!r}")
        defaults[dest] = _convert(actions[dest], value, f"environment {name}")
    parser.set_defaults(**defaults)
    for dest in defaults:  # a required flag (build --source) is satisfied by the file or the environment
        actions[dest].required = False
