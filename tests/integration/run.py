#!/usr/bin/python3
"""run.py - run the integration suite against a watchkeeper binary.

  /usr/bin/python3 tests/integration/run.py [--binary PATH] [-k SUBSTRING] [-v]

Imports every tests/integration/test_*.py (sorted), runs the registered tests one by one
in file order and prints one line each:
  ok - NAME
  not ok - NAME: REASON        (followed by '# ' lines with the daemon's stderr tail)
A failing test never stops the others. Tests of one file share one World (Redis + fake peer
+ daemon), flushed before each test; after a file's last test the daemon is stopped with
SIGTERM and that check is reported as its own test line. The last line is machine-readable:
  integration-result passed=N failed=M
Exit status 0 only when nothing failed (and something ran).
"""

import argparse
import glob
import importlib
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

PER_TEST_TIMEOUT = 45


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("test took longer than %d s" % PER_TEST_TIMEOUT)


class Runner:
    def __init__(self, verbose):
        self.verbose = verbose
        self.passed = 0
        self.failed = 0
        self.failures = []

    def comment(self, text):
        for line in text.splitlines():
            print("#   " + line)

    def result(self, name, err, detail=""):
        if err is None:
            self.passed += 1
            print("ok - " + name, flush=True)
        else:
            self.failed += 1
            first, _, rest = str(err).partition("\n")
            self.failures.append("%s: %s" % (name, first))
            print("not ok - %s: %s" % (name, first), flush=True)
            if rest:
                self.comment(rest)
            if detail:
                self.comment(detail)
        sys.stdout.flush()

    def run_one(self, name, func, world):
        signal.alarm(PER_TEST_TIMEOUT)
        t0 = time.monotonic()
        err, detail = None, ""
        try:
            if world is not None:
                world.reset()
                func(world)
            else:
                func()
        except harness.TestFailure as e:
            err = e
        except Exception as e:  # a harness or protocol error: still this test's failure
            err = "%s: %s" % (type(e).__name__, e)
            detail = traceback.format_exc(limit=4)
        finally:
            signal.alarm(0)
        if world is not None:
            # A crash or sanitizer report during this test belongs to this test.
            extra = []
            if not world.daemon.alive():
                extra.append("daemon died (exit %s)" % world.daemon.proc.returncode)
            report = world.daemon.new_sanitizer_report()
            if report:
                extra.append("sanitizer report during test:\n" + report)
            if extra:
                err = "; ".join(([str(err)] if err is not None else []) + extra)
        if err is not None and world is not None:
            detail += "daemon stderr tail:\n" + world.daemon.stderr_tail(12)
        if self.verbose:
            print("#   (%.2f s)" % (time.monotonic() - t0))
        self.result(name, err, detail)
        if world is not None and not world.daemon.alive():
            return False
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", help="daemon binary (default $WK_BINARY or build/san/watchkeeper)")
    ap.add_argument("-k", dest="match", help="run only tests whose name contains this (or of the module of that name)")
    ap.add_argument("-v", dest="verbose", action="store_true")
    args = ap.parse_args()
    if args.binary:
        os.environ["WK_BINARY"] = os.path.abspath(args.binary)
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    signal.signal(signal.SIGALRM, on_alarm)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    try:
        return run(args)
    finally:
        harness.kill_leftovers()  # only after an interruption is anything left


def run(args):
    runner = Runner(args.verbose)
    binary = harness.daemon_binary()
    if not os.access(binary, os.X_OK):
        runner.result("daemon binary exists", "no executable at %s" % binary)
    else:
        for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
            modname = os.path.splitext(os.path.basename(path))[0]
            try:
                importlib.import_module(modname)
            except Exception as e:
                runner.result("%s imports" % modname, "%s: %s" % (type(e).__name__, e),
                              traceback.format_exc(limit=3))

        modules = []
        for mod, _, _, _ in harness.TESTS:
            if mod not in modules:
                modules.append(mod)
        t_start = time.monotonic()
        for mod in modules:
            tests = [t for t in harness.TESTS if t[0] == mod and (not args.match or args.match in t[1] or args.match == mod)]
            if not tests:
                continue
            print("# %s" % mod, flush=True)
            world = None
            world_broken = None
            for _, name, func, needs_world in tests:
                if needs_world and world is None and world_broken is None:
                    try:
                        world = harness.World()
                    except Exception as e:
                        world_broken = "could not start Redis + daemon: %s" % e
                if needs_world and world is None:
                    runner.result(name, world_broken)
                    continue
                alive = runner.run_one(name, func, world if needs_world else None)
                if needs_world and not alive:
                    # That test failed; the next one gets a fresh World.
                    try:
                        world.close()
                    except Exception:
                        pass
                    world = None
            if world is not None:
                name = "%s: daemon exits 0 on SIGTERM with a clean sanitizer report" % mod
                try:
                    world.close()
                    runner.result(name, None)
                except harness.TestFailure as e:
                    runner.result(name, e)
        if args.verbose:
            print("# total %.1f s" % (time.monotonic() - t_start))

    # CI keeps only the log's head and tail: name the failures again here.
    for failure in runner.failures:
        print("# failed: " + failure)
    print("integration-result passed=%d failed=%d" % (runner.passed, runner.failed), flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
