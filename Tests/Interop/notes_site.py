"""A notes website on Django (from PyPI), for the HAR import tests: Django's own login form and
CSRF protection (a masked csrfmiddlewaretoken in every form, rotated at login, checked against the
csrftoken cookie), its sessions, and a form to add a note. Served by gunicorn (threads, keep-alive).

  notes_site.py PORT LOG USERS

Users user1..userUSERS, password pw-userN. Every request is logged to LOG as
"METHOD PATH STATUS user=NAME|- session=LAST12|-" (the session cookie the request sent), and each
successful login as "LOGIN NAME LAST12" (the session cookie it set). /notes/ without a login is a
403. Prints "ready" once it listens.
"""
import os
import sys
import tempfile
import threading

import django
from django.conf import settings

PORT, LOG, USERS = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="notes-site-for-tests-only-" + "k" * 40,
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"],
    # The log first: it sees the response with the session cookie set.
    MIDDLEWARE=[
        __name__ + ".log_requests",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tempfile.mkdtemp(), "notes.sqlite3"),
                           "OPTIONS": {"timeout": 20}}},
    # Sessions in signed cookies and no last_login write: logins only read the database.
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    # A fast hasher: the test measures the journey, not PBKDF2 on two cores.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import login  # noqa: E402
from django.contrib.auth.forms import AuthenticationForm  # noqa: E402
from django.contrib.auth.models import User, update_last_login  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402

user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
log = open(LOG, "a", buffering=1)
lock = threading.Lock()
notes = {}

PAGE = engines["django"].from_string("""<!doctype html>
<html><head><title>{{ title }}</title><link rel="stylesheet" href="/static/site.css"></head><body>
{% if user.is_authenticated %}<p>Signed in as <b id="who">{{ user.username }}</b></p>
<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
<form method="post" action="/notes/">{% csrf_token %}<input name="text" id="text"> <button id="add" type="submit">Add</button></form>
{% else %}<form method="post" action="/login/">{% csrf_token %}
<input name="username" id="username"> <input name="password" id="password" type="password">
<button type="submit" id="go">Log in</button></form>{% if error %}<p id="error">Wrong user or password</p>{% endif %}{% endif %}
</body></html>""")


def log_requests(get_response):
    def middleware(request):
        response = get_response(request)
        user = request.user.username if hasattr(request, "user") and request.user.is_authenticated else "-"
        sent = request.COOKIES.get("sessionid", "")[-12:] or "-"
        with lock:
            log.write(f"{request.method} {request.path} {response.status_code} user={user} session={sent}\n")
            if request.path == "/login/" and response.status_code == 302 and "sessionid" in response.cookies:
                log.write(f"LOGIN {user} {response.cookies['sessionid'].value[-12:]}\n")
        return response
    return middleware


def login_view(request):
    if request.method == "POST":
        form = AuthenticationForm(request, data=request.POST)
        if form.is_valid():
            login(request, form.get_user())
            return redirect("/notes/")
        return HttpResponse(PAGE.render({"title": "Log in", "error": True, "user": request.user}, request))
    return HttpResponse(PAGE.render({"title": "Log in", "user": request.user}, request))


def notes_view(request):
    if not request.user.is_authenticated:
        return HttpResponse("log in first", status=403)
    mine = notes.setdefault(request.user.username, [])
    if request.method == "POST":
        mine.append(request.POST.get("text", ""))
        return redirect("/notes/")
    return HttpResponse(PAGE.render({"title": "Notes", "notes": mine[-5:], "user": request.user}, request))


def style(request):
    return HttpResponse("body { font-family: sans-serif }", content_type="text/css")


urlpatterns = [path("login/", login_view), path("notes/", notes_view), path("static/site.css", style)]

call_command("migrate", verbosity=0, interactive=False)
for k in range(1, USERS + 1):
    u = User(username=f"user{k}")
    u.set_password(f"pw-user{k}")
    u.save()

from gunicorn.app.base import BaseApplication  # noqa: E402


class Server(BaseApplication):
    def load_config(self):
        for key, value in {"bind": f"127.0.0.1:{PORT}", "workers": 1, "worker_class": "gthread", "threads": 8,
                           "keepalive": 30, "loglevel": "warning", "when_ready": lambda _: print("ready", flush=True)}.items():
            self.cfg.set(key, value)

    def load(self):
        return get_wsgi_application()


Server().run()
