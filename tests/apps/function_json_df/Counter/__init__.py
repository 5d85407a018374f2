import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += int(context.get_input())
        context.set_state(value)
        context.set_result(value)
    elif operation == "reset":
        context.set_state(0)
    elif operation == "get":
        context.set_result(value)
    elif operation == "fail":
        raise ValueError("the counter refuses this operation")


main = df.Entity.create(entity_function)
