"""Observability's slice of configuration: a frozen dataclass validated once.

``otlp_endpoint`` empty = spans stay in-process (no exporter); ``json_logs`` swaps
the root log handler for JSON lines; ``trace_every`` runs one request in N with
stage traces so the stage histogram fills (0 = only requests that ask for debug);
``history_step`` is how often the console's 15-minute history takes a sample (seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from dubbo_recsys.provider.observability.errors import ObservabilityConfigError

__all__ = ["ObservabilityConfig"]


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    otlp_endpoint: str = ""
    json_logs: bool = False
    trace_every: int = 16
    history_step: float = 5.0

    def __post_init__(self) -> None:
        if self.otlp_endpoint:
            parts = urlsplit(self.otlp_endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ObservabilityConfigError(
                    f"otlp_endpoint: expected an http(s)://host:port/v1/traces URL, got {self.otlp_endpoint!r}"
                )
        if not isinstance(self.json_logs, bool):
            raise ObservabilityConfigError(f"json_logs: expected a bool, got {self.json_logs!r}")
        if (
            isinstance(self.trace_every, bool)
            or not isinstance(self.trace_every, int)
            or not 0 <= self.trace_every <= 1_000_000
        ):
            raise ObservabilityConfigError(f"trace_every: expected 0..1000000, got {self.trace_every!r}")
        if (
            isinstance(self.history_step, bool)
            or not isinstance(self.history_step, (int, float))
            or not 0.05 <= self.history_step <= 300
        ):
            raise ObservabilityConfigError(f"history_step: expected 0.05..300 seconds, got {self.history_step!r}")
