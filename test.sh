#!/usr/bin/env bash
# The test command: vet everything, test everything, and run the packages
# that juggle goroutines and sockets under the race detector.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
# One test binary at a time (-p 1): the load generator's and the
# simulator's accuracy tests hold measured latencies and rates to 1-2%, and
# another package's tests running beside them on a 2-core machine would
# measure the machine instead.
go test -p 1 ./...
go test -race ./endpoint/... ./simulator/... ./runner/... ./results/... ./loadgen/... ./internal/...
