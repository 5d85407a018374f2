import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str, message):
    client = df.DurableOrchestrationClient(starter)
    value = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["functionName"], None, value)
    message.set(client.create_check_status_response(req, instance_id))
