"""The advanced filter builder: rows of field, operator and value, in AND/OR groups one level deep.

Only the draft's shape (which rows and groups exist) is kept in session state; each row's
field, operator and value live in its widgets, keyed by a row ID so rows can be removed
without the others losing their values. The builder returns the filter of its complete rows.
"""

from datetime import date, datetime
from typing import Any, Literal

import duckdb
import streamlit as st

from core.errors import ContactsError
from core.views.filters import Condition, Filter, FilterField, Group, Match, Operator, operators_for
from core.views.segments import save_segment
from ui.cache import filter_fields, tag_names  # until the next workspace write / any write
from ui.widgets import show_error

MATCH_WORDS: dict[Match, str] = {"all": "all of these (AND)", "any": "any of these (OR)"}


def _draft(key: str) -> dict[str, Any]:
    return st.session_state.setdefault(key, {"items": [], "next": 0})


def _add(key: str, parent: list[dict[str, Any]], kind: str) -> None:
    draft = _draft(key)
    draft["next"] += 1
    item: dict[str, Any] = {"id": draft["next"], "kind": kind}
    if kind == "group":
        item["items"] = []
    parent.append(item)


def _remove(parent: list[dict[str, Any]], item_id: int) -> None:
    parent[:] = [item for item in parent if item["id"] != item_id]


def clear_filter(key: str) -> None:
    """Forget the draft and every row's widget values."""
    for name in [name for name in st.session_state if str(name).startswith(f"{key}-")]:
        del st.session_state[name]
    st.session_state.pop(key, None)


def load_filter(con: duckdb.DuckDBPyConnection, key: str, filter_: Filter | None) -> None:
    """Replace the draft with a filter's conditions (from a link or a saved segment), each row's widgets filled in.

    Conditions nested deeper than the builder draws (groups inside groups) are flattened into their group.
    """
    clear_filter(key)
    draft = _draft(key)
    if filter_ is None:
        return
    fields = filter_fields(con)
    st.session_state[f"{key}-match"] = filter_.match
    for item in filter_.conditions:
        if isinstance(item, Group):
            _add(key, draft["items"], "group")
            group = draft["items"][-1]
            st.session_state[f"{key}-{group['id']}-match"] = item.match
            for inner in _leaves(item):
                _load_condition(key, fields, group["items"], inner)
        else:
            _load_condition(key, fields, draft["items"], item)


def _leaves(group: Group) -> list[Condition]:
    return [leaf for item in group.conditions for leaf in (_leaves(item) if isinstance(item, Group) else [item])]


def _load_condition(
    key: str, fields: dict[str, FilterField], parent: list[dict[str, Any]], condition: Condition
) -> None:
    field = fields.get(condition.field)
    operator = operators_for(field.kind).get(condition.op) if field else None
    if field is None or operator is None:
        return  # a field since removed: the builder cannot draw it
    _add(key, parent, "condition")
    prefix = f"{key}-{parent[-1]['id']}"
    st.session_state[f"{prefix}-field"] = field.key
    st.session_state[f"{prefix}-op-{field.kind}"] = operator.name
    widget = f"{prefix}-value-{field.key}-{operator.name}"
    value, shape = condition.value, operator.value
    if shape in ("number_range", "moment_range") and isinstance(value, list | tuple) and len(value) == 2:
        read = float if shape == "number_range" else _day
        st.session_state[f"{widget}-From"], st.session_state[f"{widget}-To"] = read(value[0]), read(value[1])
    elif shape == "number" and value is not None:
        st.session_state[widget] = float(value)
    elif shape == "days" and value is not None:
        st.session_state[widget] = int(value)
    elif shape == "moment" and value is not None:
        st.session_state[widget] = _day(value)
    elif shape in ("text", "choices") and value is not None:
        st.session_state[widget] = value


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _choice_options(con: duckdb.DuckDBPyConnection, field: FilterField) -> list[str]:
    return tag_names(con) if field.kind == "tags" else list(field.choices)


def _value(con: duckdb.DuckDBPyConnection, field: FilterField, operator: Operator, widget: str) -> Any:
    """The value widget an operator needs; None while it is not filled in."""
    shape = operator.value
    shown: Literal["collapsed"] = "collapsed"
    if shape == "none":
        return None
    if shape == "text":
        return st.text_input("Value", key=widget, label_visibility=shown, placeholder="text") or None
    if shape == "number":
        return st.number_input("Value", value=None, key=widget, label_visibility=shown, placeholder="number")
    if shape == "days":
        return st.number_input("Days", min_value=1, value=30, step=1, key=widget, label_visibility=shown)
    if shape == "moment":
        picked = st.date_input("Date", value=None, key=widget, label_visibility=shown, min_value=date(1900, 1, 1))
        return picked.isoformat() if picked else None
    if shape in ("number_range", "moment_range"):
        low, high = st.columns(2)
        pair: list[float | str | None]
        if shape == "number_range":
            pair = [
                column.number_input(label, value=None, key=f"{widget}-{label}", label_visibility=shown)
                for column, label in ((low, "From"), (high, "To"))
            ]
        else:
            days = [
                column.date_input(
                    label, value=None, key=f"{widget}-{label}", label_visibility=shown, min_value=date(1900, 1, 1)
                )
                for column, label in ((low, "From"), (high, "To"))
            ]
            pair = [day.isoformat() if day else None for day in days]
        return pair if None not in pair else None
    chosen = st.multiselect(
        "Values",
        _choice_options(con, field),
        key=widget,
        label_visibility=shown,
        placeholder="choose values",
        format_func=field.display,
        accept_new_options=field.kind == "tags" or not field.closed,
    )
    return chosen or None


def _condition_row(
    con: duckdb.DuckDBPyConnection, fields: dict[str, FilterField], key: str, parent: list, item_id: int
) -> Condition | None:
    prefix = f"{key}-{item_id}"
    cells = st.columns([3, 2.4, 4, 0.5], vertical_alignment="center")
    field = fields[
        cells[0].selectbox(
            "Field",
            list(fields),
            key=f"{prefix}-field",
            label_visibility="collapsed",
            format_func=lambda name: fields[name].label,
        )
    ]
    operators = operators_for(field.kind)
    op = cells[1].selectbox(
        "Operator",
        list(operators),
        key=f"{prefix}-op-{field.kind}",
        label_visibility="collapsed",
        format_func=lambda name: operators[name].words,
    )
    with cells[2]:
        value = _value(con, field, operators[op], f"{prefix}-value-{field.key}-{op}")
    cells[3].button(
        "",
        icon=":material/close:",
        key=f"{prefix}-remove",
        help="Remove this condition",
        on_click=_remove,
        args=(parent, item_id),
    )
    if operators[op].value != "none" and value is None:
        return None
    return Condition(field=field.key, op=op, value=value)


def _rows(
    con: duckdb.DuckDBPyConnection, fields: dict[str, FilterField], key: str, items: list
) -> list[Condition | Group]:
    found: list[Condition | Group] = []
    for item in list(items):
        if item["kind"] == "condition":
            condition = _condition_row(con, fields, key, items, item["id"])
            if condition is not None:
                found.append(condition)
            continue
        with st.container(border=True):
            head = st.columns([6, 1], vertical_alignment="center")
            match: Match = head[0].radio(
                "Group matches",
                list(MATCH_WORDS),
                key=f"{key}-{item['id']}-match",
                horizontal=True,
                format_func=MATCH_WORDS.__getitem__,
                index=1,
            )
            head[1].button("Remove group", key=f"{key}-{item['id']}-remove", on_click=_remove, args=(items, item["id"]))
            inner = _rows(con, fields, key, item["items"])
            st.button(
                "Add condition to group",
                icon=":material/add:",
                key=f"{key}-{item['id']}-add",
                on_click=_add,
                args=(key, item["items"], "condition"),
            )
        if inner:
            found.append(Group(match=match, conditions=inner))
    return found


def filter_builder(con: duckdb.DuckDBPyConnection, key: str) -> Filter:
    """Draw the builder and return the filter its complete conditions make (empty when there are none)."""
    draft, fields = _draft(key), filter_fields(con)
    match: Match = st.radio(
        "Contacts match", list(MATCH_WORDS), key=f"{key}-match", horizontal=True, format_func=MATCH_WORDS.__getitem__
    )
    conditions = _rows(con, fields, key, draft["items"])
    buttons = st.columns([1, 1, 1, 3])
    buttons[0].button(
        "Add condition",
        icon=":material/add:",
        key=f"{key}-add-condition",
        on_click=_add,
        args=(key, draft["items"], "condition"),
    )
    buttons[1].button(
        "Add group",
        icon=":material/add_box:",
        key=f"{key}-add-group",
        on_click=_add,
        args=(key, draft["items"], "group"),
    )
    if draft["items"]:
        buttons[2].button("Clear filter", key=f"{key}-clear", on_click=clear_filter, args=(key,))
    if len(conditions) < sum(1 for _ in _leaf_rows(draft["items"])):
        st.caption("Conditions still missing a value are left out until you fill them in.")
    return Group(match=match, conditions=conditions)


def _leaf_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [leaf for item in items for leaf in (_leaf_rows(item["items"]) if item["kind"] == "group" else [item])]


def save_as_segment(con: duckdb.DuckDBPyConnection, filter_: Filter, user: str, key: str) -> str | None:
    """A name box and a button saving the filter as a segment; returns the new segment's key once saved."""
    cells = st.columns([3, 1], vertical_alignment="bottom")
    name = cells[0].text_input("Segment name", key=f"{key}-segment-name", placeholder="e.g. Acme leads")
    if cells[1].button(
        "Save as segment", icon=":material/bookmark_add:", key=f"{key}-save", disabled=filter_.is_empty()
    ):
        try:
            return save_segment(con, name, filter_, user).key
        except ContactsError as error:
            show_error(error)
    return None
