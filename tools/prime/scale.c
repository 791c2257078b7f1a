/* prime's commands and helpers for tagging at scale: `prime merge`, the
 * shard of `prime tag --shard I/N` (or of the environment) and the store
 * outputs (a binary store, a sharded-store folder). See prime_scale.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scale.h"

const char scale_usage_text[] =
    "\n\n"
    "At scale (docs/formats.md: sharded stores, binary outcomes):\n"
    "       prime tag ... [--shard I/N] --output tags.prime|tags.prmd\n"
    "       prime merge --output tags.prime [--union-tags] DIR.prmd|FILE...\n"
    "       prime convert ... [--outcomes FILE] [--outcomes-format csv|binary|bits|fixed|f64]\n"
    "       prime classify ... --tags STORE --outcomes-format binary|bits|fixed|f64\n"
    "       prime tag --backend torch|zeroshot, classify, eval --quality --text-model\n"
    "                 ... [--device cpu|cuda|cuda:N] [--dtype float32|float16|bfloat16]\n"
    "\n"
    "tag      --output X.prime (or .prm) writes a binary store; --output X.prmd writes\n"
    "         one shard (I of N: --shard I/N, else $PRIME_SHARD, a Slurm array task,\n"
    "         a Kubernetes Indexed Job with $PRIME_SHARD_COUNT, or an MPI rank) of the\n"
    "         image list into the sharded-store folder X.prmd.\n"
    "merge    merge the shards of a sharded-store folder, or stores in order, into\n"
    "         the store one run over all the images writes (byte for byte); with\n"
    "         --union-tags the parts may have different tag tables.\n"
    "convert  --outcomes-format other than csv writes the outcomes (of FILE, or of\n"
    "         --outcomes FILE) as binary outcomes bound to the store; classify writes\n"
    "         them bound to the store of --tags. Every command reads them as outcomes.\n";

static int fail_lib(const char *who, prime_status st)
{
    const char *msg = prime_last_error();
    fprintf(stderr, "%s: %s (%s)\n", who, msg[0] ? msg : prime_status_message(st),
            prime_status_name(st));
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    while (n > 1 && s[n - 1] == '/')
        n--;
    return n >= k && strncmp(s + n - k, suffix, k) == 0;
}

int scale_is_sharded_output(const char *output)
{
    return output != NULL && ends_with(output, ".prmd");
}

int scale_is_store_output(const char *output)
{
    return output != NULL && (ends_with(output, ".prime") || ends_with(output, ".prm"));
}

int scale_resolve_shard(const char *who, const char *spec, const char *const *names,
                        uint64_t n, scale_shard *out)
{
    memset(out, 0, sizeof *out);
    prime_status st = prime_shard_resolve(spec, &out->index, &out->count, &out->source);
    if (st == PRIME_OK)
        st = prime_shard_range(n, out->index, out->count, &out->first, &out->end);
    if (st == PRIME_OK)
        st = prime_shard_list_id(names, n, &out->list_id);
    if (st != PRIME_OK)
        return !fail_lib(who, st);
    out->total = n;
    return 1;
}

int scale_write_store(const char *who, prime_tagstore *store, const char *output,
                      const scale_shard *shard)
{
    prime_status st = prime_tagstore_freeze(store);
    if (st == PRIME_OK && shard != NULL)
        st = prime_sharded_store_write(output, store, shard->index, shard->count, shard->first,
                                       shard->end, shard->total, shard->list_id);
    else if (st == PRIME_OK)
        st = prime_tagstore_save(store, output);
    if (st != PRIME_OK)
        return !fail_lib(who, st);
    return 1;
}

/* prime merge --output STORE [--union-tags] DIR|FILE...
 * The store one `prime tag` run over the whole list writes, from the
 * shards of a sharded-store folder or from part files in order. */
int scale_cmd_merge(const char *who, int argc, char **argv)
{
    (void)who; /* the messages are prime's (cli.h) */
    enum { M_OUTPUT, M_UNION_TAGS };
    static const opt_spec specs[] = {{"--output", OPT_VALUE}, {"--union-tags", OPT_FLAG},
                                     {NULL, 0}};
    opts o = {.argc = argc, .argv = argv, .specs = specs, .context = " for merge"};
    const char *output = NULL;
    uint32_t flags = PRIME_MERGE_SAME_TAGS;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    uint32_t n = 0;
    if (inputs == NULL)
        return fail("out of memory");
    int k;
    const char *v;
    while ((k = opts_next(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR) {
            free(inputs);
            return o.rc;
        }
        if (k == OPT_ARG && strcmp(v, "--") == 0) { /* only files after it */
            while (o.i < argc)
                inputs[n++] = argv[o.i++];
        } else if (k == OPT_ARG) {
            inputs[n++] = v;
        } else if (k == M_UNION_TAGS) {
            flags &= ~(uint32_t)PRIME_MERGE_SAME_TAGS;
        } else {
            output = v;
        }
    }
    if (output == NULL || n == 0) {
        free(inputs);
        return usage_error("%s", "merge needs --output STORE and a sharded-store folder or "
                                 "part files");
    }
    /* the one writer: an output that is one of the parts is refused before
       anything is read */
    prime_writer *w = writer_open(inputs, n, &output, 1);
    prime_tagstore *store = NULL;
    int rc = EXIT_FAIL;
    prime_status st = PRIME_OK;
    if (w != NULL && (st = prime_tagstore_merge_files(inputs, n, flags, &store, NULL)) == PRIME_OK &&
        (st = prime_tagstore_save_to(store, w, output)) == PRIME_OK) {
        rc = writer_close(w);
        w = NULL;
    } else if (w != NULL) {
        lib_error(st);
    }
    prime_writer_destroy(w);
    prime_tagstore_destroy(store);
    free(inputs);
    return rc;
}

int scale_outcomes_kind(const char *format, int32_t *kind)
{
    static const struct {
        const char *name;
        int32_t kind;
    } k[] = {{"csv", -1},
             {"binary", PRIME_OUTCOMES_AUTO},
             {"bits", PRIME_OUTCOMES_BITS},
             {"fixed", PRIME_OUTCOMES_FIXED},
             {"f64", PRIME_OUTCOMES_F64}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (format != NULL && strcmp(format, k[i].name) == 0) {
            *kind = k[i].kind;
            return 1;
        }
    return 0;
}

int scale_save_outcomes(const char *who, const prime_outcomes *o, const prime_tagstore *store,
                        int32_t kind, const char *path)
{
    prime_status st = prime_outcomes_save(o, store, kind, path);
    return st == PRIME_OK ? 1 : !fail_lib(who, st);
}

int scale_classify_outcomes(const char *who, const prime_tagstore *pred, const char *tags,
                            int32_t kind, const char *path)
{
    prime_tagstore *store = NULL;
    prime_outcomes *o = NULL;
    prime_status st = prime_tagstore_load(tags, &store, NULL);
    uint32_t n = prime_tagstore_image_count(store);
    if (st == PRIME_OK)
        st = prime_outcomes_create(n, &o);
    int ok = st == PRIME_OK;
    for (uint32_t i = 0; ok && i < n; i++) {
        const char *name = prime_tagstore_image_name(store, i);
        uint32_t j = 0, id = 0, m = 0;
        if (prime_tagstore_find_image(pred, name, &j) != PRIME_OK ||
            prime_tagstore_image_tags(pred, j, &id, 1, &m) != PRIME_OK || m != 1) {
            fprintf(stderr, "%s: image \"%s\" of %s was not classified (is it in --images?)\n",
                    who, name, tags);
            ok = 0;
            break;
        }
        const char *label = prime_tagstore_class_name(pred, prime_tagstore_image_class(pred, j));
        st = prime_outcomes_set(o, i, strcmp(label, prime_tagstore_tag_name(pred, id)) == 0);
        ok = st == PRIME_OK;
    }
    if (ok)
        st = prime_outcomes_save(o, store, kind, path);
    if (st != PRIME_OK)
        ok = !fail_lib(who, st);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(store);
    return ok;
}

int cmd_merge(int argc, char **argv)
{
    return scale_cmd_merge(prog, argc, argv);
}

int32_t scale_torch_dtype(const char *s)
{
    return strcmp(s, "float32") == 0    ? PRIME_TORCH_FLOAT32
           : strcmp(s, "float16") == 0  ? PRIME_TORCH_FLOAT16
           : strcmp(s, "bfloat16") == 0 ? PRIME_TORCH_BFLOAT16
                                        : -1;
}

void scale_torch_options(const char *device, const char *dtype, prime_torch_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->device = device;
    o->dtype = dtype != NULL ? scale_torch_dtype(dtype) : PRIME_TORCH_FLOAT32;
}

int scale_classify_outcomes_names(const char *prog_name, const char *const *names,
                                  const char *const *labels, const char *const *preds,
                                  uint32_t n, const char *tags, int32_t kind, const char *path)
{
    prime_tagstore *pred = NULL;
    prime_status st = prime_tagstore_create(&pred);
    for (uint32_t i = 0; st == PRIME_OK && i < n; i++)
        st = prime_tagstore_add_image_names(pred, names[i], labels[i], &preds[i], 1, NULL);
    if (st == PRIME_OK)
        st = prime_tagstore_freeze(pred);
    int ok = st == PRIME_OK ? scale_classify_outcomes(prog_name, pred, tags, kind, path)
                            : !fail_lib(prog_name, st);
    prime_tagstore_destroy(pred);
    return ok;
}
