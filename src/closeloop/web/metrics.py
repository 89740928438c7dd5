"""Prometheus metrics, read from the database at each scrape.

Every figure comes from the rows the processes share, not from counters kept in a process's memory:
with several gunicorn workers, any number of `closeloop worker` processes (on other machines too) and
restarts, each scrape of any web process gives the same, complete answer. prometheus_client's
multiprocess mode would only add up the processes of one machine that share its directory and would
lose the worker processes' figures; a few grouped queries per scrape cost less than that.

Counters that can only grow are the stored responses by status; everything that moves both ways
(deliveries by status, overdue cases, the backlog, the worker's lag) is a gauge.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from closeloop.cases.queries import overdue_count
from closeloop.feedback.queries import count_by_status
from closeloop.notify.backlog import backlog
from closeloop.notify.stats import alert_latency, deliveries_by_channel_and_status
from closeloop.reports.tallies import hours_to_build
from closeloop.worker.heartbeat import last_beat, running_workers


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._responses()
        yield from self._alert_latency()
        yield from self._deliveries()
        yield from self._cases(now)
        yield from self._worker(now)

    @staticmethod
    def _responses() -> Iterator[Metric]:
        ingested = CounterMetricFamily(
            "closeloop_responses_ingested", "Survey responses stored, by status", labels=["status"]
        )
        counts = count_by_status()
        for status in ("valid", "invalid"):
            ingested.add_metric([status], counts.get(status, 0))
        yield ingested

    @staticmethod
    def _alert_latency() -> Iterator[Metric]:
        histogram = HistogramMetricFamily(
            "closeloop_alert_latency_seconds",
            "Time from an alert's creation to its provider accepting the message, by channel",
            labels=["channel"],
        )
        for channel in alert_latency():
            buckets = [(_bound(bound), count) for bound, count in channel.buckets] + [("+Inf", channel.count)]
            histogram.add_metric([channel.channel], buckets, channel.total_seconds)
        yield histogram

    @staticmethod
    def _deliveries() -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "closeloop_deliveries", "Outbox deliveries by channel and status", labels=["channel", "status"]
        )
        for (channel, status), count in sorted(deliveries_by_channel_and_status().items()):
            deliveries.add_metric([channel, status], count)
        yield deliveries

    @staticmethod
    def _cases(now: datetime) -> Iterator[Metric]:
        yield GaugeMetricFamily("closeloop_cases_overdue", "Open cases past their closure goal", overdue_count(now))

    @staticmethod
    def _worker(now: datetime) -> Iterator[Metric]:
        waiting = backlog(now)
        yield GaugeMetricFamily(
            "closeloop_worker_lag_seconds",
            "Age of the oldest delivery that is due and not sent",
            waiting.lag(now).total_seconds(),
        )
        yield GaugeMetricFamily(
            "closeloop_outbox_unsent", "Deliveries waiting to be sent (pending or sending)", waiting.count
        )
        yield GaugeMetricFamily(
            "closeloop_outbox_failing", "Unsent deliveries that failed before and are being retried", waiting.failing
        )
        age = waiting.oldest_age(now)
        yield GaugeMetricFamily(
            "closeloop_outbox_oldest_unsent_age_seconds",
            "Age of the oldest delivery not yet sent (0 when none waits)",
            age.total_seconds() if age is not None else 0.0,
        )
        beat = last_beat()
        yield GaugeMetricFamily(
            "closeloop_worker_heartbeat_age_seconds",
            "Seconds since a worker last began a round (-1 when no worker ever ran)",
            (now - beat).total_seconds() if beat is not None else -1.0,
        )
        yield GaugeMetricFamily("closeloop_workers_running", "Workers with a fresh heartbeat", running_workers(now))
        yield GaugeMetricFamily(
            "closeloop_report_hours_to_build",
            "Hours of responses whose report figures changed since their day's tallies were built",
            hours_to_build(),
        )


def _bound(seconds: float) -> str:
    return f"{seconds:g}"


def registry() -> CollectorRegistry:
    """A registry of its own: the default one describes this one process, which misleads with several."""
    own = CollectorRegistry(auto_describe=False)
    own.register(DatabaseCollector())
    return own


REGISTRY = registry()
