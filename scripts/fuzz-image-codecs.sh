#!/usr/bin/env bash
# libFuzzer (with AddressSanitizer) over ImageCodecs' fuzzImageDecoder, seeded with
# imageFuzzSeeds(): the ImageCodecs sources are compiled with a two-line harness by swiftc, so
# no package build is needed. The system libraries are not instrumented (coverage guides only
# through our Swift code); a crash leaves its input in .build-fuzz-images/crash-*.
#   FUZZ_SECONDS=300 scripts/fuzz-image-codecs.sh
set -Eeuo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}"
SECONDS_TO_RUN="${FUZZ_SECONDS:-300}"
OUT=.build-fuzz-images
mkdir -p "$OUT/corpus" "$OUT/seeds"
INCLUDES=(-I Sources/CTurboJPEG -I Sources/CSpng -I Sources/CWebP)
SOURCES=(Sources/ImageCodecs/*.swift)

step "writing the seed corpus"
cat > "$OUT/seeds/main.swift" <<'EOF'
import Foundation
let dir = CommandLine.arguments[1]
for (i, seed) in imageFuzzSeeds().enumerated() {
    _ = FileManager.default.createFile(atPath: "\(dir)/seed-\(i)", contents: Data(seed))
}
EOF
swiftc -O -module-name ImageCodecsSeeds "${INCLUDES[@]}" "${SOURCES[@]}" "$OUT/seeds/main.swift" -o "$OUT/write-seeds"
"$OUT/write-seeds" "$OUT/corpus"

step "building the libFuzzer harness"
cat > "$OUT/harness.swift" <<'EOF'
@_cdecl("LLVMFuzzerTestOneInput")
public func imageCodecsFuzzOne(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    fuzzImageDecoder(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
EOF
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ImageCodecsFuzz "${INCLUDES[@]}" \
    "${SOURCES[@]}" "$OUT/harness.swift" -o "$OUT/fuzz"

step "fuzzing for $SECONDS_TO_RUN s"
"$OUT/fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=4096 -timeout=10 \
    -artifact_prefix="$OUT/" "$OUT/corpus"
