"""Hooks of the robustness suite; the helpers are in ``robust_harness.py`` (read its docstring).

Each test is one hostile input or fault, tagged with ``@pytest.mark.robust("kind")``
(or named ``test_inputs_<kind>.py``); ``scripts/robustness_table.py`` runs this
folder and prints the count table by kind from the JSON written at session end.
"""

from __future__ import annotations

import pytest

from .robust_harness import configure, note_report, robust_record, write_records

__all__ = ["robust_record"]  # the autouse fixture, re-exported so pytest sees it


def pytest_configure(config: pytest.Config) -> None:
    configure(config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    note_report(item, outcome.get_result())


def pytest_sessionfinish(session, exitstatus) -> None:
    write_records()
