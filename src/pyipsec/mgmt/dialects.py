"""``/import`` of a script written in the other console dialect (docs/config.md, "Dialects").

The interpreter runs an imported script (and pasted text of more than one command) inside
:func:`script_dialect`, which looks at the script (:func:`pyipsec.config.convert.detect`) and:

* same dialect as the database, or nothing telling (or, in a configured database, only the
  slash path syntax, which the 6.x console reads too): runs it as it is (each command commits on
  its own; an error stops the script and leaves what ran before it, as on RouterOS);
* other dialect: runs it against a scratch database of the script's dialect holding a fresh
  router (when the database still is one: the first import decides a new database's
  dialect) or the configuration converted to the script's dialect; at the end the result -
  converted back, unless the database was a fresh router - replaces the configuration in one
  transaction. What the database's dialect cannot say stops the import with a ``failure: can
  not convert ...`` error and changes nothing; so does an error in the script (on this path
  the scratch copy is dropped whole), and a script that changes nothing changes nothing (but a
  fresh router still takes its dialect).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from pyipsec.config.convert import ConversionError, convert, detect, is_pristine
from pyipsec.config.store import Store
from pyipsec.config.table import Config
from pyipsec.mgmt.commands import CommandError, Session


class HasSession(Protocol):
    session: Session


@contextlib.contextmanager
def script_dialect(holder: HasSession, text: str) -> Iterator[str]:
    """Run the body (the script's commands, through ``holder.session``) in the script's
    dialect; yields that dialect."""
    session = holder.session
    config = session.store.snapshot()
    wanted, strong = detect(text)
    fresh = wanted is not None and wanted != config.dialect and is_pristine(config)
    if wanted is None or wanted == config.dialect or not (strong or fresh):
        # (only the slash path syntax, which the 6.x console reads too: no conversion)
        yield config.dialect
        return
    try:
        start = Config.initial(wanted) if fresh else convert(config, wanted)
    except ConversionError as exc:
        raise CommandError(exc.message(), category=4) from exc
    scratch = Store(":memory:", dialect=wanted)
    scratch.replace(start)
    before = scratch.generation()
    holder.session = replace(session, store=scratch, numbering={})
    try:
        yield wanted
        if scratch.generation() == before and not fresh:
            return  # the script changed nothing (a fresh router still takes its dialect)
        result = scratch.snapshot()
        if not fresh:
            try:
                result = convert(result, config.dialect)
            except ConversionError as exc:
                raise CommandError(exc.message(), category=4) from exc
        session.store.replace(result)
    finally:
        holder.session = session
        scratch.close()
