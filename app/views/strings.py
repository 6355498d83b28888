"""Interface strings used by the browser modules, translated on the server and handed to the page as JSON."""

from flask_babel import get_translations, gettext

from workshops import N_, NP_


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
    N_("Time left: %(time)s"),
    N_("Ideas"),
    N_("Other"),
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
    N_("The vote is closed."),
    N_("Remove a dot"),
    N_("Add a dot"),
    N_("Vote"),
    N_("Not started"),
    N_("Duplicate"),
    N_("Cancel"),
    N_("Keep this one"),
    N_("Tap “Keep this one” on the idea that stays."),
    N_("Undo merge"),
    N_("Ideas merged into this one"),
    N_("Grouped"),
    N_("Grouped with a similar idea: “%(text)s”"),
    N_("Merged into #%(seq)s"),
    N_("Harvest"),
    N_("Vote open"),
    # A label and its number: French puts a no-break space before the colon, English does not.
    N_("%(label)s: %(count)s"),
    N_("Go back to “%(step)s”?"),
    N_("Skip to “%(step)s”?"),
    N_("Skipped: %(steps)s."),
    N_("Posting opens on every phone."),
    N_("Posting closes on every phone."),
    N_("The countdown restarts at %(n)s min."),
    N_("No idea to vote on yet: the vote can open once ideas are posted."),
    N_("This step is not a vote: the vote would reach every phone during “%(step)s”."),
    N_("Open the vote now?"),
    N_("Posting is closed for this workshop."),
    N_("The vote is closed: the results will appear here."),
    N_("The results of the vote are below."),
    N_("No idea matches."),
    N_("No ideas yet."),
    N_("Not saved: this idea reached the server after posting closed."),
    N_("Not saved: %(reason)s"),
    N_("Copy it to keep it."),
    N_("Copy the text"),
    N_("Remove"),
    N_("Copied."),
    N_("Select the text above to copy it."),
    # The phone's « Send a photo » form.
    N_("Choose a photo to send."),
    N_("This photo is too large (at most %(size)s MB)."),
    N_("Sending the photo…"),
    N_("Photo sent: the organisers will look at it."),
    N_("Something went wrong on the server. Try again."),
    # Questions that rise (questions.js): the Q&A lists of the wall, the phone and the console.
    N_("In the spotlight"),
    N_("Questions"),
    N_("Already answered"),
    N_("Anonymous"),
    N_("Mine"),
    N_("Waiting for approval"),
    N_("No question yet."),
    N_("No question yet: ask yours from your phone."),
    N_("No question yet: be the first to ask."),
    N_("No question waits for review."),
    N_("Questions from the room"),
    N_("Sort the questions"),
    N_("Popular"),
    N_("Recent"),
    N_("Sign with my name"),
    N_("Shown as: %(name)s"),
    N_("Give your name below to sign."),
    N_("Questions are read by the moderators before they appear."),
    N_("Questions appear at once, without your name unless you sign."),
    N_("Questions reviewed before they appear"),
    N_("On the wall"),
    N_("Publish"),
    N_("Refuse"),
    N_("Show the top questions only"),
    # Possible duplicates to confirm or reject (suggestions.js): a table host's page.
    N_("Possible duplicates"),
    N_("Do these two ideas say the same thing?"),
    N_("Same idea"),
    N_("Different ideas"),
    # The console's « Synthèse » panel (synthesis.js): groups of ideas, suggestions, « À retenir ».
    N_("Key phrases:"),
    N_("Renamed"),
    N_("Rename"),
    N_("Title of the group"),
    N_("Save"),
    N_("Empty: the group shows the text of its main idea again."),
    N_("Choose a group"),
    N_("Merge"),
    N_("Merge with"),
    N_("Choose the group to merge with."),
    N_("Move"),
    N_("Move to"),
    N_("On its own"),
    N_("Choose where to move this idea."),
    N_("Split"),
    N_("Tick the ideas to take out of this group."),
    N_("Tick ideas, then split them into a group of their own."),
    N_("Saved."),
    N_("Saving…"),
    N_("(empty)"),
    N_("Text saved."),
    N_("The groups changed: they will be shown when you finish this edit."),
    N_("Reading the groups…"),
    N_("Groups up to date."),
    N_("No suggestion waiting."),
    N_("Grouped as one idea."),
    N_("Kept as two ideas."),
)

# Strings that depend on a number: the page picks the form with Intl.PluralRules (keyed by the plural).
JS_PLURALS = (
    NP_("%(count)s character left", "%(count)s characters left"),
    NP_("%(count)s idea", "%(count)s ideas"),
    NP_("%(count)s dot", "%(count)s dots"),
    NP_("+ %(count)s more idea", "+ %(count)s more ideas"),
    NP_("%(count)s dot left", "%(count)s dots left"),
    NP_("%(count)s of %(total)s post shown", "%(count)s of %(total)s posts shown"),
    NP_("Vote open: %(count)s voter", "Vote open: %(count)s voters"),
    NP_("Vote closed: %(count)s voter", "Vote closed: %(count)s voters"),
    NP_("Time to vote: you have %(count)s dot to share out.", "Time to vote: you have %(count)s dots to share out."),
    NP_("My votes (%(count)s)", "My votes (%(count)s)"),
    NP_("Offline: %(count)s idea waiting to be sent", "Offline: %(count)s ideas waiting to be sent"),
    NP_("Connected: %(count)s idea waiting to be sent", "Connected: %(count)s ideas waiting to be sent"),
    NP_("%(count)s vote", "%(count)s votes"),
    NP_("Upvote: %(count)s vote", "Upvote: %(count)s votes"),
    NP_("+ %(count)s more question", "+ %(count)s more questions"),
    NP_("asked %(count)s time", "asked %(count)s times"),
    NP_("Show all %(count)s question", "Show all %(count)s questions"),
    NP_("%(count)s more pair waiting", "%(count)s more pairs waiting"),
)


def js_strings(workshop: str | None = None) -> dict[str, str | dict[str, str]]:
    """Return every browser string in the current locale, keyed by its English id (the plural for plurals).

    With a format's slug, its own modules' strings (its ``strings``) are added.
    """
    from workshops import registry

    fmt = registry().get(workshop) if workshop else None
    extra = fmt.strings if fmt is not None else ()
    messages = JS_STRINGS + tuple(message for message in extra if isinstance(message, str))
    plurals = JS_PLURALS + tuple(message for message in extra if isinstance(message, tuple))
    strings: dict[str, str | dict[str, str]] = {message: gettext(message) for message in messages}
    translations = get_translations()  # unformatted: the page fills the placeholders
    for singular, plural in plurals:
        # CLDR's "one" and "other" match gettext's forms for 1 and 2 in the languages Rouages speaks.
        strings[plural] = {form: translations.ngettext(singular, plural, n) for form, n in (("one", 1), ("other", 2))}
    return strings