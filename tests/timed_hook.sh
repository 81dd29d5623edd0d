#!/bin/sh
# An upgradeNode hook for the calibration test: it works as long as $MIDAIR_TEST_DURATIONS says for
# its node ("NODE SECONDS" lines, drawn by the test from a known distribution), then the kubelet
# reports VERSION. A shell and curl, so that its own start-up adds next to nothing to the time.
#   sh tests/timed_hook.sh NODE VERSION
set -eu
node=$1 version=$2
seconds=$(grep "^$node " "$MIDAIR_TEST_DURATIONS" | cut -d' ' -f2)
sleep "$seconds"
curl -sS -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
  -d "{\"status\": {\"nodeInfo\": {\"kubeletVersion\": \"v$version\"}}}" "$MIDAIR_TEST_SERVER/api/v1/nodes/$node"
