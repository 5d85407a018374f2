import json

import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, client: str) -> func.HttpResponse:
    durable = df.DurableOrchestrationClient(client)
    entity = df.EntityId("Counter", req.route_params["key"])
    if req.method == "POST":
        operation = req.route_params.get("op") or "add"
        await durable.signal_entity(entity, operation, req.get_json() if req.get_body() else None)
        return func.HttpResponse(status_code=202)
    state = await durable.read_entity_state(entity)
    doc = {"exists": state.entity_exists, "state": state.entity_state}
    return func.HttpResponse(json.dumps(doc), mimetype="application/json")
