"""CSV import/export screens for orders (admin mixin)."""


class OrderImportExportMixin:
    """Mixed into ``OrderAdmin``: the /import/ and /export/ screens of SPEC section 5."""
