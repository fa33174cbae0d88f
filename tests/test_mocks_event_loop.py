"""The recording mocks run a program even after an async test's asyncio.run() left no event loop set."""

from __future__ import annotations

import asyncio

import pulumi_aws as aws

from tests.support.mocks import run_under_mocks


def test_a_program_runs_after_asyncio_run_cleared_the_event_loop():
    asyncio.run(asyncio.sleep(0))
    recording = run_under_mocks(lambda: aws.sns.Topic("alerts", name="example-alerts"))
    assert [r.inputs["name"] for r in recording.resources if r.type == "aws:sns/topic:Topic"] == [
        "example-alerts"
    ]
