"""Code shared by several functions, imported relatively through the ``__app__`` package."""

import os


def greeting(name: str) -> str:
    return f"{os.environ.get('GREETING', 'Hello')} {name}!"
