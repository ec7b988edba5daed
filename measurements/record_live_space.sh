#!/usr/bin/env bash
# The long recordings behind the surrogate replay (issue 22), in one resumable background job:
#   1. a 480-configuration design over MNIST-1D's whole live space (10 parts of 48, part i under seed i), skipped
#      once datasets/tables/mnist1d_design.npz is committed, and
#   2. the live MNIST-1D benchmark, every strategy x 10 seeds at its equal-compute budget, one trial at a time per
#      run, two runs side by side (-n 2), seed by seed, so that a stop leaves every strategy at the same seed count.
# Both reuse whatever is already stored under results/ (record-design's parts, pytest's --resume), so running this
# again after a kill, or in a later session, continues where it stopped. On a fresh checkout, unpack
# datasets/tables/mnist1d_live_runs.jsonl.gz into results/ first (measurements/live_runs.py unpack).
# Progress: results/recordings/live_space.log
#   setsid nohup bash measurements/record_live_space.sh > /dev/null 2>&1 &
# To keep editing the code while it records, run it from a worktree of a clean commit (its records then name that
# commit; PYTHONPATH puts the worktree's harness before the editable install's), and pack its runs from there:
#   git worktree add ../rec HEAD && ln -s "$PWD/.venv" ../rec/ && mkdir -p ../rec/results/mnist1d &&
#   cp -r results/mnist1d/runs ../rec/results/mnist1d/ && cd ../rec && PYTHONPATH="$PWD" setsid nohup bash \
#   measurements/record_live_space.sh > /dev/null 2>&1 &
#   ... later, from this checkout: .venv/bin/python measurements/live_runs.py pack --results-dir ../rec/results
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results/recordings
log=results/recordings/live_space.log
echo "$(date -u +%FT%TZ) start (commit $(git rev-parse --short HEAD))" >> "$log"
if [ ! -f datasets/tables/mnist1d_design.npz ]; then
  .venv/bin/python -m harness record-design benchmarks/test_mnist1d.py --size 480 --parts 10 --concurrency 1 >> "$log" 2>&1
  echo "$(date -u +%FT%TZ) design done" >> "$log"
fi
for seed in 0 1 2 3 4 5 6 7 8 9; do
  rc=0
  .venv/bin/pytest benchmarks/test_mnist1d.py --seeds 10 -k "seed$seed" --resume -n 2 -p no:cacheprovider -q >> "$log" 2>&1 || rc=$?
  echo "$(date -u +%FT%TZ) seed $seed ended, pytest exit $rc (0: every case ran or was resumed)" >> "$log"
done
echo "$(date -u +%FT%TZ) live runs ended (a seed whose exit was not 0 resumes on the next start)" >> "$log"
