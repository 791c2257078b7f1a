#!/usr/bin/env bash
# Fuzz smoke run (meson suite 'fuzz'): builds every libFuzzer target with
# clang (ASan + UBSan) into $PRIME_BUILD_ROOT/fuzz-smoke and runs each for a
# few seconds (PRIME_FUZZ_SECONDS, default 10) over its seed corpus, which
# holds the regression inputs of past crashes (fuzz/corpus/*/regress_*).
# Exits 77 (skipped) when clang or its libFuzzer runtime is missing.
set -euo pipefail
src=${PRIME_SOURCE_ROOT:?}
out=${PRIME_BUILD_ROOT:?}/fuzz-smoke
secs=${PRIME_FUZZ_SECONDS:-10}
# a fixed random seed (PRIME_FUZZ_SEED), so that a run is repeatable: the
# same inputs in the same order, as far as the time allows (a faster
# machine goes further); a failure names the seed to rerun it with
seed=${PRIME_FUZZ_SEED:-1}
targets=(tags_csv tags_jsonl outcomes_csv store_bin store_fixed image tokenizer result_json npy labels_csv
         shard_manifest outcomes_bin lines packed partial png_deflate sharded_state gif class_reader
         mnist_json jpeg_draft)
command -v clang >/dev/null || { echo "clang not found: fuzz smoke run skipped"; exit 77; }
mkdir -p "$out/obj"
flags=(-std=c11 -D_GNU_SOURCE -DPRIME_BUILDING -O1 -g -fno-omit-frame-pointer
       -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -I"$src/include" -I"$src/lib" -I/usr/include/stb)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
  > "$out/probe.c"
if ! clang -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" 2>/dev/null; then
  echo "clang cannot link libFuzzer: fuzz smoke run skipped"; exit 77
fi
# the optional image decoders as meson finds them (lib/meson.build): built
# and linked when their pkg-config files are there, left out otherwise
libs=(-lpthread -lm -lz)
skip=()
for d in libturbojpeg:TURBOJPEG:decode_jpeg spng:SPNG:decode_png libdeflate:LIBDEFLATE:decode_png_deflate; do
  IFS=: read -r pc macro file <<<"$d"
  if pkg-config --exists "$pc" 2>/dev/null; then
    flags+=("-DPRIME_HAVE_$macro=1")
    read -ra l <<<"$(pkg-config --libs "$pc")"
    libs+=("${l[@]}")
  else
    flags+=("-DPRIME_HAVE_$macro=0")
    skip+=("$file")
  fi
done
# libjpeg-turbo's libjpeg API of the same version as its TurboJPEG (as
# lib/meson.build finds it): the DC-only JPEG draft of decode_jpeg.c
if pkg-config --exists libturbojpeg 2>/dev/null &&
   pkg-config --exists "libjpeg = $(pkg-config --modversion libturbojpeg)" 2>/dev/null; then
  flags+=(-DPRIME_HAVE_LIBJPEG=1)
  read -ra l <<<"$(pkg-config --libs libjpeg)"
  libs+=("${l[@]}")
else
  flags+=(-DPRIME_HAVE_LIBJPEG=0)
fi
# the library once, then one link per target
objs=()
for f in "$src"/lib/*/*.c; do
  case " ${skip[*]} " in *" $(basename "$f" .c) "*) continue ;; esac
  o="$out/obj/$(basename "$f" .c).o"
  if [ ! -e "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find "$src/lib" "$src/include" -name '*.h' -newer "$o")" ]; then
    clang "${flags[@]}" -c "$f" -o "$o" &
  fi
  objs+=("$o")
done
# stb_image instrumented as well (the library links Debian's libstb); its
# undefined behaviour that touches no memory is not reported, the same list
# as fuzz/meson.build gives (which says what each is): NULL + 0 and
# memcpy(NULL, p, 0) on an empty PNG IDAT chunk, the JPEG DC prediction's
# signed overflow, the JPEG bit reader's shift past its bits
clang "${flags[@]}" -Wno-everything \
  -fno-sanitize=pointer-overflow,nonnull-attribute,signed-integer-overflow,shift-exponent -c "$src/fuzz/stb_image_impl.c" -o "$out/obj/stb_image_impl.o"
objs+=("$out/obj/stb_image_impl.o")
wait
fail=0
for t in "${targets[@]}"; do
  # the digits example's loader is not in the library: its source comes along
  extra=()
  [ "$t" = mnist_json ] && extra=(-I"$src/examples/digits" "$src/examples/digits/mnist_json.c")
  clang "${flags[@]}" -fsanitize=fuzzer,address,undefined "$src/fuzz/fuzz_$t.c" "${extra[@]}" \
    "${objs[@]}" "${libs[@]}" -o "$out/fuzz_$t"
  work=$(mktemp -d "$out/corpus_$t.XXXXXX")
  log="$out/fuzz_$t.log"
  # new inputs go to the scratch folder (first), the seeds are only read
  if "$out/fuzz_$t" "$work" "$src/fuzz/corpus/$t" -max_total_time="$secs" -seed="$seed" \
      -artifact_prefix="$out/crash_$t-" -print_final_stats=1 >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz_$t: $execs executions in ${secs} s, no crash"
  else
    echo "fuzz_$t: FAILED (PRIME_FUZZ_SEED=$seed), see $log"; tail -40 "$log"; fail=1
  fi
  rm -rf "$work"
done
[ $fail -eq 0 ] && echo "fuzz: ${#targets[@]} passed, 0 failed"
exit $fail
