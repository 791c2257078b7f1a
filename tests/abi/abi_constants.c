/* ABI constants (suite 'abi'): the values and types of the public
 * constants are part of the ABI but invisible to abidiff (the enums are
 * anonymous and the functions take int32_t), so they are pinned here at
 * compile time. A failing static_assert means a constant changed meaning:
 * never allowed (docs/abi.md); new constants are added here with the
 * value they are given. Every handle is opaque; the few public structs
 * (backend tables, prime_files_options) have their field offsets pinned
 * below. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <stddef.h>

#include "prime/eval.h"
#include "prime/file.h"
#include "prime/image.h"
#include "prime/prime.h"
#include "prime/quality.h"
#include "prime/sys/backend.h"
#include "prime/tokenizer.h"
#include "prime/torch.h"

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
PIN(PRIME_PARAM_MAX_MODES, 900);
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
/* the rest of the public constants (tests/abi/check_pins.sh checks that every
 * constant of the public headers is pinned here) */
PIN(PRIME_BACKEND_ABI_VERSION, 1);
PIN(PRIME_CLASSIFIER_BACKEND_SIZE_V1, 56);
PIN(PRIME_EMBEDDER_BACKEND_SIZE_V1, 56);
PIN(PRIME_EMBEDDINGS_MAX_DIM, 1048576);
PIN(PRIME_EVAL_TEST_FISHER, 1);
PIN(PRIME_EVAL_TEST_MANN_WHITNEY, 2);
PIN(PRIME_FILES_OPTIONS_SIZE_V1, 56);
PIN(PRIME_FILES_OPTIONS_SIZE_V2, 64);
PIN(PRIME_FILE_MAX_INPUT, 1099511627776);
PIN(PRIME_LINES_COMMENTS, 1);
PIN(PRIME_LINES_NAMES, 2);
PIN(PRIME_LINES_NO_BAR, 4);
PIN(PRIME_FILTER_BICUBIC, 2);
PIN(PRIME_FILTER_BILINEAR, 1);
PIN(PRIME_IMAGE_COLOR_BLACK, 0);
PIN(PRIME_IMAGE_COLOR_BLUE, 8);
PIN(PRIME_IMAGE_COLOR_COUNT, 11);
PIN(PRIME_IMAGE_COLOR_CYAN, 7);
PIN(PRIME_IMAGE_COLOR_GRAY, 2);
PIN(PRIME_IMAGE_COLOR_GREEN, 6);
PIN(PRIME_IMAGE_COLOR_ORANGE, 4);
PIN(PRIME_IMAGE_COLOR_PINK, 10);
PIN(PRIME_IMAGE_COLOR_PURPLE, 9);
PIN(PRIME_IMAGE_COLOR_RED, 3);
PIN(PRIME_IMAGE_COLOR_WHITE, 1);
PIN(PRIME_IMAGE_COLOR_YELLOW, 5);
PIN(PRIME_IMAGE_DEFAULT_MAX_PIXELS, 268435456);
PIN(PRIME_IMAGE_FORMAT_BMP, 3);
PIN(PRIME_IMAGE_FORMAT_GIF, 5);
PIN(PRIME_IMAGE_FORMAT_JPEG, 1);
PIN(PRIME_IMAGE_FORMAT_NONE, 0);
PIN(PRIME_IMAGE_FORMAT_PNG, 2);
PIN(PRIME_IMAGE_FORMAT_TGA, 4);
PIN(PRIME_IMAGE_MAX_SIDE, 16777216);
PIN(PRIME_IMAGE_PRESET_CLIP, 2);
PIN(PRIME_IMAGE_PRESET_IMAGENET, 3);
PIN(PRIME_IMAGE_PRESET_RAM, 1);
PIN(PRIME_IMAGE_PROP_ASPECT, 7);
PIN(PRIME_IMAGE_PROP_BRIGHTNESS, 0);
PIN(PRIME_IMAGE_PROP_COLORFULNESS, 3);
PIN(PRIME_IMAGE_PROP_CONTRAST, 1);
PIN(PRIME_IMAGE_PROP_COUNT, 10);
PIN(PRIME_IMAGE_PROP_DOMINANT_COLOR, 8);
PIN(PRIME_IMAGE_PROP_DOMINANT_SHARE, 9);
PIN(PRIME_IMAGE_PROP_GRAY_FRACTION, 6);
PIN(PRIME_IMAGE_PROP_NOISE, 5);
PIN(PRIME_IMAGE_PROP_SATURATION, 2);
PIN(PRIME_IMAGE_PROP_SHARPNESS, 4);
PIN(PRIME_RESIZE_EXACT, 2);
PIN(PRIME_RESIZE_SHORTER_CROP, 1);
PIN(PRIME_TAGGER_BACKEND_SIZE_V1, 56);
PIN(PRIME_TOKENIZER_CONTEXT, 77);
PIN(PRIME_TOKENIZER_END, 49407);
PIN(PRIME_TOKENIZER_START, 49406);
PIN(PRIME_TOKENIZER_VOCAB_SIZE, 49408);
PIN(PRIME_TORCH_SCORES_LOGITS, 0);
PIN(PRIME_TORCH_SCORES_PROBABILITIES, 1);

/* The public structs: their size and every field's offset (x86-64 LP64). A
 * struct may only grow at its end (a new field after the last, with a new
 * _SIZE_V constant); these never change. */
#define AT(type, field, off) static_assert(offsetof(type, field) == (off), #type "." #field " moved")
AT(prime_files_options, struct_size, 0);
AT(prime_files_options, threads, 4);
AT(prime_files_options, batch, 8);
AT(prime_files_options, max_pixels, 16);
AT(prime_files_options, image_names, 24);
AT(prime_files_options, on_error, 32);
AT(prime_files_options, progress, 40);
AT(prime_files_options, user_data, 48);
AT(prime_files_options, jpeg_draft, 56);
AT(prime_tagger_backend, abi_version, 0);
AT(prime_tagger_backend, struct_size, 4);
AT(prime_tagger_backend, self, 8);
AT(prime_tagger_backend, name, 16);
AT(prime_tagger_backend, destroy, 24);
AT(prime_tagger_backend, tag_count, 32);
AT(prime_tagger_backend, tag_name, 40);
AT(prime_tagger_backend, score, 48);
AT(prime_classifier_backend, destroy, 24);
AT(prime_classifier_backend, class_count, 32);
AT(prime_classifier_backend, class_name, 40);
AT(prime_classifier_backend, classify, 48);
AT(prime_embedder_backend, destroy, 24);
AT(prime_embedder_backend, dimension, 32);
AT(prime_embedder_backend, embed_images, 40);
AT(prime_embedder_backend, embed_texts, 48);
AT(prime_torch_options, struct_size, 0);
AT(prime_torch_options, device, 8);
AT(prime_torch_options, dtype, 16);
AT(prime_shard_part, store, 0);
AT(prime_shard_part, outcomes, 8);
AT(prime_shard_part, first, 16);
AT(prime_shard_part, count, 20);
static_assert(sizeof(prime_shard_part) == 24, "prime_shard_part changed size");
PIN(PRIME_SHARDED_SUM_BLOCK, 4194304);
PIN(PRIME_TORCH_FLOAT32, 0);
PIN(PRIME_TORCH_FLOAT16, 1);
PIN(PRIME_TORCH_BFLOAT16, 2);

PIN(PRIME_VERSION_MAJOR, 1); /* the soname: see docs/abi.md before changing */

int main(void)
{
    /* the library loaded at run time has the ABI major this was built for */
    if (prime_version_number() / 10000 != PRIME_VERSION_MAJOR) {
        fprintf(stderr, "ABI major of the loaded library differs\n");
        return 1;
    }
    if (strcmp(prime_status_name(PRIME_E_THREAD), "PRIME_E_THREAD") != 0)
        return 1;
    if (strcmp(PRIME_ZEROSHOT_DEFAULT_PROMPT, "a photo of {}") != 0 || PRIME_EVAL_Z95 != 1.959963984540054)
        return 1;
    printf("abi constants: pinned at compile time; loaded major %u\n",
           (unsigned)(prime_version_number() / 10000));
    return 0;
}
