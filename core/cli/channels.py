"""`python -m core block`, `unblock` and `ingest`: the channels' part of the command line."""

import argparse
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from core.channels.ingest import IngestReport, ingest_file
from core.cli.common import Adder, add_user_option, ask_app, open_existing, print_json
from core.config import known_ingest_token
from core.contacts.records import set_blocked
from core.db import rows
from core.errors import ContactsError

LINES_PER_REQUEST = 20_000
# A part the app answers 409 (its run met another's change to the same contacts, several times) is sent again.
CONFLICT_TRIES = 5
CONFLICT_WAIT = 0.5  # seconds, doubling
EXIT_SOME_MALFORMED = 3


def _set_blocked(args: argparse.Namespace, blocked: bool) -> int:
    con = open_existing(args.db)
    wanted = list(dict.fromkeys(args.ids))
    found = {
        row[0]
        for row in rows(
            con, "SELECT contact_id FROM contacts WHERE contact_id IN (SELECT unnest($ids))", {"ids": wanted}
        )
    }
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:  # all or nothing: a typo must not leave half the list blocked
        raise ContactsError(f"No contact with ID {', '.join(repr(m) for m in missing[:5])}; nothing was changed.")
    changed = set_blocked(con, wanted, blocked, args.user)
    con.close()
    print_json({"blocked" if blocked else "unblocked": changed, "unchanged": len(wanted) - changed})
    return 0


def command_block(args: argparse.Namespace) -> int:
    """Block contacts: their chat and inbox events are refused from now on."""
    return _set_blocked(args, True)


def command_unblock(args: argparse.Namespace) -> int:
    """Unblock contacts."""
    return _set_blocked(args, False)


def ingest_url(url: str) -> str:
    """The endpoint for a running app's address ('http://localhost:8501' or the full /api/ingest URL)."""
    base = url.rstrip("/")
    return base if base.endswith("/api/ingest") else base + "/api/ingest"


def _post(url: str, token: str, body: str, name: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode({'file': name})}",
        data=body.encode("utf-8"),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    for attempt in range(CONFLICT_TRIES):
        try:
            return ask_app(request, "the events")
        except ContactsError as refused:
            if attempt == CONFLICT_TRIES - 1 or "(409)" not in refused.message:
                raise
        time.sleep(CONFLICT_WAIT * 2**attempt)
    raise AssertionError("unreachable")  # the last try returned or raised


def send_file(path: Path, url: str, token: str, lines_per_request: int = LINES_PER_REQUEST) -> IngestReport:
    """Send a JSON-lines file to a running app in parts; one combined report, with file line numbers."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    total = IngestReport()
    for start in range(0, max(len(lines), 1), lines_per_request):
        part = lines[start : start + lines_per_request]
        if not any(line.strip() for line in part):
            continue
        answer = IngestReport.model_validate(_post(ingest_url(url), token, "\n".join(part), path.name))
        for key in (
            "events",
            "created",
            "updated",
            "conversations_opened",
            "conversations_continued",
            "refused_blocked",
        ):
            setattr(total, key, getattr(total, key) + getattr(answer, key))
        total.malformed += [{**bad, "line": bad["line"] + start} for bad in answer.malformed]
        total.run_id = answer.run_id
    return total


def command_ingest(args: argparse.Namespace) -> int:
    """Ingest a JSON-lines file into the database, or send it to a running app with --url."""
    path = Path(args.events)
    if not path.is_file():
        raise ContactsError(f"There is no file {path}.")
    if args.url:
        token = args.token or known_ingest_token()
        if not token:
            raise ContactsError("Give the app's ingest token with --token or $CONTACTS_INGEST_TOKEN.")
        report = send_file(path, args.url, token)
    else:
        con = open_existing(args.db)
        report = ingest_file(con, path, args.user)
        con.close()
    print_json(report.model_dump(exclude={"run_id"}))
    return EXIT_SOME_MALFORMED if report.malformed else 0


def register(add: Adder) -> None:
    """Register block, unblock and ingest on the `python -m core` parser."""
    for name, handler, verb in (("block", command_block, "Block"), ("unblock", command_unblock, "Unblock")):
        sub = add(name, handler, f"{verb} contacts by ID; prints how many changed. Unknown IDs change nothing.")
        sub.add_argument("ids", nargs="+", metavar="ID", help="contact IDs")
        add_user_option(sub, "who does it, for the activity log")
    ingest = add(
        "ingest",
        command_ingest,
        "Apply Web Chat and Inbox events (JSON lines) in order; prints {created, updated, conversations_opened, "
        f"refused_blocked, malformed}}. Exit 0, or {EXIT_SOME_MALFORMED} when some lines were malformed.",
    )
    ingest.add_argument("events", metavar="EVENTS.jsonl", help="one JSON event a line (see core/channel_events.py)")
    ingest.add_argument("--url", help="send to the running app at this address instead of opening --db")
    ingest.add_argument("--token", help="the app's ingest token (default: $CONTACTS_INGEST_TOKEN)")
    add_user_option(ingest, "who sends them, for the ingest history")
