"""The one SQLite toolkit: how durableagent opens a database, runs a transaction and migrates a schema.

Why one module: the local host's store (entities, mailboxes, orchestrations) and the SQLite
conversation store (transcripts) often share one file and its WAL. They must agree on the rules
that make a commit durable and a write free of deadlocks, so those rules live here once:

* WAL journal (files only), ``busy_timeout``, ``foreign_keys`` and ``synchronous`` as the caller's
  :class:`SqliteSettings` say (passed explicitly; nothing here reads the environment);
* every write is ``BEGIN IMMEDIATE`` … ``COMMIT`` (:func:`transaction`): the write lock is taken up
  front, so two writers never deadlock upgrading a read lock, and an exception rolls back;
* numbered migrations (``NNNN_name.sql``), each applied once in its own transaction and recorded in
  a version table; a database migrated by a newer release is refused, never downgraded;
* new database files are created with mode 0600 (they hold keys and prompts).
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

T = TypeVar("T")
MEMORY = ":memory:"
SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
"""The current time in SQL, in durableagent's one timestamp format (``conversation.base.utc_now``)."""
_MIGRATION_FILE = re.compile(r"(\d{4})_[A-Za-z0-9_]+\.sql\Z")
# Primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF): busy and locked mean "try later";
# I/O error and disk full too, but they need the operator (or free space) first.
_BUSY_CODES = frozenset({5, 6})
_TRANSIENT_CODES = frozenset({5, 6, 10, 13})
DISK_FULL_CODE = 13


class SqliteSchemaError(RuntimeError):
    """A schema this release cannot use: migrated by a newer release, or a broken migration."""


@dataclass(frozen=True)
class SqliteSettings:
    """How a connection is opened.

    Attributes:
        synchronous: ``full`` (a returned COMMIT survives power loss) or ``normal`` (only for a
            connection whose commits another FULL-committing connection of the same WAL makes
            durable before anything is acknowledged; see ``conversation.sqlite``).
        busy_timeout_ms: How long a statement waits for another connection's lock.
        checkpoints: Whether this connection checkpoints the WAL (``False`` sets
            ``wal_autocheckpoint=0``: another connection of the same file does it).
        foreign_keys: ``PRAGMA foreign_keys``.
        integrity_check: Run ``PRAGMA quick_check`` at open and refuse a damaged file.
    """

    synchronous: Literal["full", "normal"] = "full"
    busy_timeout_ms: int = 30_000
    checkpoints: bool = True
    foreign_keys: bool = True
    integrity_check: bool = False


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def _create_private(path: Path) -> None:
    """Create ``path`` (and its directory) with mode 0600 unless it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def open_database(location: str | os.PathLike[str], settings: SqliteSettings) -> sqlite3.Connection:
    """Open (creating with mode 0600 if needed) the database at ``location`` (or ``:memory:``).

    The connection is in autocommit mode (``isolation_level=None``): transactions are explicit,
    through :func:`transaction`. It may be used from any thread, one at a time.

    Raises:
        sqlite3.DatabaseError: the file is not a usable database, or fails its integrity check.
    """
    target = str(location)
    if target != MEMORY:
        _create_private(Path(target))
    conn = sqlite3.connect(
        target, timeout=settings.busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        if target != MEMORY and str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.DatabaseError(f"cannot switch {Path(target).name} to WAL (journal_mode={mode})")
        conn.execute(f"PRAGMA synchronous={settings.synchronous.upper()}")
        if not settings.checkpoints:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        if settings.foreign_keys:
            conn.execute("PRAGMA foreign_keys=ON")
        if settings.integrity_check:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")
    except BaseException:
        conn.close()
        raise
    return conn


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work(conn)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``; roll back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class WalRecovery:
    """After a failed write (a full disk), the first write that succeeds truncates the WAL.

    SQLite grows the WAL file while a write fails and never shrinks it on its own; a TRUNCATE
    checkpoint (``PRAGMA wal_checkpoint(TRUNCATE)``) returns the space. Shared by the host's store
    and the conversation store, which write to the same file.
    """

    def __init__(self) -> None:
        """No write has failed yet."""
        self.failed = False

    def run(self, conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        """:func:`transaction`, noting a failure or recovering from an earlier one."""
        try:
            result = transaction(conn, work)
        except sqlite3.Error as exc:
            self.failed = self.failed or not is_busy(exc)
            raise
        self.succeeded(conn)
        return result

    def succeeded(self, conn: sqlite3.Connection) -> None:
        """A write committed on ``conn``: truncate the WAL if writes failed before."""
        if self.failed and truncate_wal(conn):
            self.failed = False
            logging.getLogger("durableagent.store").info(
                "store: writes succeed again; the WAL was checkpointed and truncated"
            )


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Checkpoint the whole WAL into the database and truncate it to 0 bytes; whether that happened."""
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error:
        return False
    return bool(busy == 0)


def error_code(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of ``exc`` (``SQLITE_BUSY`` is 5), when known."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` means another connection holds the lock (retry without waiting longer)."""
    code = error_code(exc)
    if code is not None:
        return code in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def is_transient(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` may go away by itself: busy, locked, an I/O error, a full disk."""
    code = error_code(exc)
    if code is not None:
        return code in _TRANSIENT_CODES
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "disk i/o", "full"))


def packaged_migrations(package: str) -> list[Migration]:
    """The ``NNNN_name.sql`` files of ``package``, in version order.

    Raises:
        SqliteSchemaError: two files share a version number.
    """
    found = []
    for entry in importlib.resources.files(package).iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise SqliteSchemaError(f"two migrations of {package} share a version number")
    return found


def statements(script: str) -> list[str]:
    """Split a migration script into complete statements (``executescript`` would COMMIT).

    Raises:
        SqliteSchemaError: the script ends with an incomplete statement.
    """
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer)
            buffer = ""
    if any(ln.strip() and not ln.strip().startswith("--") for ln in buffer.splitlines()):
        raise SqliteSchemaError("migration ends with an incomplete statement")
    return out


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], version_table: str) -> int:
    """Apply the ``migrations`` newer than the database's version; returns the version reached.

    ``version_table`` (an identifier chosen by the caller, never user input) records one row per
    applied migration, so several schemas can share one file.

    Raises:
        SqliteSchemaError: the database was migrated by a newer release.
    """
    if not re.fullmatch(r"[a-z_]+", version_table):
        raise ValueError("version_table must be a lower-case identifier")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {version_table} "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = int(conn.execute(f"SELECT coalesce(max(version), 0) FROM {version_table}").fetchone()[0])  # noqa: S608 - fixed identifier
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise SqliteSchemaError(f"schema version {current} is newer than this durableagent ({latest})")
    for migration in migrations:
        if migration.version <= current:
            continue

        def apply(c: sqlite3.Connection, m: Migration = migration) -> None:
            for statement in statements(m.sql):
                c.execute(statement)
            c.execute(
                f"INSERT INTO {version_table} (version, name, applied_at)"  # noqa: S608 - fixed identifier
                f" VALUES (?, ?, {SQL_NOW})",
                (m.version, m.name),
            )

        transaction(conn, apply)
        current = migration.version
    return current
