#!/usr/bin/env bash
# Shows that the kernel harness tests bite: applies small mutations to
# kernels/tree_reduce.cuh (the grid), kernels/float_reduce.cuh (the exact
# float kernel: its flushes, atomics and barriers) and to the per-thread
# loops of kernels/array_plan.hpp (their device lines included: the
# intrinsics' arguments, run on the CPU through the harness's versions of
# __ldg, __dp4a, __dp2a_lo and __popc) and kernels/tree_plan.hpp in a scratch copy,
# rebuilds the unit tests and runs the "kernel harness" cases. Every mutant must be caught (a failed check, a
# divergence, deadlock or time-limit report), except those marked with the
# reason no CPU run can tell them apart; the script fails on any other.
# Slow: about a minute per mutant on 2 cores.
# Usage: scripts/kernel_mutants.sh [SCRATCH_DIR [MATCH [CASES]]]  (MATCH: only
# mutants whose file:name matches this extended regex, e.g. 'array_plan|dp4a';
# CASES: the harness cases to run, a doctest -tc filter, default all of them)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/gpusum-mutants}
match=${2:-}
cases=${3:-kernel harness*}
rm -rf "$work" && mkdir -p "$work"
git -C "$src" ls-files -z --cached --others --exclude-standard | (cd "$src" && xargs -0 cp --parents -t "$work")
cd "$work"
cmake -S . -B build -G Ninja -DGPUSUM_CUDA=OFF >/dev/null
for f in kernels/tree_reduce.cuh kernels/array_plan.hpp kernels/tree_plan.hpp kernels/float_reduce.cuh; do cp "$f" "$f.orig"; done
# The unmutated kernel must build and pass, or nothing below means anything.
cmake --build build --target unit_tests >build/baseline.log 2>&1 &&
  build/tests/unit_tests -tc="kernel harness*" >>build/baseline.log 2>&1 ||
  { echo "the unmutated kernel fails: see $work/build/baseline.log"; exit 1; }
# [file:]name | sed expression (each changes one line; no '|' in it: '.' stands
# for one) [| why it cannot be caught here]
mutants=(
  "no __syncthreads after the per-warp store|0,/__syncthreads();\$/s/__syncthreads();\$//"
  "no __syncthreads before per_warp is reused|s/__syncthreads();  \/\/ per_warp may be reused.*//|equivalent here: the __syncthreads after 'last' already separates the two block_sum calls (kept so block_sum is safe alone)"
  "no __syncthreads after 'last' is set|/if (last) __threadfence/{n;n;s/__syncthreads();//}"
  "no per-warp store|s/if (lane == 0) per_warp\[warp\] = v;//"
  "no second warp step|s/if (warp == 0) v = warp_sum(v);//"
  "shuffle drops the low word|/words\[0\] = __shfl_down_sync/d"
  "shuffle drops the high word|/words\[1\] = __shfl_down_sync/d"
  "warp loop starts at offset 8|s/offset = 16; offset > 0/offset = 8; offset > 0/"
  "warp loop stops at offset 2|s/offset = 16; offset > 0/offset = 16; offset > 1/"
  "shuffle offset off by one|s/__shfl_down_sync(0xffffffffu, words\[\(.\)\], offset)/__shfl_down_sync(0xffffffffu, words[\1], offset + 1)/"
  "per-warp read skips the last warp|s/threadIdx.x < warps ?/threadIdx.x + 1 < warps ?/"
  "warp count rounds down|s/(blockDim.x + 31) \/ 32/blockDim.x \/ 32/|equivalent: blocks are whole warps (valid_tuning)"
  "no block partial store|s/block_partials\[blockIdx.x\] = block_total;//"
  "no blocks_done reset|s/\*blocks_done = 0;//"
  "last block test off by one|s/== gridDim.x - 1;/== gridDim.x;/"
  "non-last blocks go on|s/if (!last) return;//"
  "last-block loop skips the last partial|s/b < gridDim.x; b += blockDim.x/b + 1 < gridDim.x; b += blockDim.x/"
  "last-block loop skips the first partials|s/unsigned b = threadIdx.x;/unsigned b = threadIdx.x + 1;/"
  "last-block loop strides too far|s/b < gridDim.x; b += blockDim.x/b < gridDim.x; b += 2 * blockDim.x/"
  "grid stride skips chunks|s/c += gridDim.x)/c += gridDim.x + 1)/"
  "grid stride starts one late|s/c = blockIdx.x;/c = blockIdx.x + 1;/"
  "total not written|s/\*total = v;//"
  "partial stored after the count|/block_partials\[blockIdx.x\] = block_total;/d; s/\(last = atomicAdd(blocks_done, 1u) == gridDim.x - 1;\)/\1 block_partials[blockIdx.x] = block_total;/"
  "count by a plain increment|s/atomicAdd(blocks_done, 1u)/(*blocks_done)++/|not observable here: a lost update needs two block processes incrementing in the same instant; on a GPU hundreds of blocks would, and the GPU tests' exact totals would show it"
  "no release fence|s/__threadfence();  \/\/ release.*//|not observable on a CPU: x86-64 keeps stores in order; only a weakly ordered GPU can show it"
  "no acquire fence|s/if (last) __threadfence();.*//|not observable on a CPU: x86-64 keeps loads in order; only a weakly ordered GPU can show it"
  "kernels/array_plan.hpp:no head|s/i < begin + head; i += threads/i < begin; i += threads/"
  "kernels/array_plan.hpp:tail one short|s/i = tail + t; i < end;/i = tail + t; i + 1 < end;/"
  "kernels/array_plan.hpp:head ignores the alignment|s/(per_vector - misaligned) % per_vector/0u/"
  "kernels/array_plan.hpp:tiles skip the last load|s/for (const Vector16\& x : loaded) sum.add(x);/for (const Vector16\& x : loaded) if (\&x != \&loaded[kLoadsInFlight - 1]) sum.add(x);/"
  "kernels/array_plan.hpp:last vectors dropped|s/for (; v < vectors; v += threads) sum.add/for (; v + threads < vectors; v += threads) sum.add/"
  "kernels/array_plan.hpp:narrow lanes not settled|s/wide_ += narrow_;/wide_ += 0;/"
  "kernels/array_plan.hpp:halves lose the negatives|s/negatives_ += u >> 63;//"
  "kernels/array_plan.hpp:dp4a counts three signed bytes of four|s/__dp4a(static_cast<int>(word), 0x01010101, c)/__dp4a(static_cast<int>(word), 0x00010101, c)/"
  "kernels/array_plan.hpp:dp4a counts three unsigned bytes of four|s/__dp4a(word, 0x01010101u,/__dp4a(word, 0x01010100u,/"
  "kernels/array_plan.hpp:dp2a drops the signed high half|s/__dp2a_lo(static_cast<int>(word), 0x0101, c)/__dp2a_lo(static_cast<int>(word), 0x0001, c)/"
  "kernels/array_plan.hpp:dp2a drops the unsigned low half|s/__dp2a_lo(word, 0x0101u,/__dp2a_lo(word, 0x0100u,/"
  "kernels/array_plan.hpp:read-only load repeats a word|s/return Vector16{{v.x, v.y, v.z, v.w}};/return Vector16{{v.x, v.y, v.z, v.z}};/"
  "kernels/array_plan.hpp:true bytes of the low half only|s/return __popc(high);/return __popc(high \& 0xffffu);/"
  "kernels/float_reduce.cuh:slice sums flushed too rarely|s/kSlicedBetweenFlushes = 4096;/kSlicedBetweenFlushes = 1 << 20;/"
  "kernels/float_reduce.cuh:coarse grid too fine for its sum|s/kCoarseGridBelowBound = 41;/kCoarseGridBelowBound = 52;/"
  "kernels/float_reduce.cuh:fine grid too far below|s/kFineGridBelowCoarse = 42;/kFineGridBelowCoarse = 53;/"
  "kernels/float_reduce.cuh:bits below both grids dropped|s/if (r2 != 0) specials_/if (false) specials_/"
  "kernels/float_reduce.cuh:elements beyond 2^1011 sliced|s/if (largest > kLargestSliced) {/if (false) {/"
  "kernels/float_reduce.cuh:the fine slice's sum lost|s/fine_sum_ = __dadd_rn(fine_sum_, h2);/fine_sum_ = h2;/"
  "kernels/float_reduce.cuh:the coarse sum not flushed|s/specials_ .= place_on_digits(digits_, coarse_sum_);//"
  "kernels/float_reduce.cuh:no bound margin|s/bound_ = max(bound_, largest + kBoundMargin);/bound_ = max(bound_, largest);/|equivalent: the bound then moves, and the slice sums are flushed, on every vector; slower, as exact"
  "kernels/float_reduce.cuh:a placed element's high piece dropped|s/if (at.high != 0) atomicAdd(\&digits\[at.digit + 2\], at.high);//"
  "kernels/float_reduce.cuh:flush drops the middle piece|/atomicAdd(\&digits_\[held_ + 1\], middle_);/d"
  "kernels/float_reduce.cuh:flush drops the high piece|s/if (sizeof(T) == 8) atomicAdd(\&digits_\[held_ + 2\], high_);//"
  "kernels/float_reduce.cuh:no flush when the digit changes|/if (at.digit != held_) {/{n;s/flush();//}"
  "kernels/float_reduce.cuh:no last flush|s/    mine.flush();//"
  "kernels/float_reduce.cuh:per-warp digits not zeroed|s/per_warp\[i \/ kFloatDigits\]\[i % kFloatDigits\] = 0;//"
  "kernels/float_reduce.cuh:no barrier after zeroing|0,/__syncthreads();/s/__syncthreads();//"
  "kernels/float_reduce.cuh:no barrier before the block's total|/atomicOr(\&block_specials, mine.specials());/{n;s/__syncthreads();//}"
  "kernels/float_reduce.cuh:block total skips the last warp|s/for (unsigned w = 0; w < warps; ++w)/for (unsigned w = 0; w + 1 < warps; ++w)/"
  "kernels/float_reduce.cuh:specials lost|s/if (mine.specials() != 0) atomicOr(\&block_specials, mine.specials());//"
  "kernels/float_reduce.cuh:a digit's block total dropped|s/if (sum != 0) atomicAdd(\&out\[k\], sum);//"
  "kernels/tree_plan.hpp:lanes without offsets|s/acc\[k\] += x + offset\[k\];/acc[k] += x;/"
  "kernels/tree_plan.hpp:rest of the lanes dropped|s/for (unsigned i = 0; i < left; ++i, x += s) rest += x;//"
  "kernels/tree_plan.hpp:no flush to 128 bits|s/total += static_cast<std::int64_t>(block);/total = static_cast<std::int64_t>(block);/"
  "kernels/tree_plan.hpp:halves never taken|s/if (exact_block < std::uint64_t{2} \* kSeriesLanes)/if (exact_block < 2)/"
)
caught=0
missed=0
tried=0
for m in "${mutants[@]}"; do
  IFS='|' read -r name expr why <<<"$m"
  [[ -z $match || $name =~ $match ]] || continue
  tried=$((tried + 1))
  kernel=kernels/tree_reduce.cuh
  if [[ $name == kernels/*:* ]]; then kernel=${name%%:*}; name=${name#*:}; fi
  for f in kernels/tree_reduce.cuh kernels/array_plan.hpp kernels/tree_plan.hpp kernels/float_reduce.cuh; do cp "$f.orig" "$f"; done
  sed -i "$expr" "$kernel"
  if cmp -s "$kernel" "$kernel.orig"; then
    echo "NOT APPLIED  $name"
    continue
  fi
  if ! cmake --build build --target unit_tests >build/mutant.log 2>&1; then
    echo "CAUGHT (does not compile)  $name"
    caught=$((caught + 1))
    continue
  fi
  if GPUSUM_HARNESS_SECONDS=20 timeout 900 build/tests/unit_tests -tc="$cases" >build/mutant.log 2>&1; then
    if [ -n "$why" ]; then
      echo "NOT CAUGHT   $name: $why"
    else
      echo "MISSED       $name"
      missed=$((missed + 1))
    fi
  else
    echo "CAUGHT       $name: $(grep -m1 -oE 'divergence|deadlock|time limit|ERROR: CHECK[A-Z_]*|died by signal' build/mutant.log)"
    caught=$((caught + 1))
  fi
done
for f in kernels/tree_reduce.cuh kernels/array_plan.hpp kernels/tree_plan.hpp kernels/float_reduce.cuh; do cp "$f.orig" "$f"; done
echo "caught $caught of $tried; $missed missed that should have been caught"
[ "$missed" -eq 0 ]
