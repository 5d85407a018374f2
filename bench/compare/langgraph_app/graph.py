"""A one-node LangGraph graph on a deterministic fake chat model (``scripts/bench --compare``).

The model answers like durableagent's offline model ("You said: '<message>'. This is offline reply
#N in this conversation."), so both servers do comparable work per turn: the whole thread history
goes to the model, one reply comes back.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.graph import START, MessagesState, StateGraph


class OfflineEchoModel(BaseChatModel):
    """Deterministic, network-free: echoes the last user message and counts the user messages."""

    @property
    def _llm_type(self) -> str:
        return "offline-echo"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        users = [m for m in messages if isinstance(m, HumanMessage)]
        text = str(users[-1].content) if users else ""
        reply = f"You said: '{text}'. This is offline reply #{len(users)} in this conversation."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


model = OfflineEchoModel()


def agent(state: MessagesState) -> dict[str, Any]:
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_edge(START, "agent")
graph = builder.compile()
