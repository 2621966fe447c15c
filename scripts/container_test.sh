#!/usr/bin/env bash
# container_test.sh - `make container-test` (root, podman; not part of `make test`): builds
# config/Containerfile and runs the image the way config/compose.yaml does (read-only root,
# no capabilities, no-new-privileges, the env file), against a private Redis:
#   the HEALTHCHECK passes with Redis up and fails with it down, the daemon runs as uid
#   10001, GET /readyz answers 200 from outside, `podman stop` exits 0.
# Base images: docker.io/library/debian:12 and :12-slim when present or pullable; otherwise
# (no registry, as on the build machines) a stand-in for both imported from the debootstrap
# minbase that bundle-test caches (build/bundle-test/debian12-minbase.tar.gz), said loudly.
# The build's RUN steps use the host network for apt. runc and cgroupfs are used (crun
# refuses hybrid cgroup hierarchies), and explicit ulimits (the runtime may not raise them).
# The container uses the host network: port 8080 must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v podman >/dev/null || { echo "container-test: no podman (apt-get install podman runc)" >&2; exit 1; }
P=(podman --cgroup-manager=cgroupfs)
command -v runc >/dev/null && P+=(--runtime=runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMAGE=localhost/watchkeeper:test
NAME=wk-container-test
dir=build/container-test
mkdir -p "$dir"

for tag in docker.io/library/debian:12 docker.io/library/debian:12-slim; do
	if "${P[@]}" image exists "$tag"; then
		if [ -n "$("${P[@]}" image inspect "$tag" --format '{{index .Labels "wk.standin"}}' 2>/dev/null)" ]; then
			echo "container-test: $tag here is the debootstrap stand-in (imported earlier), not Debian's image"
		fi
		continue
	fi
	if "${P[@]}" pull -q "$tag" >/dev/null 2>&1; then continue; fi
	base=build/bundle-test/debian12-minbase.tar.gz
	[ -s "$base" ] || { echo "container-test: cannot pull $tag and no $base (run make bundle-test once)" >&2; exit 1; }
	echo "container-test: $tag cannot be pulled: using a debootstrap minbase of bookworm in its place"
	gzip -dc "$base" | "${P[@]}" import -q --change "LABEL wk.standin=debootstrap-minbase" - "$tag" >/dev/null
done

t0=$(date +%s)
"${P[@]}" build --format docker --pull=never --network=host "${LIMITS[@]}" -f config/Containerfile -t "$IMAGE" \
	--build-arg WK_VERSION="$(git describe --always --dirty 2>/dev/null || echo 0.1.0)" . >"$dir/build.log" 2>&1 ||
	{ tail -n 20 "$dir/build.log" >&2; echo "container-test: build failed ($dir/build.log)" >&2; exit 1; }
echo "container-test: built $IMAGE in $(($(date +%s) - t0)) s; layers (newest first): $("${P[@]}" history "$IMAGE" --format '{{.Size}}' | head -n 11 | grep -v '^0 B$' | tr '\n' ' ')"

if ss -ltn | awk '{print $4}' | grep -q ':8080$'; then
	echo "container-test: port 8080 is in use here" >&2
	exit 1
fi
scripts/install.sh --env-template >"$dir/watchkeeper.env"
redis_url=$(scripts/redis.sh start "$dir/redis" >/dev/null && echo "redis://127.0.0.1:$(cat "$dir/redis/redis.port")/0")
cleanup() {
	"${P[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
	scripts/redis.sh stop "$dir/redis" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "container-test: FAILED: $*" >&2; "${P[@]}" logs "$NAME" 2>&1 | tail -n 5 >&2; exit 1; }

"${P[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
"${P[@]}" run -d --name "$NAME" --network=host --read-only --tmpfs /tmp --cap-drop=ALL \
	--security-opt no-new-privileges "${LIMITS[@]}" --env-file "$dir/watchkeeper.env" \
	-e WK_REDIS_URL="$redis_url" "$IMAGE" >/dev/null 2>"$dir/run.log" || { cat "$dir/run.log" >&2; exit 1; }
ok=0
for _ in $(seq 50); do
	if "${P[@]}" healthcheck run "$NAME" >/dev/null 2>&1; then ok=1; break; fi
	sleep 0.2
done
[ "$ok" -eq 1 ] || fail "the HEALTHCHECK never passed"
echo "container-test: HEALTHCHECK (curl /readyz) passes"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/readyz)
[ "$code" = 200 ] || fail "GET /readyz from the host: $code"
uid=$("${P[@]}" exec "$NAME" id -u)
[ "$uid" = 10001 ] || fail "runs as uid $uid"
echo "container-test: GET /readyz 200 from the host; the daemon runs as uid $uid"
scripts/redis.sh stop "$dir/redis" >/dev/null
ok=0
for _ in $(seq 30); do
	if ! "${P[@]}" healthcheck run "$NAME" >/dev/null 2>&1; then ok=1; break; fi
	sleep 0.2
done
[ "$ok" -eq 1 ] || fail "the HEALTHCHECK still passes with Redis down"
echo "container-test: HEALTHCHECK fails with Redis down"
"${P[@]}" stop -t 30 "$NAME" >/dev/null 2>&1
code=$("${P[@]}" inspect "$NAME" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit $code after podman stop"
echo "container-test: ok: podman stop: exit 0; image $("${P[@]}" image inspect "$IMAGE" --format '{{.Size}}') bytes"
