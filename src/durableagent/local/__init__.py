"""The embedded local host: runs any Durable Functions (Python, 1.x protocol) app on one machine."""
