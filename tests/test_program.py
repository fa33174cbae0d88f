"""Whole-program properties of each committed stack."""

import pytest

STACKS = ("production", "dev")


@pytest.fixture(params=STACKS)
def recording(request):
    return request.getfixturevalue(request.param)


def test_no_deprecated_resource_or_argument_is_used(recording):
    assert not [w for w in recording.warnings if "deprecat" in w.lower()]


def test_every_cloud_resource_belongs_to_a_component(recording):
    for resource in recording.resources:
        if resource.custom:
            component = recording.component_of(resource)
            assert component is not None, f"{resource.type} {resource.name} sits at the stack root"
            assert component.type.startswith("candlefish:secrets:")


def test_children_are_named_after_their_component(recording):
    for resource in recording.resources:
        component = recording.component_of(resource)
        if component is not None:
            assert resource.name.startswith(f"{component.name}-"), (component.name, resource.name)


def test_resource_names_are_unique_per_type(recording):
    seen = [(r.type, r.name) for r in recording.resources]
    assert len(seen) == len(set(seen))
