import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Counter", context.get_input() or "failing")
    try:
        yield context.call_entity(entity, "fail")
    except Exception as error:  # the entity operation's failure reaches the caller
        return {"failed": True, "message": str(error)}
    return {"failed": False}


main = df.Orchestrator.create(orchestrator_function)
