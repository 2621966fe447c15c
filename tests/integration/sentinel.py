"""sentinel.py - a real Redis Sentinel setup on loopback for tests: one primary, one replica and
three sentinels (`redis-server --sentinel`), each its own process in a temp dir, so a test can
SENTINEL FAILOVER it or kill -9 the primary.

  s = SentinelSet().start()      # primary, replica, 3 sentinels; waits until they all agree
  s.url(password=None)           redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/mymaster
  s.r(...)                       a command on the current primary (asked of the sentinels;
                                 retried through a switch)
  s.primary()                    (host, port) the first sentinel names
  s.kill_primary()               kill -9 of the primary's process; returns its port
  s.restart_as_replica(port)     the killed one back, as a replica of the current primary
  s.healthy(timeout)             primary with a linked replica, and every sentinel agreeing
  s.destroy()

Timings are short (down-after-milliseconds 1000, failover-timeout 3000) so a kill -9 is
followed by a promotion within a few seconds. Standard library only."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness import Resp, RespError, free_port, wait_until

NAME = "mymaster"


class TcpResp(Resp):
    """harness.Resp over TCP."""

    def __init__(self, host, port, timeout=3.0):  # pylint: disable=super-init-not-called
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.rf = self.sock.makefile("rb")


PASSWORDS = {}  # port -> the password its process asks for (AUTH first)


def ask(port, *args, timeout=2.0):
    c = TcpResp("127.0.0.1", port, timeout)
    try:
        if PASSWORDS.get(port):
            c("AUTH", PASSWORDS[port])
        return c(*args)
    finally:
        c.close()


class Primary:
    """s.r: harness.Resp's interface on whichever node is the primary now."""

    def __init__(self, s):
        self.s = s

    def __call__(self, *args):
        return self.s.run(*args)

    def hgetall(self, key):
        flat = self("HGETALL", key)
        return dict(zip(flat[0::2], flat[1::2]))

    def keys(self, pattern="*"):
        return sorted(self("KEYS", pattern))


class SentinelSet:
    def __init__(self, password=None, sentinel_password=None):
        """password: the data nodes' (requirepass, masterauth, the sentinels' auth-pass);
        sentinel_password: the sentinels' own (requirepass, sentinel-pass)."""
        self.password, self.sentinel_password = password, sentinel_password
        self.dir = tempfile.mkdtemp(prefix="wk-sentinel-")
        self.procs = {}             # port -> Popen (data nodes and sentinels)
        self.data_ports = []
        self.sentinel_ports = []
        self.client = None          # (port, TcpResp) on the last known primary
        self.r = Primary(self)

    def _data_node(self, port, replica_of=None):
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--dbfilename", "dump-%d.rdb" % port,
                "--logfile", os.path.join(self.dir, "redis-%d.log" % port)]
        if replica_of:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        if self.password:
            args += ["--requirepass", self.password, "--masterauth", self.password]
            PASSWORDS[port] = self.password
        self.procs[port] = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        if not wait_until(lambda: self._pings(port), 10, 0.05):
            raise RuntimeError("redis-server on %d did not answer PING" % port)

    def _sentinel(self, port, primary):
        conf = os.path.join(self.dir, "sentinel-%d.conf" % port)
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s 1000\n"
                    "sentinel failover-timeout %s 3000\n"
                    "sentinel parallel-syncs %s 1\n"
                    % (port, self.dir, os.path.join(self.dir, "sentinel-%d.log" % port),
                       NAME, primary, NAME, NAME, NAME))
            if self.password:
                f.write("sentinel auth-pass %s %s\n" % (NAME, self.password))
            if self.sentinel_password:
                f.write("requirepass %s\nsentinel sentinel-pass %s\n"
                        % (self.sentinel_password, self.sentinel_password))
                PASSWORDS[port] = self.sentinel_password
        self.procs[port] = subprocess.Popen(["redis-server", conf, "--sentinel"], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: self._pings(port), 10, 0.05):
            raise RuntimeError("sentinel on %d did not answer PING" % port)

    @staticmethod
    def _pings(port):
        try:
            return ask(port, "PING", timeout=0.5) == "PONG"
        except (OSError, ConnectionError):
            return False

    def start(self):
        try:
            p, rp = free_port(), free_port()
            self.data_ports = [p, rp]
            self._data_node(p)
            self._data_node(rp, replica_of=p)
            for _ in range(3):
                sp = free_port()
                self.sentinel_ports.append(sp)
                self._sentinel(sp, p)
            if not self.healthy(30):
                raise RuntimeError("the sentinels did not find each other and the replica within 30 s: %s"
                                   % self.describe())
        except BaseException:
            self.destroy()
            raise
        return self

    def url(self, password=None):
        hosts = ",".join("127.0.0.1:%d" % p for p in self.sentinel_ports)
        auth = ":%s@" % password if password else ""
        return "redis+sentinel://%s%s/%s" % (auth, hosts, NAME)

    def primary(self, sentinel=0):
        try:
            got = ask(self.sentinel_ports[sentinel], "SENTINEL", "get-master-addr-by-name", NAME)
            return (got[0], int(got[1])) if got else None
        except (OSError, ConnectionError, RespError):
            return None

    def _role(self, port):
        try:
            return ask(port, "ROLE", timeout=0.5)
        except (OSError, ConnectionError, RespError):
            return None

    def healthy(self, timeout):
        """Every sentinel names the same primary, which says it is one and has a replica online
        whose link is up, and every sentinel lists that replica and the two other sentinels."""
        def ok():
            addrs = {self.primary(i) for i in range(len(self.sentinel_ports))}
            if len(addrs) != 1 or None in addrs:
                return False
            port = next(iter(addrs))[1]
            role = self._role(port)
            if not role or role[0] != "master" or not role[2]:
                return False
            replica = int(role[2][0][1])
            rrole = self._role(replica)
            if not rrole or rrole[0] != "slave" or rrole[3] != "connected":
                return False
            for sp in self.sentinel_ports:
                try:
                    reps = ask(sp, "SENTINEL", "REPLICAS", NAME)
                    sens = ask(sp, "SENTINEL", "SENTINELS", NAME)
                except (OSError, ConnectionError, RespError):
                    return False
                flags = [dict(zip(x[0::2], x[1::2])).get("flags", "") for x in reps]
                if len(sens) != 2 or not any(f == "slave" for f in flags):
                    return False
            return True
        return wait_until(ok, timeout, 0.2)

    def describe(self):
        return "primaries named %r, roles %r" % (
            [self.primary(i) for i in range(len(self.sentinel_ports))],
            {p: (self._role(p) or ["?"])[0] for p in self.data_ports})

    def run(self, *args, timeout=20.0):
        """One command on the current primary; through a switch it is retried (reads, and the
        test's own idempotent writes) until the sentinels name a primary that takes it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                addr = self.primary() or self.primary(1)
                if not addr:
                    raise ConnectionError("no primary named")
                if not self.client or self.client[0] != addr[1]:
                    if self.client:
                        self.client[1].close()
                    self.client = (addr[1], TcpResp(addr[0], addr[1]))
                    if self.password:
                        self.client[1]("AUTH", self.password)
                return self.client[1](*args)
            except (OSError, ConnectionError, RespError) as e:
                if isinstance(e, RespError) and not str(e).startswith(("READONLY", "LOADING", "MASTERDOWN")):
                    raise
                if self.client:
                    self.client[1].close()
                    self.client = None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def kill_primary(self):
        port = self.primary()[1]
        self.procs[port].kill()
        self.procs[port].wait()
        return port

    def restart_as_replica(self, port):
        new = self.primary()
        self._data_node(port, replica_of=new[1])

    def destroy(self):
        if self.client:
            self.client[1].close()
            self.client = None
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
        self.procs = {}
        for p in self.data_ports + self.sentinel_ports:
            PASSWORDS.pop(p, None)
        shutil.rmtree(self.dir, ignore_errors=True)
