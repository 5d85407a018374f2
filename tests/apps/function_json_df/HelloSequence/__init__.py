import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    cities = context.get_input() or ["Tokyo", "Seattle", "London"]
    greetings = []
    for city in cities:
        greetings.append((yield context.call_activity("SayHello", city)))
    visits = yield context.call_entity(df.EntityId("Counter", "visits"), "add", len(greetings))
    return {"greetings": greetings, "visits": visits}


main = df.Orchestrator.create(orchestrator_function)
