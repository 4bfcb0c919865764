#!/usr/bin/env bash
# Build one libFuzzer target and run it: Tests/Fuzz/run.sh safetensors|pickle|wav|session|labels [SECONDS] [extra libFuzzer flags]
# The engine is built with coverage instrumentation in .build-fuzz; crashes land in fuzz-out/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: Tests/Fuzz/run.sh safetensors|pickle|wav|session|labels [seconds]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
swift build -c release --build-path .build-fuzz --target JukeboxCore \
    -Xswiftc -sanitize=fuzzer -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp >/dev/null
rel=.build-fuzz/release
objs=$(find $rel/JukeboxFormats.build $rel/JukeboxCore.build $rel/CKernels.build $rel/ZIPFoundation.build -name '*.o' 2>/dev/null)
swiftc -O -sanitize=fuzzer,address -parse-as-library "Tests/Fuzz/$target.swift" -module-name Fuzz$target \
    -I $rel/Modules -I Sources/CBLAS -I Sources/CSndfile -Xcc -fmodule-map-file=$rel/CKernels.build/module.modulemap $(pkg-config --cflags openblas | sed 's/^/-Xcc /') \
    $objs $(pkg-config --libs openblas sndfile) -o "$rel/fuzz-$target"
mkdir -p "fuzz-out/$target/corpus"
seeds=()
[ -d "Tests/Fuzz/seeds/$target" ] && seeds+=("Tests/Fuzz/seeds/$target")
"$rel/fuzz-$target" -max_total_time="$seconds" -artifact_prefix="fuzz-out/$target/" -rss_limit_mb=4096 \
    "$@" "fuzz-out/$target/corpus" "${seeds[@]}"
