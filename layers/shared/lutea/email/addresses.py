"""What an email address input may be: exactly one mailbox, nothing a mail library or provider
could read as a list, a display name or a group (``a@x.fr,b@y.fr``, ``Eve <e@x.fr>``,
``"a,b"@x.fr``, ``g: a@x.fr;``). Used by the request models and, again, by the email service
for every recipient, so that no path can turn one typed address into several recipients."""

from __future__ import annotations

import re

MAX_LENGTH = 254
# Local part: anything but the characters that delimit, quote, group or comment in RFC 5322
# headers (and whitespace or control characters). Unicode letters are allowed (RFC 6531).
_LOCAL = r"[^\s\x00-\x1f\x7f@,;:<>()\[\]\\\"]{1,64}"
# Domain: dot-separated labels of letters, digits and inner hyphens; a top-level label of 2+.
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}$")


def is_single_address(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_LENGTH or not _ADDRESS.match(value):
        return False
    if value.startswith(".") or ".." in value or value.split("@", 1)[0].endswith("."):
        return False
    from email.utils import getaddresses  # the stdlib email package: on first use only

    # The way a mail library reads a To header must give back this one address, unchanged.
    return getaddresses([value]) == [("", value)]
