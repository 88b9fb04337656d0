#!/usr/bin/env bash
# The main job on a fresh machine. Until `open3ds demo` exists this runs what is real today: it builds
# open3ds, creates a demo scheme PKI under ./open3ds-data/pki (kept between runs), checks it with openssl,
# and runs the protocol validator over the sample messages, valid and invalid.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }

mkdir -p bin open3ds-data
go build -o bin/open3ds ./cmd/open3ds
echo "built bin/open3ds"
bin/open3ds help

pki=open3ds-data/pki
if [ ! -f "$pki/ca.crt" ]; then
	bin/open3ds pki init --dir "$pki"
else
	echo "scheme PKI already in $pki (remove it to start over)"
fi
echo
echo "== openssl verify of every certificate in $pki"
for c in "$pki"/*.crt; do
	[ "$(basename "$c")" = ca.crt ] && continue
	openssl verify -CAfile "$pki/ca.crt" "$c"
done

echo
echo "== open3ds validate: a valid AReq, then an invalid one"
bin/open3ds validate internal/emv/testdata/valid/2.2.0/areq-browser-pa.json
bin/open3ds validate internal/emv/testdata/invalid/201-several.json || true
