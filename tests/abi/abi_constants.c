/* ABI constants (suite 'abi'): the values and types of the public
 * constants are part of the ABI but invisible to abidiff (the enums are
 * anonymous and the functions take int32_t), so they are pinned here at
 * compile time. A failing static_assert means a constant changed meaning:
 * never allowed (docs/abi.md); new constants are added here with the
 * value they are given. libprime has no public struct (every handle is
 * opaque); a public struct added later gets its sizeof/offsetof pins here. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "prime/backend.h"
#include "prime/image.h"
#include "prime/prime.h"

#define PIN(name, value) static_assert((name) == (value), #name " changed")

static_assert(sizeof(prime_status) == 4, "prime_status is int32_t");
static_assert((prime_status)-1 < 0, "prime_status is signed");
static_assert(sizeof(prime_param) == 4, "prime_param is int32_t");
static_assert(sizeof(prime_progress_fn) == sizeof(void (*)(void)), "callback is a pointer");

PIN(PRIME_OK, 0);
PIN(PRIME_E_INVALID_ARG, -1);
PIN(PRIME_E_NOMEM, -2);
PIN(PRIME_E_IO, -3);
PIN(PRIME_E_PARSE, -4);
PIN(PRIME_E_FORMAT, -5);
PIN(PRIME_E_DUPLICATE, -6);
PIN(PRIME_E_NOT_FOUND, -7);
PIN(PRIME_E_STATE, -8);
PIN(PRIME_E_MISMATCH, -9);
PIN(PRIME_E_RANGE, -10);
PIN(PRIME_E_CANCELLED, -11);
PIN(PRIME_E_BUFFER_TOO_SMALL, -12);
PIN(PRIME_E_LIMIT, -13);
PIN(PRIME_E_THREAD, -14);

PIN(PRIME_PARAM_MAX_TAGS, 100);
PIN(PRIME_PARAM_MIN_SIZE, 200);
PIN(PRIME_PARAM_MIN_DROP, 300);
PIN(PRIME_PARAM_MIN_GAIN, 400);
PIN(PRIME_PARAM_MIN_TAG_COUNT, 500);
PIN(PRIME_PARAM_THREADS, 600);
PIN(PRIME_PARAM_WHOLE_DATASET, 700);
PIN(PRIME_PARAM_MIN_SIZE_SHARE, 210);
PIN(PRIME_MERGE_SAME_TAGS, 1);
PIN(PRIME_SHARD_FROM_SPEC, 1);
PIN(PRIME_SHARD_FROM_PRIME_SHARD, 2);
PIN(PRIME_SHARD_FROM_SLURM, 3);
PIN(PRIME_SHARD_FROM_JOB_INDEX, 4);
PIN(PRIME_SHARD_FROM_MPI, 5);
PIN(PRIME_OUTCOMES_AUTO, 0);
PIN(PRIME_OUTCOMES_BITS, 1);
PIN(PRIME_OUTCOMES_FIXED, 2);
PIN(PRIME_OUTCOMES_F64, 3);
PIN(PRIME_PARAM_FOLD_EQUAL, 800);
PIN(PRIME_PARAM_TYPE_INT, 1);
PIN(PRIME_PARAM_TYPE_DOUBLE, 2);
PIN(PRIME_PARAM_TYPE_DOUBLE_LIST, 3);

PIN(PRIME_FORMAT_JSON, 1);
PIN(PRIME_FORMAT_CSV, 2);
PIN(PRIME_FORMAT_TEXT, 3);

PIN(PRIME_NAMES_TAGS, 1);
PIN(PRIME_NAMES_CLASSES, 2);

PIN(PRIME_NONE, UINT32_MAX);
PIN(PRIME_MAX_TAG_NAME, 255);
PIN(PRIME_MAX_TAGS_LIMIT, 16);
PIN(PRIME_TAGGER_RULE_AT_LEAST, 0);
PIN(PRIME_TAGGER_RULE_ABOVE, 1);
PIN(PRIME_CONVERT_FIRST, 0);
PIN(PRIME_CONVERT_LAST, 1);
PIN(PRIME_VERSION_MAJOR, 0); /* the soname: see docs/abi.md before changing */

int main(void)
{
    /* the library loaded at run time has the ABI major this was built for */
    if (prime_version_number() / 10000 != PRIME_VERSION_MAJOR) {
        fprintf(stderr, "ABI major of the loaded library differs\n");
        return 1;
    }
    if (strcmp(prime_status_name(PRIME_E_THREAD), "PRIME_E_THREAD") != 0)
        return 1;
    printf("abi constants: pinned at compile time; loaded major %u\n",
           (unsigned)(prime_version_number() / 10000));
    return 0;
}
