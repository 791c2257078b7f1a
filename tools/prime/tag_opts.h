/* The options of `prime tag` and `prime classify` (cmd_tag.c parses them). */
#ifndef PRIME_TOOLS_TAG_OPTS_H
#define PRIME_TOOLS_TAG_OPTS_H

#include "cli.h"

typedef struct {
    const char *images, *backend, *labels, *output, *thresholds, *model, *vocab, *scores,
        *image_model, *text_model, *bpe, *prompt, *classes, *rule;
    /* issue 15 (scale.c): --shard, --device, --dtype; classify's --tags and
       --outcomes-format */
    const char *shard, *device, *dtype, *tags, *outcomes_format;
    double threshold; /* NaN: not given */
    uint32_t threads, batch, top_k;
    int have_threads;
    /* --jpeg-draft on|off: 1 (the default) decodes JPEGs at a reduced DCT
       scale where the model's input size allows (prime_files_options) */
    int jpeg_draft, have_jpeg_draft;
    spec_opts spec;
} tag_opts;

/* Parse the options of tag (classify = 0) or classify (1). Returns 0 or
 * the exit status of a usage error. */
int parse_tag_opts(int argc, char **argv, int classify, tag_opts *o);

#endif
