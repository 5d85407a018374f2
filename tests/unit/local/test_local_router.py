"""Route templates: parameters, constraints, precedence, case, prefix, 404/405."""

from __future__ import annotations

import pytest

from durableagent.local.router import Match, MethodNotAllowed, Router, RouteTemplate


def _router(*routes: tuple[str, list[str] | None]) -> Router[str]:
    router: Router[str] = Router("api")
    for route, methods in routes:
        router.add(route, methods, route)
    return router


def _hit(router: Router[str], path: str, method: str = "GET") -> tuple[str, dict[str, str]]:
    found = router.resolve(method, path)
    assert isinstance(found, Match), found
    return found.target, found.params


def test_literal_beats_parameter_regardless_of_declaration_order() -> None:
    router = _router(("agents/{a}/{s}", ["POST"]), ("agents/{a}/run", ["POST"]))
    assert _hit(router, "/api/agents/x/run", "POST") == ("agents/{a}/run", {"a": "x"})
    assert _hit(router, "/api/agents/x/other", "POST") == ("agents/{a}/{s}", {"a": "x", "s": "other"})


def test_constrained_parameter_beats_free_one_and_catch_all_comes_last() -> None:
    router = _router(("items/{*rest}", None), ("items/{name}", ["GET"]), ("items/{id:int}", ["GET"]))
    assert _hit(router, "/api/items/42") == ("items/{id:int}", {"id": "42"})
    assert _hit(router, "/api/items/abc") == ("items/{name}", {"name": "abc"})
    assert _hit(router, "/api/items/a/b/c") == ("items/{*rest}", {"rest": "a/b/c"})


def test_literal_segments_and_prefix_are_case_insensitive() -> None:
    router = _router(
        ("Items/Special", ["GET"]),
    )
    assert _hit(router, "/API/items/SPECIAL")[0] == "Items/Special"
    assert router.resolve("GET", "/other/items/special") is None


def test_parameter_values_keep_their_case_and_are_percent_decoded() -> None:
    router = _router(
        ("users/{name}", ["GET"]),
    )
    assert _hit(router, "/api/users/J%C3%BCrgen%20X")[1] == {"name": "Jürgen X"}


def test_optional_parameter_and_default() -> None:
    router = _router(("hello/{name?}", ["GET"]), ("page/{n:int=1}", ["GET"]))
    assert _hit(router, "/api/hello") == ("hello/{name?}", {})
    assert _hit(router, "/api/hello/") == ("hello/{name?}", {})
    assert _hit(router, "/api/hello/bob")[1] == {"name": "bob"}
    assert _hit(router, "/api/page")[1] == {"n": "1"}
    assert _hit(router, "/api/page/7")[1] == {"n": "7"}
    assert router.resolve("GET", "/api/page/x") is None


def test_catch_all_may_be_empty() -> None:
    router = _router(
        ("files/{*rest}", ["GET"]),
    )
    assert _hit(router, "/api/files") == ("files/{*rest}", {})
    assert _hit(router, "/api/files/a/b.txt")[1] == {"rest": "a/b.txt"}


@pytest.mark.parametrize(
    ("template", "good", "bad"),
    [
        ("{v:int}", ["0", "-12", "2147483647"], ["1.5", "x", "2147483648", ""]),
        ("{v:long}", ["9223372036854775807"], ["9223372036854775808"]),
        ("{v:alpha}", ["abcXYZ"], ["abc1", "ä"]),
        ("{v:bool}", ["true", "FALSE"], ["yes", "1"]),
        (
            "{v:guid}",
            ["0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5bd9cb469fa16570867728950e"],
            ["0f8fad5b"],
        ),
        ("{v:length(3)}", ["abc"], ["ab", "abcd"]),
        ("{v:length(2,3)}", ["ab", "abc"], ["a", "abcd"]),
        ("{v:minlength(2)}", ["ab"], ["a"]),
        ("{v:maxlength(2)}", ["ab"], ["abc"]),
        ("{v:min(10)}", ["10", "11"], ["9", "x"]),
        ("{v:max(10)}", ["10", "-1"], ["11"]),
        ("{v:range(1,3)}", ["1", "3"], ["0", "4"]),
        ("{v:regex(^\\d{{3}}$)}", ["123"], ["1234", "12a"]),
        ("{v:int:min(5)}", ["5"], ["4", "x"]),
        ("{v:double}", ["1.5", "-2"], ["nan", "x"]),
    ],
)
def test_constraints(template: str, good: list[str], bad: list[str]) -> None:
    t = RouteTemplate("x/" + template)
    for value in good:
        assert t.match(["x", value]) == {"v": value}, value
    for value in bad:
        assert t.match(["x", value]) is None, value


def test_unknown_constraint_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="unknown route constraint"):
        RouteTemplate("a/{v:nosuch}")


def test_catch_all_must_be_last() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        RouteTemplate("a/{*rest}/b")


def test_complex_segment() -> None:
    t = RouteTemplate("files/{name}.{ext}")
    assert t.match(["files", "report.final.pdf"]) == {"name": "report.final", "ext": "pdf"}
    assert t.match(["files", "noext"]) is None


def test_method_not_allowed_lists_methods_of_every_matching_route() -> None:
    router = _router(("things/{id}", ["GET"]), ("things/{id:int}", ["DELETE"]))
    found = router.resolve("POST", "/api/things/5")
    assert isinstance(found, MethodNotAllowed)
    assert found.allowed == ["DELETE", "GET"]
    assert _hit(router, "/api/things/5", "GET")[0] == "things/{id}"


def test_unknown_path_and_extra_segments_do_not_match() -> None:
    router = _router(
        ("a/{b}", ["GET"]),
    )
    assert router.resolve("GET", "/api/a/b/c") is None
    assert router.resolve("GET", "/api/a//c") is None
    assert router.resolve("GET", "/api") is None


def test_empty_prefix() -> None:
    router: Router[str] = Router("")
    router.add("health", ["GET"], "health")
    assert isinstance(router.resolve("GET", "/health"), Match)
