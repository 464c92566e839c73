from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from django.core import checks

        from shopops.fonts import check_pdf_fonts

        checks.register(check_pdf_fonts)
