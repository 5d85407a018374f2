"""durableagent: Microsoft Agent Framework agents as Azure Durable Functions apps."""

__version__ = "0.1.0"
