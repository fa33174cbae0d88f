"""The SDK work the recording mocks skip: skipped only during a run, and nothing a recording keeps changes."""

from __future__ import annotations

import gc

import pulumi
import pulumi_aws as aws
from pulumi import _types as pulumi_types
from pulumi import log as pulumi_log
from pulumi.dynamic import dynamic as pulumi_dynamic
from pulumi.runtime import resource as pulumi_resource

from providers.secrets_manager_seed import SecretsManagerSeed, SecretsManagerSeedProvider
from tests.support import mock_costs
from tests.support.mocks import run_under_mocks


def sdk_functions() -> tuple[object, ...]:
    return (
        pulumi_resource._get_stack_trace,
        pulumi_dynamic.serialize_provider,
        pulumi_types.resource_types,
        pulumi_log.debug,
    )


def test_the_sdks_own_functions_are_back_after_a_run_even_one_that_fails():
    before = sdk_functions()
    run_under_mocks(lambda: aws.sns.Topic("alerts", name="example-alerts"))
    assert sdk_functions() == before
    try:
        with mock_costs.sdk_bookkeeping_skipped():
            assert sdk_functions() != before
            raise RuntimeError("a program mistake")
    except RuntimeError:
        pass
    assert sdk_functions() == before


class Stateless:
    """A provider with no instance state, as every provider in providers/ is."""


class Stateful:
    def __init__(self, setting: str) -> None:
        self.setting = setting


def test_a_provider_is_pickled_once_per_class_only_when_it_has_no_state():
    calls: list[object] = []

    def pickle(provider: object) -> str:
        calls.append(provider)
        return f"pickled {type(provider).__name__} {vars(provider)}"

    serialize = mock_costs._pickled_once_per_class(pickle)
    assert serialize(Stateless()) == serialize(Stateless()) == "pickled Stateless {}"
    assert serialize(Stateful("a")) == "pickled Stateful {'setting': 'a'}"
    assert serialize(Stateful("b")) == "pickled Stateful {'setting': 'b'}"
    assert [type(provider).__name__ for provider in calls] == ["Stateless", "Stateful", "Stateful"]


def test_two_seeds_carry_the_same_provider_as_the_sdk_pickles_it():
    """The remembered pickle is the SDK's own, so the seeds' inputs are what the engine would get."""

    def two_seeds() -> None:
        for name in ("first", "second"):
            SecretsManagerSeed(
                name, secret_id="arn:example", value="example-not-a-secret", region="us-east-1"
            )

    recording = run_under_mocks(two_seeds)
    providers = [r.inputs["__provider"] for r in recording.resources if r.name in ("first", "second")]
    assert len(providers) == 2
    assert providers[0] == providers[1] == pulumi_dynamic.serialize_provider(SecretsManagerSeedProvider())


def test_output_types_are_read_once_per_resource_class():
    read: list[type] = []

    def types_of(resource_cls: type) -> dict[str, type]:
        read.append(resource_cls)
        return {"arn": str}

    remembered = mock_costs._TypesPerClass(types_of)
    assert remembered(aws.sns.Topic) == remembered(aws.sns.Topic) == {"arn": str}
    assert remembered(aws.sqs.Queue) == {"arn": str}
    assert read == [aws.sns.Topic, aws.sqs.Queue]


def test_the_collector_is_paused_for_a_run_and_restored_as_it_was():
    assert gc.isenabled()
    with mock_costs.cyclic_gc_paused():
        assert not gc.isenabled()
        with mock_costs.cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause leaves the outer one in place
    assert gc.isenabled()


def test_warnings_are_still_recorded_without_debug_messages():
    def warn() -> None:
        pulumi.log.debug("nobody keeps this")
        pulumi.log.warn("the operator must see this")

    assert run_under_mocks(warn).warnings == ["the operator must see this"]
