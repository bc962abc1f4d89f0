"""Prometheus metrics, one registry per application (never the process-global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "ghapp_deliveries",
            "Webhook deliveries by event and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.skill_runs = Counter(
            "ghapp_skill_runs",
            "Skill runs by skill and outcome.",
            ["skill", "outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "ghapp_queue_depth", "Deliveries waiting to be processed.", registry=self.registry
        )
        self.delivery_seconds = Histogram(
            "ghapp_delivery_seconds",
            "Seconds from receipt of a delivery until it is done.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.github_requests = Counter(
            "ghapp_github_requests",
            "Requests to GitHub by method and status.",
            ["method", "status"],
            registry=self.registry,
        )
        self.ratelimit_remaining = Gauge(
            "ghapp_github_ratelimit_remaining",
            "x-ratelimit-remaining of the latest GitHub response.",
            registry=self.registry,
        )

        self.skill_counters: dict[str, Counter] = {}

    def add_skill_counter(self, name: str, description: str, labels: tuple[str, ...]) -> None:
        """A skill's own counter (`Skill.counter`), as `ghapp_<name>_total`."""
        if name not in self.skill_counters:
            self.skill_counters[name] = Counter(
                f"ghapp_{name}", description, list(labels), registry=self.registry
            )

    def count(self, name: str, amount: float, labels: dict[str, str]) -> None:
        counter = self.skill_counters[name]
        (counter.labels(**labels) if labels else counter).inc(amount)

    def render(self) -> bytes:
        return generate_latest(self.registry)
