"""Admin pieces both apps share."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows nobody adds, changes or deletes in the admin, not even a superuser; they can still be viewed."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
