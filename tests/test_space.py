import math

import pytest

from harness import Choice, ConfigError, IntRange, LogUniform, SearchSpace, Uniform


def test_empty_space_is_refused():
    with pytest.raises(ConfigError, match="empty"):
        SearchSpace({})


@pytest.mark.parametrize(
    "params, grid, message",
    [
        ({"lr": Uniform(0.1, 0.1)}, {}, "low"),
        ({"lr": LogUniform(0.0, 1.0)}, {}, "log-uniform"),
        ({"n": IntRange(5, 2)}, {}, "low <= high"),
        ({"c": Choice([])}, {}, "at least one"),
        ({"lr": Uniform(0, 1), "n": IntRange(1, 3)}, {"lr": (0.5,)}, "missing"),
        ({"lr": Uniform(0, 1)}, {"lr": (0.5,), "bogus": (1,)}, "unknown"),
        ({"lr": Uniform(0, 1)}, {"lr": (2.0,)}, "outside"),
        ({"lr": Uniform(0, 1)}, {"lr": ()}, "empty"),
    ],
)
def test_inconsistent_spaces_are_refused(params, grid, message):
    with pytest.raises(ConfigError, match=message):
        SearchSpace(params, grid)


def test_grid_size_and_pure_grid():
    space = SearchSpace({"a": Choice([1, 2, 3]), "b": Choice(["x", "y"])}, {"a": (1, 2, 3), "b": ("x", "y")})
    assert space.grid_size == 6 and space.is_pure_grid
    assert not SearchSpace({"a": Uniform(0, 1)}).is_pure_grid


def test_continuous_encoding_decodes_into_the_declared_space():
    space = SearchSpace(
        {"lr": LogUniform(1e-4, 1e-1), "n": IntRange(2, 4), "c": Choice(["sgd", "adam"]), "p": Uniform(0, 0.5)}
    )
    bounds = {k: (d.lower, d.upper) for k, d in space.to_continuous().items()}
    assert bounds["lr"] == pytest.approx((-4, -1))
    assert bounds["n"][0] == 1.5 and bounds["n"][1] < 4.5
    assert space.decode_continuous({"lr": -2.0, "n": 3.6, "c": 1.2, "p": 0.25}) == {
        "lr": pytest.approx(0.01), "n": 4, "c": "adam", "p": 0.25,
    }
    # the edges map inside the declared ranges
    low = space.decode_continuous({k: lo for k, (lo, hi) in bounds.items()})
    high = space.decode_continuous({k: hi for k, (lo, hi) in bounds.items()})
    assert low == {"lr": pytest.approx(1e-4), "n": 2, "c": "sgd", "p": 0}
    assert high["n"] == 4 and high["c"] == "adam" and math.isclose(high["lr"], 0.1)


def test_tune_domains_keep_integer_bounds_inclusive():
    from ray.tune.search.sample import Integer

    domain = SearchSpace({"n": IntRange(2, 4)}).to_tune()["n"]
    assert isinstance(domain, Integer) and (domain.lower, domain.upper) == (2, 5)
