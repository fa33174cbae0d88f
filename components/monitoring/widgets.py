"""Typed CloudWatch dashboard widgets, laid out in rows, rendered to the dashboard body JSON.

A dashboard body is `{"widgets": [...]}`; each widget has a `type` (metric, log, alarm, text), a place on
the 24-unit-wide grid (`x`, `y`, `width`, `height`) and type-specific `properties` (CloudWatch API
reference, "Dashboard Body Structure and Syntax"). Here a dashboard is a list of rows; the widgets of a row
share its width (evenly unless a widget asks for a width) and the row's height, so reading goes top to
bottom: what is on fire first, then the detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pulumi

from components.monitoring.targets import Metric

GRID_WIDTH = 24


@dataclass(frozen=True)
class Line:
    """One metric on a graph, with the statistic to draw."""

    metric: Metric
    stat: str
    label: str = ""

    def render(self) -> list[Any]:
        dimensions = [part for name, value in self.metric.dimensions.items() for part in (name, value)]
        options: dict[str, Any] = {"stat": self.stat}
        if self.label or self.metric.label:
            options["label"] = self.label or self.metric.label
        return [self.metric.namespace, self.metric.name, *dimensions, options]


@dataclass(frozen=True)
class MetricWidget:
    """A graph (or single numbers) of metrics, optionally with a threshold line."""

    title: str
    lines: Sequence[Line]
    period: int = 60
    view: Literal["timeSeries", "singleValue"] = "timeSeries"
    stacked: bool = False
    threshold: tuple[str, float] | None = None
    width: int | None = None
    height: int = 6

    kind: ClassVar[str] = "metric"

    def properties(self, region: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": self.view,
            "stacked": self.stacked,
            "period": self.period,
            "metrics": [line.render() for line in self.lines],
        }
        if self.view == "timeSeries":
            body["yAxis"] = {"left": {"min": 0}}
        if self.threshold is not None:
            label, value = self.threshold
            body["annotations"] = {"horizontal": [{"label": label, "value": value}]}
        return body


@dataclass(frozen=True)
class LogWidget:
    """The result of a Logs Insights query over one or more log groups."""

    title: str
    log_groups: Sequence[pulumi.Input[str]]
    query: str
    view: Literal["table", "timeSeries", "bar"] = "table"
    width: int | None = None
    height: int = 6

    kind: ClassVar[str] = "log"

    def properties(self, region: str) -> dict[str, Any]:
        sources: list[pulumi.Input[str]] = []
        for group in self.log_groups:
            sources += ["SOURCE '", group, "' | "]
        return {
            "title": self.title,
            "region": region,
            "view": self.view,
            "query": pulumi.Output.concat(*sources, self.query),
        }


@dataclass(frozen=True)
class AlarmWidget:
    """The state of a set of alarms, alarming ones first."""

    title: str
    alarm_arns: Sequence[pulumi.Input[str]]
    width: int | None = None
    height: int = 3

    kind: ClassVar[str] = "alarm"

    def properties(self, region: str) -> dict[str, Any]:
        return {"title": self.title, "alarms": list(self.alarm_arns), "sortBy": "stateUpdatedTimestamp"}


@dataclass(frozen=True)
class TextWidget:
    """Markdown: what the dashboard is for and where to go next."""

    markdown: str
    width: int | None = None
    height: int = 2

    kind: ClassVar[str] = "text"

    def properties(self, region: str) -> dict[str, Any]:
        return {"markdown": self.markdown}


Widget = MetricWidget | LogWidget | AlarmWidget | TextWidget


def layout(rows: Sequence[Sequence[Widget]], region: str) -> list[dict[str, Any]]:
    """Place rows top to bottom; a row's widgets share its width and take its tallest widget's height."""
    widgets: list[dict[str, Any]] = []
    y = 0
    for number, row in enumerate(rows):
        if not row:
            raise ValueError(f"row {number} is empty")
        fixed = sum(widget.width or 0 for widget in row)
        flexible = [widget for widget in row if widget.width is None]
        share = (GRID_WIDTH - fixed) // len(flexible) if flexible else 0
        if fixed + share * len(flexible) > GRID_WIDTH or (flexible and share < 1):
            raise ValueError(f"row {number} is wider than the {GRID_WIDTH}-unit grid")
        height = max(widget.height for widget in row)
        x = 0
        for widget in row:
            width = widget.width or share
            widgets.append(
                {
                    "type": widget.kind,
                    "x": x,
                    "y": y,
                    "width": width,
                    "height": height,
                    "properties": widget.properties(region),
                }
            )
            x += width
        y += height
    return widgets


def dashboard_body(rows: Sequence[Sequence[Widget]], region: str) -> pulumi.Output[str]:
    """The dashboard body JSON, once the names and ARNs in it are known."""
    return pulumi.Output.json_dumps({"widgets": layout(rows, region)})
