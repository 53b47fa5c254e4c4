"""The fault suite (issue 14): kills, races, bad input and injection, each group printing a tally line
(tests/conftest.py gathers the lines from every worker and prints them after the run).

Every test here is slow (child processes, many runs). `make test-faults` runs more kills (FAULT_KILLS)."""

from collections.abc import Callable

import pytest

Tally = Callable[[str, int, int], None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "faults" in item.path.parts:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Tally:
    """`tally(group, tries, failures)`: add to the group's line in the fault suite's summary."""

    def add(group: str, tries: int, failures: int) -> None:
        line = request.config.fault_tallies.setdefault(group, [0, 0])  # type: ignore[attr-defined]
        line[0] += tries
        line[1] += failures

    return add
