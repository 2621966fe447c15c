#!/usr/bin/python3
"""teams_package.py - build the Microsoft Teams app package (standard library only).

  /usr/bin/python3 scripts/teams_package.py [-c CONFIG] [--out ZIP]      (make teams-package)

Reads two settings the way the daemon does: the JSON config file (-c, default
config/watchkeeper.example.json), then the environment, which wins:
  teams.app_id  / WK_TEAMS_APP_ID   the bot's Microsoft App ID: the manifest's bots[0].botId
  public_url    / WK_PUBLIC_URL     https://host[:port][/path]: validDomains gets its host;
                                    developer URLs get the URL
WK_TEAMS_MANIFEST_ID (environment only) gives the Teams app its own id; by default the app
id is the App ID. Fills config/teams/manifest.json's placeholders ({{APP_ID}},
{{MANIFEST_ID}}, {{PUBLIC_URL}}, {{DOMAIN}}), checks the result against the manifest rules
Teams enforces (../shared/protocols/teams.md 2.6) and the icons' PNG headers, and writes
manifest.json, color.png and outline.png at the root of build/teams/watchkeeper-teams.zip
(or --out). Prints the zip's path and exits 0; on any problem prints one line and exits 2.
"""

import argparse
import json
import os
import re
import struct
import sys
import urllib.parse
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TEMPLATE_DIR = os.path.join(ROOT, "config", "teams")
DEFAULT_CONFIG = os.path.join(ROOT, "config", "watchkeeper.example.json")
DEFAULT_OUT = os.path.join(ROOT, "build", "teams", "watchkeeper-teams.zip")

GUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")
SCHEMA_RE = re.compile(r"^https://developer\.microsoft\.com/(?:en-us/)?json-schemas/teams/"
                       r"v(\d+\.\d+)/MicrosoftTeams\.schema\.json$")
SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
BOT_SCOPES = {"personal", "team", "groupChat", "copilot"}
# Command titles and descriptions: the older schemas' limits (32 and 128); 1.17 and later
# only relax them, so a package within these loads everywhere.
TITLE_MAX, COMMAND_DESC_MAX, COMMANDS_MAX, LISTS_MAX = 32, 128, 10, 3
ICONS = {"color": (192, 192), "outline": (32, 32)}


class PackageError(Exception):
    pass


def load_config(path):
    """The config file as a dict; a duplicate key is an error, as in the daemon."""
    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise PackageError("config file %s: duplicate key \"%s\"" % (path, k))
            seen[k] = v
        return seen
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f, object_pairs_hook=no_duplicates)
    except OSError as e:
        raise PackageError("config file %s: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise PackageError("config file %s: %s" % (path, e))
    if not isinstance(cfg, dict):
        raise PackageError("config file %s: expected a JSON object at the top" % path)
    return cfg


def setting(cfg, key, env):
    """(value, label): the environment wins over the file (even when set to "");
    the label names the key the way the daemon's errors do."""
    if env in os.environ:
        return os.environ[env], "config key %s (environment)" % env
    node = cfg
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    label = "config key \"%s\" (or %s)" % (key, env)
    if node is not None and not isinstance(node, str):
        raise PackageError("%s: expected a string" % label)
    return node or "", label


def fill(node, values):
    """A copy of the manifest with every {{NAME}} in its strings replaced."""
    if isinstance(node, dict):
        return {k: fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):
        for name, value in values.items():
            node = node.replace("{{%s}}" % name, value)
    return node


def png_header(data, name):
    """(width, height, colour type) from a PNG's IHDR."""
    if len(data) < 33 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("icon %s: not a PNG file" % name)
    width, height, _depth, ctype = struct.unpack(">IIBB", data[16:26])
    return width, height, ctype


def need(cond, msg):
    if not cond:
        raise PackageError("manifest: " + msg)


def text(obj, key, where, maxlen):
    v = obj.get(key) if isinstance(obj, dict) else None
    need(isinstance(v, str) and v.strip(), "%s.%s is required" % (where, key))
    need(len(v) <= maxlen, "%s.%s is %d characters, at most %d" % (where, key, len(v), maxlen))
    return v


def validate(m, icons):
    """The rules Teams checks on upload, as far as they concern this manifest."""
    need(isinstance(m, dict), "expected a JSON object")
    schema = SCHEMA_RE.match(m.get("$schema", ""))
    need(schema, "$schema is not a MicrosoftTeams.schema.json URL of the form "
         "https://developer.microsoft.com/en-us/json-schemas/teams/vX.Y/MicrosoftTeams.schema.json")
    need(m.get("manifestVersion") == schema.group(1), "manifestVersion %r does not match the "
         "$schema's version %s" % (m.get("manifestVersion"), schema.group(1)))
    version = text(m, "version", "manifest", 256)
    need(SEMVER_RE.match(version), "version %r is not MAJOR.MINOR.PATCH" % version)
    need(GUID_RE.match(str(m.get("id", ""))), "id %r is not a GUID" % m.get("id"))
    dev = m.get("developer")
    text(dev, "name", "developer", 32)
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        url = text(dev, key, "developer", 2048)
        need(url.startswith("https://"), "developer.%s %r is not an https:// URL" % (key, url))
    text(m.get("name"), "short", "name", 30)
    if "full" in m.get("name", {}):
        text(m["name"], "full", "name", 100)
    text(m.get("description"), "short", "description", 80)
    text(m.get("description"), "full", "description", 4000)
    need(COLOR_RE.match(str(m.get("accentColor", ""))),
         "accentColor %r is not a colour #RRGGBB" % m.get("accentColor"))
    need(isinstance(m.get("icons"), dict) and set(m["icons"]) == set(ICONS),
         "icons must name exactly an outline and a color file")
    for kind, (w, h) in ICONS.items():
        name = m["icons"][kind]
        need(name in icons, "icons.%s names %r, which is not in config/teams" % (kind, name))
        width, height, ctype = png_header(icons[name], name)
        need((width, height) == (w, h), "icon %s is %dx%d, Teams wants %dx%d" % (name, width, height, w, h))
        need(kind != "outline" or ctype in (4, 6), "icon %s has no transparency (the outline icon "
             "is white on transparent)" % name)
    bots = m.get("bots")
    need(isinstance(bots, list) and len(bots) == 1, "bots must hold exactly one bot")
    bot = bots[0]
    need(GUID_RE.match(str(bot.get("botId", ""))), "bots[0].botId %r is not a GUID" % bot.get("botId"))
    scopes = bot.get("scopes")
    need(isinstance(scopes, list) and scopes and set(scopes) <= BOT_SCOPES,
         "bots[0].scopes must be some of %s" % ", ".join(sorted(BOT_SCOPES)))
    lists = bot.get("commandLists", [])
    need(isinstance(lists, list) and len(lists) <= LISTS_MAX, "at most %d commandLists" % LISTS_MAX)
    for i, cl in enumerate(lists):
        where = "bots[0].commandLists[%d]" % i
        need(isinstance(cl.get("scopes"), list) and cl["scopes"] and set(cl["scopes"]) <= set(scopes),
             "%s.scopes must be some of the bot's scopes" % where)
        cmds = cl.get("commands")
        need(isinstance(cmds, list) and 1 <= len(cmds) <= COMMANDS_MAX,
             "%s holds %s commands, 1 to %d" % (where, len(cmds) if isinstance(cmds, list) else "no",
                                                COMMANDS_MAX))
        titles = [text(c, "title", "%s.commands[%d]" % (where, j), TITLE_MAX) for j, c in enumerate(cmds)]
        for j, c in enumerate(cmds):
            text(c, "description", "%s.commands[%d]" % (where, j), COMMAND_DESC_MAX)
        need(len(set(t.lower() for t in titles)) == len(titles), "%s repeats a title" % where)
    domains = m.get("validDomains", [])
    need(isinstance(domains, list) and all(isinstance(d, str) and d for d in domains),
         "validDomains must be a list of host names")
    left = re.findall(r"\{\{[A-Z_]*\}\}", json.dumps(m))
    need(not left, "placeholder %s left unfilled" % (left[0] if left else ""))


def settings(config_path):
    cfg = load_config(config_path)
    app_id, app_label = setting(cfg, "teams.app_id", "WK_TEAMS_APP_ID")
    if not app_id:
        raise PackageError("%s: required: the bot's Microsoft App ID (the Azure Bot resource's "
                           "app registration), a GUID" % app_label)
    if not GUID_RE.match(app_id):
        raise PackageError("%s: expected the Microsoft App ID, a GUID like "
                           "00000000-0000-0000-0000-000000000000" % app_label)
    manifest_id = os.environ.get("WK_TEAMS_MANIFEST_ID") or app_id
    if not GUID_RE.match(manifest_id):
        raise PackageError("WK_TEAMS_MANIFEST_ID (environment): expected a GUID like "
                           "00000000-0000-0000-0000-000000000000")
    url, url_label = setting(cfg, "public_url", "WK_PUBLIC_URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError("%s: Teams needs an https:// URL it can reach, got %r" % (url_label, url))
    return {"APP_ID": app_id.lower(), "MANIFEST_ID": manifest_id.lower(),
            "PUBLIC_URL": url.rstrip("/"), "DOMAIN": parts.hostname.lower()}


def build(config_path, out):
    values = settings(config_path)
    try:
        with open(os.path.join(TEMPLATE_DIR, "manifest.json"), encoding="utf-8") as f:
            template = json.load(f)
        icons = {}
        for name in sorted(os.listdir(TEMPLATE_DIR)):
            if name.endswith(".png"):
                with open(os.path.join(TEMPLATE_DIR, name), "rb") as f:
                    icons[name] = f.read()
    except (OSError, ValueError) as e:
        raise PackageError("%s: %s" % (TEMPLATE_DIR, e))
    manifest = fill(template, values)
    validate(manifest, icons)
    files = [("manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())]
    files += [(manifest["icons"][k], icons[manifest["icons"][k]]) for k in ("color", "outline")]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = out + ".tmp"
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files:  # fixed dates: the same inputs give the same bytes
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
        os.replace(tmp, out)
    except OSError as e:
        raise PackageError("%s: %s" % (out, e.strerror or e))


def main():
    ap = argparse.ArgumentParser(description="Build the Microsoft Teams app package.")
    ap.add_argument("-c", dest="config", default=DEFAULT_CONFIG, help="config file (JSON)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="zip to write (default %(default)s)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    try:
        build(args.config, out)
    except PackageError as e:
        print("teams_package: %s" % e, file=sys.stderr)
        return 2
    print(os.path.relpath(out) if out.startswith(os.getcwd() + os.sep) else out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
