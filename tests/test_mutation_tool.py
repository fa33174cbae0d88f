"""tools/mutation.py's own logic: which module a mutant belongs to, a reproducible sample, the score."""

from tools.mutation import Summary, choose, module_of

NAMES = [f"components.lib.netmath.x_parse_cidr__mutmut_{i}" for i in range(1, 40)] + [
    f"providers.common.xǁFaultǁrun__mutmut_{i}" for i in range(1, 40)
]


def test_a_mutant_belongs_to_the_module_of_its_function_or_method():
    assert module_of("components.lib.netmath.x_parse_cidr__mutmut_8") == "components.lib.netmath"
    assert module_of("tools.policy_runner.xǁ_Collectorǁunknown__mutmut_3") == "tools.policy_runner"


def test_the_same_seed_draws_the_same_sample_and_another_seed_another():
    first = choose(NAMES, 10, 18, None)
    assert first == choose(
        list(reversed(NAMES)), 10, 18, None
    )  # the order mutmut lists them in is irrelevant
    assert len(first) == 10 and set(first) <= set(NAMES)
    assert first != choose(NAMES, 10, 19, None)


def test_a_sample_of_zero_or_more_than_there_are_is_every_mutant_and_only_narrows_them():
    assert choose(NAMES, 0, 18, None) == sorted(NAMES)
    assert choose(NAMES, 500, 18, None) == sorted(NAMES)
    assert all(name.startswith("providers.") for name in choose(NAMES, 5, 18, "providers.*"))


def test_timeouts_count_as_killed_and_untested_mutants_as_survivors():
    summary = Summary(
        18,
        100,
        {
            "a.x_f__mutmut_1": "killed",
            "a.x_f__mutmut_2": "timeout",
            "b.x_g__mutmut_1": "survived",
            "b.x_g__mutmut_2": "no tests",
        },
    )
    assert (summary.killed, summary.score) == (2, 0.5)
    assert summary.survivors() == ["b.x_g__mutmut_1", "b.x_g__mutmut_2"]
    assert summary.by_module() == {"a": (2, 2), "b": (0, 2)}
    assert summary.to_json()["modules"] == {"a": {"killed": 2, "total": 2}, "b": {"killed": 0, "total": 2}}
