import json

import azure.functions as func


def main(req: func.HttpRequest, msg: func.Out[str]) -> func.HttpResponse:
    msg.set(json.dumps({"body": "sent", "to": "+15550002222"}))
    return func.HttpResponse("sent")
