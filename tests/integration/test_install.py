"""Install: `make install` / `make uninstall` into a DESTDIR, the systemd unit they install
(`systemd-analyze verify` and `security`), and the container image's package list.

Installs the binary under test (no rebuild): `make install BINARY=<absolute path>` names a
file make has no rule for, so make only checks that it exists. Nothing here needs root or
touches the machine outside a temporary directory.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile

from harness import ROOT, check, check_eq, daemon_binary, short, test

EXAMPLE = os.path.join(ROOT, "config", "watchkeeper.example.json")
UNIT_SRC = os.path.join(ROOT, "config", "watchkeeper.service")
CONTAINERFILE = os.path.join(ROOT, "config", "Containerfile")
HOST_UNITS = "/lib/systemd/system"
RELEASE = os.path.join(ROOT, "build", "watchkeeper")
SANITIZER_RUNTIMES = {"libasan8", "libubsan1", "liblsan0", "libtsan2"}
MAX_EXPOSURE = 2.0  # systemd-analyze security: "OK" and below


def make(target, destdir, prefix="/usr", **extra):
    args = ["make", "--no-print-directory", "-C", ROOT, target, "DESTDIR=" + destdir,
            "PREFIX=" + prefix, "BINARY=" + os.path.abspath(daemon_binary())]
    args += ["%s=%s" % kv for kv in extra.items()]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "make %s exited %d: %s" % (target, p.returncode, short(p.stdout + p.stderr, 800)))
    return p.stdout + p.stderr


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


def unit_values(text, key):
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]


class Staged:
    """A temporary DESTDIR, removed afterwards."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="wk-install-")
        return self.dir

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


@test("make install puts every file in DESTDIR with its mode; ExecStart is the installed binary", world=False)
def _():
    with Staged() as d:
        out = make("install", d)
        files = {
            "/usr/bin/watchkeeper": 0o755,
            "/usr/lib/systemd/system/watchkeeper.service": 0o644,
            "/usr/share/watchkeeper/watchkeeper.example.json": 0o644,
            "/etc/watchkeeper/watchkeeper.json": 0o644,
            "/etc/watchkeeper/env": 0o600,
        }
        for path, want in files.items():
            check(os.path.isfile(d + path), "%s not installed; make said: %s" % (path, short(out)))
            check_eq(oct(mode(d + path)), oct(want), "mode of " + path)
        check(read(d + "/usr/bin/watchkeeper", True) == read(daemon_binary(), True),
              "the installed binary is not the one given")
        check_eq(read(d + "/etc/watchkeeper/watchkeeper.json"), read(EXAMPLE), "installed config")
        unit = read(d + "/usr/lib/systemd/system/watchkeeper.service")
        execs = unit_values(unit, "ExecStart")
        check_eq(len(execs), 1, "ExecStart lines")
        argv = execs[0].split()
        check_eq(argv[0], "/usr/bin/watchkeeper", "ExecStart binary")
        check(os.access(d + argv[0], os.X_OK), "ExecStart's binary is not executable in DESTDIR")
        check_eq(argv[1:], ["-c", "/etc/watchkeeper/watchkeeper.json"], "ExecStart arguments")
        check_eq(unit_values(unit, "EnvironmentFile"), ["-/etc/watchkeeper/env"], "EnvironmentFile")
        check_eq(unit_values(unit, "User"), ["watchkeeper"], "User")
        check_eq(unit_values(unit, "DynamicUser"), [], "DynamicUser")
        check("/usr/local" not in unit, "a /usr/local path left in the unit for PREFIX=/usr")
        env = read(d + "/etc/watchkeeper/env")
        check(all(not line.strip() or line.startswith("#") for line in env.splitlines()),
              "the new env file sets something: %r" % short(env))


@test("PREFIX and SYSCONFDIR move the binary, the unit's paths and the config", world=False)
def _():
    with Staged() as d:
        make("install", d, prefix="/opt/wk", SYSCONFDIR="/srv/etc")
        unit = read(d + "/opt/wk/lib/systemd/system/watchkeeper.service")
        check_eq(unit_values(unit, "ExecStart"), ["/opt/wk/bin/watchkeeper -c /srv/etc/watchkeeper/watchkeeper.json"],
                 "ExecStart")
        check_eq(unit_values(unit, "EnvironmentFile"), ["-/srv/etc/watchkeeper/env"], "EnvironmentFile")
        check(os.access(d + "/opt/wk/bin/watchkeeper", os.X_OK), "binary not under PREFIX")
        check(os.path.isfile(d + "/srv/etc/watchkeeper/watchkeeper.json"), "config not under SYSCONFDIR")


def verify_root(destdir):
    """A root for `systemd-analyze verify --root`: the installed tree plus the host's units
    (the unit's default dependencies, sysinit.target and friends, must resolve)."""
    root = tempfile.mkdtemp(prefix="wk-verify-")
    shutil.copytree(destdir, root, dirs_exist_ok=True, symlinks=True)
    shutil.copytree(HOST_UNITS, root + "/usr/lib/systemd/system", dirs_exist_ok=True, symlinks=True)
    shutil.copy(destdir + "/usr/lib/systemd/system/watchkeeper.service", root + "/usr/lib/systemd/system/")
    return root


@test("systemd-analyze verify passes on the installed unit with no warning", world=False)
def _():
    if not shutil.which("systemd-analyze") or not os.path.isdir(HOST_UNITS):
        print("#   skip: systemd-analyze (or %s) is missing: the unit was not verified" % HOST_UNITS)
        return
    with Staged() as d:
        make("install", d)
        root = verify_root(d)
        try:
            p = subprocess.run(["systemd-analyze", "verify", "--root=" + root,
                                "/usr/lib/systemd/system/watchkeeper.service"],
                               capture_output=True, text=True, timeout=30)
            # verify exits 0 on a misspelt or unparsable setting and only warns: any output fails.
            check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
                  "systemd-analyze verify exited %d: %s" % (p.returncode, short(p.stdout + p.stderr, 1500)))
            # And it does look at ExecStart: without the binary it fails.
            os.unlink(root + "/usr/bin/watchkeeper")
            p = subprocess.run(["systemd-analyze", "verify", "--root=" + root,
                                "/usr/lib/systemd/system/watchkeeper.service"],
                               capture_output=True, text=True, timeout=30)
            check(p.returncode != 0, "verify passed with no binary at ExecStart: it checks nothing")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@test("systemd-analyze security rates the installed unit's exposure at most %.1f" % MAX_EXPOSURE, world=False)
def _():
    if not shutil.which("systemd-analyze"):
        print("#   skip: systemd-analyze is missing: exposure not measured")
        return
    with Staged() as d:
        make("install", d)
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                            d + "/usr/lib/systemd/system/watchkeeper.service"],
                           capture_output=True, text=True, timeout=30)
        m = re.search(r"Overall exposure level for watchkeeper\.service: ([0-9.]+)", p.stdout + p.stderr)
        check(m, "no exposure level in: %s" % short(p.stdout + p.stderr, 800))
        print("#   exposure %s" % m.group(1))
        check(float(m.group(1)) <= MAX_EXPOSURE, "exposure %s > %.1f; the settings that cost most:\n%s"
              % (m.group(1), MAX_EXPOSURE, "\n".join(l for l in p.stdout.splitlines() if l.startswith("\u2717"))))


@test("a second install keeps a changed config and env, replaces the binary; uninstall keeps env and the changed config", world=False)
def _():
    with Staged() as d:
        make("install", d)
        conf, env, binary = d + "/etc/watchkeeper/watchkeeper.json", d + "/etc/watchkeeper/env", d + "/usr/bin/watchkeeper"
        with open(conf, "w") as f:
            f.write('{"listen": "127.0.0.1:9999"}\n')
        with open(env, "w") as f:
            f.write("WK_SLACK_BOT_TOKEN=xoxb-kept\n")
        with open(binary, "wb") as f:
            f.write(b"old")
        out = make("install", d)
        check_eq(read(conf), '{"listen": "127.0.0.1:9999"}\n', "config after a second install")
        check_eq(read(env), "WK_SLACK_BOT_TOKEN=xoxb-kept\n", "env after a second install")
        check_eq(oct(mode(env)), oct(0o600), "env mode after a second install")
        check(read(binary, True) == read(daemon_binary(), True), "the binary was not replaced")
        check("kept" in out, "install did not say what it kept: %s" % short(out))

        out = make("uninstall", d)
        for gone in ("/usr/bin/watchkeeper", "/usr/lib/systemd/system/watchkeeper.service",
                     "/usr/share/watchkeeper/watchkeeper.example.json", "/usr/share/watchkeeper"):
            check(not os.path.exists(d + gone), "%s left after uninstall" % gone)
        check_eq(read(env), "WK_SLACK_BOT_TOKEN=xoxb-kept\n", "env after uninstall")
        check_eq(read(conf), '{"listen": "127.0.0.1:9999"}\n', "changed config after uninstall")
        check(re.search(r"kept .*env", out) and re.search(r"kept .*watchkeeper\.json", out),
              "uninstall did not say it kept env and the config: %s" % short(out))


@test("uninstall removes an unchanged config, keeps env", world=False)
def _():
    with Staged() as d:
        make("install", d)
        make("uninstall", d)
        check(not os.path.exists(d + "/etc/watchkeeper/watchkeeper.json"), "unchanged config left")
        check(os.path.isfile(d + "/etc/watchkeeper/env"), "env removed")
        left = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]
        check_eq(left, [d + "/etc/watchkeeper/env"], "files left after uninstall")


@test("the env template names every key config/README.md marks secret", world=False)
def _():
    p = subprocess.run([os.path.join(ROOT, "scripts", "install.sh"), "--env-template"],
                       capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 0, "install.sh --env-template exit")
    named = set(re.findall(r"^#(WK_[A-Z0-9_]+)=", p.stdout, re.M))
    secret = set()
    for line in read(os.path.join(ROOT, "config", "README.md")).splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and cells[2].startswith("`WK_") and re.search(r"\bsecret\b", cells[5]):
            secret.add(cells[2].strip("`"))
    check(len(secret) >= 8, "found only %d secret keys in config/README.md: %s" % (len(secret), sorted(secret)))
    check_eq(sorted(secret - named), [], "secret keys missing from the env template")


def linked_packages(binary):
    """The Debian packages holding the shared libraries the binary names (DT_NEEDED)."""
    p = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, timeout=10)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)
    check(needed, "no NEEDED entries in %s" % binary)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    pkgs = set()
    for lib in needed:
        check(lib in paths, "ldd does not resolve %s" % lib)
        candidates = [paths[lib], os.path.realpath(paths[lib])]
        candidates += [c.replace("/usr/lib/", "/lib/", 1) if c.startswith("/usr/lib/") else "/usr" + c
                       for c in list(candidates)]
        for c in candidates:
            q = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True, timeout=10)
            if q.returncode == 0:
                pkgs.add(q.stdout.split(":")[0])
                break
        else:
            raise AssertionError("no package holds %s" % lib)
    return pkgs


@test("the Containerfile's runtime packages are what the binary links, plus CA certificates, tzdata and curl", world=False)
def _():
    text = read(CONTAINERFILE)
    stages = re.split(r"^FROM ", text, flags=re.M)
    check_eq(len(stages), 3, "stages (FROM lines)")
    runtime = stages[2]
    check(runtime.startswith("docker.io/library/debian:12-slim"), "runtime stage is not debian:12-slim")
    m = re.search(r"apt-get install -y --no-install-recommends \\\n((?:.*\\\n)+)", runtime)
    check(m, "no apt-get install in the runtime stage")
    listed = set(m.group(1).replace("\\", " ").split())
    tools = {"ca-certificates", "tzdata", "curl"}
    check(tools <= listed, "runtime stage lacks one of %s" % sorted(tools))
    # The release binary when it is built, else the test build without its sanitizer runtimes.
    binary = RELEASE if os.access(RELEASE, os.X_OK) else daemon_binary()
    linked = linked_packages(binary) - {"libc6"} - SANITIZER_RUNTIMES  # libc6: in every image
    check_eq(sorted(listed - tools - linked), [], "runtime packages the binary does not link")
    pulled = set()
    for pkg in listed - tools:
        q = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}", pkg], capture_output=True, text=True, timeout=10)
        pulled |= set(re.findall(r"(?:^|[,|]\s*)([a-z0-9][a-z0-9+.-]+)", q.stdout))
    check_eq(sorted(linked - listed - pulled), [], "linked packages neither listed nor pulled in by a listed one")
    check(not any(p.endswith("-dev") for p in listed), "a -dev package in the runtime stage")
    check(re.search(r"^USER [1-9]", runtime, re.M), "runtime stage does not switch to a non-root user")
    check(re.search(r"^HEALTHCHECK .*\n?.*curl.*/readyz", runtime, re.M), "no HEALTHCHECK against /readyz with curl")
    compose = read(os.path.join(ROOT, "config", "compose.yaml"))
    for needle in ("dockerfile: config/Containerfile", "redis:", "env_file:", "condition: service_healthy"):
        check(needle in compose, "compose.yaml lacks %r" % needle)
