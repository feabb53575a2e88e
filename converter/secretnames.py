"""Which variable names hold secrets (PASSWORD, TOKEN, API_KEY...), shared by every stage.

The loader uses it to keep such values out of error messages; the conversion uses it for
--secret-env and the report.
"""

from __future__ import annotations

import re

SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|(^|_)(PASS|PWD)$",
    re.IGNORECASE)
# Names that point at a secret rather than hold one (POSTGRES_PASSWORD_FILE, TOKEN_PATH...).
_REFERENCE = re.compile(r"_(FILE|PATH|DIR|URL_FILE)$", re.IGNORECASE)


def names_secret(name: str) -> bool:
    """The name mentions a secret: its value is never quoted in a message."""
    return bool(SECRET_NAME.search(name))


def holds_secret(name: str) -> bool:
    """The variable itself holds a secret value (not a path to one, not the shell's PWD)."""
    return names_secret(name) and not _REFERENCE.search(name) and name != "PWD"
