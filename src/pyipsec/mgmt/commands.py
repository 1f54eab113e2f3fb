"""THE command layer: every console/API/REST operation as a function over a store.

Front-ends are thin adapters. A command is ``dispatch(session, path, command, args)`` with
``args`` a mapping of argument name to text, exactly as the RouterOS API carries them:
properties by name, items in ``numbers`` (numbers of the last print, ``*id``s, names,
comma-separated), ``value-name`` for ``get``/``unset``, ``destination`` for ``move``,
``where`` for an expression, and switches (``detail``, ``verbose``...) as ``yes``. The result
is structured (:class:`Result`); rendering it is the front-end's job. Every configuration
change runs in one store transaction, so a failing command changes nothing.

A daemon plugs in live data through :class:`RuntimeProvider` (installed SAs, remote peers,
counters, per-policy state, dynamic items); a control-socket adapter would serialise
``(path, command, args)`` and a :class:`Result` and call :func:`dispatch` on the daemon's side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pyipsec.config.menus import menus_for
from pyipsec.config.menus.ipsec7 import peer_clash, shown_from_peer, shows_from_peer
from pyipsec.config.schema import Menu, MenuKind, Property
from pyipsec.config.table import (
    INTERNAL_PREFIX,
    Config,
    Item,
    Table,
    format_id,
    value_of,
)
from pyipsec.config.types import ValueProblem
from pyipsec.config.verify import invalid_items
from pyipsec.mgmt import auth, passwords, query, references, special_commands
from pyipsec.mgmt import export as exporter
from pyipsec.mgmt.base import CommandError as CommandError
from pyipsec.mgmt.base import NullRuntime as NullRuntime
from pyipsec.mgmt.base import PrintResult as PrintResult
from pyipsec.mgmt.base import PrintRow as PrintRow
from pyipsec.mgmt.base import Result as Result
from pyipsec.mgmt.base import RuntimeProvider as RuntimeProvider
from pyipsec.mgmt.base import RuntimeRow as RuntimeRow
from pyipsec.mgmt.base import Session as Session
from pyipsec.mgmt.base import UnknownArgument as UnknownArgument
from pyipsec.mgmt.base import first as first
from pyipsec.mgmt.base import listing as listing
from pyipsec.mgmt.base import no_such_item as no_such_item
from pyipsec.mgmt.base import read_file as read_file
from pyipsec.mgmt.base import resolve as resolve
from pyipsec.mgmt.base import write_file as write_file

# -- helpers


SWITCH_VALUES = {"", "yes", "true"}


def _switch(args: Mapping[str, str], name: str) -> bool:
    return name in args and args[name] in SWITCH_VALUES


def _check_args(args: Mapping[str, str], allowed: set[str]) -> None:
    for name in args:
        if name not in allowed:
            raise UnknownArgument(name)


def item_flags(
    session: Session, config: Config, menu: Menu, item: Item, invalid: set[int]
) -> frozenset[str]:
    state = session.runtime.item_state(menu.path, item.id)
    flags = set()
    for name in menu.flag_names:
        if name == "default":
            on = item.default
        elif name == "dynamic":
            on = item.dynamic
        elif name == "invalid":
            on = item.id in invalid
        elif menu.has(source := menu.flag_source(name)):
            on = value_of(menu, item, source) == "yes"
        else:
            on = state.get(name) == "yes"
        if on:
            flags.add(name)
    return frozenset(flags)


def _getter(
    session: Session,
    menu: Menu,
    item: Item,
    flags: frozenset[str],
    config: Config | None = None,
) -> Callable[[str], str | None]:
    state = session.runtime.item_state(menu.path, item.id)
    # read-only values shown from other items (a v7 policy's SA addresses from its peer)
    shown = shown_from_peer(config, menu.path, item) if config is not None else {}

    def get(name: str) -> str | None:
        if name == ".id":
            return format_id(item.id)
        if name in menu.flag_names and not menu.has(name):
            return "yes" if name in flags else "no"
        if name in state:
            return state[name]
        if name in shown:
            return shown[name]
        if name.startswith("_"):
            return None
        return value_of(menu, item, name)

    return get


def _normalizer(menu: Menu) -> Callable[[str, str], str]:
    """Canonical text of a value in a condition; each value is parsed once per command, not
    once per item it is compared with."""
    done: dict[tuple[str, str], str] = {}

    def normalize(name: str, text: str) -> str:
        if name == ".id" or not menu.has(name):
            return text
        key = (name, text)
        if key not in done:
            done[key] = menu.prop(name).type.parse(text)  # a ValueError is not kept
        return done[key]

    return normalize


def _query(args: Mapping[str, str], key: str = "where") -> query.Node | None:
    """The condition of ``where`` (console text) and ``.query`` (the API's ``?`` words,
    separated by ``query.API_QUERY_SEP``); both when both are given."""
    nodes: list[query.Node] = []
    try:
        if key in args:
            nodes.append(query.parse(args[key], int(args.get(".where-col", "1"))))
        if ".query" in args:
            nodes.append(query.from_api(args[".query"].split(query.API_QUERY_SEP)))
    except query.QueryError as exc:
        raise CommandError(str(exc), arg=key if key in args else ".query") from exc
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else query.And(operands=tuple(nodes))


def _find_configured(config: Config, menu: Menu, item_id: int) -> tuple[Table, Item]:
    table = config.table(menu.path)
    item = table.get(item_id)
    if item is None:
        raise CommandError("failure: can not change dynamic item", category=4)
    return table, item


def parse_value(config: Config, menu: Menu, prop: Property, text: str) -> str:
    """Canonical text for ``prop=text``, checking references to other menus."""
    try:
        value = prop.type.parse(text)
    except ValueProblem as exc:
        raise CommandError(exc.message(prop.name), arg=prop.name) from exc
    if prop.ref is not None and value not in prop.ref_keywords:
        table = config.tables.get(prop.ref)
        if table is None or table.by_name(value) is None:
            raise CommandError(f"input does not match any value of {prop.name}", arg=prop.name)
    return value


def parse_props(
    config: Config, menu: Menu, args: Mapping[str, str], control: set[str]
) -> dict[str, str]:
    """Canonical property values from command arguments (legacy names expanded)."""
    out: dict[str, str] = {}
    for name, text in args.items():
        if name in control or name.startswith("."):
            continue
        expanded: tuple[tuple[str, str], ...] = ((name, text),)
        rule = menu.legacy.get(name)
        if rule is not None:
            expanded = rule(text)
        for prop_name, prop_text in expanded:
            if not menu.has(prop_name) or menu.prop(prop_name).readonly:
                raise UnknownArgument(name)
            if menu.prop(prop_name).hashed:  # stored as a salted hash only (/user password=)
                out[INTERNAL_PREFIX + prop_name] = passwords.hash_password(prop_text)
                continue
            out[prop_name] = parse_value(config, menu, menu.prop(prop_name), prop_text)
    return out


def _check_name(table: Table, item_id: int | None, values: Mapping[str, str]) -> None:
    clash = peer_clash(table, item_id, values)  # v7: one initiator per address/exchange-mode
    if clash is not None:
        raise CommandError(clash, category=4)
    key = table.menu.key
    if key is None or key not in values:
        return
    other = table.by_name(values[key])
    if other is not None and other.id != item_id:
        raise CommandError("failure: item with such name already exists", arg=key, category=4)


def _rename_references(config: Config, path: tuple[str, ...], old: str, new: str) -> None:
    """RouterOS refers to items by id: renaming an item renames every reference to it."""
    for other_path, table in config.tables.items():
        menu = config.menu(other_path)
        refs = [p.name for p in menu.properties if p.ref == path]
        for item in list(table):
            changed = {n: new for n in refs if item.values.get(n) == old}
            if changed:
                table.put(item.with_values({**item.values, **changed}))


# -- generic commands


def cmd_add(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    def change(config: Config) -> str:
        table = config.table(menu.path)
        values: dict[str, str] = {}
        if "copy-from" in args:
            src = first(resolve(session, config, menu, args["copy-from"]))
            _, item = _find_configured(config, menu, src)
            values = {k: v for k, v in item.values.items() if not k.startswith("_")}
            if menu.key:
                values.pop(menu.key, None)
        control = {"copy-from"} | ({"place-before"} if menu.ordered else set())
        values.update(parse_props(config, menu, args, control))
        if menu.key and menu.key not in values:
            if menu.prop(menu.key).required and not menu.auto_name:
                raise CommandError(f"failure: {menu.key} must be specified", category=4)
            values[menu.key] = table.unique_name(menu.auto_name or menu.path[-1])
        for prop in menu.properties:
            if prop.required and prop.name not in values and prop.name != menu.key:
                raise CommandError(f"failure: {prop.name} must be specified", category=4)
        _check_name(table, None, values)
        before = None
        if "place-before" in args:
            before = first(resolve(session, config, menu, args["place-before"]))
            if table.get(before) is None:
                raise no_such_item()
        return format_id(table.add(values, before=before).id)

    return Result(ret=session.store.transaction(change))


def _modify(
    session: Session,
    menu: Menu,
    spec: str | None,
    edit: Callable[[Config, Table, Item], dict[str, str]],
) -> Result:
    def change(config: Config) -> None:
        table = config.table(menu.path)
        if menu.kind is MenuKind.SINGLE:
            ids = [table.items[0].id]
        else:
            if spec is None:
                raise CommandError("failure: no items specified", arg="numbers", category=4)
            ids = resolve(session, config, menu, spec)
        for item_id in ids:
            table, item = _find_configured(config, menu, item_id)
            values = edit(config, table, item)
            _check_name(table, item_id, values)
            if menu.key and item.values.get(menu.key) != values.get(menu.key):
                old, new = item.values.get(menu.key), values.get(menu.key)
                if old is not None and new is not None:
                    _rename_references(config, menu.path, old, new)
            table = config.table(menu.path)
            table.put(item.with_values(values))

    session.store.transaction(change)
    return Result()


def cmd_set(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    def edit(config: Config, table: Table, item: Item) -> dict[str, str]:
        return {**item.values, **parse_props(config, menu, args, {"numbers"})}

    return _modify(session, menu, args.get("numbers"), edit)


def cmd_unset(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, {"numbers", "value-name"})
    names = [n for n in args.get("value-name", "").split(",") if n]
    for name in names:
        if not menu.has(name) or not menu.prop(name).unsettable:
            raise CommandError("input does not match any value of value-name", arg="value-name")

    def edit(config: Config, table: Table, item: Item) -> dict[str, str]:
        return {k: v for k, v in item.values.items() if k not in names}

    return _modify(session, menu, args.get("numbers"), edit)


def _toggle(disabled: str) -> Callable[[Session, Menu, Mapping[str, str]], Result]:
    def run(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
        _check_args(args, {"numbers"})

        def edit(config: Config, table: Table, item: Item) -> dict[str, str]:
            return {**item.values, "disabled": disabled}

        return _modify(session, menu, args.get("numbers"), edit)

    return run


def cmd_comment(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, {"numbers", "comment"})

    def edit(config: Config, table: Table, item: Item) -> dict[str, str]:
        return {**item.values, "comment": args.get("comment", "")}

    return _modify(session, menu, args.get("numbers"), edit)


def cmd_remove(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, {"numbers"})

    def change(config: Config) -> None:
        ids = resolve(session, config, menu, args.get("numbers", ""))
        for item_id in ids:
            _, item = _find_configured(config, menu, item_id)
            if item.default:
                raise CommandError(
                    f"failure: can not remove default {menu.default_thing}", category=4
                )
        refusal = references.check_remove(config, menu, ids)
        if refusal is not None:
            raise CommandError(refusal, category=4)
        for item_id in ids:
            config.table(menu.path).remove(item_id)

    session.store.transaction(change)
    return Result()


def cmd_move(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, {"numbers", "destination"})

    def change(config: Config) -> None:
        ids = resolve(session, config, menu, args.get("numbers", ""))
        dest = None
        if args.get("destination"):
            found = resolve(session, config, menu, args["destination"])
            dest = found[0] if found else None
        table = config.table(menu.path)
        for item_id in [*ids, *([dest] if dest is not None else [])]:
            _find_configured(config, menu, item_id)
        table.move(ids, dest)

    session.store.transaction(change)
    return Result()


def _equalities(
    menu: Menu, node: query.Node | None, normalize: Callable[[str, str], str]
) -> list[tuple[str, str]] | None:
    """``[(prop, canonical value)]`` when ``node`` only tests configured properties for
    equality (``find src-address=10.1.0.0/16``, the form scripts and exports use), else None."""
    if isinstance(node, query.Cmp):
        node = query.And(operands=(node,))
    if not isinstance(node, query.And) or not node.operands:
        return None
    out = []
    for operand in node.operands:
        if not isinstance(operand, query.Cmp) or operand.op != "=":
            return None
        name = operand.prop
        if not menu.has(name) or menu.prop(name).readonly or name in menu.flag_names:
            return None
        try:
            out.append((name, normalize(name, operand.value)))
        except ValueError:
            out.append((name, operand.value))
    return out


def _matching(
    session: Session,
    config: Config,
    menu: Menu,
    node: query.Node | None,
    *,
    flags: bool = True,
) -> list[tuple[Item, frozenset[str]]]:
    """The items ``node`` selects, with their flags (empty when ``flags`` is False). Flags
    (and the verification behind ``invalid``) are worked out before the test only for a
    condition that names a flag, otherwise only for the items selected."""
    normalize = _normalizer(menu)
    early = node is not None and not query.props_of(node).isdisjoint(menu.flag_names)
    invalid = invalid_items(config).get(menu.path, set()) if early or flags else set()
    # (values shown from other items are not in the item: compared through the getter)
    equal = None if shows_from_peer(config, menu.path) else _equalities(menu, node, normalize)
    out = []
    for item in listing(session, config, menu):
        if equal is not None:  # prop=value [and ...]: compared straight, no per-item getter
            if all(value_of(menu, item, name) == value for name, value in equal):
                out.append(
                    (
                        item,
                        item_flags(session, config, menu, item, invalid) if flags else frozenset(),
                    )
                )
            continue
        found = item_flags(session, config, menu, item, invalid) if early else frozenset()
        if node is None or query.evaluate(
            node, _getter(session, menu, item, found, config), normalize
        ):
            if flags and not early:
                found = item_flags(session, config, menu, item, invalid)
            out.append((item, found))
    return out


def _runtime_matching(session: Session, menu: Menu, node: query.Node | None) -> list[RuntimeRow]:
    rows = list(session.runtime.rows(menu.path))
    if node is None:
        return rows

    def keep(row: RuntimeRow) -> bool:
        def get(name: str) -> str | None:
            if name == ".id":
                return format_id(row.id)
            if name in menu.flag_names:
                return "yes" if name in row.flags else "no"
            return row.values.get(name)

        return query.evaluate(node, get, lambda _n, t: t)

    return [r for r in rows if keep(r)]


def _eq_query(menu: Menu, args: Mapping[str, str], skip: set[str]) -> list[query.Node]:
    nodes: list[query.Node] = []
    for name, text in args.items():
        if name in skip or name.startswith("."):
            continue
        if not (menu.has(name) or name in menu.flag_names or name == ".id"):
            raise UnknownArgument(name)
        if text and menu.has(name):
            # `find port=abc`: an argument is parsed by its property's type, as `set` does,
            # and a bad one is RouterOS's error, not an empty result (`where` compares values)
            try:
                menu.prop(name).type.parse(text)
            except ValueProblem as exc:
                raise CommandError(exc.message(name), arg=name) from exc
        nodes.append(query.Cmp(prop=name, op="=", value=text))
    return nodes


def _guard_sensitive(session: Session, menu: Menu, names: set[str]) -> None:
    """A session without the sensitive policy may not read a secret with ``get``, nor test
    one in a condition (``find secret~"^a"`` would give it away a character at a time)."""
    if session.may("sensitive"):
        return
    if any(menu.has(n) and menu.prop(n).sensitive for n in names):
        raise CommandError(auth.NOT_PERMITTED, category=4)


def cmd_find(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    nodes = _eq_query(menu, args, {"where"})  # (.query is skipped there: it starts with .)
    where = _query(args)
    if where is not None:
        nodes.append(where)
    node = query.And(operands=tuple(nodes)) if nodes else None
    _guard_sensitive(session, menu, query.props_of(node) if node is not None else set())
    if menu.kind is MenuKind.RUNTIME_LIST:
        ids = [r.id for r in _runtime_matching(session, menu, node)]
    else:
        config = session.store.snapshot()
        ids = [it.id for it, _ in _matching(session, config, menu, node, flags=False)]
    return Result(ret=";".join(format_id(i) for i in ids))


def _settings_values(session: Session, menu: Menu) -> dict[str, str]:
    if menu.kind is MenuKind.RUNTIME_SINGLE:
        counters = session.runtime.counters(menu.path)
        return {n: str(counters.get(n, 0)) for n in menu.print_order}
    item = session.store.snapshot().single(menu.path)
    return {p.name: value_of(menu, item, p.name) or "" for p in menu.properties}


def cmd_get(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, {"numbers", "value-name"})
    name = args.get("value-name", "")
    _guard_sensitive(session, menu, {name})
    if not (menu.has(name) or name in menu.flag_names or name == ".id"):
        raise CommandError("input does not match any value of value-name", arg="value-name")
    if menu.kind in (MenuKind.SINGLE, MenuKind.RUNTIME_SINGLE):
        return Result(ret=_settings_values(session, menu).get(name, ""))
    config = session.store.snapshot()
    if menu.kind is MenuKind.RUNTIME_LIST:
        rows = {r.id: r for r in session.runtime.rows(menu.path)}
        row = rows[first(resolve(session, config, menu, args.get("numbers", "")))]
        if name == ".id":
            return Result(ret=format_id(row.id))
        return Result(ret=row.values.get(name, ""))
    item_ids = resolve(session, config, menu, args.get("numbers", ""))
    if len(item_ids) != 1:
        raise no_such_item()
    for item in listing(session, config, menu):
        if item.id == item_ids[0]:
            invalid = invalid_items(config).get(menu.path, set())
            flags = item_flags(session, config, menu, item, invalid)
            return Result(ret=_getter(session, menu, item, flags, config)(name) or "")
    raise no_such_item()


PRINT_SWITCHES = {"detail", "terse", "brief", "value-list", "count-only", "without-paging"}


def _full(
    session: Session, menu: Menu, get: Callable[[str], str | None], flags: frozenset[str]
) -> list[tuple[str, str]]:
    """Every value an item has (set, default or live), print order first: machine callers
    get them all, the console printer keeps what RouterOS's console shows
    (``base.console_values``). Sensitive values only for sessions with ``sensitive``."""
    order = menu.order_for(flags)
    names = list(order) + [p.name for p in menu.properties if p.name not in order]
    hide = not session.may("sensitive")
    values = []
    for name in names:
        value = get(name)
        if value is None:
            continue
        if hide and menu.has(name) and menu.prop(name).sensitive:
            continue
        values.append((name, value))
    return values


def _proplist(args: Mapping[str, str]) -> tuple[str, ...] | None:
    if ".proplist" not in args:
        return None
    return tuple(n for n in (p.strip() for p in args[".proplist"].split(",")) if n)


def _only(
    values: Sequence[tuple[str, str]], proplist: tuple[str, ...] | None
) -> tuple[tuple[str, str], ...]:
    if proplist is None:
        return tuple(values)
    return tuple((n, v) for n, v in values if n in proplist)


def cmd_print(session: Session, menu: Menu, args: Mapping[str, str]) -> Result:
    _check_args(args, PRINT_SWITCHES | {"where", "from", ".where-col", ".proplist", ".query"})
    modes = ("count-only", "terse", "brief", "value-list", "detail")
    mode = next((m for m in modes if _switch(args, m)), "plain")
    props = _proplist(args)
    if menu.kind in (MenuKind.SINGLE, MenuKind.RUNTIME_SINGLE):
        values = _settings_values(session, menu)
        order = [*menu.print_order, *(n for n in values if n not in menu.print_order)]
        shown = [(n, values[n]) for n in order if n in values]
        if not session.may("sensitive"):
            shown = [(n, v) for n, v in shown if not (menu.has(n) and menu.prop(n).sensitive)]
        row = PrintRow(number=0, id=0, flags=frozenset(), values=_only(shown, props))
        return Result(
            table=PrintResult(menu=menu, mode="settings", rows=(row,), count=1, proplist=props)
        )
    node = _query(args)
    _guard_sensitive(session, menu, query.props_of(node) if node is not None else set())
    rows: list[PrintRow] = []
    if menu.kind is MenuKind.RUNTIME_LIST:
        live = _runtime_matching(session, menu, node)
        if "from" in args:  # `print from=` / a script's `get <item>` of a runtime row
            wanted = set(resolve(session, session.store.snapshot(), menu, args["from"]))
            live = [r for r in live if r.id in wanted]
        for n, r in enumerate(live):
            order = [*menu.print_order, *(k for k in r.values if k not in menu.print_order)]
            vals = [(k, r.values[k]) for k in order if r.values.get(k, "") != ""]
            rows.append(PrintRow(number=n, id=r.id, flags=r.flags, values=_only(vals, props)))
        if mode != "count-only":
            session.numbering[menu.path] = [r.id for r in rows]
    elif mode == "count-only" and node is None and "from" not in args:
        # counting everything needs no flags or values: no pass over the items
        config = session.store.snapshot()
        count = len(config.table(menu.path)) + len(session.runtime.dynamic_items(menu.path))
        return Result(table=PrintResult(menu=menu, mode=mode, count=count))
    else:
        config = session.store.snapshot()
        matched = _matching(session, config, menu, node, flags=mode != "count-only")
        if "from" in args:
            wanted = set(resolve(session, config, menu, args["from"]))
            matched = [(it, fl) for it, fl in matched if it.id in wanted]
        if mode == "count-only":  # the number is all it shows
            return Result(table=PrintResult(menu=menu, mode=mode, count=len(matched)))
        for n, (item, flags) in enumerate(matched):
            get = _getter(session, menu, item, flags, config)
            rows.append(
                PrintRow(
                    number=n,
                    id=item.id,
                    flags=flags,
                    values=_only(_full(session, menu, get, flags), props),
                    comment=item.values.get("comment", ""),
                )
            )
        if mode != "count-only":
            session.numbering[menu.path] = [r.id for r in rows]
    return Result(
        table=PrintResult(menu=menu, mode=mode, rows=tuple(rows), count=len(rows), proplist=props)
    )


def cmd_export(session: Session, path: tuple[str, ...], args: Mapping[str, str]) -> Result:
    _check_args(
        args,
        {"verbose", "compact", "hide-sensitive", "show-sensitive", "terse", "file", "dialect"},
    )
    try:
        text = exporter.export_text(
            session.store.snapshot(),
            path,
            now=session.now(),
            verbose=_switch(args, "verbose"),
            hide_sensitive=_switch(args, "hide-sensitive") or not session.may("sensitive"),
            show_sensitive=_switch(args, "show-sensitive") and session.may("sensitive"),
            terse=_switch(args, "terse"),
            dialect=args.get("dialect"),
        )
    except exporter.ExportError as exc:
        raise CommandError(exc.message, arg="dialect") from exc
    if args.get("file"):
        name = args["file"] if args["file"].endswith(".rsc") else args["file"] + ".rsc"
        write_file(session, name, text.encode())
        return Result()
    return Result(text=text)


GENERIC: dict[str, Callable[[Session, Menu, Mapping[str, str]], Result]] = {
    "add": cmd_add,
    "set": cmd_set,
    "unset": cmd_unset,
    "remove": cmd_remove,
    "enable": _toggle("no"),
    "disable": _toggle("yes"),
    "comment": cmd_comment,
    "move": cmd_move,
    "find": cmd_find,
    "get": cmd_get,
    "print": cmd_print,
}


def dispatch(
    session: Session, path: tuple[str, ...], command: str, args: Mapping[str, str]
) -> Result:
    """Run ``command`` of the menu (or directory, for ``export``) at ``path``."""
    if ".id" in args and "numbers" not in args:  # API form: =.id=*1
        args = {("numbers" if k == ".id" else k): v for k, v in args.items()}
    if command == "export":
        auth.authorize(session, path, command)
        return cmd_export(session, path, args)
    menu = menus_for(session.store.snapshot().dialect).get(path)
    if menu is None:
        raise CommandError(f"bad command name {command}", category=0)
    auth.authorize(session, path, command)
    if command in menu.generic_commands and command in GENERIC:
        return GENERIC[command](session, menu, args)
    special = menu.command(command)
    if special is not None:
        return special_commands.run(session, menu, special, args)
    raise CommandError(f"bad command name {command}", category=0)
