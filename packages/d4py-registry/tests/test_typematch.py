"""--accepts and --produces: which declared types take which."""

import pytest

from d4py_registry.typematch import assignable


@pytest.mark.parametrize(
    ("given", "declared"),
    [
        ("int", "int"),
        ("int", "float"),
        ("tuple[str, int]", "tuple"),
        ("tuple[str,int]", "tuple[str, int]"),
        ("str", "Any"),
        ("str", "typing.Any"),
        ("int", "int | None"),
        ("int", "Optional[int]"),
        ("int | float", "float"),
        ("str", "Union[int, str]"),
    ],
)
def test_takes(given, declared):
    assert assignable(given, declared)


@pytest.mark.parametrize(
    ("given", "declared"),
    [
        ("str", "int"),
        ("float", "int"),
        ("tuple", "tuple[str, int]"),
        ("int | str", "int"),
        ("list[int]", "dict"),
        ("int", None),
        (None, "int"),
    ],
)
def test_refuses(given, declared):
    assert not assignable(given, declared)
