"""The shellcheck helper the user-data tests rely on: clean only when shellcheck ran and found nothing."""

import pytest

from tests.support.shell_lint import shellcheck


@pytest.fixture
def clean_script(tmp_path):
    path = tmp_path / "clean.sh"
    path.write_text('#!/usr/bin/env bash\nset -euo pipefail\necho "ready"\n')
    return path


def test_a_clean_script_is_clean(clean_script):
    assert shellcheck([clean_script]) == ""


def test_a_finding_is_reported_with_its_code(tmp_path):
    path = tmp_path / "unquoted.sh"
    path.write_text("#!/usr/bin/env bash\nrm -rf $1/cache\n")  # SC2086: word splitting of $1
    assert "SC2086" in shellcheck([path])


def test_a_script_that_cannot_be_read_is_not_clean(tmp_path):
    # shellcheck exits 2 and names the missing file on stderr, printing nothing on stdout.
    assert "missing.sh" in shellcheck([tmp_path / "missing.sh"])


def test_a_shellcheck_that_fails_silently_is_not_clean(tmp_path, clean_script):
    broken = tmp_path / "shellcheck"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert shellcheck([clean_script], executable=broken) == "shellcheck exited 3 and printed nothing"


def test_a_missing_shellcheck_is_not_clean(tmp_path, clean_script):
    assert "could not be run" in shellcheck([clean_script], executable=tmp_path / "no-such-binary")


def test_no_scripts_at_all_is_not_clean():
    assert shellcheck([]) == "shellcheck was given no scripts to check"
