"""``GET /docs``: Swagger UI for this API, with its assets served by the app (no CDN).

The assets come from the ``swagger-ui-py`` package (Swagger UI 5, which renders OpenAPI 3.1), so
the page works on machines and deployments without internet access. The page loads the app's own
``openapi.json``; "Try it out" calls the running app. Operation ids are shown because they are
the method names of the generated clients (``runAgent``, ``getConversation``...).
tests/browser/test_swagger_ui.py drives the page in headless Chromium.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources

import azure.functions as func

from durableagent.contract.problems import NotFound
from durableagent.contract.validate import ValidatedRequest
from durableagent.http.edge import serve
from durableagent.http.replies import Reply, bytes_response, route_prefix_of, text_response

PAGE_TEMPLATE = "docs"
ASSET_TEMPLATE = "docs/assets/{assetName}"

ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui-standalone-preset.js": "application/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    "oauth2-redirect.html": "text/html",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>durableagent API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: {spec_url},
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      displayOperationId: true,
      displayRequestDuration: true,
      tryItOutEnabled: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""


def page_html(route_prefix: str) -> str:
    """The Swagger UI page for an app whose routes live under ``route_prefix`` (``api``, or "")."""
    base = f"/{route_prefix}" if route_prefix else ""
    # The prefix comes from host configuration; escape it anyway (HTML attribute, JS string).
    return _PAGE.format(
        assets=html.escape(f"{base}/docs/assets", quote=True),
        spec_url=json.dumps(f"{base}/openapi.json").replace("<", "\\u003c"),
    )


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return resources.files("swagger_ui").joinpath("static", name).read_bytes()


async def docs_page(req: func.HttpRequest) -> Reply:
    """``GET /docs``: the Swagger UI page."""

    async def page(v: ValidatedRequest) -> Reply:
        return text_response(page_html(route_prefix_of(req.url, PAGE_TEMPLATE)), mimetype="text/html")

    return await serve(req, PAGE_TEMPLATE, page)


async def docs_asset(req: func.HttpRequest) -> Reply:
    """``GET /docs/assets/{assetName}``: Swagger UI's files."""

    async def asset(v: ValidatedRequest) -> Reply:
        name = str(v.path["assetName"])
        if name not in ASSETS:
            raise NotFound("No such documentation asset.")
        return bytes_response(_asset(name), ASSETS[name], {"Cache-Control": "public, max-age=86400"})

    return await serve(req, ASSET_TEMPLATE, asset)
