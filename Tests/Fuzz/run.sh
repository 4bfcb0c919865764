#!/usr/bin/env bash
# Build one libFuzzer target and run it: Tests/Fuzz/run.sh safetensors|pickle|wav|session|labels|toml [SECONDS] [extra libFuzzer flags]
# The engine is built with coverage instrumentation in .build-fuzz; crashes land in fuzz-out/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: Tests/Fuzz/run.sh safetensors|pickle|wav|session|labels|toml [seconds]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
# The TOML target reaches the studio's parsers (StudioKit, TOMLKit and its C++ toml++); the others the engine's.
module=JukeboxCore; builds="JukeboxFormats JukeboxCore CKernels ZIPFoundation"; extra=(); cmaps=()
if [ "$target" = toml ]; then
    module=StudioKit; builds="$builds StudioKit JukeboxTOML TOMLKit CTOML"; extra=(-lstdc++)
    cmaps=(-Xcc -fmodule-map-file=.build-fuzz/release/CTOML.build/module.modulemap -cxx-interoperability-mode=default)
    # TOMLKit never frees the C++ table a parse makes nor the key lists it returns (~100 bytes a file): found by
    # this target, harmless for the few files the studio reads, and not ours to fix; crashes are what is looked for.
    set -- -detect_leaks=0 "$@"
fi
swift build -c release --build-path .build-fuzz --target $module \
    -Xswiftc -sanitize=fuzzer -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp >/dev/null
rel=.build-fuzz/release
objs=$(for b in $builds; do find $rel/$b.build -name '*.o' 2>/dev/null; done)
swiftc -O -sanitize=fuzzer,address -parse-as-library "Tests/Fuzz/$target.swift" -module-name Fuzz$target \
    -I $rel/Modules -I Sources/CBLAS -I Sources/CSndfile -Xcc -fmodule-map-file=$rel/CKernels.build/module.modulemap "${cmaps[@]}" $(pkg-config --cflags openblas | sed 's/^/-Xcc /') \
    $objs $(pkg-config --libs openblas sndfile) "${extra[@]}" -o "$rel/fuzz-$target"
mkdir -p "fuzz-out/$target/corpus"
seeds=()
[ -d "Tests/Fuzz/seeds/$target" ] && seeds+=("Tests/Fuzz/seeds/$target")
[ "$target" = toml ] && seeds+=(presets themes)   # the shipped files are the seeds
"$rel/fuzz-$target" -max_total_time="$seconds" -artifact_prefix="fuzz-out/$target/" -rss_limit_mb=4096 \
    "$@" "fuzz-out/$target/corpus" "${seeds[@]}"
