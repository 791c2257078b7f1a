/* prime's commands and helpers for tagging at scale (tools/prime_scale.c):
 * `prime merge`, the shard of `prime tag --shard`, the store outputs. */
#ifndef PRIME_TOOLS_SCALE_H
#define PRIME_TOOLS_SCALE_H

#include <stdint.h>

#include "prime/prime.h"
#include "prime/torch.h"

/* The help text of these (printed after prime's usage text). */
extern const char scale_usage_text[];

/* prime merge --output STORE [--union-tags] DIR|FILE...; returns the exit
 * status. */
int scale_cmd_merge(const char *who, int argc, char **argv);

/* 1 if output names a sharded-store folder (ends in ".prmd", with or
 * without a trailing '/'), else 0. */
int scale_is_sharded_output(const char *output);

/* 1 if output names a binary store (".prime" or ".prm"), else 0. */
int scale_is_store_output(const char *output);

/* The shard of `prime tag`: which images [*first, *end) of the n names to
 * tag, from spec (--shard I/N, may be NULL) or the environment, and the
 * list's identity. Prints the problem and returns 0 on failure. */
typedef struct {
    uint32_t index, count;
    uint64_t first, end, total, list_id;
    int32_t source;
} scale_shard;
int scale_resolve_shard(const char *who, const char *spec, const char *const *names,
                        uint64_t n, scale_shard *out);

/* Write a tagged store (mutable or frozen; it is frozen here) to output: a
 * sharded folder (shard non-NULL), a binary store. Prints the problem and
 * returns 0 on failure. */
int scale_write_store(const char *who, prime_tagstore *store, const char *output,
                      const scale_shard *shard);

/* --outcomes-format csv|binary|bits|fixed|f64: *kind = -1 (csv) or a
 * PRIME_OUTCOMES_*; 0 for an unknown name. */
int scale_outcomes_kind(const char *format, int32_t *kind);

/* prime_outcomes_save; prints the problem and returns 0 on failure. */
int scale_save_outcomes(const char *who, const prime_outcomes *o, const prime_tagstore *store,
                        int32_t kind, const char *path);

/* classify's binary outcomes: the predictions (pred: each image's one tag
 * is its predicted class) joined by image name to the store of `tags`,
 * saved bound to it. Prints the problem and returns 0 on failure. */
int scale_classify_outcomes(const char *who, const prime_tagstore *pred, const char *tags,
                            int32_t kind, const char *path);

/* --dtype: a PRIME_TORCH_* precision, or -1; options of --device/--dtype. */
int32_t scale_torch_dtype(const char *s);
void scale_torch_options(const char *device, const char *dtype, prime_torch_options *o);

/* classify's binary outcomes from its predictions (names, labels and
 * predicted class names of n images), bound to the store of `tags`. */
int scale_classify_outcomes_names(const char *prog_name, const char *const *names,
                                  const char *const *labels, const char *const *preds,
                                  uint32_t n, const char *tags, int32_t kind, const char *path);

#endif /* PRIME_TOOLS_SCALE_H */
