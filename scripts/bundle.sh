#!/usr/bin/env bash
# bundle.sh - `make bundle`: the offline installer for Debian 12 amd64,
# build/watchkeeper-VERSION-debian12-amd64.tar.gz. Run on a Debian 12 amd64 machine with
# apt's package lists (the build machine): the binary is this machine's build/watchkeeper.
#
# The tarball holds one directory:
#   install.sh, uninstall.sh, README   the installer (see scripts/bundle_install.sh)
#   files/                             the binary, the unit, the example config and
#                                      scripts/install.sh + uninstall.sh
#   debs/                              the packages the daemon needs: the libraries it links
#                                      (found from its DT_NEEDED entries with dpkg -S),
#                                      ca-certificates, tzdata, and their dependencies
#   debs-redis/                        redis-server and what it needs beyond debs/ (a local
#                                      Redis; install.sh --no-redis skips it)
#   SHA256SUMS                         install.sh checks it first
# "Needs" is measured against a minimal Debian 12 (debootstrap --variant=minbase): the
# packages of priority required, apt, and everything they depend on are left out, as every
# Debian 12 system has them. apt-get downloads the rest with this machine's package lists
# (`apt-get update` first if a download fails with 404).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WK_BUNDLE_BINARY:-build/watchkeeper}
OUT=${WK_BUNDLE_DIR:-build}
[ -x "$BIN" ] || { echo "bundle: no $BIN (make all first)" >&2; exit 1; }
. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ] || [ "$(dpkg --print-architecture)" != amd64 ]; then
	echo "bundle: build the Debian 12 amd64 bundle on Debian 12 amd64 (this is ${PRETTY_NAME:-?})" >&2
	exit 1
fi

version=$("$BIN" --version | awk '{print $2; exit}')
[ -n "$version" ] || { echo "bundle: $BIN --version printed no version" >&2; exit 1; }
name=watchkeeper-$version-debian12-amd64
work=build/bundle
stage=$work/$name
rm -rf "$stage"
mkdir -p "$stage/files/bin" "$stage/files/config" "$stage/files/scripts" "$stage/debs" "$stage/debs-redis"

# The packages holding the libraries the binary names (the libc is in every system).
linked_packages() {
	local lib path pkg
	for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'); do
		path=$(ldd "$1" | awk -v l="$lib" '$1 == l {print $3}')
		[ -n "$path" ] || { echo "bundle: ldd cannot resolve $lib" >&2; return 1; }
		pkg=
		for p in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
			pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$pkg" ] && break
		done
		[ -n "$pkg" ] || { echo "bundle: no package holds $path" >&2; return 1; }
		echo "$pkg"
	done | sort -u | grep -vx libc6
}

runtime=$(linked_packages "$BIN" | tr '\n' ' ')
runtime="$runtime ca-certificates tzdata"
echo "bundle: runtime packages: $runtime + redis-server"

# A dpkg status file describing a minimal Debian 12: this machine's entries for the packages
# of priority required, apt, and their dependencies (alternatives: the one installed here).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - /var/lib/dpkg/status "$tmp/status" <<'EOF'
import re, sys
src, dst = sys.argv[1], sys.argv[2]
stanzas = {}
for text in open(src, encoding="utf-8").read().split("\n\n"):
    m = re.search(r"^Package: (\S+)$", text, re.M)
    if m and re.search(r"^Status: install ok installed$", text, re.M):
        stanzas[m.group(1)] = text
def field(text, name):
    m = re.search(r"^%s: (.*(?:\n .*)*)" % name, text, re.M)
    return m.group(1).replace("\n", " ") if m else ""
todo = [p for p, t in stanzas.items() if field(t, "Priority") == "required"] + ["apt"]
keep = set()
while todo:
    p = todo.pop()
    if p in keep or p not in stanzas:
        continue
    keep.add(p)
    for dep in re.split(r",\s*", field(stanzas[p], "Pre-Depends") + "," + field(stanzas[p], "Depends")):
        alts = [a.split()[0].split(":")[0] for a in dep.split("|") if a.strip()]
        todo += [a for a in alts if a in stanzas][:1]
with open(dst, "w", encoding="utf-8") as f:
    f.write("\n\n".join(stanzas[p].strip("\n") for p in sorted(keep)) + "\n")
print("bundle: minimal Debian 12 baseline: %d packages" % len(keep))
EOF

# apt-get resolves against that baseline only and downloads what is missing from it.
download() { # download DIR PACKAGE...
	local dir=$1
	shift
	mkdir -p "$dir/partial"
	apt-get install -y -q --download-only --no-install-recommends \
		-o Dir::State::status="$tmp/status" -o Dir::Cache::archives="$dir" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=true \
		-o APT::Get::AllowUnauthenticated=false "$@" >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; echo "bundle: apt-get download failed (apt-get update first?)" >&2; return 1; }
	rm -rf "$dir/partial" "$dir/lock"
}
# shellcheck disable=SC2086 # the package list is words
download "$tmp/debs" $runtime
download "$tmp/debs-redis" $runtime redis-server
cp "$tmp"/debs/*.deb "$stage/debs/"
for deb in "$tmp"/debs-redis/*.deb; do
	[ -e "$stage/debs/$(basename "$deb")" ] || cp "$deb" "$stage/debs-redis/"
done

install -m 0755 "$BIN" "$stage/files/bin/watchkeeper"
install -m 0644 config/watchkeeper.service config/watchkeeper.example.json "$stage/files/config/"
install -m 0755 scripts/install.sh scripts/uninstall.sh "$stage/files/scripts/"
install -m 0755 scripts/bundle_install.sh "$stage/install.sh"
install -m 0755 scripts/bundle_uninstall.sh "$stage/uninstall.sh"
{
	echo "Watchkeeper $version for Debian 12 (bookworm) amd64: an offline installer."
	echo
	echo "  sudo ./install.sh              install the packages, the daemon and a local Redis;"
	echo "                                 enable and start both (when systemd runs)"
	echo "  sudo ./install.sh --no-redis   the same without Redis (set WK_REDIS_URL in /etc/watchkeeper/env)"
	echo "  sudo ./install.sh --no-start   install only"
	echo "  sudo ./uninstall.sh            remove the daemon; keeps /etc/watchkeeper/env, a changed config,"
	echo "                                 the user and the Debian packages (apt-get purge them by hand)"
	echo
	echo "Then put the secrets in /etc/watchkeeper/env (mode 0600), settings in"
	echo "/etc/watchkeeper/watchkeeper.json, and: systemctl restart watchkeeper."
	echo "Upgrade: unpack the new bundle and run its install.sh (config and env are kept)."
	echo
	echo "Packages (installed only when missing or older):"
	(cd "$stage" && ls debs debs-redis | sed -n 's/^\(.*\)\.deb$/  \1/p')
} >"$stage/README"
(cd "$stage" && find . -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum >SHA256SUMS)

tarball=$OUT/$name.tar.gz
tar -C "$work" --owner=0 --group=0 -czf "$tarball" "$name"
echo "bundle: $tarball: $(du -k "$tarball" | cut -f1) KiB," \
	"$(ls "$stage/debs" | wc -l) packages + $(ls "$stage/debs-redis" | wc -l) for Redis"
