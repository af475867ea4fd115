"""The home redirect: each role lands on the page it uses first."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .navigation import landing_url


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(landing_url(request.user))
