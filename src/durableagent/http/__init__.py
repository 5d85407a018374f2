"""The app's HTTP routes (Azure Functions HTTP triggers) and their helpers."""
