"""The one redaction: secrets masked wherever text leaves the process.

Three kinds of secret are masked, in this order:

1. **Registered values**: every ``${env:...}`` value a pipeline used (:func:`add_secrets`),
   longest first, wherever it appears, in any form a message may quote it (as is, or
   percent-encoded as it would be inside a URL).
2. **URL passwords**: ``scheme://user:password@host`` found in text is parsed with
   :func:`urllib.parse.urlsplit`, whose user part ends at the *last* ``@`` of the
   authority, so a password holding ``@`` is masked whole.
3. **Key/value secrets**: ``password=...``, ``token: ...``, ``Authorization: Bearer ...``,
   ``api_key=...`` and the like.

The printed error, the JSON logs, ``--debug`` tracebacks, the run store, traces and
dead-letter reasons all go through :func:`redact` (or :func:`redact_value`).

Example:
    >>> redact("postgresql://etl:p@ss@db:5432/shop failed")
    'postgresql://etl:***@db:5432/shop failed'
    >>> redact("GET /x Authorization: Bearer abc.def")
    'GET /x Authorization: Bearer ***'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

MASK = "***"

#: shorter values are not registered: masking "1" or "ab" would shred every message
MIN_SECRET_LENGTH = 3

_LOCK = threading.Lock()
_SECRETS: set[str] = set()
_PATTERN: list[re.Pattern[str] | None] = [None]

# a URL with credentials: scheme:// then an authority that holds an '@'; the authority
# ends at the first '/', '?', '#' or blank AFTER its last '@' (urlsplit decides the rest)
_URL = re.compile(r"[A-Za-z][\w+.\-]*://[^\s/?#'\"<>]*@[^\s/?#'\"<>]*")
_KEYS = (
    r"password|passwd|pwd|secret|token|access_token|refresh_token|api_key|apikey|"
    r"sslpassword|client_secret|sasl_password|sasl\.password|private_key"
)
_KV = re.compile(
    rf"(?P<head>(?<![\w.])(?:{_KEYS})(?P<q>['\"]?)\s*[=:]\s*['\"]?)(?P<secret>[^\s&;,'\"}}\]]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic|Token)\s+)(?P<secret>[A-Za-z0-9._~+/=\-]{3,})")


def add_secrets(secrets: Iterable[str]) -> None:
    """Register values that must never leave the process (``${env:...}`` values, passwords).

    Example:
        >>> add_secrets({"hunter2"})
        >>> redact("login failed for hunter2")
        'login failed for ***'
    """
    fresh = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
    with _LOCK:
        if fresh <= _SECRETS:
            return
        _SECRETS.update(fresh)
        forms: set[str] = set()
        for s in _SECRETS:
            forms.update({s, quote(s, safe=""), quote_plus(s), s.replace("'", "''")})
        ordered = sorted(forms, key=len, reverse=True)
        _PATTERN[0] = re.compile("|".join(re.escape(f) for f in ordered))


def forget_secrets() -> None:
    """Drop every registered value (for a long-lived process between unrelated runs)."""
    with _LOCK:
        _SECRETS.clear()
        _PATTERN[0] = None


def registered_secrets() -> frozenset[str]:
    """The values registered so far."""
    with _LOCK:
        return frozenset(_SECRETS)


def _mask_url(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    userinfo, sep, _host = parts.netloc.rpartition("@")
    if not sep:
        return text
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return text
    start = len(parts.scheme) + 3 + len(user) + 1
    end = start + len(password)
    return text[:start] + MASK + text[end:]


def redact(text: str) -> str:
    """``text`` with every registered secret, URL password and key/value secret masked.

    Example:
        >>> redact("connect to mysql://u:s3cr@t@h/db?password=x&y=1")
        'connect to mysql://u:***@h/db?password=***&y=1'
    """
    if not text:
        return text
    pattern = _PATTERN[0]
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "://" in text:
        text = _URL.sub(_mask_url, text)
    text = _KV.sub(lambda m: m["head"] + MASK, text)
    return _BEARER.sub(lambda m: m["head"] + MASK, text)


def redact_value(value: Any) -> Any:
    """``value`` with :func:`redact` applied to every string inside (dicts, lists, tuples).

    Example:
        >>> redact_value({"url": "pg://a:b1c@h/d", "n": [1, "token=zz9"]})
        {'url': 'pg://a:***@h/d', 'n': [1, 'token=***']}
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def url_hint(url: str) -> str | None:
    """A hint when ``url``'s credentials hold characters that break it, else ``None``.

    A password with ``@``, ``/``, ``?``, ``#`` or ``:`` must be percent-encoded in a URL;
    otherwise the host is read from inside the password (and sent to the resolver).

    Example:
        >>> url_hint("postgresql://u:a@b@h/db")
        "percent-encode the user and password in the URL (e.g. '@' as %40, '/' as %2F, ':' as %3A)"
        >>> url_hint("postgresql://u:ok@h/db") is None
        True
    """
    _scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    head = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if head.count("@") > 1:
        return _ENCODE_HINT  # the password holds an '@'
    before_query = re.split(r"[?#]", rest, maxsplit=1)[0]
    if "@" not in head and "@" in before_query:
        return _ENCODE_HINT  # the password holds a '/'
    userinfo = head.rpartition("@")[0]
    if userinfo.count(":") > 1:
        return _ENCODE_HINT
    return None


_ENCODE_HINT = (
    "percent-encode the user and password in the URL (e.g. '@' as %40, '/' as %2F, ':' as %3A)"
)
