"""``/import`` of a script written in the other console dialect (docs/config.md, "Dialects").

The interpreter runs an imported script inside :func:`script_dialect`, which looks at the
script (:func:`pyipsec.config.convert.detect_dialect`) and:

* same dialect as the database, or nothing telling: runs it as it is;
* other dialect, database still a fresh router (only unchanged default items): the database
  takes the script's dialect first (the first import decides a new database's dialect);
* other dialect, configured database: runs the script against a scratch copy of the
  configuration converted to the script's dialect, converts the result back and commits it
  in one transaction. What the database's dialect cannot say stops the import with a
  ``failure: can not convert ...`` error and changes nothing; so does an error in the script
  (on this path only: the scratch copy is dropped whole).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from pyipsec.config.convert import ConversionError, convert, detect_dialect, is_pristine
from pyipsec.config.store import Store
from pyipsec.config.table import Config
from pyipsec.mgmt.commands import CommandError, Session


class HasSession(Protocol):
    session: Session


def _take(config: Config, dialect: str) -> None:
    """Turn a fresh router's configuration into a fresh router of ``dialect``."""
    fresh = Config.initial(dialect)
    config.tables = fresh.tables
    config.dialect = dialect


@contextlib.contextmanager
def script_dialect(holder: HasSession, text: str) -> Iterator[str]:
    """Run the body (the script's commands, through ``holder.session``) in the script's
    dialect; yields that dialect."""
    session = holder.session
    config = session.store.snapshot()
    wanted = detect_dialect(text)
    if wanted is None or wanted == config.dialect:
        yield config.dialect
        return
    if is_pristine(config):
        session.store.transaction(lambda c: _take(c, wanted))
        yield wanted
        return
    try:
        converted = convert(config, wanted)
    except ConversionError as exc:
        raise CommandError(exc.message(), category=4) from exc
    scratch = Store(":memory:", dialect=wanted)
    scratch.replace(converted)
    holder.session = replace(session, store=scratch, numbering={})
    try:
        yield wanted
        try:
            result = convert(scratch.snapshot(), config.dialect)
        except ConversionError as exc:
            raise CommandError(exc.message(), category=4) from exc
        session.store.replace(result)
    finally:
        holder.session = session
        scratch.close()
