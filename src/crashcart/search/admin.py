"""Site admin for the links between signatures and bugs (``/api/Bugs/``), and signatures' first sightings."""

from __future__ import annotations

from django.contrib import admin

from crashcart.search.models import BugAssociation, Signature


@admin.register(BugAssociation)
class BugAssociationAdmin(admin.ModelAdmin):
    list_display = ("bug_id", "signature")
    search_fields = ("signature", "bug_id")


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    """Read only: the processor keeps first dates and builds."""

    list_display = ("signature", "first_date", "first_build")
    search_fields = ("signature",)
    readonly_fields = ("signature", "first_date", "first_build")

    def has_add_permission(self, request: object) -> bool:
        return False
