/* prime classify --model M.pt --images DIR|LIST [--labels L.csv] [--classes C.txt]
 *                [--size N] [--resize S] [--mean R,G,B] [--std R,G,B]
 *                [--threads N] [--batch B] --output outcomes.csv
 * Runs a TorchScript classifier (libprime-torch) on every image with
 * prime_classifier_classify_files and writes the outcomes CSV
 * (image,label,prediction,correct) through the library's writer. Class
 * names may hold any character ('|' too). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "scale.h"
#include "tag_opts.h"

int cmd_classify(int argc, char **argv)
{
    tag_opts o;
    int rc = parse_tag_opts(argc, argv, 1, &o);
    if (rc != 0)
        return rc;
    if (o.model == NULL || o.images == NULL || o.output == NULL)
        return usage_error("%s", "classify needs --model M.pt, --images DIR|LIST and "
                                 "--output FILE");
    int32_t okind = -1; /* --outcomes-format (scale.c): -1 = the CSV */
    if (o.outcomes_format != NULL && !scale_outcomes_kind(o.outcomes_format, &okind))
        return usage_error("--outcomes-format must be csv, binary, bits, fixed or f64, not '%s'",
                           o.outcomes_format);
    if ((okind >= 0) != (o.tags != NULL))
        return usage_error("%s", "binary outcomes are bound to a store: give --tags STORE "
                                 "with --outcomes-format binary|bits|fixed|f64");
    if (o.dtype != NULL && scale_torch_dtype(o.dtype) < 0)
        return usage_error("--dtype must be float32, float16 or bfloat16, not '%s'", o.dtype);
    const char *inputs[] = {o.images, o.labels, o.model, o.classes, o.tags};
    prime_writer *w = writer_open(inputs, 5, &o.output, 1);
    if (w == NULL)
        return EXIT_FAIL;
    strvec paths = {0}, names = {0}, classes = {0};
    prime_classifier *cls = NULL;
    prime_image_spec *spec = NULL;
    uint32_t *pred = NULL;
    const char **pred_names = NULL;
    rc = EXIT_FAIL;
    /* the images first: an output that is one of them is refused even
       where libprime-torch is missing */
    if (!collect_images(o.images, o.labels, o.output, &paths, &names, &classes))
        goto done;
    torch_api tapi;
    if (!torch_load(&tapi, "classify"))
        goto done;
    prime_status st = PRIME_OK;
    if (o.have_threads)
        st = tapi.set_threads(o.threads);
    if (st == PRIME_OK)
        st = torch_check_batch(&tapi, o.batch);
    if (st == PRIME_OK)
        st = make_spec(&o.spec, PRIME_IMAGE_PRESET_IMAGENET, &spec);
    /* no spec option: the classifier's own preset, which the draft needs
       for its size (NULL would be refused by prime_image_spec_set_jpeg_draft) */
    if (st == PRIME_OK && spec == NULL && o.jpeg_draft)
        st = prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, &spec);
    if (st == PRIME_OK && o.device == NULL && o.dtype == NULL) {
        st = tapi.classifier_create(o.model, o.classes, spec, &cls);
    } else if (st == PRIME_OK && tapi.classifier_create_with == NULL) {
        fail("this libprime-torch has no --device/--dtype (too old)");
        goto done;
    } else if (st == PRIME_OK) {
        prime_torch_options topt;
        scale_torch_options(o.device, o.dtype, &topt);
        st = tapi.classifier_create_with(o.model, o.classes, spec, &topt, &cls);
    }
    if (st != PRIME_OK) {
        lib_error(st);
        goto done;
    }
    pred = malloc(names.n * sizeof *pred);
    pred_names = malloc(names.n * sizeof *pred_names);
    if (pred == NULL || pred_names == NULL) {
        fail("out of memory");
        goto done;
    }
    progress_state ps;
    progress_init(&ps, "classifying");
    uint32_t failed = 0;
    prime_files_options fo = PRIME_FILES_OPTIONS_INIT;
    fo.threads = o.threads;
    fo.batch = o.batch;
    fo.on_error = progress_file_error;
    fo.progress = progress_files;
    fo.user_data = &ps;
    /* --jpeg-draft (on by default): JPEGs decoded at the reduced DCT scale
       that the model's input size allows; the classifier copied the spec */
    if (o.jpeg_draft && (st = prime_image_spec_set_jpeg_draft(spec, 1)) != PRIME_OK) {
        lib_error(st);
        goto done;
    }
    fo.jpeg_draft = o.jpeg_draft ? spec : NULL;
    st = prime_classifier_classify_files(cls, (const char *const *)paths.v, (uint32_t)names.n,
                                         &fo, pred, &failed);
    if (ps.shown)
        fprintf(stderr, "\n");
    if (failed > 0) {
        fail("%u of %zu images could not be read; nothing written", failed, names.n);
        goto done;
    }
    if (st != PRIME_OK) {
        lib_error(st);
        fail("classifying stopped; nothing written");
        goto done;
    }
    for (size_t i = 0; i < names.n; i++)
        pred_names[i] = prime_classifier_class_name(cls, pred[i]);
    if (okind >= 0) { /* binary outcomes bound to the store of --tags (scale.c) */
        prime_writer_destroy(w);
        w = NULL;
        if (scale_classify_outcomes_names(prog, (const char *const *)names.v,
                                          (const char *const *)classes.v, pred_names,
                                          (uint32_t)names.n, o.tags, okind, o.output))
            rc = 0;
        goto done;
    }
    st = prime_outcomes_write_predictions_csv((const char *const *)names.v,
                                              (const char *const *)classes.v, pred_names,
                                              (uint32_t)names.n, w, o.output);
    if (st != PRIME_OK) {
        lib_error(st);
        goto done;
    }
    rc = writer_close(w);
    w = NULL;
done:
    prime_writer_destroy(w);
    free(pred_names);
    free(pred);
    prime_image_spec_destroy(spec);
    prime_classifier_destroy(cls);
    strvec_free(&paths);
    strvec_free(&names);
    strvec_free(&classes);
    return rc;
}
