#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need when it is missing, starts
# PostgreSQL when it is installed but down, checks formatting and vet, then runs every test with the race
# detector. CI (.ci/run) calls exactly this script. Extra arguments go to `go test` (e.g. -run Foo).
set -euo pipefail
cd "$(dirname "$0")/.."

# say, as_root and apt_install (which waits for another apt's lock and says what it installs and why).
. scripts/lib.sh

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "Go is not installed (expected at /usr/local/go)"; exit 1; }

say "tools"
command -v openssl >/dev/null || apt_install "the PKI tests check our certificates with openssl" openssl
command -v gcc >/dev/null || apt_install "the race detector needs cgo" gcc libc6-dev
[ -x /usr/bin/chromium ] || apt_install "the ACS challenge pages and the demo shop are tested in a real browser" chromium
dpkg -s fonts-noto-cjk >/dev/null 2>&1 ||
	apt_install "the Japanese challenge pages are checked for fit with real Japanese glyphs" fonts-noto-cjk

say "Node test packages"
# The SMPP tests run an independent SMSC, the npm "smpp" package, from internal/notify/testdata/smsc.
command -v node >/dev/null || apt_install "the SMPP and JOSE tests talk to independent peers written for Node" nodejs npm
smsc_dir=internal/notify/testdata/smsc
if [ ! -f "$smsc_dir/node_modules/smpp/package.json" ]; then
	(cd "$smsc_dir" && npm ci --no-audit --no-fund)
fi
# The app channel's JOSE is checked against an independent peer, the npm "jose" package under Node,
# from internal/sdkcrypto/testdata/josesdk.
jose_dir=internal/sdkcrypto/testdata/josesdk
if [ ! -f "$jose_dir/node_modules/jose/package.json" ]; then
	(cd "$jose_dir" && npm ci --no-audit --no-fund)
fi

say "PostgreSQL"
PGHOST_ADDR=127.0.0.1
PGPORT_NUM=5432
if ! command -v pg_ctlcluster >/dev/null; then
	apt_install "the store suite runs against a real PostgreSQL as well as SQLite" postgresql
	fresh_pg=1
fi
if ! pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM"; then
	ver=$(ls /etc/postgresql | sort -V | tail -n 1)
	if [ "${fresh_pg:-}" = 1 ]; then
		# A cluster we just installed: let local TCP connections in without a password, as on our machines.
		hba=/etc/postgresql/$ver/main/pg_hba.conf
		as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
	fi
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
	for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM" && break; sleep 1; done
fi
pg_isready -h "$PGHOST_ADDR" -p "$PGPORT_NUM"
if ! psql -h "$PGHOST_ADDR" -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
	psql -h "$PGHOST_ADDR" -U postgres -d postgres -c "create database test" >/dev/null
fi
export OPEN3DS_TEST_POSTGRES="${OPEN3DS_TEST_POSTGRES:-postgres://postgres@$PGHOST_ADDR:$PGPORT_NUM/test?sslmode=disable}"

say "Go modules"
go mod download

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

say "go vet"
go vet ./...

say "deployment files"
# The Helm chart and the Dockerfile are checked offline by deploy/check, a module of its own so that
# this one does not take on Helm's and BuildKit's dependencies: a strict helm lint, renders with the
# default and a production-like values file decoded into the Kubernetes types, the references
# between the objects, BuildKit's Dockerfile rules and ours. Without -race: the checks run no
# goroutines of their own, and the race detector would compile Helm's tree a second time.
(cd deploy/check && go mod download && go vet ./... && go test -count=1 ./...)

say "go test -race"
# CI must skip nothing: a test that skips says why, and the PostgreSQL DSN above makes the store suite run.
go test -race -count=1 -timeout 30m "$@" ./...
