"""The Microsoft Teams app package: scripts/teams_package.py (make teams-package).

The packager is run as a process the way make runs it, into a temporary --out, and the zip
is read back: the three files at its root, the filled ids and domain, the icons' sizes, and
command titles that are commands the daemon knows. The validation rules are also called
directly on broken copies of the manifest; and the daemon's console (with a private Redis)
runs every command menu entry, which must be a command it knows. No network is needed.
"""

import copy
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

from harness import ROOT, Redis, check, check_eq, check_re, daemon_binary, daemon_env, short, test

PACKAGER = os.path.join(ROOT, "scripts", "teams_package.py")
ICONS_SCRIPT = os.path.join(ROOT, "scripts", "teams_icons.py")
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
OTHER_ID = "9b2e4c6a-1d3f-4e5a-8b7c-0123456789ab"
# The daemon's commands (commands/*.c): each command menu entry must start with one.
COMMANDS = {"oncall", "incident", "invite", "delegate", "help"}


def package(tmp, args=(), **env_changes):
    """Run the packager with a clean Teams environment; returns (rc, stdout, stderr, zip path)."""
    out = os.path.join(tmp, "out", "watchkeeper-teams.zip")
    env = {k: v for k, v in os.environ.items()
           if k not in ("WK_TEAMS_APP_ID", "WK_PUBLIC_URL", "WK_TEAMS_MANIFEST_ID")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    p = subprocess.run(["/usr/bin/python3", PACKAGER, "--out", out] + list(args), env=env, cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode(), out


def png_size(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG")
    return struct.unpack(">II", data[16:24])


def read_zip(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def packager_module():
    spec = importlib.util.spec_from_file_location("teams_package", PACKAGER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@test("teams package: the zip holds manifest.json and both icons, ids and domain filled", world=False)
def _():
    with tempfile.TemporaryDirectory() as tmp:
        rc, out, err, path = package(tmp, WK_TEAMS_APP_ID=APP_ID.upper(),
                                     WK_PUBLIC_URL="https://oncall.example.com")
        check_eq(rc, 0, "exit status (stderr %r)" % short(err))
        check_eq(out.strip(), path, "printed path")
        files = read_zip(path)
        check_eq(sorted(files), ["color.png", "manifest.json", "outline.png"], "files at the zip's root")
        text = files["manifest.json"].decode()
        check("{{" not in text and "}}" not in text, "placeholder left: %s" % short(text, 600))
        m = json.loads(text)
        check_eq(m["id"], APP_ID, "app id (the App ID when WK_TEAMS_MANIFEST_ID is unset)")
        check_eq(m["bots"][0]["botId"], APP_ID, "bots[0].botId")
        check_eq(m["validDomains"], ["oncall.example.com"], "validDomains")
        check_eq(m["developer"]["websiteUrl"], "https://oncall.example.com", "developer.websiteUrl")
        check_re(r"/v%s/MicrosoftTeams\.schema\.json$" % m["manifestVersion"].replace(".", r"\."),
                 m["$schema"], "$schema's version is manifestVersion")
        check_eq(m["icons"], {"outline": "outline.png", "color": "color.png"}, "icons")
        check_eq(png_size(files["color.png"]), (192, 192), "color.png size")
        check_eq(png_size(files["outline.png"]), (32, 32), "outline.png size")
        check_eq(sorted(m["bots"][0]["scopes"]), ["groupChat", "personal", "team"], "bot scopes")
        titles = [c["title"] for cl in m["bots"][0]["commandLists"] for c in cl["commands"]]
        check(titles, "no commands in the command menu")
        for cl in m["bots"][0]["commandLists"]:
            check(len(cl["commands"]) <= 10, "more than 10 commands in one list")
        for t in titles:
            check(t.split()[0] in COMMANDS, "menu title %r does not start with a command" % t)


@test("teams package: a bad or missing app id exits 2 naming WK_TEAMS_APP_ID", world=False)
def _():
    with tempfile.TemporaryDirectory() as tmp:
        for bad in ("not-a-guid", APP_ID + "0", ""):
            rc, out, err, path = package(tmp, WK_TEAMS_APP_ID=bad, WK_PUBLIC_URL="https://oncall.example.com")
            check_eq(rc, 2, "exit status for app id %r (stderr %r)" % (bad, short(err)))
            check_re(r"WK_TEAMS_APP_ID", err, "stderr for app id %r" % bad)
            check_eq(len(err.strip().splitlines()), 1, "one-line error for %r: %r" % (bad, err))
            check(not os.path.exists(path), "a zip was written for app id %r" % bad)
        # The example config has no app id and an http:// public_url.
        rc, out, err, path = package(tmp)
        check_eq(rc, 2, "exit status with the example config")
        check_re(r"teams\.app_id.*WK_TEAMS_APP_ID", err, "stderr names the key and its variable")
        rc, out, err, path = package(tmp, WK_TEAMS_APP_ID=APP_ID, WK_PUBLIC_URL="http://oncall.example.com")
        check_eq(rc, 2, "exit status for an http:// public_url")
        check_re(r"WK_PUBLIC_URL.*https://", err, "stderr for an http:// public_url")
        rc, out, err, path = package(tmp, WK_TEAMS_APP_ID=APP_ID, WK_PUBLIC_URL="https://oncall.example.com",
                                     WK_TEAMS_MANIFEST_ID="x")
        check_eq(rc, 2, "exit status for a bad WK_TEAMS_MANIFEST_ID")
        check_re(r"WK_TEAMS_MANIFEST_ID", err, "stderr for a bad WK_TEAMS_MANIFEST_ID")


@test("teams package: keys from -c FILE, the environment wins, WK_TEAMS_MANIFEST_ID sets the app id",
      world=False)
def _():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "wk.json")
        with open(cfg, "w") as f:
            json.dump({"_comment": "x", "public_url": "https://file.example.org:8443/wk/",
                       "teams": {"app_id": OTHER_ID, "tenant_id": "botframework.com"}}, f)
        rc, out, err, path = package(tmp, ["-c", cfg])
        check_eq(rc, 0, "exit status from the file (stderr %r)" % short(err))
        m = json.loads(read_zip(path)["manifest.json"])
        check_eq((m["id"], m["bots"][0]["botId"]), (OTHER_ID, OTHER_ID), "ids from the file")
        check_eq(m["validDomains"], ["file.example.org"], "validDomains: the host alone")
        rc, out, err, path = package(tmp, ["-c", cfg], WK_TEAMS_APP_ID=APP_ID,
                                     WK_PUBLIC_URL="https://oncall.example.com", WK_TEAMS_MANIFEST_ID=OTHER_ID)
        check_eq(rc, 0, "exit status with the environment (stderr %r)" % short(err))
        m = json.loads(read_zip(path)["manifest.json"])
        check_eq(m["bots"][0]["botId"], APP_ID, "botId from WK_TEAMS_APP_ID")
        check_eq(m["id"], OTHER_ID, "app id from WK_TEAMS_MANIFEST_ID")
        check_eq(m["validDomains"], ["oncall.example.com"], "validDomains from WK_PUBLIC_URL")
        rc, out, err, path = package(tmp, ["-c", os.path.join(tmp, "missing.json")], WK_TEAMS_APP_ID=APP_ID)
        check_eq(rc, 2, "exit status for a missing config file")
        check_re(r"missing\.json", err, "stderr names the file")


@test("teams package: the validator refuses what Teams would refuse", world=False)
def _():
    mod = packager_module()
    with open(os.path.join(ROOT, "config", "teams", "manifest.json")) as f:
        template = json.load(f)
    good = mod.fill(template, {"APP_ID": APP_ID, "MANIFEST_ID": APP_ID, "PUBLIC_URL": "https://a.example",
                               "DOMAIN": "a.example"})
    icons = {}
    for name in ("color.png", "outline.png"):
        with open(os.path.join(ROOT, "config", "teams", name), "rb") as f:
            icons[name] = f.read()
    mod.validate(good, icons)  # the committed manifest passes

    def refused(change, pattern, icon_set=None):
        m = copy.deepcopy(good)
        change(m)
        try:
            mod.validate(m, icon_set or icons)
        except mod.PackageError as e:
            check_re(pattern, str(e), "error")
            return
        check(False, "accepted a manifest that should fail /%s/" % pattern)

    cmds = lambda m: m["bots"][0]["commandLists"][0]["commands"]  # noqa: E731
    refused(lambda m: m.update(manifestVersion="1.16"), r"manifestVersion")
    refused(lambda m: m.update(accentColor="orange"), r"accentColor")
    refused(lambda m: m["name"].update(short="W" * 31), r"name\.short.*30")
    refused(lambda m: m["description"].update(short="d" * 81), r"description\.short.*80")
    refused(lambda m: m["description"].update(full="d" * 4001), r"description\.full.*4000")
    refused(lambda m: cmds(m).extend([{"title": "help", "description": "x"}] * (11 - len(cmds(m)))),
            r"1 to 10")
    refused(lambda m: cmds(m)[0].update(title="oncall " + "x" * 130), r"title")
    refused(lambda m: m.update(id="{{MANIFEST_ID}}"), r"id")
    refused(lambda m: m["validDomains"].append("{{DOMAIN}}"), r"placeholder")
    refused(lambda m: None, r"color\.png is 32x32", dict(icons, **{"color.png": icons["outline.png"]}))


@test("teams package: the committed icons are what scripts/teams_icons.py draws", world=False)
def _():
    def pixels(data):
        idat, pos = b"", 8
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8])
            if kind == b"IDAT":
                idat += data[pos + 8:pos + 8 + n]
            pos += 12 + n
        return data[16:29], zlib.decompress(idat)

    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([sys.executable, ICONS_SCRIPT, tmp], capture_output=True, timeout=60)
        check_eq(p.returncode, 0, "teams_icons.py exit status (stderr %r)" % short(p.stderr))
        drawn = {}
        for name in ("color.png", "outline.png"):
            with open(os.path.join(tmp, name), "rb") as f:
                drawn[name] = pixels(f.read())
            with open(os.path.join(ROOT, "config", "teams", name), "rb") as f:
                check(drawn[name] == pixels(f.read()),
                      "config/teams/%s differs from teams_icons.py's drawing: run the script" % name)
        outline = drawn["outline.png"][1]
        rows = [outline[i * (1 + 32 * 4) + 1:(i + 1) * (1 + 32 * 4)] for i in range(32)]
        check(all(r[j:j + 3] == b"\xff\xff\xff" for r in rows for j in range(0, len(r), 4)),
              "outline.png has a pixel that is not white")
        check(any(r[j + 3] == 0 for r in rows for j in range(0, len(r), 4)), "outline.png has no transparency")


@test("teams package: every command menu entry is a command the daemon runs", world=False)
def _():
    with open(os.path.join(ROOT, "config", "teams", "manifest.json")) as f:
        m = json.load(f)
    titles = [c["title"] for cl in m["bots"][0]["commandLists"] for c in cl["commands"]]
    redis = Redis().start()
    try:
        env = daemon_env(redis.url, "http://127.0.0.1:9/api", WK_SLACK_SIGNING_SECRET=None)
        p = subprocess.run([daemon_binary(), "-c", "config/watchkeeper.example.json", "--console"],
                           input="".join("/%s\n" % t for t in titles).encode(), env=env, cwd=ROOT,
                           capture_output=True, timeout=30)
        out, err = p.stdout.decode(), p.stderr.decode()
        check_eq(p.returncode, 0, "console exit status (stderr: %s)" % short(err, 600))
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            check(bad not in err, "sanitizer report: %s" % short(err, 800))
        check(not re.search(r"no subcommand|don't know the command", out),
              "a menu entry the daemon does not know:\n%s" % short(out, 1500))
    finally:
        redis.destroy()
