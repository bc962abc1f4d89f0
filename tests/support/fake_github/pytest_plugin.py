"""Fails the test during which the fake GitHub had to say no, unless the test took the refusal.

Every `FakeGitHub` writes down the requests GitHub would have refused (`violations`): an
unknown route or method, parameters or a body that break GitHub's description, a permission
the installation lacks, a GraphQL operation GitHub's schema rejects or ghapp does not use. The
code under test may well swallow the 404/422/403 it got; this plugin does not: after each test
it collects the violations of every fake alive in the process and fails the test with them. A
test that provokes a refusal on purpose calls `fake.take_violations()` and asserts on what it
got; taken violations are not reported.

Violations noticed while the test body ran fail the test itself; those that happen only while
fixtures are torn down (a runtime flushing its last requests) fail its teardown.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from .core import LIVE_FAKES, ContractViolation


def _pending() -> list[ContractViolation]:
    found: list[ContractViolation] = []
    for fake in list(LIVE_FAKES):
        found.extend(fake.take_violations())
    return found


def _report(violations: list[ContractViolation]) -> str:
    lines = "\n".join(f"  {v}" for v in violations)
    return (
        f"the fake GitHub refused {len(violations)} request(s) as GitHub would:\n{lines}\n"
        "(a test that expects a refusal takes it with fake.take_violations() and asserts on it)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    # Leftovers of an earlier test (a module-scoped fake) are not this test's doing.
    _pending()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        result = yield
    except BaseException:
        violations = _pending()
        if violations:
            item.add_report_section("call", "fake GitHub", _report(violations))
        raise
    violations = _pending()
    if violations:
        pytest.fail(_report(violations), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    violations = _pending()
    if violations:
        pytest.fail(_report(violations), pytrace=False)
    return result
