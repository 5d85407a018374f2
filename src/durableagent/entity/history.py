"""The session history an agent sees: a history provider that only appends, and a per-process cache.

Why our own provider: Agent Framework's ``InMemoryHistoryProvider`` keeps the history inside the
session and, on every turn, hashes every stored message to find the new ones
(``filter_new_messages``), so a turn costs O(history). Ours hands the agent the committed history
of the session and collects only the turn's new messages; the turn logic then persists exactly
those, once, in the transcript store.

Why a cache: loading and deserializing a long transcript on every turn would also be O(history).
The cache keeps the model-facing messages of recently active sessions, keyed by session
incarnation and validated by turn count: a cached history is used only when it covers exactly the
committed turns, so a batch the host did not commit (or another process's turns) forces a reload.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agent_framework import (
    AgentResponse,
    AgentSession,
    HistoryProvider,
    Message,
    SessionContext,
    SupportsAgentRun,
)

from durableagent.conversation.base import SessionRef, TurnRecord
from durableagent.conversation.store_protocol import ConversationStore

SOURCE_ID = "durableagent"
STATE_HISTORY = "history"
STATE_NEW = "new"


def _has_slots(cls: type) -> bool:
    return any(getattr(klass, "__dict__", {}).get("__slots__") for klass in cls.__mro__)


class HistoryMessage(Message):
    """A ``Message`` of the session history whose shallow copy is cheap.

    Why: on every turn Agent Framework shallow-copies every history message twice
    (``SessionContext.extend_messages`` and the function-invocation layer's
    ``_copy_messages_for_function_invocation``) with ``SerializationMixin.__copy__``, which walks the
    class hierarchy looking for ``__slots__`` on each call: a few microseconds per message and turn.
    ``Message`` keeps its fields in ``__dict__`` only, so copying that dict is the same copy.

    Nothing else differs: same fields and values, ``isinstance(m, Message)``, ``to_dict()`` and
    ``to_json()`` identical to a plain ``Message`` (``TYPE`` keeps the ``"message"`` type tag), so
    what the model receives is unchanged.
    """

    TYPE: ClassVar[str] = "message"
    _PLAIN_DICT: ClassVar[bool] = not _has_slots(Message)

    def __copy__(self) -> HistoryMessage:
        """A new HistoryMessage sharing this one's field values (the copy ``copy.copy`` makes)."""
        if not self._PLAIN_DICT:  # a future Message with slots: the generic copy knows them
            return super().__copy__()  # type: ignore[return-value]
        result = object.__new__(type(self))
        result.__dict__.update(self.__dict__)
        return result

    @staticmethod
    def adopt(message: Message) -> Message:
        """A plain ``message`` as a HistoryMessage sharing its field values; anything else as it is."""
        if type(message) is not Message:  # already a HistoryMessage, or an app's own subclass
            return message
        result = object.__new__(HistoryMessage)
        result.__dict__.update(message.__dict__)
        return result


APPROVAL_CONTROLS = frozenset({"function_approval_request", "function_approval_response"})


class SessionHistory(list[Message]):
    """The model-facing messages of a session (``HistoryMessage``s) and an approval-control flag.

    ``approval_controls`` is True once any message carries a tool-approval control.

    Why the flag: before every run Agent Framework's ``HistoryProvider.before_run`` scans the whole
    history for resolved approval requests to drop. A session that never used approvals has none, and
    the flag, kept as messages are added, lets the provider skip that O(history) scan.
    """

    approval_controls: bool = False

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        """Hold ``messages``; ``starts``/``tokens`` index the turns added with :meth:`add_turn`."""
        super().__init__(messages)
        self.starts: list[int] = []  # index of each turn's first message
        self.tokens: list[int] = []  # each turn's estimated tokens (4 characters a token)

    def add_turn(self, messages: Sequence[Message]) -> None:
        """Append one turn's messages (none for a failed turn) and index where it starts."""
        self.starts.append(len(self))
        self.tokens.append(sum(max(1, len(m.text or "") // 4) for m in messages))
        self.add(messages)

    def add(self, messages: Iterable[Message]) -> None:
        """Append ``messages`` as HistoryMessages, setting ``approval_controls`` if one is an approval."""
        for message in messages:
            adopted = HistoryMessage.adopt(message)
            if not self.approval_controls and any(c.type in APPROVAL_CONTROLS for c in adopted.contents):
                self.approval_controls = True
            self.append(adopted)


class DurableHistoryProvider(HistoryProvider):
    """Supplies ``state["history"]`` to the agent and collects the run's new messages in ``state["new"]``.

    Stateless (one instance serves every session); the per-turn state lives in the
    ``AgentSession.state[SOURCE_ID]`` dict the turn logic prepares.
    """

    def __init__(self) -> None:
        """Register under ``SOURCE_ID``, the key of the per-turn state in ``AgentSession.state``."""
        super().__init__(SOURCE_ID)

    async def get_messages(
        self, session_id: str | None, *, state: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Message]:
        """The committed history the turn logic put in ``state``; none without a state."""
        return list(state.get(STATE_HISTORY, ())) if state is not None else []

    async def before_run(
        self,
        *,
        agent: SupportsAgentRun,
        session: AgentSession,
        context: SessionContext,
        state: dict[str, Any],
    ) -> None:
        """Load the history into ``context`` as the framework's ``HistoryProvider.before_run`` does.

        The framework first drops resolved tool-approval controls from the history, a scan of
        every message; a history that never held one (the flag ``SessionHistory`` keeps) has nothing
        to drop, so it goes to ``context.extend_messages`` (public API: copy + attribution) directly.
        """
        history = state.get(STATE_HISTORY)
        if isinstance(history, SessionHistory) and not history.approval_controls:
            context.extend_messages(self, history)
            return
        await super().before_run(agent=agent, session=session, context=context, state=state)

    async def save_messages(
        self,
        session_id: str | None,
        messages: Sequence[Message],
        *,
        state: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Collect the run's new messages in ``state["new"]`` for the turn logic to persist."""
        if state is not None:
            state.setdefault(STATE_NEW, []).extend(messages)


def turn_messages(record: TurnRecord) -> list[Message]:
    """What a committed turn contributes to the model's history (nothing for a failed turn)."""
    if record.error is not None or record.reply is None:
        return []
    return [Message.from_dict(record.user), *AgentResponse.from_dict(record.reply).messages]


MESSAGE_OVERHEAD = 2048
"""Approximate memory of one cached ``Message`` beyond its text (objects, dicts, contents), as
measured on a soak (about 2.5 KB per short message)."""


def _weight(messages: Sequence[Message]) -> int:
    return sum(MESSAGE_OVERHEAD + len(message.text or "") for message in messages)


@dataclass
class _Entry:
    turns: int
    messages: SessionHistory = field(default_factory=SessionHistory)
    weight: int = 0


class HistoryCache:
    """LRU of model-facing histories, bounded by session count and (approximate) memory."""

    def __init__(self, max_sessions: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        """An empty cache holding at most ``max_sessions`` histories and about ``max_bytes``."""
        self._entries: OrderedDict[SessionRef, _Entry] = OrderedDict()
        self._max_sessions = max_sessions
        self._max_bytes = max_bytes
        self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """``(sessions, approximate bytes)`` held."""
        return len(self._entries), self._bytes

    async def history(self, store: ConversationStore, ref: SessionRef, turns: int) -> SessionHistory:
        """The model-facing messages of turns 1..``turns`` of ``ref`` (from cache, else from the store)."""
        entry = self._entries.get(ref)
        if entry is not None and entry.turns == turns:
            self._entries.move_to_end(ref)
            return entry.messages
        messages = SessionHistory()
        if turns > 0:
            records = await store.load_turns(ref, 1, turns)
            if len(records) != turns:
                raise RuntimeError(f"transcript of session incarnation {ref.incarnation} has gaps")
            for record in records:
                messages.add_turn(turn_messages(record))
        self._put(ref, _Entry(turns, messages, _weight(messages)))
        return messages

    def advance(self, ref: SessionRef, turns: int, new_messages: Sequence[Message]) -> None:
        """Record that turn ``turns`` added ``new_messages`` (call after the turn is written)."""
        entry = self._entries.get(ref)
        if entry is None or entry.turns != turns - 1:
            self.forget(ref)
            return
        entry.turns = turns
        entry.messages.add_turn(new_messages)
        added = _weight(new_messages)
        entry.weight += added
        self._bytes += added
        self._entries.move_to_end(ref)
        self._trim()

    def forget(self, ref: SessionRef) -> None:
        """Drop ``ref``'s history (a later :meth:`history` reloads it from the store)."""
        entry = self._entries.pop(ref, None)
        if entry is not None:
            self._bytes -= entry.weight

    def _put(self, ref: SessionRef, entry: _Entry) -> None:
        self.forget(ref)
        self._entries[ref] = entry
        self._bytes += entry.weight
        self._trim()

    def _trim(self) -> None:
        while self._entries and (len(self._entries) > self._max_sessions or self._bytes > self._max_bytes):
            _, old = self._entries.popitem(last=False)
            self._bytes -= old.weight
