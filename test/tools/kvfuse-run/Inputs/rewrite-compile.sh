#!/bin/sh
# A kvfuse-compile wrapper for kvfuse-run --compiler: applies the sed script
# $KVFUSE_REWRITE to the example before compiling it with $KVFUSE_COMPILE,
# so that the compiled attention differs from what kvfuse-run's reference
# computes (the run must then FAIL).
in=$1
shift
sed -e "$KVFUSE_REWRITE" "$in" > "$in.rewritten.mlir" || exit 1
exec "$KVFUSE_COMPILE" "$in.rewritten.mlir" "$@"
