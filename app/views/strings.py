"""Interface strings used by the browser modules, translated on the server and handed to the page as JSON."""

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


JS_STRINGS = (
    N_("Connected"),
    N_("Connected (slow mode)"),
    N_("Offline: your ideas will be sent when the connection returns"),
    N_("Waiting to send…"),
    N_("Sent"),
    N_("Refused"),
    N_("Hidden by the facilitators"),
    N_("Write something before sending."),
    N_("Choose one: %(label)s."),
    N_("%(count)s characters left"),
    N_("Time left: %(time)s"),
    N_("Ideas"),
    N_("Other"),
    N_("%(count)s ideas"),
    N_("Reconnecting…"),
    N_("Not connected: try again in a moment."),
    N_("Restore"),
    N_("Hide"),
    N_("Hidden"),
    N_("Posting is open"),
    N_("Posting is closed"),
    N_("Close posting"),
    N_("Open posting"),
    N_("Your dots are saved."),
    N_("Not connected: your dots will be sent when the connection returns."),
    N_("Results"),
    N_("%(count)s dots"),
    N_("%(count)s dots left"),
    N_("The vote is closed."),
    N_("Remove a dot"),
    N_("Add a dot"),
    N_("Vote open: %(count)s voters"),
    N_("Vote closed: %(count)s voters"),
    N_("Vote"),
    N_("Not started"),
    N_("Saved"),
    N_("Duplicate"),
    N_("Cancel"),
    N_("Keep this one"),
    N_("Tap « Keep this one » on the idea that stays."),
    N_("Your table for this round: %(table)s"),
    N_("Round 1: go to %(table)s"),
    N_("Plan for %(count)s people"),
    N_("Round %(n)s"),
    N_("Harvest"),
)


def js_strings() -> dict[str, str]:
    """Return every browser string in the current locale, keyed by its English id."""
    return {message: gettext(message) for message in JS_STRINGS}
