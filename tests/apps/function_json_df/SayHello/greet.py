from ..shared.phrases import greeting


def say_hello(city: str) -> str:
    return greeting(city)
