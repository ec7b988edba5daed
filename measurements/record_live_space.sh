#!/usr/bin/env bash
# The long recordings behind the surrogate replay (issue 22), in one resumable background job:
#   1. a 480-configuration design over MNIST-1D's whole live space (10 parts of 48, part i under seed i), and
#   2. the live MNIST-1D benchmark, every strategy x 10 seeds at its equal-compute budget, one trial at a time.
# Both reuse whatever is already stored under results/ (record-design's parts, pytest's --resume), so running this
# again after a kill, or in a later session, continues where it stopped. Progress: results/recordings/live_space.log
#   setsid nohup bash measurements/record_live_space.sh > /dev/null 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results/recordings
log=results/recordings/live_space.log
echo "$(date -u +%FT%TZ) start (commit $(git rev-parse --short HEAD))" >> "$log"
.venv/bin/python -m harness record-design benchmarks/test_mnist1d.py --size 480 --parts 10 --concurrency 1 >> "$log" 2>&1
echo "$(date -u +%FT%TZ) design done" >> "$log"
.venv/bin/pytest benchmarks/test_mnist1d.py --seeds 10 --resume -p no:cacheprovider -q >> "$log" 2>&1
echo "$(date -u +%FT%TZ) live runs done" >> "$log"
