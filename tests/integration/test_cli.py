"""Command line: --check-config, --version, --help, bad options, missing config file.

These run the binary as a one-shot process with the environment of the module's World
(a running Redis), so a config check that wants to reach Redis can.
"""

import re

from harness import CONFIG, check, check_eq, check_re, free_port, run_cli, short, test

# (environment variable, bad value, pattern the error message must match: it names the key)
BAD_VALUES = [
    ("WK_LISTEN", "nonsense", r"listen"),
    ("WK_LISTEN", "127.0.0.1:99999", r"listen"),
    ("WK_LOG_LEVEL", "loud", r"log.?level"),
    ("WK_REDIS_URL", "ftp://example/0", r"redis"),
    ("WK_SLACK_ACK_AFTER_MS", "soon", r"ack.?after"),
    ("WK_REDIS_TIMEOUT_MS", "-5", r"redis.?timeout"),
    ("WK_MAX_BODY_BYTES", "lots", r"max.?body"),
    ("WK_ROTATION_TIMEZONE", "Mars/Olympus_Mons", r"time.?zone"),
    ("WK_ROTATION_HANDOFF", "someday 25:00", r"handoff"),
    ("WK_ROTATION_START", "2026-02-30", r"rotation.?start"),
]


def env_for(w, **changes):
    env = dict(w.env)
    env["WK_LISTEN"] = "127.0.0.1:%d" % free_port()
    env.update(changes)
    return env


@test("--check-config with the example config and test env exits 0")
def _(w):
    rc, out, err = run_cli(["-c", CONFIG, "--check-config"], env_for(w))
    check_eq(rc, 0, "exit code (stderr %r)" % short(err))


def make_bad_value_test(key, value, pattern):
    @test("--check-config with %s=%s exits 2 naming the key" % (key, value))
    def _(w):
        rc, out, err = run_cli(["-c", CONFIG, "--check-config"], env_for(w, **{key: value}))
        check_eq(rc, 2, "exit code (stderr %r)" % short(err))
        check_re(pattern, err, "stderr")


for _k, _v, _p in BAD_VALUES:
    make_bad_value_test(_k, _v, _p)


@test("--version prints a version and exits 0")
def _(w):
    rc, out, err = run_cli(["--version"], env_for(w))
    check_eq(rc, 0, "exit code")
    check(re.search(r"\b(\d+\.\d+(\.\d+)?|[0-9a-f]{7,})\b", out + err),
          "no version in output %r" % short(out + err))


@test("--help lists the options and exits 0")
def _(w):
    rc, out, err = run_cli(["--help"], env_for(w))
    check_eq(rc, 0, "exit code")
    for opt in ("--check-config", "--console", "-c"):
        check(opt in out + err, "--help output lacks %s: %r" % (opt, short(out + err)))


@test("an unknown option exits non-zero with a message")
def _(w):
    rc, out, err = run_cli(["--no-such-option", "-c", CONFIG], env_for(w))
    check(rc != 0, "exit code 0 for an unknown option")
    check((out + err).strip(), "no message for an unknown option")


@test("a missing config file exits non-zero naming the file")
def _(w):
    rc, out, err = run_cli(["-c", "/nonexistent/watchkeeper.json", "--check-config"], env_for(w))
    check(rc != 0, "exit code 0 for a missing config file")
    check_re(r"/nonexistent/watchkeeper\.json", err, "stderr")
    check(not re.search(r"line -1|column -1", err), "a read error reported as a parse position: %r" % err)
    check_re(r"(?i)no such file", err, "stderr says why")


@test("-c without a file name says so and exits 2")
def _(w):
    rc, out, err = run_cli(["-c"], env_for(w))
    check_eq(rc, 2, "exit code")
    check_re(r"-c needs a file name", err, "stderr")
    check(not re.search(r"unknown argument", err), "called an unknown argument: %r" % err)

