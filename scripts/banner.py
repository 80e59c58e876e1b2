"""Print where the product runs and how to sign in (used by `make run`)."""

import sys

host, port = (sys.argv[1:3] + ["127.0.0.1", "8000"][len(sys.argv[1:3]) :])[:2]
base = f"http://{host}:{port}"
lines = [
    "",
    f"  Programs and Events Platform: {base}/",
    f"  Admin:            {base}/admin/",
    f"  API docs:         {base}/api/v1/docs/",
    f"  Health:           {base}/health/ready",
    "",
    "  Demo logins (password demo12345):",
    "    superuser   admin@demo.local",
    "    operator    operator@demo.local",
    "    reviewer    reviewer@demo.local",
    "    mentor      mentor@demo.local",
    "    writer      writer@demo.local",
    "    integrator  integrator@demo.local",
    "  API token: .venv/bin/python manage.py create_api_user --email integrator@demo.local --role integrator",
    "",
]
sys.stdout.write("\n".join(lines) + "\n")
