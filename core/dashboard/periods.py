"""Days, weeks (from Monday) and months: the periods the contacts-over-time chart counts in."""

from datetime import date, timedelta
from typing import Literal

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")


def week_start(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def period_start(day: date, grain: Grain) -> date:
    """The first day of the day, week or month holding `day`."""
    if grain == "week":
        return week_start(day)
    return day.replace(day=1) if grain == "month" else day


def period_end(start: date, grain: Grain) -> date:
    """The last day of the period that starts on `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
