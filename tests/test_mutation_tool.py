"""tools/mutation.py's own logic: which module a mutant belongs to, a reproducible sample, the score."""

from tools.mutation import Summary, choose, module_of, route

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


def test_routed_functions_keep_only_their_routes_tests_and_others_keep_all():
    stats = {
        "tests_by_mangled_function_name": {
            "components.config.stack.x_parse_stack_config": [
                "tests/test_config.py::test_a",
                "tests/test_program.py::test_b",
            ],
            "components.config.reader.x_log_retention": ["tests/test_program.py::test_b"],
            "providers.common.x_explain": ["tests/test_program.py::test_b"],
        }
    }
    changed = route(stats, {"components.config.*": ("tests/test_config.py",)})
    tests = stats["tests_by_mangled_function_name"]
    assert tests["components.config.stack.x_parse_stack_config"] == ["tests/test_config.py::test_a"]
    # no test of its route reaches it: it keeps what it had rather than count as untested
    assert tests["components.config.reader.x_log_retention"] == ["tests/test_program.py::test_b"]
    assert tests["providers.common.x_explain"] == ["tests/test_program.py::test_b"]
    assert changed == {"components.config.stack.x_parse_stack_config": (2, 1)}
