/* libprime-torch, loaded at run time, and the preprocessing options of its
 * roles (--size, --resize, --mean, --std). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scale.h"

/* Where `make install` puts libprime-torch (tools/meson.build sets it). */
#ifndef PRIME_TORCH_INSTALLED
#define PRIME_TORCH_INSTALLED "/usr/local/lib/libprime-torch.so.1"
#endif

/* prime never links libtorch: the torch and zeroshot backends, classify and
 * eval --text-model dlopen() libprime-torch and look up the functions of
 * prime/torch.h. Tried in order: $PRIME_TORCH_LIBRARY when it is set (then
 * nothing else), the installed library (PRIME_TORCH_INSTALLED), the soname
 * through the loader's search path. The shim links the same libprime as
 * this program (one soname), so the handles it makes are ours to use. */

/* Loads the shim into *t; on failure prints "WHO needs libprime-torch: why"
 * and returns 0. */
int torch_load(torch_api *t, const char *who)
{
    memset(t, 0, sizeof *t);
    /* libtorch's OpenMP threads (libgomp, read when the library loads):
       waiting threads sleep instead of spinning, unless the user chose a
       policy. tag and classify decode the next batch on other threads
       while the model runs; spinning OpenMP threads take the cores those
       need, and on a machine with more runnable threads than cores a
       spinning thread that waits for a descheduled one wastes its time
       slice (bench/torch/README.md, "Real models end to end") */
    if (getenv("OMP_WAIT_POLICY") == NULL && getenv("GOMP_SPINCOUNT") == NULL)
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    const char *env = getenv("PRIME_TORCH_LIBRARY");
    char why[1024] = "";
    if (env != NULL && env[0] != '\0') {
        t->dl = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (t->dl == NULL)
            snprintf(why, sizeof why, "%s", dlerror());
    } else {
        static const char *const tries[] = {PRIME_TORCH_INSTALLED, "libprime-torch.so.1"};
        for (size_t k = 0; k < sizeof tries / sizeof tries[0] && t->dl == NULL; k++) {
            t->dl = dlopen(tries[k], RTLD_NOW | RTLD_LOCAL);
            if (t->dl == NULL) {
                size_t l = strlen(why);
                snprintf(why + l, sizeof why - l, "%s%s", l ? "; " : "", dlerror());
            }
        }
    }
    if (t->dl == NULL) {
        fprintf(stderr, "%s: %s needs libprime-torch: %s\n", prog, who, why);
        return 0;
    }
    static const char *const names[] = {
        "prime_torch_version", "prime_torch_set_threads", "prime_torch_tagger_create",
        "prime_torch_classifier_create", "prime_torch_embedder_create",
        "prime_torch_set_check_batch"};
    void *syms[6];
    for (size_t k = 0; k < 6; k++) {
        dlerror();
        syms[k] = dlsym(t->dl, names[k]);
        if (syms[k] == NULL) {
            const char *e = dlerror();
            fprintf(stderr, "%s: %s needs libprime-torch: %s\n", prog, who,
                    e != NULL ? e : names[k]);
            dlclose(t->dl);
            t->dl = NULL;
            return 0;
        }
    }
    /* object pointers to function pointers: POSIX guarantees this works */
    memcpy(&t->version, &syms[0], sizeof syms[0]);
    memcpy(&t->set_threads, &syms[1], sizeof syms[1]);
    memcpy(&t->tagger_create, &syms[2], sizeof syms[2]);
    memcpy(&t->classifier_create, &syms[3], sizeof syms[3]);
    memcpy(&t->embedder_create, &syms[4], sizeof syms[4]);
    memcpy(&t->set_check_batch, &syms[5], sizeof syms[5]);
    void *with = dlsym(t->dl, "prime_torch_tagger_create_with");
    memcpy(&t->tagger_create_with, &with, sizeof with);
    with = dlsym(t->dl, "prime_torch_classifier_create_with");
    memcpy(&t->classifier_create_with, &with, sizeof with);
    with = dlsym(t->dl, "prime_torch_embedder_create_with");
    memcpy(&t->embedder_create_with, &with, sizeof with);
    return 1;
}

prime_status torch_embedder(const torch_api *t, const char *image_model, const char *text_model,
                            const char *bpe, const prime_image_spec *spec, const char *device,
                            const char *dtype, prime_embedder **out, int *reported)
{
    *out = NULL;
    *reported = 0;
    if (device == NULL && dtype == NULL)
        return t->embedder_create(image_model, text_model, bpe, spec, out);
    if (t->embedder_create_with == NULL) {
        fail("this libprime-torch has no --device/--dtype (too old)");
        *reported = 1;
        return PRIME_E_STATE;
    }
    prime_torch_options topt;
    scale_torch_options(device, dtype, &topt);
    return t->embedder_create_with(image_model, text_model, bpe, spec, &topt, out);
}

prime_status torch_check_batch(const torch_api *t, uint32_t batch)
{
    uint32_t b = batch == 0 ? 32 : batch;
    return t->set_check_batch(b < 2 ? 2 : b > 4096 ? 4096 : b);
}

/* The shim stays loaded until exit: libtorch registers exit-time handlers
 * and thread pools that must not outlive their code. */



/* Handles --size, --resize, --mean, --std. Returns 1 when the option was
 * one of them (and *rc = 0, or the usage error's exit status), else 0. */
int spec_option(spec_opts *o, const char *name, const char *v, int *rc)
{
    *rc = 0;
    if (strcmp(name, "--size") == 0 || strcmp(name, "--resize") == 0) {
        uint64_t x;
        if (!opt_uint(name, v, 1, 65536, "an integer in 1..65536", &x))
            *rc = EXIT_USAGE;
        else if (name[2] == 's')
            o->size = (uint32_t)x;
        else
            o->resize = (uint32_t)x;
        return 1;
    }
    if (strcmp(name, "--mean") == 0 || strcmp(name, "--std") == 0) {
        double *dst = name[2] == 'm' ? o->mean : o->std;
        if (!opt_triple(v, dst) || (name[2] == 's' && !(dst[0] > 0 && dst[1] > 0 && dst[2] > 0)))
            *rc = usage_error("%s must be three numbers R,G,B%s, not '%s'", name,
                              name[2] == 's' ? " (each > 0)" : "", v);
        else if (name[2] == 'm')
            o->have_mean = 1;
        else
            o->have_std = 1;
        return 1;
    }
    return 0;
}

/* The spec of a role: its preset changed by the options; NULL (the shim's
 * default preset) when no option was given. --size N is the model's input
 * side: for the tagger preset (RAM) an exact N x N resize, for the others
 * the centre crop N x N of an image whose shorter side is resized to S =
 * --resize, else N (CLIP) or floor(N * 256 / 224) (ImageNet, as 256 is to
 * 224). --resize alone keeps the preset's crop size. */
prime_status make_spec(const spec_opts *o, int32_t preset, prime_image_spec **out)
{
    *out = NULL;
    if (o->size == 0 && o->resize == 0 && !o->have_mean && !o->have_std)
        return PRIME_OK;
    prime_image_spec *spec = NULL;
    prime_status st = prime_image_spec_create(preset, &spec);
    int32_t mode = 0;
    uint32_t s0 = 0, w = 0, h = 0;
    if (st == PRIME_OK)
        st = prime_image_spec_get_resize(spec, &mode, &s0, &w, &h);
    if (st == PRIME_OK && (o->size != 0 || o->resize != 0)) {
        uint32_t n = o->size != 0 ? o->size : w;
        if (o->size != 0)
            w = h = n;
        if (o->resize != 0)
            st = prime_image_spec_set_resize(spec, PRIME_RESIZE_SHORTER_CROP, o->resize, w, h);
        else if (mode == PRIME_RESIZE_EXACT)
            st = prime_image_spec_set_resize(spec, PRIME_RESIZE_EXACT, 0, w, h);
        else
            st = prime_image_spec_set_resize(
                spec, PRIME_RESIZE_SHORTER_CROP,
                preset == PRIME_IMAGE_PRESET_IMAGENET ? (uint32_t)((uint64_t)n * 256 / 224) : n,
                w, h);
    }
    if (st == PRIME_OK && (o->have_mean || o->have_std)) {
        double mean[3], std[3];
        st = prime_image_spec_get_normalize(spec, mean, std);
        if (st == PRIME_OK)
            st = prime_image_spec_set_normalize(spec, o->have_mean ? o->mean : mean,
                                                o->have_std ? o->std : std);
    }
    if (st != PRIME_OK) {
        prime_image_spec_destroy(spec);
        return st;
    }
    *out = spec;
    return PRIME_OK;
}
