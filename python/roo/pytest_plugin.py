"""pytest plugin of roo.testing, registered by installing the roo package.

A test that takes the `roo_runner` fixture runs once per core count of `--roo-cores`
(default "1,2"), its id ending in `[cores=N]`:

    def test_reverse(roo_runner):
        result = roo_runner.run("examples/reverse.py", ["hello"])
        assert result.output.lines() == ["olleh"]

`--roo-bin PATH` picks the roo binary (else roo.testing.find_roo's order: $ROO_BIN,
`roo` on PATH, the checkout's target/release/roo).
"""

from __future__ import annotations

import pytest

from roo.testing import Runner


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("roo", "Roo apps under test (roo.testing)")
    group.addoption(
        "--roo-cores",
        default="1,2",
        help="core counts to run each roo_runner test at, comma-separated (default: 1,2)",
    )
    group.addoption(
        "--roo-bin",
        default=None,
        help="the roo binary (default: $ROO_BIN, else roo on PATH, else the checkout's "
        "target/release/roo)",
    )


def _core_counts(config: pytest.Config) -> list[int]:
    text = config.getoption("--roo-cores")
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or any(count < 1 for count in counts):
        raise pytest.UsageError("--roo-cores %r: give core counts >= 1, e.g. 1,2" % text)
    return counts


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "roo_cores" in metafunc.fixturenames:
        counts = _core_counts(metafunc.config)
        metafunc.parametrize(
            "roo_cores", counts, indirect=True, ids=["cores=%d" % n for n in counts]
        )


@pytest.fixture
def roo_cores(request: pytest.FixtureRequest) -> int:
    """The core count this test runs at (each of --roo-cores in turn)."""
    return request.param


@pytest.fixture
def roo_runner(roo_cores: int, pytestconfig: pytest.Config) -> Runner:
    """roo.testing's run and start at this test's core count, with --roo-bin's binary."""
    return Runner(roo_cores, pytestconfig.getoption("--roo-bin"))
