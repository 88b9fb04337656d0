#!/usr/bin/env bash
# The main job on a fresh machine: build open3ds and run `open3ds demo`, the whole network (DS, ACS,
# 3DS Server and a demo shop) in one process. The first run makes ./open3ds-data (scheme PKI, secrets,
# SQLite stores with the demo scheme, issuer, merchant and test cards); later runs reuse it. Open the
# shop URL it prints and buy with a test card from the README. Extra arguments go to `open3ds demo`
# (e.g. --port 9400, --host 192.0.2.10, --log-level info). Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

mkdir -p bin
go build -o bin/open3ds ./cmd/open3ds
exec bin/open3ds demo "$@"
