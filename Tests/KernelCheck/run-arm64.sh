#!/bin/sh
# Cross-compiles the kernels with check.c for arm64 and runs them under qemu-aarch64, with
# and without the dot-product instructions. Needs (Debian): gcc-aarch64-linux-gnu qemu-user.
set -e
here=$(cd "$(dirname "$0")" && pwd)
kernels="$here/../../Kernels"
out=${TMPDIR:-/tmp}/infer-kernel-check
for arch in armv8-a armv8.2-a+dotprod; do
    aarch64-linux-gnu-gcc -std=gnu11 -O2 -Wall -Wno-unknown-pragmas -ffp-contract=off -march=$arch -static -I "$kernels/include" -I "$kernels" \
        "$kernels"/*.c "$here/check.c" -lm -lpthread -o "$out"
    echo "== arm64 -march=$arch"
    qemu-aarch64 -cpu max "$out"
done
