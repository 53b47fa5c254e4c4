"""Advanced filters: every operator of every field type, refusals, sentences, and a differential property test.

The property test draws random contacts and random nested filters and checks that the SQL the
compiler writes selects exactly the contacts a plain Polars evaluation of the same filter selects.
"""

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import write_values
from core.contacts.models import CustomField
from core.contacts.validation import clean_custom_value
from core.db import open_database, rows
from core.errors import ContactsError
from core.views.filters import (
    OPERATORS,
    Condition,
    Filter,
    Group,
    compile_filter,
    describe_filter,
    filter_fields,
    parse_filter,
)
from core.workspace import add_owner, define_custom_field

NOW = datetime(2024, 6, 1, 12, 0)
CUSTOM = {"nickname": "text", "score": "number", "vip": "checkbox", "joined": "datetime", "plan": "dropdown"}
SYSTEM_COLUMNS = [
    "contact_id",
    "first_name",
    "email",
    "lead_stage",
    "owner_id",
    "tags",
    "channel",
    "name_generated",
    "created_on",
    "birthday",
]


def make_database():
    con = open_database()
    bootstrap_admin(con)
    add_owner(con, "alice", "Alice Adams", actor="admin")
    add_owner(con, "bob", "Bob Brown", actor="admin")
    for key, type_ in CUSTOM.items():
        define_custom_field(
            con, key, key.title(), type_, options=["Free", "Pro"] if type_ == "dropdown" else None, actor="admin"
        )
    return con


def load(con, contacts: list[dict]) -> None:
    """Replace every contact with these (custom values under their keys)."""
    con.execute("DELETE FROM contacts")
    con.execute("DELETE FROM custom_values")
    for contact in contacts:
        columns = [c for c in SYSTEM_COLUMNS if c in contact]
        con.execute(
            f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join('$' + c for c in columns)})",
            {c: contact[c] for c in columns},
        )
        for key, type_ in CUSTOM.items():
            if contact.get(key) is not None:
                field = CustomField(key=key, label=key, type=type_, options=["Free", "Pro"])
                write_values(con, contact["contact_id"], {key: clean_custom_value(field, contact[key])})


PEOPLE = [
    dict(
        contact_id="a",
        first_name="Ada",
        email="ada@acme.io",
        lead_stage="Lead",
        owner_id="alice",
        tags=["VIP", "Newsletter"],
        channel="web",
        name_generated=False,
        created_on=datetime(2024, 5, 30, 9, 0),
        birthday=date(1990, 4, 23),
        nickname="Addy",
        score=10,
        vip=True,
        joined=datetime(2024, 1, 5, 10, 0),
        plan="Pro",
    ),
    dict(
        contact_id="b",
        first_name="Bob",
        email="bob@example.com",
        lead_stage="Contact",
        owner_id="bob",
        tags=["Newsletter"],
        channel="email",
        name_generated=False,
        created_on=datetime(2024, 2, 1, 8, 0),
        nickname="Bobby Acme",
        score=25.5,
        vip=False,
        plan="Free",
    ),
    dict(
        contact_id="c",
        first_name=None,
        email=None,
        lead_stage="Qualified",
        owner_id=None,
        tags=[],
        channel=None,
        name_generated=True,
        created_on=datetime(2024, 3, 1, 0, 0),
    ),
    dict(
        contact_id="d",
        first_name="",
        email="dee@acme.com",
        lead_stage="Customer",
        owner_id="alice",
        tags=["VIP"],
        channel="WhatsApp",
        name_generated=False,
        created_on=datetime(2024, 1, 5, 18, 30),
        birthday=date(1985, 12, 1),
        score=-3,
        joined=datetime(2024, 1, 5, 23, 59),
    ),
]


@pytest.fixture(scope="module")
def people():
    con = make_database()
    load(con, PEOPLE)
    yield con
    con.close()


def matching(con, filter_: Filter) -> list[str]:
    where, params = compile_filter(filter_, filter_fields(con), moment=NOW)
    return sorted(r[0] for r in rows(con, f"SELECT contact_id FROM contacts c WHERE {where}", params))


def one(field: str, op: str, value=None) -> Filter:
    return Group(conditions=[Condition(field=field, op=op, value=value)])


# --- every operator of every type --------------------------------------------------------------------------------

CASES = [
    # text (system)
    ("first_name", "is", "ada", ["a"]),
    ("first_name", "is_not", "ada", ["b", "c", "d"]),
    ("email", "contains", "ACME", ["a", "d"]),
    ("email", "not_contains", "acme", ["b", "c"]),
    ("email", "starts_with", "bo", ["b"]),
    ("email", "ends_with", ".io", ["a"]),
    ("first_name", "is_empty", None, ["c", "d"]),
    ("first_name", "is_not_empty", None, ["a", "b"]),
    ("email", "contains", "%", []),
    ("email", "contains", "_", []),
    # text (custom)
    ("custom.nickname", "is", "addy", ["a"]),
    ("custom.nickname", "is_not", "addy", ["b", "c", "d"]),
    ("custom.nickname", "contains", "acme", ["b"]),
    ("custom.nickname", "not_contains", "acme", ["a", "c", "d"]),
    ("custom.nickname", "starts_with", "bob", ["b"]),
    ("custom.nickname", "ends_with", "DY", ["a"]),
    ("custom.nickname", "is_empty", None, ["c", "d"]),
    ("custom.nickname", "is_not_empty", None, ["a", "b"]),
    # number (custom)
    ("custom.score", "equals", 10, ["a"]),
    ("custom.score", "equals", "25.5", ["b"]),
    ("custom.score", "greater", 0, ["a", "b"]),
    ("custom.score", "less", 10, ["d"]),
    ("custom.score", "between", [-3, 10], ["a", "d"]),
    ("custom.score", "is_empty", None, ["c"]),
    ("custom.score", "is_not_empty", None, ["a", "b", "d"]),
    # date & time (system timestamp, system date, custom datetime)
    ("created_on", "equals", "2024-01-05", ["d"]),
    ("created_on", "equals", "2024-01-05 18:30", ["d"]),
    ("created_on", "after", "2024-03-01", ["a"]),
    ("created_on", "after", "2024-03-01 00:00", ["a"]),
    ("created_on", "before", "2024-02-01", ["d"]),
    ("created_on", "between", ["2024-02-01", "2024-03-01"], ["b", "c"]),
    ("created_on", "within_last_days", 7, ["a"]),
    ("created_on", "within_last_days", 130, ["a", "b", "c"]),
    ("birthday", "before", "1990-01-01", ["d"]),
    ("birthday", "is_empty", None, ["b", "c"]),
    ("birthday", "is_not_empty", None, ["a", "d"]),
    ("custom.joined", "equals", "2024-01-05", ["a", "d"]),
    ("custom.joined", "after", "2024-01-05 12:00", ["d"]),
    ("custom.joined", "before", "2024-01-05 12:00", ["a"]),
    ("custom.joined", "between", ["2024-01-05 09:00", "2024-01-05 11:00"], ["a"]),
    ("custom.joined", "within_last_days", 365, ["a", "d"]),
    ("custom.joined", "is_empty", None, ["b", "c"]),
    ("custom.joined", "is_not_empty", None, ["a", "d"]),
    # choices: lead stage, owner, channel, dropdown
    ("lead_stage", "any_of", ["Lead", "Customer"], ["a", "d"]),
    ("lead_stage", "none_of", ["Lead", "Customer"], ["b", "c"]),
    ("owner_id", "any_of", ["alice"], ["a", "d"]),
    ("owner_id", "none_of", ["alice"], ["b", "c"]),
    ("owner_id", "is_empty", None, ["c"]),
    ("owner_id", "is_not_empty", None, ["a", "b", "d"]),
    ("channel", "any_of", ["web", "WhatsApp"], ["a", "d"]),
    ("channel", "none_of", ["web"], ["b", "c", "d"]),
    ("email_subscription", "any_of", ["not set"], ["a", "b", "c", "d"]),
    ("source", "none_of", ["manual"], []),
    ("custom.plan", "any_of", ["Pro"], ["a"]),
    ("custom.plan", "none_of", ["Pro"], ["b", "c", "d"]),
    ("custom.plan", "is_empty", None, ["c", "d"]),
    # tags
    ("tags", "has_any", ["VIP", "Partner"], ["a", "d"]),
    ("tags", "has_all", ["VIP", "Newsletter"], ["a"]),
    ("tags", "has_none", ["VIP"], ["b", "c"]),
    ("tags", "is_empty", None, ["c"]),
    ("tags", "is_not_empty", None, ["a", "b", "d"]),
    # checkbox (system boolean, custom checkbox)
    ("name_generated", "is_true", None, ["c"]),
    ("name_generated", "is_false", None, ["a", "b", "d"]),
    ("custom.vip", "is_true", None, ["a"]),
    ("custom.vip", "is_false", None, ["b", "c", "d"]),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), CASES)
def test_each_operator_selects_what_it_says(people, field, op, value, expected):
    assert matching(people, one(field, op, value)) == expected


def test_every_operator_of_the_table_has_a_case():
    fields = filter_fields(make_database())
    covered = {(fields[field].kind, op) for field, op, _, _ in CASES}
    assert covered == {(kind, op) for kind, operators in OPERATORS.items() for op in operators}


def test_groups_combine_with_and_and_or(people):
    nested = parse_filter(
        {
            "match": "any",
            "conditions": [
                {"field": "tags", "op": "has_all", "value": ["VIP", "Newsletter"]},
                {
                    "match": "all",
                    "conditions": [
                        {"field": "lead_stage", "op": "any_of", "value": ["Qualified", "Contact"]},
                        {"field": "email", "op": "is_empty"},
                    ],
                },
            ],
        }
    )
    assert matching(people, nested) == ["a", "c"]


def test_an_empty_filter_or_group_selects_everything(people):
    assert matching(people, Group(conditions=[])) == ["a", "b", "c", "d"]
    assert matching(people, Group(match="any", conditions=[Group(conditions=[])])) == ["a", "b", "c", "d"]


def test_values_are_parameters_never_sql(people):
    hostile = "x'); DROP TABLE contacts; --"
    where, params = compile_filter(one("email", "contains", hostile), filter_fields(people))
    assert hostile not in where and hostile in params.values()
    assert matching(people, one("email", "contains", hostile)) == []
    assert matching(people, one("first_name", "is", "a' OR '1'='1")) == []


# --- wrong values are refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value", "message"),
    [
        ("custom.score", "greater", "ten", 'Score is greater than needs a number, not "ten"'),
        ("custom.score", "equals", True, "needs a number"),
        ("custom.score", "between", [5], "needs two values, from and to"),
        ("custom.score", "between", [10, 5], "the first value must not be after the second"),
        ("created_on", "after", "yesterday", "needs a date like 2024-05-01"),
        ("created_on", "between", ["2024-01-01", "2024-01-01 10:00"], "two dates, or two dates and times"),
        ("created_on", "within_last_days", 2.5, "a whole number of days"),
        ("created_on", "within_last_days", 0, "a whole number of days"),
        ("lead_stage", "any_of", "Prospect", "Lead stage has no value 'Prospect'"),
        ("lead_stage", "any_of", [], "needs one or more values"),
        ("owner_id", "any_of", ["nobody"], "Owner has no value 'nobody'"),
        ("custom.plan", "any_of", ["Gold"], "Plan has no value 'Gold'"),
        ("tags", "has_any", [3], "needs one or more values"),
        ("email", "contains", "", "needs some text"),
        ("email", "contains", ["a"], "needs some text"),
        ("email", "greater", "a", "Email cannot be filtered with 'greater'"),
        ("shoe_size", "is", "9", "There is no field 'shoe_size'"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_clearly(people, field, op, value, message):
    with pytest.raises(ContactsError, match=message.replace("(", r"\(")):
        compile_filter(one(field, op, value), filter_fields(people))


def test_a_channel_outside_the_known_list_is_allowed(people):
    assert matching(people, one("channel", "any_of", ["Viber"])) == []


@pytest.mark.parametrize(
    "text",
    ['{"conditions": "x"}', '{"match": "maybe", "conditions": []}', "not json", '{"conditions": [{"op": "is"}]}'],
)
def test_a_malformed_filter_is_one_clear_error(text):
    with pytest.raises(ContactsError, match="not valid JSON of the right shape"):
        parse_filter(text)


def test_a_filter_round_trips_through_json():
    original = parse_filter(
        {
            "match": "any",
            "conditions": [
                {"field": "email", "op": "contains", "value": "acme"},
                {"match": "all", "conditions": [{"field": "custom.score", "op": "between", "value": [1, 2]}]},
            ],
        }
    )
    assert parse_filter(original.model_dump_json()) == original


# --- sentences ----------------------------------------------------------------------------------------------------


def test_describes_a_filter_as_a_sentence(people):
    filter_ = parse_filter(
        {
            "conditions": [
                {"field": "lead_stage", "op": "any_of", "value": ["Lead", "Contact"]},
                {"field": "email", "op": "contains", "value": "acme"},
                {
                    "match": "any",
                    "conditions": [
                        {"field": "owner_id", "op": "any_of", "value": ["alice"]},
                        {"field": "custom.score", "op": "between", "value": [1, 2.5]},
                        {"field": "created_on", "op": "within_last_days", "value": 30},
                    ],
                },
                {"field": "tags", "op": "is_empty"},
            ]
        }
    )
    assert describe_filter(filter_, filter_fields(people)) == (
        "Lead stage is any of Lead, Contact and Email contains 'acme' and (Owner is any of Alice Adams or "
        "Score is between 1 and 2.5 or Created on is within the last 30 days) and Tags is empty"
    )
    assert describe_filter(Group(conditions=[]), filter_fields(people)) == "Every contact"


# --- the differential property test -------------------------------------------------------------------------------

TEXTS = ["", "a", "A", "ab", "Ab", "acme", "Acme", "é", "É%", "x_y", "o'neil", "b a"]
STAGES = ["Lead", "Contact", "Qualified", "Customer", "Churned"]
TAGS = ["A", "B", "C"]
SCORES = [-3.5, 0, 1, 2.25, 10, 100]
MOMENTS = [datetime(2024, 5, d, h) for d in (1, 20, 31) for h in (0, 12)] + [datetime(2024, 6, 1, 11, 0)]
DATES = [date(2024, 5, 1), date(2024, 5, 20), date(2024, 5, 31), date(1990, 1, 1)]

maybe_text = st.none() | st.sampled_from(TEXTS)
contacts_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "first_name": maybe_text,
            "email": maybe_text,
            "lead_stage": st.sampled_from(STAGES),
            "owner_id": st.sampled_from([None, "alice", "bob"]),
            "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=3),
            "channel": st.sampled_from([None, "web", "email"]),
            "name_generated": st.booleans(),
            "created_on": st.sampled_from(MOMENTS),
            "birthday": st.none() | st.sampled_from(DATES),
            "nickname": maybe_text.filter(lambda text: text != ""),
            "score": st.none() | st.sampled_from(SCORES),
            "vip": st.none() | st.booleans(),
            "joined": st.none() | st.sampled_from(MOMENTS),
            "plan": st.sampled_from([None, "Free", "Pro"]),
        }
    ),
    min_size=1,
    max_size=12,
)

KIND_OF = {
    "first_name": "text",
    "email": "text",
    "custom.nickname": "text",
    "custom.score": "number",
    "created_on": "datetime",
    "birthday": "datetime",
    "custom.joined": "datetime",
    "lead_stage": "choice",
    "owner_id": "choice",
    "channel": "choice",
    "custom.plan": "choice",
    "tags": "tags",
    "name_generated": "checkbox",
    "custom.vip": "checkbox",
}
CHOICES = {
    "lead_stage": STAGES,
    "owner_id": ["alice", "bob"],
    "channel": ["web", "email", "SMS"],
    "custom.plan": ["Free", "Pro"],
    "tags": TAGS,
}
moments = st.sampled_from(DATES[:3]) | st.sampled_from(MOMENTS)


@st.composite
def conditions(draw) -> Condition:
    field = draw(st.sampled_from(sorted(KIND_OF)))
    kind = KIND_OF[field]
    op = draw(st.sampled_from(sorted(OPERATORS[kind])))
    shape = OPERATORS[kind][op].value
    value = None
    if shape == "text":
        value = draw(st.sampled_from([t for t in TEXTS if t]))
    elif shape == "number":
        value = draw(st.sampled_from(SCORES))
    elif shape == "number_range":
        value = sorted(draw(st.lists(st.sampled_from(SCORES), min_size=2, max_size=2)))
    elif shape == "moment":
        value = draw(moments).isoformat()
    elif shape == "moment_range":
        pool = DATES[:3] if draw(st.booleans()) else MOMENTS
        value = [m.isoformat() for m in sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)))]
    elif shape == "days":
        value = draw(st.sampled_from([1, 2, 12, 31, 400]))
    elif shape == "choices":
        value = draw(st.lists(st.sampled_from(CHOICES[field]), min_size=1, max_size=3, unique=True))
    return Condition(field=field, op=op, value=value)


filters_strategy = st.recursive(
    conditions(),
    lambda inner: st.builds(
        Group, match=st.sampled_from(["all", "any"]), conditions=st.lists(inner, min_size=1, max_size=3)
    ),
    max_leaves=6,
).map(lambda item: item if isinstance(item, Group) else Group(conditions=[item]))


def as_frame(contacts: list[dict]) -> pl.DataFrame:
    schema = {
        "contact_id": pl.String,
        "first_name": pl.String,
        "email": pl.String,
        "lead_stage": pl.String,
        "owner_id": pl.String,
        "tags": pl.List(pl.String),
        "channel": pl.String,
        "name_generated": pl.Boolean,
        "created_on": pl.Datetime("us"),
        "birthday": pl.Date,
        "custom.nickname": pl.String,
        "custom.score": pl.Float64,
        "custom.vip": pl.Boolean,
        "custom.joined": pl.Datetime("us"),
        "custom.plan": pl.String,
    }
    records = [{key: contact.get(key.removeprefix("custom."), None) for key in schema} for contact in contacts]
    return pl.DataFrame(records, schema=schema)


def _moment(value: str) -> date | datetime:
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _compared(column: pl.Expr, value: date | datetime) -> tuple[pl.Expr, object]:
    if isinstance(value, datetime):
        return column.cast(pl.Datetime("us")), value
    return column.cast(pl.Datetime("us")).dt.date(), value


def reference(condition: Condition) -> pl.Expr:
    """The condition evaluated plainly in Polars: the specification the SQL must agree with."""
    column, op, value = pl.col(condition.field), condition.op, condition.value
    kind = KIND_OF[condition.field]
    if kind == "text":
        lowered = column.str.to_lowercase()
        empty = column.is_null() | (column == "")
        if op in ("is_empty", "is_not_empty"):
            return empty if op == "is_empty" else ~empty
        needle = str(value).lower()
        tests = {
            "is": lowered == needle,
            "is_not": lowered == needle,
            "contains": lowered.str.contains(needle, literal=True),
            "not_contains": lowered.str.contains(needle, literal=True),
            "starts_with": lowered.str.starts_with(needle),
            "ends_with": lowered.str.ends_with(needle),
        }
        found = tests[op].fill_null(False)
        return ~found if op in ("is_not", "not_contains") else found
    if kind in ("number", "datetime"):
        if op == "is_empty":
            return column.is_null()
        if op == "is_not_empty":
            return column.is_not_null()
        if op == "within_last_days":
            moment = column.cast(pl.Datetime("us"))
            return ((moment >= NOW - timedelta(days=value)) & (moment <= NOW)).fill_null(False)
        if kind == "datetime":
            if op == "between":
                low, high = _moment(value[0]), _moment(value[1])
                seen, _ = _compared(column, low)
                return ((seen >= low) & (seen <= high)).fill_null(False)
            seen, value = _compared(column, _moment(value))
        else:
            seen = column
        if op == "between":
            return ((seen >= value[0]) & (seen <= value[1])).fill_null(False)
        compare = {
            "equals": seen == value,
            "greater": seen > value,
            "after": seen > value,
            "less": seen < value,
            "before": seen < value,
        }[op]
        return compare.fill_null(False)
    if kind == "choice":
        found = column.is_in(value).fill_null(False) if value else None
        return {
            "any_of": found,
            "none_of": ~found if found is not None else None,
            "is_empty": column.is_null(),
            "is_not_empty": column.is_not_null(),
        }[op]
    if kind == "tags":
        if op in ("is_empty", "is_not_empty"):
            return (column.list.len() == 0) if op == "is_empty" else (column.list.len() > 0)
        has = [column.list.contains(tag) for tag in value]
        any_ = pl.any_horizontal(has)
        return {"has_any": any_, "has_all": pl.all_horizontal(has), "has_none": ~any_}[op]
    truth = column.fill_null(False)
    return truth if op == "is_true" else ~truth


def reference_group(group: Group) -> pl.Expr:
    # Empty groups are ignored, as the builder leaves them while someone is still adding conditions.
    parts = [
        reference_group(i) if isinstance(i, Group) else reference(i)
        for i in group.conditions
        if not (isinstance(i, Group) and i.is_empty())
    ]
    if not parts:
        return pl.lit(True)
    return pl.all_horizontal(parts) if group.match == "all" else pl.any_horizontal(parts)


@pytest.fixture(scope="module")
def scratch():
    con = make_database()
    yield con
    con.close()


def leaves(group: Group) -> list[Condition]:
    return [leaf for item in group.conditions for leaf in (leaves(item) if isinstance(item, Group) else [item])]


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contacts=contacts_strategy, filter_=filters_strategy)
def test_sql_agrees_with_a_plain_polars_evaluation(scratch, contacts, filter_):
    for index, contact in enumerate(contacts):
        contact["contact_id"] = f"p{index:02d}"
    load(scratch, contacts)
    frame = as_frame(contacts)
    # The whole filter, and each of its conditions alone (so that an OR elsewhere cannot hide a wrong one).
    for checked in [filter_, *(Group(conditions=[leaf]) for leaf in leaves(filter_))]:
        expected = sorted(frame.filter(reference_group(checked))["contact_id"].to_list())
        assert matching(scratch, checked) == expected, describe_filter(checked, filter_fields(scratch))
