#!/usr/bin/env bash
# The whole HaLua test suite: builds everything and runs every test project.
# Needs only the .NET 10 SDK; test-only tools it needs are installed by the tests' own fixtures.
set -euo pipefail
cd "$(dirname "$0")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test HaLua.sln -c Release --nologo 2>&1 | tee "$log" || status=$?
# One closing line in the plain form CI reads: "N passed, N failed".
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
