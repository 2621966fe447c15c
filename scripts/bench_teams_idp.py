#!/usr/bin/python3
"""bench_teams_idp.py SERVICE_URL - the inbound side of scripts/bench_teams.sh: starts the
tests' fake Bot Framework identity (tests/integration/fake_teams.py FakeTeamsIdentity: OpenID
metadata + JWK set, which the daemon fetches once at startup), prints the daemon's WK_TEAMS_*
settings as NAME=VALUE lines, then `TOKEN=<jwt>`: one inbound token for serviceurl =
SERVICE_URL, valid for 2 hours, then `READY`; serves until SIGTERM/SIGINT. (The outbound
token endpoint the script points the daemon at is the C fake's, not this one.)"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import fake_teams as ft  # noqa: E402

service_url = sys.argv[1]
idp = ft.FakeTeamsIdentity()
for k, v in idp.env().items():
    print("%s=%s" % (k, v))
print("TOKEN=%s" % idp.mint(serviceurl=service_url, exp_in=7200))
print("READY", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    signal.pause()
except KeyboardInterrupt:
    pass
finally:
    idp.close()
