"""The dispatcher's pure parts: parameter parsing and the OpenAPI document (no Django set up)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_spec_validator import validate

from crashcart.web.api.base import APIContext, APIModel, Param, register
from crashcart.web.api.views import INT_LIMIT, openapi_document, parse_params

DECLARED = (Param("s", "str"), Param("n", "int"), Param("b", "bool"), Param("l", "list"), Param("r", "str", True))


def test_absent_params_are_none_or_empty_and_required_ones_are_errors() -> None:
    values, problems = parse_params(DECLARED, {"r": [""]})
    assert values == {"s": None, "n": None, "b": None, "l": []}
    assert problems == {"r": ["This field is required."]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("-3", -3), ("+4", 4), (" 5 ", 5), (str(INT_LIMIT - 1), INT_LIMIT - 1)],
)
def test_ints(text: str, expected: int) -> None:
    assert parse_params(DECLARED, {"n": [text], "r": ["x"]}) == (
        {"s": None, "n": expected, "b": None, "l": [], "r": "x"},
        {},
    )


@pytest.mark.parametrize("text", ["1.5", "1e3", "٣", "0x10", "--1", str(INT_LIMIT), "9" * 400, "- 1"])
def test_not_ints(text: str) -> None:
    assert parse_params(DECLARED, {"n": [text], "r": ["x"]})[1] == {"n": ["Enter a whole number."]}


@given(st.dictionaries(st.sampled_from(["s", "n", "b", "l", "r", "other"]), st.lists(st.text(max_size=30), max_size=4)))
def test_parsing_any_query_gives_values_or_errors_never_raises(query: dict[str, list[str]]) -> None:
    values, problems = parse_params(DECLARED, query)
    assert set(values) | set(problems) == {p.name for p in DECLARED}
    assert "other" not in values


def test_a_family_takes_every_key_with_its_prefix_but_not_the_named_ones() -> None:
    declared = (Param("_aggs.product", "list"), Param("_aggs.", "list", prefix=True))
    query = {"_aggs.product": ["a"], "_aggs.product.version": ["b", ""], "_aggs.": ["c"], "_aggsx": ["d"]}
    values, problems = parse_params(declared, query)
    assert values == {"_aggs.product": ["a"], "_aggs.product.version": ["b"]}
    assert problems == {}


def test_a_family_is_described_not_listed_in_openapi() -> None:
    class _Family(APIModel):
        name = "FamilyForOpenAPI"
        params = (Param("x", "list"), Param("_aggs.", "list", help="nested", prefix=True))

        def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
            return None

    operation = openapi_document([_Family])["paths"]["/api/FamilyForOpenAPI/"]["get"]
    validate(openapi_document([_Family]))
    assert [p["name"] for p in operation["parameters"]] == ["x"]
    assert "`_aggs.…`: nested" in operation["description"]


class _Sample(APIModel):
    name = "SampleForOpenAPI"
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    params = (Param("ids", "list", True, "crash ids"), Param("page", "int"))
    permission = "view_pii"
    binary_permission = "view_rawdump"

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return None


def test_openapi_document_is_valid_and_complete() -> None:
    document = openapi_document([_Sample])
    validate(document)
    get = document["paths"]["/api/SampleForOpenAPI/"]["get"]
    assert [p["name"] for p in get["parameters"]] == ["ids", "page"]
    assert get["parameters"][0]["required"] is True and get["parameters"][0]["schema"]["type"] == "array"
    assert "View Personal Identifiable Information" in get["description"]
    assert "application/octet-stream" in get["responses"]["200"]["content"]
    post = document["paths"]["/api/SampleForOpenAPI/"]["post"]
    assert post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["required"] == ["ids"]


def test_register_refuses_a_second_model_of_the_same_name_and_unknown_permissions() -> None:
    class Twin(APIModel):
        name = "SampleForOpenAPI"

    register(_Sample)
    with pytest.raises(ValueError, match="registered twice"):
        register(Twin)

    class Odd(APIModel):
        name = "OddPermission"
        permission = "view_everything"

    with pytest.raises(ValueError, match="unknown permission"):
        register(Odd)
