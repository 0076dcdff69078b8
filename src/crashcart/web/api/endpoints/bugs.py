"""Signatures and bugs: ``SignatureFirstDate``, ``Bugs`` and ``SignaturesByBugs``.

Both read tables of the crash index (``crashcart.search.models``): ``Signature`` (filled by the index writer
as crashes arrive) and ``BugAssociation`` (filled by people: ``crashcart bugs add BUG SIGNATURE…`` and
``crashcart bugs remove``, see ``add_associations``). Socorro fills its table from Bugzilla's crash-signature
fields; a Bugzilla sync is a later step, and writing through the API would need a permission Socorro does
not have, so the table is written only from the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from crashcart.web.api.base import APIContext, APIError, APIModel, Param, register
from crashcart.web.api.endpoints._common import storable

#: Bug ids are stored in a 32-bit column (Bugzilla's ids are far below): a larger one cannot match, and must
#: not reach the database, where it would be an error rather than a miss.
MAX_BUG_ID = 2**31 - 1


def parse_bug_ids(values: Sequence[str]) -> list[int]:
    """Bug ids given as digits; anything else is Socorro's form error (400 ``{"errors": {"bug_ids": …}}``)."""
    bug_ids = []
    for value in values:
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise APIError(400, {"errors": {"bug_ids": ["Enter a whole number."]}})
        bug_id = int(text)
        if bug_id <= MAX_BUG_ID:
            bug_ids.append(bug_id)
    return bug_ids


def associations_of_bugs(bug_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Every (bug, signature) association of these bugs, ordered by bug id then signature."""
    from crashcart.search.models import BugAssociation  # noqa: PLC0415  (Django models load after setup)

    rows = (
        BugAssociation.objects.filter(bug_id__in=list(bug_ids))
        .order_by("bug_id", "signature")
        .values_list("bug_id", "signature")
        .distinct()
    )
    return [{"id": int(bug_id), "signature": signature} for bug_id, signature in rows]


def all_associations() -> list[dict[str, Any]]:
    """Every association, ordered by bug id then signature (``crashcart bugs list``)."""
    from crashcart.search.models import BugAssociation  # noqa: PLC0415

    rows = BugAssociation.objects.order_by("bug_id", "signature").values_list("bug_id", "signature")
    return [{"id": int(bug_id), "signature": signature} for bug_id, signature in rows]


def bugs_of_signatures(signatures: Sequence[str]) -> list[dict[str, Any]]:
    """Socorro's ``Bugs``: the bugs tied to any of ``signatures``, with *every* signature of those bugs."""
    from crashcart.search.models import BugAssociation  # noqa: PLC0415

    wanted = storable(list(signatures))
    if not wanted:
        return []
    bug_ids = set(BugAssociation.objects.filter(signature__in=wanted).values_list("bug_id", flat=True))
    return associations_of_bugs(bug_ids) if bug_ids else []


def add_associations(bug_id: int, signatures: Sequence[str]) -> int:
    """Tie ``bug_id`` to each signature (idempotent); returns how many associations were new."""
    from crashcart.search.models import BugAssociation  # noqa: PLC0415

    added = 0
    for signature in signatures:
        _, created = BugAssociation.objects.get_or_create(bug_id=bug_id, signature=signature)
        added += int(created)
    return added


def remove_associations(bug_id: int, signatures: Sequence[str] = ()) -> int:
    """Untie ``bug_id`` from these signatures (all of them when none is given); returns how many went."""
    from crashcart.search.models import BugAssociation  # noqa: PLC0415

    rows = BugAssociation.objects.filter(bug_id=bug_id)
    if signatures:
        rows = rows.filter(signature__in=list(signatures))
    deleted, _ = rows.delete()
    return int(deleted)


def _hits(hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {"hits": hits, "total": len(hits)}


@register
class Bugs(APIModel):
    name = "Bugs"
    methods = ("GET", "POST")
    params = (Param("signatures", "list", required=True, help="Signatures (exact) to find bugs for."),)
    description = (
        "Bugs tied to the signatures, each listed with every signature tied to it, ordered by bug id and signature."
    )

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return _hits(bugs_of_signatures(params.get("signatures") or []))


@register
class SignaturesByBugs(APIModel):
    name = "SignaturesByBugs"
    params = (Param("bug_ids", "list", required=True, help="Bug ids (digits)."),)
    description = "Signatures tied to the bugs, ordered by bug id and signature."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return _hits(associations_of_bugs(parse_bug_ids(params.get("bug_ids") or [])))


@register
class SignatureFirstDate(APIModel):
    name = "SignatureFirstDate"
    params = (Param("signatures", "list", required=True, help="Signatures (exact)."),)
    description = "When each signature was first seen, and the first build id it was seen in."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        from crashcart.search.models import Signature  # noqa: PLC0415

        wanted = storable(list(dict.fromkeys(params.get("signatures") or [])))
        rows = Signature.objects.filter(signature__in=wanted).order_by("signature")
        return _hits(
            [
                {
                    "signature": row.signature,
                    "first_date": row.first_date.isoformat() if row.first_date is not None else None,
                    "first_build": str(row.first_build) if row.first_build is not None else None,
                }
                for row in rows
            ]
        )
