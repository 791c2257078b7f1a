/* prime tag --images DIR|LIST --backend properties|torch|zeroshot [--labels L.csv]
 *           [--thresholds T | --threshold X] [--top-k K] [--threads N]
 *           [--batch B] --output tags.csv, and the backend's options.
 * Tags every image with a backend and writes the tags CSV of
 * docs/formats.md (image,class,tags) through the library's writer. Classes
 * come from --labels (columns image,label) or from the image's parent
 * folder name. A bad image file is reported by name; then the exit status
 * is 1 and no output is written. The options are shared with classify. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scale.h"
#include "tag_opts.h"

/* Options of both commands first, then those of tag only. */
enum { T_IMAGES, T_LABELS, T_OUTPUT, T_MODEL, T_THREADS, T_BATCH, T_SIZE, T_RESIZE, T_MEAN,
       T_STD, T_CLASSES, T_BACKEND, T_THRESHOLDS, T_VOCAB, T_SCORES, T_IMAGE_MODEL,
       T_TEXT_MODEL, T_BPE, T_PROMPT, T_THRESHOLD, T_TOP_K, T_RULE, T_SHARD, T_DEVICE,
       T_DTYPE, T_TAGS, T_OUTCOMES_FORMAT, T_JPEG_DRAFT };
static const opt_spec classify_specs[] = {
    {"--images", OPT_VALUE}, {"--labels", OPT_VALUE}, {"--output", OPT_VALUE},
    {"--model", OPT_VALUE},  {"--threads", OPT_VALUE}, {"--batch", OPT_VALUE},
    {"--size", OPT_VALUE},   {"--resize", OPT_VALUE}, {"--mean", OPT_VALUE},
    {"--std", OPT_VALUE},    {"--classes", OPT_VALUE},
    /* tag's options: "" never matches */
    {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE},
    {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE},
    {"", OPT_VALUE}, {"", OPT_VALUE},
    {"--device", OPT_VALUE}, {"--dtype", OPT_VALUE}, {"--tags", OPT_VALUE},
    {"--outcomes-format", OPT_VALUE}, {"--jpeg-draft", OPT_VALUE}, {NULL, 0}};
static const opt_spec tag_specs[] = {
    {"--images", OPT_VALUE}, {"--labels", OPT_VALUE}, {"--output", OPT_VALUE},
    {"--model", OPT_VALUE},  {"--threads", OPT_VALUE}, {"--batch", OPT_VALUE},
    {"--size", OPT_VALUE},   {"--resize", OPT_VALUE}, {"--mean", OPT_VALUE},
    {"--std", OPT_VALUE},    {"", OPT_VALUE} /* --classes: classify only; "" never matches */, {"--backend", OPT_VALUE},
    {"--thresholds", OPT_VALUE}, {"--vocab", OPT_VALUE}, {"--scores", OPT_VALUE},
    {"--image-model", OPT_VALUE}, {"--text-model", OPT_VALUE}, {"--bpe", OPT_VALUE},
    {"--prompt", OPT_VALUE_EMPTY_OK}, {"--threshold", OPT_VALUE}, {"--top-k", OPT_VALUE},
    {"--rule", OPT_VALUE}, {"--shard", OPT_VALUE}, {"--device", OPT_VALUE},
    {"--dtype", OPT_VALUE}, {"", OPT_VALUE}, {"", OPT_VALUE} /* --tags, --outcomes-format */,
    {"--jpeg-draft", OPT_VALUE}, {NULL, 0}};

int parse_tag_opts(int argc, char **argv, int classify, tag_opts *t)
{
    memset(t, 0, sizeof *t);
    t->threshold = NAN;
    t->jpeg_draft = 1;
    opts o = {.argc = argc, .argv = argv, .specs = classify ? classify_specs : tag_specs,
              .context = classify ? " for classify" : ""};
    int k, rc;
    const char *v;
    while ((k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        const char **str[] = {
            [T_IMAGES] = &t->images,         [T_LABELS] = &t->labels,
            [T_OUTPUT] = &t->output,         [T_MODEL] = &t->model,
            [T_CLASSES] = &t->classes,       [T_BACKEND] = &t->backend,
            [T_THRESHOLDS] = &t->thresholds, [T_VOCAB] = &t->vocab,
            [T_SCORES] = &t->scores,         [T_IMAGE_MODEL] = &t->image_model,
            [T_TEXT_MODEL] = &t->text_model, [T_BPE] = &t->bpe,
            [T_PROMPT] = &t->prompt,         [T_TOP_K] = NULL,
            [T_RULE] = &t->rule,             [T_SHARD] = &t->shard,
            [T_DEVICE] = &t->device,         [T_DTYPE] = &t->dtype,
            [T_TAGS] = &t->tags,             [T_OUTCOMES_FORMAT] = &t->outcomes_format};
        const char *name = o.specs[k].name;
        if (k < (int)(sizeof str / sizeof str[0]) && str[k] != NULL) {
            *str[k] = v;
        } else if (spec_option(&t->spec, name, v, &rc)) {
            if (rc != 0)
                return rc;
        } else if (k == T_JPEG_DRAFT) {
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
                return usage_error("--jpeg-draft must be on or off, not '%s'", v);
            t->jpeg_draft = strcmp(v, "on") == 0;
            t->have_jpeg_draft = 1;
        } else if (k == T_THRESHOLD) {
            if (!opt_double(name, v, -HUGE_VAL, HUGE_VAL, 0, "a number", &t->threshold))
                return EXIT_USAGE;
        } else { /* --threads, --batch, --top-k */
            uint64_t x;
            if (!opt_uint(name, v, 0, k == T_THREADS ? 1024 : 1000000, "a count", &x))
                return EXIT_USAGE;
            if (k == T_THREADS) {
                t->threads = (uint32_t)x;
                t->have_threads = 1;
            } else if (k == T_BATCH) {
                t->batch = (uint32_t)x;
            } else {
                t->top_k = (uint32_t)x;
            }
        }
    }
    return 0;
}

/* The options a backend takes beyond the common ones; a given option that
 * the backend does not take is a usage error. */
static int check_backend_opts(const tag_opts *o)
{
    const struct {
        const char *name;
        int given;
        const char *backends; /* those that take it */
    } checks[] = {
        {"--model", o->model != NULL, "torch"},
        {"--vocab", o->vocab != NULL, "torch zeroshot"},
        {"--scores", o->scores != NULL, "torch"},
        {"--image-model", o->image_model != NULL, "zeroshot"},
        {"--text-model", o->text_model != NULL, "zeroshot"},
        {"--bpe", o->bpe != NULL, "zeroshot"},
        {"--prompt", o->prompt != NULL, "zeroshot"},
        {"--size", o->spec.size != 0, "torch zeroshot"},
        {"--resize", o->spec.resize != 0, "torch zeroshot"},
        {"--mean", o->spec.have_mean, "torch zeroshot"},
        {"--std", o->spec.have_std, "torch zeroshot"},
        {"--device", o->device != NULL, "torch zeroshot"},
        {"--dtype", o->dtype != NULL, "torch zeroshot"},
        {"--jpeg-draft", o->have_jpeg_draft, "torch zeroshot"},
    };
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        if (!checks[k].given)
            continue;
        const char *p = strstr(checks[k].backends, o->backend);
        size_t l = strlen(o->backend);
        if (p == NULL || (p[l] != '\0' && p[l] != ' '))
            return usage_error("%s does not apply to backend '%s'", checks[k].name, o->backend);
    }
    const char *need = NULL;
    if (strcmp(o->backend, "torch") == 0 && (o->model == NULL || o->vocab == NULL))
        need = "backend 'torch' needs --model M.pt and --vocab V.txt";
    if (strcmp(o->backend, "zeroshot") == 0 &&
        (o->image_model == NULL || o->text_model == NULL || o->vocab == NULL))
        need = "backend 'zeroshot' needs --image-model, --text-model and --vocab";
    if (need != NULL)
        return usage_error("%s", need);
    if (o->scores != NULL && strcmp(o->scores, "logits") != 0 &&
        strcmp(o->scores, "probabilities") != 0)
        return usage_error("--scores must be logits or probabilities, not '%s'", o->scores);
    if (o->dtype != NULL && scale_torch_dtype(o->dtype) < 0)
        return usage_error("--dtype must be float32, float16 or bfloat16, not '%s'", o->dtype);
    if (o->rule != NULL && strcmp(o->rule, "above") != 0 && strcmp(o->rule, "at-least") != 0)
        return usage_error("--rule must be above or at-least, not '%s'", o->rule);
    return 0;
}

/* The tagger of --backend; prints the problem and returns NULL on failure. */
static prime_tagger *make_tagger(const tag_opts *o)
{
    prime_tagger *tagger = NULL;
    prime_status st = PRIME_OK;
    if (strcmp(o->backend, "properties") == 0) {
        st = prime_properties_tagger_create(&tagger);
    } else {
        char who[64];
        snprintf(who, sizeof who, "backend '%s'", o->backend);
        torch_api tapi;
        if (!torch_load(&tapi, who))
            return NULL;
        if ((o->have_threads && (st = tapi.set_threads(o->threads)) != PRIME_OK) ||
            (st = torch_check_batch(&tapi, o->batch)) != PRIME_OK) {
            lib_error(st);
            return NULL;
        }
        prime_image_spec *spec = NULL;
        int torch = strcmp(o->backend, "torch") == 0;
        st = make_spec(&o->spec, torch ? PRIME_IMAGE_PRESET_RAM : PRIME_IMAGE_PRESET_CLIP, &spec);
        if (st == PRIME_OK && torch) {
            int32_t scores = o->scores != NULL && strcmp(o->scores, "probabilities") == 0
                                 ? PRIME_TORCH_SCORES_PROBABILITIES
                                 : PRIME_TORCH_SCORES_LOGITS;
            if (o->device == NULL && o->dtype == NULL) {
                st = tapi.tagger_create(o->model, o->vocab, scores, spec, &tagger);
            } else if (tapi.tagger_create_with == NULL) {
                fail("this libprime-torch has no --device/--dtype (too old)");
                prime_image_spec_destroy(spec);
                return NULL;
            } else {
                prime_torch_options topt;
                scale_torch_options(o->device, o->dtype, &topt);
                st = tapi.tagger_create_with(o->model, o->vocab, scores, spec, &topt, &tagger);
            }
        } else if (st == PRIME_OK) {
            /* the vocabulary: the library's line reader, with the rules of
               the torch backend's vocabulary (names by their place) */
            prime_lines *vocab = NULL;
            const char **tags = NULL;
            uint32_t n = 0;
            st = prime_lines_load(o->vocab, PRIME_LINES_NAMES | PRIME_LINES_NO_BAR, &vocab);
            if (st == PRIME_OK) {
                n = prime_lines_count(vocab);
                tags = malloc((size_t)n * sizeof *tags);
                if (tags == NULL) {
                    prime_lines_destroy(vocab);
                    prime_image_spec_destroy(spec);
                    fail("out of memory");
                    return NULL;
                }
                for (uint32_t k = 0; k < n; k++)
                    tags[k] = prime_lines_get(vocab, k);
            }
            prime_embedder *emb = NULL;
            int reported = 0;
            if (st == PRIME_OK)
                st = torch_embedder(&tapi, o->image_model, o->text_model, o->bpe, spec,
                                    o->device, o->dtype, &emb, &reported);
            if (reported) {
                free(tags);
                prime_lines_destroy(vocab);
                prime_image_spec_destroy(spec);
                return NULL;
            }
            if (st == PRIME_OK) {
                st = prime_zeroshot_tagger_create(emb, tags, n, o->prompt, &tagger);
                if (st != PRIME_OK) /* not taken on failure */
                    prime_embedder_destroy(emb);
            }
            free(tags);
            prime_lines_destroy(vocab);
        }
        prime_image_spec_destroy(spec);
    }
    if (st == PRIME_OK && o->thresholds != NULL)
        st = prime_tagger_load_thresholds(tagger, o->thresholds);
    if (st == PRIME_OK && !isnan(o->threshold))
        st = prime_tagger_set_threshold(tagger, o->threshold);
    if (st == PRIME_OK && o->top_k > 0)
        st = prime_tagger_set_top_k(tagger, o->top_k);
    if (st == PRIME_OK && o->rule != NULL)
        st = prime_tagger_set_rule(tagger, strcmp(o->rule, "above") == 0
                                               ? PRIME_TAGGER_RULE_ABOVE
                                               : PRIME_TAGGER_RULE_AT_LEAST);
    if (st != PRIME_OK) {
        lib_error(st);
        prime_tagger_destroy(tagger);
        return NULL;
    }
    return tagger;
}

static int cmd_tag_run(const tag_opts *o)
{
    strvec paths = {0}, names = {0}, classes = {0};
    prime_tagger *tagger = NULL;
    prime_tagstore *store = NULL;
    const char *inputs[] = {o->images, o->labels, o->thresholds, o->model, o->vocab,
                            o->image_model, o->text_model, o->bpe};
    /* a sharded-store folder (NAME.prmd) takes one shard: --shard I/N or the
       scheduler's environment (scale.c); the library writes it (its own
       files, lock and manifest), so the writer gets no output then */
    int sharded = scale_is_sharded_output(o->output);
    scale_shard shard;
    prime_writer *w = writer_open(inputs, 8, &o->output, sharded ? 0 : 1);
    int rc = EXIT_FAIL;
    if (w == NULL || !collect_images(o->images, o->labels, o->output, &paths, &names, &classes) ||
        (sharded && !scale_resolve_shard(prog, o->shard, (const char *const *)names.v, names.n,
                                         &shard)) ||
        (tagger = make_tagger(o)) == NULL)
        goto done;
    size_t first = sharded ? (size_t)shard.first : 0;
    size_t count = sharded ? (size_t)(shard.end - shard.first) : names.n;
    prime_status st = prime_tagstore_create(&store);
    /* tag ids in vocabulary order, so that each row lists its tags in it */
    for (uint32_t k = 0; st == PRIME_OK && k < prime_tagger_tag_count(tagger); k++) {
        uint32_t id = 0;
        st = prime_tagstore_intern_tag(store, prime_tagger_tag_name(tagger, k), &id);
    }
    if (st != PRIME_OK) {
        lib_error(st);
        goto done;
    }
    /* JPEGs decoded at the reduced DCT scale that the model's input size
       allows (--jpeg-draft, on by default for the model backends; the
       properties backend measures the full image) */
    prime_image_spec *draft = NULL;
    if (o->jpeg_draft && strcmp(o->backend, "properties") != 0) {
        int torch = strcmp(o->backend, "torch") == 0;
        int32_t preset = torch ? PRIME_IMAGE_PRESET_RAM : PRIME_IMAGE_PRESET_CLIP;
        st = make_spec(&o->spec, preset, &draft);
        /* no spec option: the backend's own preset (make_spec gives NULL) */
        if (st == PRIME_OK && draft == NULL)
            st = prime_image_spec_create(preset, &draft);
        if (st == PRIME_OK)
            st = prime_image_spec_set_jpeg_draft(draft, 1);
        if (st != PRIME_OK) {
            lib_error(st);
            prime_image_spec_destroy(draft);
            goto done;
        }
    }
    progress_state ps;
    progress_init(&ps, "tagging");
    uint32_t failed = 0;
    prime_files_options fo = PRIME_FILES_OPTIONS_INIT;
    fo.jpeg_draft = draft;
    fo.threads = o->threads;
    fo.batch = o->batch;
    fo.image_names = (const char *const *)names.v + first;
    fo.on_error = progress_file_error;
    fo.progress = progress_files;
    fo.user_data = &ps;
    st = prime_tagger_tag_files(tagger, (const char *const *)paths.v + first,
                                (const char *const *)classes.v + first, (uint32_t)count, &fo,
                                store, &failed);
    prime_image_spec_destroy(draft);
    if (ps.shown)
        fprintf(stderr, "\n");
    if (failed > 0) {
        fail("%u of %zu images could not be read; nothing written", failed, count);
    } else if (st != PRIME_OK) {
        lib_error(st);
        fail("tagging stopped; nothing written");
    } else if (sharded) {
        rc = scale_write_store(prog, store, o->output, &shard) ? 0 : EXIT_FAIL;
    } else if (scale_is_store_output(o->output) &&
               ((st = prime_tagstore_freeze(store)) != PRIME_OK ||
                (st = prime_tagstore_save_to(store, w, o->output)) != PRIME_OK)) {
        lib_error(st);
    } else if (scale_is_store_output(o->output)) {
        rc = writer_close(w);
        w = NULL;
    } else if ((st = prime_tagstore_write_csv(store, w, o->output)) != PRIME_OK) {
        lib_error(st);
    } else {
        rc = writer_close(w);
        w = NULL;
    }
done:
    prime_writer_destroy(w);
    prime_tagstore_destroy(store);
    prime_tagger_destroy(tagger);
    strvec_free(&paths);
    strvec_free(&names);
    strvec_free(&classes);
    return rc;
}

int cmd_tag(int argc, char **argv)
{
    tag_opts o;
    int rc = parse_tag_opts(argc, argv, 0, &o);
    if (rc != 0)
        return rc;
    if (o.images == NULL || o.output == NULL || o.backend == NULL)
        return usage_error("%s", "tag needs --images DIR|LIST, --backend "
                                 "properties|torch|zeroshot and --output FILE");
    if (o.thresholds != NULL && !isnan(o.threshold))
        return usage_error("%s", "give --thresholds or --threshold, not both");
    if (strcmp(o.backend, "properties") != 0 && strcmp(o.backend, "torch") != 0 &&
        strcmp(o.backend, "zeroshot") != 0)
        return usage_error("unknown backend '%s' (properties, torch or zeroshot)", o.backend);
    if ((rc = check_backend_opts(&o)) != 0)
        return rc;
    if (o.shard != NULL && !scale_is_sharded_output(o.output))
        return usage_error("%s", "--shard needs --output NAME.prmd (a sharded-store folder)");
    uint32_t shard_i, shard_n; /* a bad --shard is bad usage (one from the environment is not) */
    if (o.shard != NULL && prime_shard_resolve(o.shard, &shard_i, &shard_n, NULL) != PRIME_OK) {
        const char *msg = prime_last_error();
        rc = usage_error("--shard: %s", strncmp(msg, "shard: ", 7) == 0 ? msg + 7 : msg);
        prime_clear_error();
        return rc;
    }
    /* data files: relative names are also looked for in the data folder;
     * --bpe defaults to CLIP's there (zeroshot) */
    static char vocab_buf[4096], bpe_buf[4096], thresholds_buf[4096];
    o.vocab = data_file(o.vocab, NULL, vocab_buf, sizeof vocab_buf);
    o.thresholds = data_file(o.thresholds, NULL, thresholds_buf, sizeof thresholds_buf);
    if (strcmp(o.backend, "zeroshot") == 0)
        o.bpe = data_file(o.bpe, PRIME_CLIP_BPE, bpe_buf, sizeof bpe_buf);
    return cmd_tag_run(&o);
}
