"""The Swagger UI page's HTML (no browser needed): asset and spec URLs follow the route prefix.

Why: the page is built from host.json's route prefix (``api`` by default, possibly empty or
custom); a wrong URL there renders an empty page that only a browser would notice.
"""

from __future__ import annotations

import pytest

from durableagent.http.docs import ASSETS, page_html


@pytest.mark.parametrize(("prefix", "base"), [("api", "/api"), ("", ""), ("v1/agents", "/v1/agents")])
def test_urls_follow_the_route_prefix(prefix: str, base: str) -> None:
    html = page_html(prefix)
    assert f'url: "{base}/openapi.json"' in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"{base}/docs/assets/{asset}"' in html
        assert asset in ASSETS
    assert "validatorUrl: null" in html  # no call to the online validator
    assert "displayOperationId: true" in html


def test_prefix_is_escaped() -> None:
    html = page_html('x"</script><script>alert(1)//')
    assert "</script><script>alert" not in html
