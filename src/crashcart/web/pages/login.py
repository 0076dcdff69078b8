"""Signing in: Django's login form, its attempts counted per IP address so passwords cannot be guessed fast."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from crashcart.web.middleware import RATE_WINDOW, count_in_window
from crashcart.web.pages.views import site_settings


class LoginView(auth_views.LoginView):  # type: ignore[misc]  # Django ships no type information
    template_name = "pages/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = time.time()
        address = request.META.get("REMOTE_ADDR", "")
        count = count_in_window(f"crashcart:login:{address}:{int(now // RATE_WINDOW)}")
        if count is not None and count > site_settings().web_login_attempts:
            retry_after = max(1, RATE_WINDOW - int(now % RATE_WINDOW))
            refused: HttpResponse = self.render_to_response(self.get_context_data(too_many=retry_after), status=429)
            refused["Retry-After"] = str(retry_after)
            return refused
        answer: HttpResponse = super().post(request, *args, **kwargs)
        return answer
