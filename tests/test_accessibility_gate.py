"""The accessibility gate's tool: axe-core 4.14, served from our own static files to the tests
and to DEBUG, never collected for production (``devstatic/axe-core/README.md``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_the_tests_are_served_axe_core_4_14_from_our_own_origin(client):
    response = client.get("/static/axe-core/axe.min.js")
    assert response.status_code == 200
    head = b"".join(response.streaming_content if response.streaming else [response.content])[:40]
    assert head.startswith(b"/*! axe v4.14.")
    # served like every static file: the page's CSP (script-src 'self') lets it run
    assert response["Content-Type"].startswith(("text/javascript", "application/javascript"))


@pytest.mark.parametrize(("debug", "found"), [("0", False), ("1", True)])
def test_production_never_collects_axe_core(debug, found):
    # settings as a production process reads them (no pytest imported): collectstatic's finders
    code = (
        "import django; django.setup()\n"
        "from django.contrib.staticfiles import finders\n"
        "print(bool(finders.find('axe-core/axe.min.js')))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopops.settings",
        "DEBUG": debug,
        "SECRET_KEY": "a-production-like-key-for-this-check-only-0123456789",
        "ALLOWED_HOSTS": "shop.example.com",
    }
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(found)
