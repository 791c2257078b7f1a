/**
 * \file prime/torch.h
 * \brief libprime-torch: TorchScript models as libprime backends (tagger,
 *        classifier, CLIP image and text encoders).
 *
 * A separate library (`libprime-torch.so.1`, pkg-config `prime-torch`),
 * built only when libtorch is found (`-Dtorch=auto|enabled|disabled`). It
 * links libprime and libtorch; libprime itself never links libtorch or
 * libstdc++. Every function here is `extern "C"` and catches every C++
 * exception (`catch (...)` included): a libtorch error comes back as a
 * prime_status with its message in prime_last_error(), never as an
 * exception and never as an abort.
 *
 * Each constructor loads a TorchScript file (`torch.jit.save` of a
 * `torch.jit.script` or `torch.jit.trace` module), puts it in evaluation
 * mode and wraps it in the handle of prime/backend.h: the handle owns the
 * model and frees it in prime_tagger_destroy() (and friends). Forward
 * passes run under inference mode on the CPU, one batch at a time, from the
 * thread that calls the handle. Images are preprocessed by libprime
 * (prime_image_preprocess) with the given spec, or the role's default
 * preset when the spec is NULL; the spec is copied.
 *
 * Model contracts (docs/backends.md shows how to export RAM, CLIP and a
 * classifier):
 * - tagger: float input [N, 3, H, W] -> [N, T] (a tensor, or a tuple or list
 *   whose first element is one), T = the number of lines of the vocabulary
 *   file;
 * - classifier: [N, 3, H, W] -> [N, C];
 * - image encoder: [N, 3, H, W] -> [N, D];
 * - text encoder: int64 token ids [N, 77] (CLIP's tokenizer, prime/tokenizer.h)
 *   -> [N, D].
 * A model whose output has another shape gives PRIME_E_MISMATCH with both
 * shapes in the message ("m.pt: output of shape [2, 5], expected [2, 12]
 * (12 tags in vocab.txt)"): a tagger at its first call (and every later
 * one), a classifier or an embedder at creation, where the batch guard's
 * input (and for a text encoder the empty text) is run to read the number of
 * classes or the dimension. The output may be of any floating-point type (it is
 * converted to float32).
 *
 * Every constructor also runs the batch guard (prime_torch_set_check_batch):
 * a model whose output for an input depends on the size of the batch it is
 * in (a traced batch constant) is refused with PRIME_E_MISMATCH.
 *
 * Errors of a forward pass that libtorch raises (an input of the wrong
 * size or channel count, an error inside the model's code) come back from
 * the role's call (prime_tagger_score and friends) as PRIME_E_STATE with
 * libtorch's own line ("m.pt: forward pass failed: RuntimeError: Given
 * groups=1, ..."); the handle stays usable.
 */
#ifndef PRIME_TORCH_H
#define PRIME_TORCH_H

#include <stdint.h>

#include "prime/backend.h"
#include "prime/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup torch
 *  @{ */

/** Export macro of libprime-torch (its own, so that the declarations of
 *  libprime's headers and of this one can be told apart). */
#if defined(PRIME_STATIC)
#define PRIME_TORCH_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define PRIME_TORCH_API __attribute__((visibility("default")))
#else
#define PRIME_TORCH_API
#endif

/** How a tagger model's outputs are read. */
typedef enum prime_torch_scores {
    /** Logits: the shim applies the sigmoid (RAM's heads give logits). */
    PRIME_TORCH_SCORES_LOGITS = 0,
    /** Already probabilities in [0, 1]: used as they are. */
    PRIME_TORCH_SCORES_PROBABILITIES = 1
} prime_torch_scores;

/** Version of libprime-torch as "MAJOR.MINOR.PATCH" (the same as libprime's
 *  version it was built with); static storage. */
PRIME_TORCH_API const char *prime_torch_version(void);

/** Version of the libtorch the shim was built against, e.g. "1.13.0";
 *  static storage. */
PRIME_TORCH_API const char *prime_torch_libtorch_version(void);

/** Set the number of threads libtorch uses inside one forward pass (0: one
 *  per online CPU), with at::set_num_threads. The shim also preprocesses
 *  the images of a batch on these threads. libtorch keeps this setting per
 *  process, so it applies to every model of the process; with libtorch's
 *  OpenMP backend call it from the thread that runs the models.
 *  PRIME_E_INVALID_ARG over 1024. */
PRIME_TORCH_API prime_status prime_torch_set_threads(uint32_t threads);

/** The batch guard. A traced model can hold its example batch size as a
 *  constant (recognize-anything's Swin `window_reverse` computes the batch
 *  with `int(...)`, which `torch.jit.trace` freezes): given another batch
 *  size it reshapes the wrong data, with no error and wrong outputs. So
 *  every constructor below runs the model on pseudo-random inputs (images
 *  in the range of normalised pixels; for a text model token ids with the
 *  start and end tokens) as a batch of 1, a batch of 2 and a batch of
 *  `batch` when that is larger, and refuses the model with
 *  PRIME_E_MISMATCH, "m.pt: output depends on the batch size: traced with
 *  a fixed batch? (input 0 alone and in a batch of 2 differ by up to
 *  0.31)", when input 0's output in a larger batch (and input 1's in the
 *  largest, against the batch of 2) differs from its output alone by more
 *  than 1e-3 x max(1, the largest magnitude of that output), or when a
 *  larger batch gives an output of another shape or fails where the batch
 *  of 1 runs. Float rounding between batch sizes is far below the
 *  tolerance (about 1e-6 relative). A scripted model (`torch.jit.script`),
 *  or one traced without such constants, passes.
 *
 *  The default is 2 (batches of 1 and 2: three inputs through the model
 *  at load); `prime tag` and `prime classify` set their --batch (32 unless
 *  given), so the batch size they run is checked too. 0 turns the guard
 *  off; 1 and values over 4096 are PRIME_E_INVALID_ARG. Process-wide (as
 *  prime_torch_set_threads); it applies to models created afterwards. It
 *  may be called from any thread, also while another creates a model (an
 *  atomic value, read when a model is checked). */
PRIME_TORCH_API prime_status prime_torch_set_check_batch(uint32_t batch);

/** The current largest batch of the batch guard (0: off). */
PRIME_TORCH_API uint32_t prime_torch_check_batch(void);

/** A RAM-style tagger: loads `model_path` (TorchScript) and the vocabulary
 *  `vocab_path` (one tag name a line, as data/ram/ram_tag_list.txt; the
 *  rules of prime_tagger_create_from apply to the names). `scores` says how
 *  to read the outputs (PRIME_TORCH_SCORES_LOGITS: sigmoid first).
 *  `spec` may be NULL: PRIME_IMAGE_PRESET_RAM (384 x 384, ImageNet mean and
 *  std). The thresholds start at 0.5 for every tag; load RAM's with
 *  prime_tagger_load_thresholds(). The selection rule is RAM's,
 *  PRIME_TAGGER_RULE_ABOVE (score > threshold in float32; the scores are
 *  torch's float32 `torch::sigmoid` of the logits, the very function RAM
 *  applies); set PRIME_TAGGER_RULE_AT_LEAST with prime_tagger_set_rule()
 *  for a model that selects at >=. The batch guard
 *  (prime_torch_set_check_batch) runs at creation; a model whose forward
 *  pass fails even for one image is reported by the first
 *  prime_tagger_score() instead.
 *
 *  Errors: PRIME_E_INVALID_ARG (NULL path or out, unknown `scores`),
 *  PRIME_E_IO (a file cannot be opened, or is a directory), PRIME_E_PARSE
 *  (not a TorchScript file, with libtorch's first line: "m.pt: not a
 *  TorchScript file: PytorchStreamReader failed reading zip archive: ...";
 *  or a bad vocabulary line: "vocab.txt:12: empty name", not UTF-8, '|'),
 *  PRIME_E_LIMIT (a name over 255 bytes), PRIME_E_DUPLICATE (a name given
 *  twice: "vocab.txt:9: 'dog' is also line 3"), PRIME_E_NOMEM. Blank lines
 *  at the end of the file are ignored, and a carriage return before a line's end is
 *  dropped. On failure *out is NULL. */
PRIME_TORCH_API prime_status prime_torch_tagger_create(const char *model_path, const char *vocab_path,
                                                 int32_t scores, const prime_image_spec *spec,
                                                 prime_tagger **out);

/** A classifier: loads `model_path`; `class_names_path` may be NULL (the
 *  classes are "0", "1", ...) or a file of one class name a line (the
 *  rules of the vocabulary file of prime_torch_tagger_create(), '|'
 *  allowed), whose line count must equal the model's number of outputs.
 *  `spec` may be NULL: PRIME_IMAGE_PRESET_IMAGENET (224 x 224, ImageNet
 *  mean and std). The class count is read from the model by running one
 *  blank image at creation; then a wrong output shape, or a names file of
 *  another length, is PRIME_E_MISMATCH, and an error of that forward pass
 *  PRIME_E_STATE. Other errors as prime_torch_tagger_create(). */
PRIME_TORCH_API prime_status prime_torch_classifier_create(const char *model_path,
                                                     const char *class_names_path,
                                                     const prime_image_spec *spec,
                                                     prime_classifier **out);

/** A CLIP-style embedder: `image_model_path` (an image encoder) and/or
 *  `text_model_path` (a text encoder; then `bpe_path`, CLIP's
 *  bpe_simple_vocab_16e6.txt.gz, is required: PRIME_E_INVALID_ARG without
 *  it). At least one model is needed. When both are given their output
 *  dimensions must agree (PRIME_E_MISMATCH). `spec` may be NULL:
 *  PRIME_IMAGE_PRESET_CLIP (224 x 224, CLIP's mean and std). Texts are
 *  tokenized with prime_tokenizer_encode_context() (start, end, padding to
 *  77, truncation) and given to the text model as int64 [N, 77]. Vectors
 *  are returned as the models give them (not normalised). The dimension
 *  is read at creation by running a blank image through the image model
 *  and the empty text through the text model. Errors as
 *  prime_torch_tagger_create() and prime_tokenizer_create() (the BPE
 *  file); an embedder without a text model fails prime_embedder_embed_texts
 *  with PRIME_E_STATE (and one without an image model,
 *  prime_embedder_embed_images). */
PRIME_TORCH_API prime_status prime_torch_embedder_create(const char *image_model_path,
                                                   const char *text_model_path,
                                                   const char *bpe_path,
                                                   const prime_image_spec *spec,
                                                   prime_embedder **out);

/* ---- devices and precision ------------------------------------------------ */

/** Precision of the forward pass (prime_torch_options.dtype). */
enum prime_torch_dtype {
    PRIME_TORCH_FLOAT32 = 0, /**< the default */
    PRIME_TORCH_FLOAT16 = 1,
    PRIME_TORCH_BFLOAT16 = 2
};

/** Where and how a model runs. Set struct_size to sizeof(prime_torch_options)
 *  (fields are only ever added at the end; a shim reads the fields the
 *  caller's size covers); zero the rest for the defaults. */
typedef struct prime_torch_options {
    /** sizeof(prime_torch_options) as the caller compiled it. */
    uint32_t struct_size;
    /** "cpu" (NULL or "" too), "cuda" (device 0) or "cuda:N". */
    const char *device;
    /** A PRIME_TORCH_* precision: the model's weights and the input batch
     *  are converted to it; the outputs come back as float32. */
    int32_t dtype;
} prime_torch_options;

/** prime_torch_tagger_create() on a device and at a precision (options may
 *  be NULL: cpu, float32). Input batches are copied to the device from
 *  pinned memory without blocking (CUDA). Errors besides those of
 *  prime_torch_tagger_create(): PRIME_E_INVALID_ARG for a malformed device
 *  ("gpu", "cuda:x"), an unknown dtype or a struct_size below the first
 *  three fields; PRIME_E_NOT_FOUND for a device this process cannot use
 *  ("this libtorch was built without CUDA", "no CUDA device", "cuda:3 but
 *  2 CUDA devices"); a precision the device's kernels lack (float16
 *  convolutions on the CPU of some libtorch versions) is found on the
 *  first forward pass: PRIME_E_STATE naming the dtype, and the handle
 *  stays usable (it fails the same way again, without crashing). */
PRIME_TORCH_API prime_status prime_torch_tagger_create_with(const char *model_path,
                                                            const char *vocab_path,
                                                            int32_t scores,
                                                            const prime_image_spec *spec,
                                                            const prime_torch_options *options,
                                                            prime_tagger **out);

/** prime_torch_classifier_create() on a device and at a precision (options
 *  as prime_torch_tagger_create_with(); the probe pass at creation already
 *  runs there, so a dtype the device lacks fails at creation with
 *  PRIME_E_STATE). */
PRIME_TORCH_API prime_status prime_torch_classifier_create_with(
    const char *model_path, const char *class_names_path, const prime_image_spec *spec,
    const prime_torch_options *options, prime_classifier **out);

/** prime_torch_embedder_create() on a device and at a precision, for both
 *  models (token ids stay int64; options as
 *  prime_torch_tagger_create_with(); the probe passes run there). */
PRIME_TORCH_API prime_status prime_torch_embedder_create_with(
    const char *image_model_path, const char *text_model_path, const char *bpe_path,
    const prime_image_spec *spec, const prime_torch_options *options, prime_embedder **out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_TORCH_H */
