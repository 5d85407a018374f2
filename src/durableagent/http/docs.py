"""``GET /docs``: Swagger UI for this API, with its assets served by the app (no CDN).

The assets come from the ``swagger-ui-py`` package (Swagger UI 5, which renders OpenAPI 3.1), so
the page works on machines and deployments without internet access. The page loads the app's own
``openapi.json``; "Try it out" calls the running app.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import azure.functions as func

from durableagent.contract.problems import NotFound
from durableagent.contract.validate import ValidatedRequest
from durableagent.http.edge import route_prefix_of, serve
from durableagent.http.responses import bytes_response, text_response

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
  <title>durableagent API</title>
  <link rel="stylesheet" href="{base}/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="{base}/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{base}/docs/assets/swagger-ui-bundle.js"></script>
  <script src="{base}/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{base}/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      tryItOutEnabled: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return resources.files("swagger_ui").joinpath("static", name).read_bytes()


async def handle_docs(req: func.HttpRequest) -> func.HttpResponse:
    async def page(v: ValidatedRequest) -> func.HttpResponse:
        prefix = route_prefix_of(req.url, 1)
        return text_response(_PAGE.format(base=f"/{prefix}" if prefix else ""), mimetype="text/html")

    return await serve(req, 1, page)


async def handle_docs_asset(req: func.HttpRequest) -> func.HttpResponse:
    async def asset(v: ValidatedRequest) -> func.HttpResponse:
        name = str(v.path["assetName"])
        if name not in ASSETS:
            raise NotFound("No such documentation asset.")
        return bytes_response(_asset(name), ASSETS[name], {"Cache-Control": "public, max-age=86400"})

    return await serve(req, 3, asset)
