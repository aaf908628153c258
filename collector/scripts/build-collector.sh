#!/usr/bin/env bash
# Builds the otel-audit collector distribution from collector/builder-config.yaml with ocb.
# Everything lives in a cache outside the repository, keyed by a hash of the manifest, so a second run
# (or a test run) reuses the binary. Progress goes to stderr; the binary's path is the last stdout line.
# Without a Go toolchain it prints why it skipped and exits 0 (set OTEL_AUDIT_REQUIRE_COLLECTOR=1 to fail).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$(cd "$here/.." && pwd)/builder-config.yaml"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/otel-audit/collector"

log() { printf '[build-collector] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "SKIP: no Go toolchain on PATH (Go 1.25+ is needed to build the collector with ocb)."
  log "      Install Go, or run the contrib image at the version in $manifest."
  if [ "${OTEL_AUDIT_REQUIRE_COLLECTOR:-0}" = "1" ]; then exit 1; fi
  exit 0
fi

# The ocb release must match the core component versions: read it from the otlp receiver line.
ocb_version="$(sed -n 's#.*go.opentelemetry.io/collector/receiver/otlpreceiver \(v[0-9][0-9.]*\).*#\1#p' "$manifest" | head -n1)"
if [ -z "$ocb_version" ]; then
  log "ERROR: could not read the otlpreceiver version from $manifest"
  exit 1
fi
dist_name="$(sed -n 's/^  name: *\([A-Za-z0-9_-]*\).*/\1/p' "$manifest" | head -n1)"
hash="$(sha256sum "$manifest" | cut -c1-16)"
dist_dir="$cache_root/dist-$hash"
binary="$dist_dir/$dist_name/$dist_name"

mkdir -p "$cache_root"
# One build at a time per cache (tests and a manual run may race); the loser reuses the winner's binary.
exec 9>"$cache_root/build.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  log "waiting for the build lock $cache_root/build.lock (another build runs)"
  flock 9
fi

if [ -x "$binary" ]; then
  log "reusing $binary (manifest hash $hash)"
  printf '%s\n' "$binary"
  exit 0
fi

start=$(date +%s)
ocb_dir="$cache_root/ocb/$ocb_version"
ocb="$ocb_dir/builder"
if [ ! -x "$ocb" ]; then
  log "installing ocb $ocb_version into $ocb_dir ($(go version))"
  mkdir -p "$ocb_dir"
  GOBIN="$ocb_dir" go install "go.opentelemetry.io/collector/cmd/builder@$ocb_version"
fi

work="$cache_root/build-$hash.tmp"
rm -rf "$work"
mkdir -p "$work"
log "building $dist_name (manifest hash $hash) in $work; the first build downloads modules and compiles for many minutes"
# output_path in the manifest is relative: run ocb inside the work directory.
(cd "$work" && nice -n 10 "$ocb" --config "$manifest" >&2)
rm -rf "$dist_dir"
mv "$work" "$dist_dir"
# Builds of older manifests are dead weight (hundreds of MB each); builds are serialized by the lock above.
for stale in "$cache_root"/dist-* "$cache_root"/build-*.tmp; do
  if [ -e "$stale" ] && [ "$stale" != "$dist_dir" ]; then
    log "removing the build of an older manifest: $stale"
    rm -rf "$stale"
  fi
done
log "built $binary in $(($(date +%s) - start)) s"
printf '%s\n' "$binary"
