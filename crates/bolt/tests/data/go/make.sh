#!/usr/bin/env bash
# Regenerates many.db with the real bbolt (Go) and writes DB.dump, the listing Go's bbolt gives,
# beside every DB.db in tests/data/ (tests/bolt/reader.rs compares forensic_bolt::dump with it).
# Offline, from Debian's packages: apt-get install golang-go golang-github-coreos-bbolt-dev
# Usage: bash crates/bolt/tests/data/go/make.sh
set -euo pipefail
go_dir=$(cd "$(dirname "$0")" && pwd)
data=$(dirname "$go_dir")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$work/cache"
go build -o "$work/make-many" "$go_dir/make-many/main.go"
go build -o "$work/dump" "$go_dir/dump/main.go"
rm -f "$data/many.db"
"$work/make-many" "$data/many.db"
chmod 644 "$data/many.db"
for db in "$data"/*.db; do
  "$work/dump" "$db" > "${db%.db}.dump"
  echo "$(basename "$db"): $(wc -l < "${db%.db}.dump") lines"
done
