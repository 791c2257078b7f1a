// libprime-torch: TorchScript models as libprime backends (include/prime/torch.h).
//
// Every extern "C" function and every backend entry catches every exception
// (c10::Error, std::bad_alloc, std::exception, ...) and turns it into a
// prime_status with a message (prime_backend_error): nothing unwinds into C.
//
// One batch: each image is resized, cropped and normalised by libprime
// (prime_image_preprocess) straight into its slot of one contiguous float
// NCHW buffer owned by the backend (reused between calls; the images are
// preprocessed in parallel on libtorch's intra-op threads), wrapped without
// a copy by torch::from_blob, and run through the module's forward under
// c10::InferenceMode.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include "prime/sys/backend.h"
#include "prime/tokenizer.h"
#include "prime/torch.h"

#ifndef PRIME_TORCH_VERSION_STRING
#error "PRIME_TORCH_VERSION_STRING must be defined by the build"
#endif

namespace {

constexpr uint32_t kContext = 77;  // CLIP's context length (PRIME_TOKENIZER_CONTEXT)

// The batch guard (Runner::check_batches): the largest batch it runs
// (prime_torch_set_check_batch; 0: no guard) and its tolerance, relative to
// max(1, the largest magnitude of the row checked).
std::atomic<uint32_t> g_check_batch{2};
constexpr double kGuardTolerance = 1e-3;

prime_status fail(prime_status st, const std::string &msg)
{
    return prime_backend_error(st, msg.c_str());
}

// The useful line of a libtorch message: the first line, except for errors
// raised inside TorchScript code, whose first lines are a traceback header
// and whose last non-empty line is the error itself ("RuntimeError: ...").
std::string summary(const char *what)
{
    std::string s = what != nullptr ? what : "";
    auto line_at = [&](size_t from) {
        size_t e = s.find('\n', from);
        return s.substr(from, e == std::string::npos ? std::string::npos : e - from);
    };
    if (s.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
        size_t end = s.find_last_not_of(" \t\r\n");
        if (end != std::string::npos) {
            size_t start = s.rfind('\n', end);
            start = start == std::string::npos ? 0 : start + 1;
            return s.substr(start, end + 1 - start);
        }
    }
    std::string first = line_at(0);
    while (!first.empty() && (first.back() == ' ' || first.back() == '\r'))
        first.pop_back();
    return first.empty() ? std::string("(libtorch gave no message)") : first;
}

// Runs f, turning every exception into a status with `context` in front.
// (The functions that C calls are also function-try-blocks, for the strings
// built outside f or in these handlers.)
template <class F>
prime_status guarded(const std::string &context, prime_status torch_status, F &&f)
{
    try {
        return f();
    } catch (const c10::Error &e) {
        return fail(torch_status, context + ": " + summary(e.what_without_backtrace()));
    } catch (const std::bad_alloc &) {
        return fail(PRIME_E_NOMEM, context + ": out of memory");
    } catch (const std::exception &e) {
        return fail(torch_status, context + ": " + summary(e.what()));
    } catch (...) {
        return fail(PRIME_E_STATE, context + ": unknown C++ exception");
    }
}

std::string shape_str(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++) {
        if (i > 0)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

// The model file must be a readable regular file (PRIME_E_IO otherwise);
// then torch::jit::load (PRIME_E_PARSE with libtorch's first line).
prime_status load_module(const char *path, torch::jit::Module &out)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return fail(PRIME_E_IO, std::string(path) + ": cannot open: " + std::strerror(errno));
    if (!S_ISREG(sb.st_mode)) // a directory, a FIFO (never waited on), a device
        return fail(PRIME_E_IO, std::string(path) + ": cannot open: " +
                                    (S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file"));
    FILE *f = std::fopen(path, "rb");
    if (f == nullptr)
        return fail(PRIME_E_IO, std::string(path) + ": cannot open: " + std::strerror(errno));
    std::fclose(f);
    return guarded(std::string(path) + ": not a TorchScript file", PRIME_E_PARSE, [&]() -> prime_status {
        out = torch::jit::load(path, c10::Device(c10::kCPU));
        out.eval();
        return PRIME_OK;
    });
}

// A copy of a spec (the caller's may be freed), or the preset when NULL.
struct SpecDeleter {
    void operator()(prime_image_spec *s) const { prime_image_spec_destroy(s); }
};
using SpecPtr = std::unique_ptr<prime_image_spec, SpecDeleter>;

prime_status copy_spec(const prime_image_spec *spec, int32_t preset, SpecPtr &out)
{
    prime_image_spec *s = nullptr;
    prime_status st = prime_image_spec_create(preset, &s);
    if (st != PRIME_OK)
        return st;
    out.reset(s);
    if (spec == nullptr)
        return PRIME_OK;
    int32_t mode = 0, filter = 0, order = 0;
    uint32_t side = 0, w = 0, h = 0;
    double mean[3], sd[3];
    uint64_t maxp = 0;
    if ((st = prime_image_spec_get_resize(spec, &mode, &side, &w, &h)) != PRIME_OK ||
        (st = prime_image_spec_set_resize(s, mode, side, w, h)) != PRIME_OK ||
        (st = prime_image_spec_get_filter(spec, &filter)) != PRIME_OK ||
        (st = prime_image_spec_set_filter(s, filter)) != PRIME_OK ||
        (st = prime_image_spec_get_convert(spec, &order)) != PRIME_OK ||
        (st = prime_image_spec_set_convert(s, order)) != PRIME_OK ||
        (st = prime_image_spec_get_normalize(spec, mean, sd)) != PRIME_OK ||
        (st = prime_image_spec_set_normalize(s, mean, sd)) != PRIME_OK ||
        (st = prime_image_spec_get_max_pixels(spec, &maxp)) != PRIME_OK ||
        (st = prime_image_spec_set_max_pixels(s, maxp)) != PRIME_OK)
        return st;
    return PRIME_OK;
}

// Reads a file of one name a line with libprime's line reader
// (prime_lines_load, the rules of every text reader of libprime: a UTF-8
// BOM skipped, LF or CRLF; names by their place, so blank lines only at
// the end; each at most 255 bytes, distinct, without '|' unless
// allow_bar): errors are "vocab.txt:12: ..." (PRIME_E_PARSE; PRIME_E_LIMIT
// for a long name, PRIME_E_DUPLICATE for a repeated one).
prime_status read_names(const char *path, bool allow_bar, std::vector<std::string> &out)
{
    prime_lines *raw = nullptr;
    uint32_t flags = PRIME_LINES_NAMES | (allow_bar ? 0u : (uint32_t)PRIME_LINES_NO_BAR);
    prime_status st = prime_lines_load(path, flags, &raw);
    if (st != PRIME_OK)
        return st;
    std::unique_ptr<prime_lines, void (*)(prime_lines *)> lines(raw, prime_lines_destroy);
    std::vector<std::string> names;
    for (uint32_t i = 0; i < prime_lines_count(lines.get()); i++)
        names.emplace_back(prime_lines_get(lines.get(), i));
    out = std::move(names);
    return PRIME_OK;
}

// A loaded model and what every role needs to run it on images.
struct Runner {
    std::string path;
    torch::jit::Module module;
    SpecPtr spec;
    uint32_t width = 0, height = 0;
    std::vector<float> input;  // n * 3 * H * W, reused between batches
    // where and how the model runs (prime_torch_options; cpu, float32 by default)
    c10::Device device{c10::kCPU};
    c10::ScalarType dtype = c10::kFloat;

    // The batch on the model's device and precision (a copy from pinned
    // memory, without blocking, for CUDA); `in` itself for cpu/float32.
    torch::Tensor place(const torch::Tensor &in) const
    {
        // token ids (int64) keep their type; images take the model's precision
        c10::ScalarType t = in.is_floating_point() ? dtype : in.scalar_type();
        if (device.is_cpu() && t == in.scalar_type())
            return in;
        if (device.is_cuda())
            return in.pin_memory().to(device, t, /*non_blocking=*/true);
        return in.to(device, t);
    }

    prime_status init(const char *model_path, const prime_image_spec *s, int32_t preset)
    {
        path = model_path;
        prime_status st = copy_spec(s, preset, spec);
        if (st != PRIME_OK)
            return st;
        st = prime_image_spec_get_resize(spec.get(), nullptr, nullptr, &width, &height);
        if (st != PRIME_OK)
            return st;
        return load_module(model_path, module);
    }

    // Runs the model on `in`: *out gets the output tensor (the first element
    // of a tuple or list), as the model gives it. PRIME_E_STATE when the
    // forward pass raises, PRIME_E_MISMATCH when there is no tensor.
    prime_status raw_forward(const torch::Tensor &in, torch::Tensor *out)
    {
        c10::InferenceMode guard;
        std::vector<torch::jit::IValue> args{place(in)};
        torch::jit::IValue r;
        prime_status st = guarded(path + ": forward pass failed", PRIME_E_STATE, [&]() -> prime_status {
            r = module.forward(args);
            return PRIME_OK;
        });
        if (st != PRIME_OK)
            return st;
        torch::jit::IValue v = r;
        if (r.isTuple()) {
            const auto &el = r.toTupleRef().elements();
            if (el.empty())
                return fail(PRIME_E_MISMATCH, path + ": the model returned an empty tuple");
            v = el[0];
        } else if (r.isList()) {
            auto l = r.toListRef();
            if (l.empty())
                return fail(PRIME_E_MISMATCH, path + ": the model returned an empty list");
            v = l[0];
        }
        if (!v.isTensor())
            return fail(PRIME_E_MISMATCH, path + ": the model returned " +
                                              std::string(v.tagKind()) + ", not a tensor " +
                                              (r.isTensor() ? "" : "(nor one in a tuple or list)"));
        *out = v.toTensor();
        return PRIME_OK;
    }

    // Runs the model on `input` and checks that the output is [n, cols]
    // (cols 0: any width >= 1). On success *out is a contiguous float
    // tensor.
    prime_status forward(const torch::Tensor &in, int64_t n, int64_t cols, const char *what,
                         torch::Tensor *out)
    {
        torch::Tensor t;
        prime_status st = raw_forward(in, &t);
        if (st != PRIME_OK)
            return st;
        return check_shape(t, n, cols, what, out);
    }

    // Checks that t is a floating-point [n, cols] tensor (cols 0: any width
    // >= 1); *out gets it as a contiguous float tensor.
    prime_status check_shape(const torch::Tensor &t, int64_t n, int64_t cols, const char *what,
                             torch::Tensor *out)
    {
        std::vector<int64_t> got(t.sizes().begin(), t.sizes().end());
        bool ok = got.size() == 2 && got[0] == n && got[1] >= 1 && (cols == 0 || got[1] == cols);
        if (!ok) {
            std::string want = cols == 0 ? "[" + std::to_string(n) + ", D >= 1]"
                                         : shape_str({n, cols});
            return fail(PRIME_E_MISMATCH, path + ": output of shape " + shape_str(got) +
                                              ", expected " + want + " (" + what + ")");
        }
        if (!t.is_floating_point())
            return fail(PRIME_E_MISMATCH, path + ": the output is of type " +
                                              std::string(c10::toString(t.scalar_type())) +
                                              ", not floating point");
        *out = t.to(torch::kCPU).to(torch::kFloat).contiguous();
        return PRIME_OK;
    }

    // Preprocesses n images into `input` (in parallel) and runs the model.
    prime_status run_images(const prime_image *const *images, uint32_t n, int64_t cols,
                            const char *what, torch::Tensor *out)
    {
        if (n == 0)
            return fail(PRIME_E_INVALID_ARG, path + ": an empty batch");
        if (images == nullptr)
            return fail(PRIME_E_INVALID_ARG, path + ": NULL images");
        size_t per = (size_t)3 * width * height;
        input.resize((size_t)n * per);
        std::vector<prime_status> status(n, PRIME_OK);
        std::vector<std::string> message(n);
        float *base = input.data();
        at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; i++) {
                prime_status s = images[i] == nullptr
                                     ? PRIME_E_INVALID_ARG
                                     : prime_image_preprocess(images[i], spec.get(),
                                                              base + (size_t)i * per, per,
                                                              nullptr);
                if (s != PRIME_OK) {
                    status[i] = s;
                    try {
                        message[i] = images[i] == nullptr ? "NULL image" : prime_last_error();
                    } catch (...) {
                    }
                }
            }
        });
        for (uint32_t i = 0; i < n; i++)
            if (status[i] != PRIME_OK)
                return fail(status[i], "image " + std::to_string(i) + ": " + message[i]);
        torch::Tensor in = torch::from_blob(base, {(int64_t)n, 3, (int64_t)height, (int64_t)width},
                                            torch::TensorOptions().dtype(torch::kFloat));
        return forward(in, n, cols, what, out);
    }

    // The batch guard (issue 17): the output of an input run alone must be
    // the output of the same input in a batch of 2 and in a batch of
    // g_check_batch (when that is larger), within kGuardTolerance. make(n)
    // gives a batch of n inputs whose first rows do not depend on n. *first
    // gets the output of the batch of 1. When the batch of 1 itself fails
    // (the forward pass raises or gives no tensor) that status is returned,
    // unless skip_if_broken: then the guard passes and the role's call will
    // report the problem.
    template <class Make>
    prime_status check_batches(Make &&make, bool skip_if_broken, torch::Tensor *first)
    {
        torch::Tensor one;
        prime_status st = raw_forward(make(1), &one);
        if (st != PRIME_OK)
            return skip_if_broken ? PRIME_OK : st;
        *first = one;
        uint32_t big = g_check_batch.load();
        if (big == 0)
            return PRIME_OK;
        if (one.dim() < 1 || one.size(0) != 1 || !one.is_floating_point())
            return PRIME_OK;  // not [1, ...]: the role's shape check says why
        torch::Tensor ref = one.to(torch::kDouble);
        torch::Tensor two;  // the batch of 2, whose row 1 the big batch is checked against
        std::vector<int64_t> sizes{2};
        if (big > 2)
            sizes.push_back((int64_t)big);
        for (int64_t n : sizes) {
            torch::Tensor out;
            std::string batch = "a batch of " + std::to_string(n);
            st = raw_forward(make(n), &out);
            if (st == PRIME_E_NOMEM)
                return st;  // its message says so
            if (st != PRIME_OK)
                return fail(PRIME_E_MISMATCH,
                            path + ": output depends on the batch size: traced with a fixed "
                                   "batch? (" + batch + " fails where a batch of 1 runs: " +
                                   prime_last_error() + ")");
            std::vector<int64_t> want(one.sizes().begin(), one.sizes().end());
            want[0] = n;
            std::vector<int64_t> got(out.sizes().begin(), out.sizes().end());
            if (got != want || !out.is_floating_point())
                return fail(PRIME_E_MISMATCH,
                            path + ": output depends on the batch size: traced with a fixed "
                                   "batch? (an output of shape " + shape_str(got) + " for " +
                                   batch + ", " + shape_str(one.sizes().vec()) +
                                   " for a batch of 1)");
            torch::Tensor o = out.to(torch::kDouble);
            // rows compared: 0 with the batch of 1; 1 with row 1 of the batch of 2
            std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs{{o[0], ref[0]}};
            if (n > 2)
                pairs.emplace_back(o[1], two[1]);
            for (size_t k = 0; k < pairs.size(); k++) {
                const torch::Tensor &a = pairs[k].first, &b = pairs[k].second;
                double scale = std::max(1.0, b.abs().max().item<double>());
                double diff = (a - b).abs().max().item<double>();
                // float16/bfloat16 (prime_torch_options) round at 2^-11/2^-8:
                // batched kernels may differ by a few of those units
                double tol = dtype == c10::kFloat ? kGuardTolerance : 3e-2;
                if (!(diff <= tol * scale)) {  // NaN fails too
                    char num[64];
                    std::snprintf(num, sizeof num, "%.3g", diff);
                    std::string which = k == 0 ? "input 0 alone and in " + batch
                                               : "input 1 in a batch of 2 and in " + batch;
                    return fail(PRIME_E_MISMATCH,
                                path + ": output depends on the batch size: traced with a "
                                       "fixed batch? (" + which + " differ by up to " + num +
                                       ")");
                }
            }
            if (n == 2)
                two = o;
        }
        return PRIME_OK;
    }

    // A batch of n pseudo-random images in the range of normalised pixels
    // (-2 .. 2), image i the same for every n.
    torch::Tensor image_batch(int64_t n) const
    {
        int64_t per = (int64_t)3 * height * width;
        torch::Tensor t = torch::empty({n, 3, (int64_t)height, (int64_t)width});
        float *p = t.data_ptr<float>();
        for (int64_t i = 0; i < n; i++) {
            uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
            for (int64_t j = 0; j < per; j++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                p[i * per + j] = (float)((double)(x >> 40) / (double)(1ull << 24) * 4.0 - 2.0);
            }
        }
        return t;
    }

    // The output width (for the classifier and the image encoder, whose
    // widths come from the model), read from the batch guard's batch of 1.
    prime_status probe(const char *what, int64_t *cols)
    {
        torch::Tensor one, out;
        prime_status st =
            check_batches([this](int64_t n) { return image_batch(n); }, false, &one);
        if (st == PRIME_OK)
            st = check_shape(one, 1, 0, what, &out);
        if (st == PRIME_OK)
            *cols = out.size(1);
        return st;
    }
};

// A batch of n token-id rows as CLIP's tokenizer gives them (start, 3 to 6
// pseudo-random ids of the vocabulary, end, zeros), row i the same for
// every n.
torch::Tensor text_batch(int64_t n)
{
    torch::Tensor t = torch::zeros({n, (int64_t)kContext}, torch::TensorOptions().dtype(torch::kLong));
    int64_t *p = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; i++) {
        uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        int64_t len = 3 + i % 4, k = 0;
        p[i * kContext + k++] = 49406;  // <|startoftext|>
        for (int64_t j = 0; j < len; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            p[i * kContext + k++] = 256 + (int64_t)((x >> 33) % 49000);
        }
        p[i * kContext + k] = 49407;  // <|endoftext|>
    }
    return t;
}

void copy_out(const torch::Tensor &t, float *dst)
{
    std::memcpy(dst, t.data_ptr<float>(), (size_t)t.numel() * sizeof(float));
}

// ---- tagger ------------------------------------------------------------------

struct Tagger {
    Runner run;
    std::vector<std::string> vocab;
    std::string vocab_path;
    int32_t scores = PRIME_TORCH_SCORES_LOGITS;
};

void tagger_destroy(void *self)
{
    try {
        delete static_cast<Tagger *>(self);
    } catch (...) {
    }
}

uint32_t tagger_count(void *self)
{
    return (uint32_t) static_cast<Tagger *>(self)->vocab.size();
}

const char *tagger_name(void *self, uint32_t i)
{
    Tagger *t = static_cast<Tagger *>(self);
    return i < t->vocab.size() ? t->vocab[i].c_str() : nullptr;
}

prime_status tagger_score(void *self, const prime_image *const *images, uint32_t n,
                          float *scores)
try {
    Tagger *t = static_cast<Tagger *>(self);
    return guarded(t->run.path, PRIME_E_STATE, [&]() -> prime_status {
        if (n == 0)
            return PRIME_OK;
        torch::Tensor out;
        std::string what = std::to_string(t->vocab.size()) + " tags in " + t->vocab_path;
        prime_status st =
            t->run.run_images(images, n, (int64_t)t->vocab.size(), what.c_str(), &out);
        if (st != PRIME_OK)
            return st;
        if (t->scores == PRIME_TORCH_SCORES_LOGITS)
            out = torch::sigmoid(out).contiguous();
        copy_out(out, scores);
        return PRIME_OK;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

// ---- classifier ------------------------------------------------------------------

struct Classifier {
    Runner run;
    std::vector<std::string> names;
    int64_t classes = 0;
};

void classifier_destroy(void *self)
{
    try {
        delete static_cast<Classifier *>(self);
    } catch (...) {
    }
}

uint32_t classifier_count(void *self)
{
    return (uint32_t) static_cast<Classifier *>(self)->classes;
}

const char *classifier_name(void *self, uint32_t i)
{
    Classifier *c = static_cast<Classifier *>(self);
    return i < c->names.size() ? c->names[i].c_str() : nullptr;
}

prime_status classifier_classify(void *self, const prime_image *const *images, uint32_t n,
                                 float *scores)
try {
    Classifier *c = static_cast<Classifier *>(self);
    return guarded(c->run.path, PRIME_E_STATE, [&]() -> prime_status {
        if (n == 0)
            return PRIME_OK;
        torch::Tensor out;
        prime_status st = c->run.run_images(images, n, c->classes, "classes", &out);
        if (st == PRIME_OK)
            copy_out(out, scores);
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

// ---- embedder ------------------------------------------------------------------

struct TokDeleter {
    void operator()(prime_tokenizer *t) const { prime_tokenizer_destroy(t); }
};

struct Embedder {
    std::unique_ptr<Runner> image;
    std::unique_ptr<Runner> text;  // its spec is unused
    std::unique_ptr<prime_tokenizer, TokDeleter> tok;
    std::vector<int64_t> ids;
    int64_t dim = 0;

    prime_status run_texts(const char *const *texts, uint32_t n, int64_t cols,
                           torch::Tensor *out)
    {
        if (n == 0)
            return fail(PRIME_E_INVALID_ARG, text->path + ": an empty batch");
        if (texts == nullptr)
            return fail(PRIME_E_INVALID_ARG, text->path + ": NULL texts");
        ids.assign((size_t)n * kContext, 0);
        for (uint32_t i = 0; i < n; i++) {
            if (texts[i] == nullptr)
                return fail(PRIME_E_INVALID_ARG, "text " + std::to_string(i) + ": NULL");
            prime_status st = prime_tokenizer_encode_context(
                tok.get(), texts[i], std::strlen(texts[i]), ids.data() + (size_t)i * kContext,
                kContext, nullptr, nullptr);
            if (st != PRIME_OK)
                return fail(st, "text " + std::to_string(i) + ": " + prime_last_error());
        }
        torch::Tensor in = torch::from_blob(ids.data(), {(int64_t)n, (int64_t)kContext},
                                            torch::TensorOptions().dtype(torch::kLong));
        return text->forward(in, n, cols, "text vectors", out);
    }
};

void embedder_destroy(void *self)
{
    try {
        delete static_cast<Embedder *>(self);
    } catch (...) {
    }
}

uint32_t embedder_dimension(void *self)
{
    return (uint32_t) static_cast<Embedder *>(self)->dim;
}

prime_status embedder_images(void *self, const prime_image *const *images, uint32_t n,
                             float *vectors)
try {
    Embedder *e = static_cast<Embedder *>(self);
    if (!e->image)
        return fail(PRIME_E_STATE, "no image encoder");
    return guarded(e->image->path, PRIME_E_STATE, [&]() -> prime_status {
        if (n == 0)
            return PRIME_OK;
        torch::Tensor out;
        prime_status st = e->image->run_images(images, n, e->dim, "image vectors", &out);
        if (st == PRIME_OK)
            copy_out(out, vectors);
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

prime_status embedder_texts(void *self, const char *const *texts, uint32_t n, float *vectors)
try {
    Embedder *e = static_cast<Embedder *>(self);
    if (!e->text)
        return fail(PRIME_E_STATE, "no text encoder");
    return guarded(e->text->path, PRIME_E_STATE, [&]() -> prime_status {
        if (n == 0)
            return PRIME_OK;
        torch::Tensor out;
        prime_status st = e->run_texts(texts, n, e->dim, &out);
        if (st == PRIME_OK)
            copy_out(out, vectors);
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

}  // namespace

// ---- the C API ------------------------------------------------------------------

// The device and precision of prime_torch_options, checked against this
// libtorch and machine, applied to a loaded runner.
prime_status apply_options(Runner &run, const prime_torch_options *o)
{
    if (o == nullptr)
        return PRIME_OK;
    size_t need = offsetof(prime_torch_options, dtype) + sizeof(o->dtype);
    if (o->struct_size < need)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_options: struct_size " +
                                             std::to_string(o->struct_size) + " (at least " +
                                             std::to_string(need) + ")");
    std::string dev = o->device != nullptr ? o->device : "";
    if (dev.empty() || dev == "cpu") {
        run.device = c10::Device(c10::kCPU);
    } else if (dev == "cuda" || (dev.rfind("cuda:", 0) == 0 && dev.size() > 5 && dev.size() < 9 &&
                                 dev.find_first_not_of("0123456789", 5) == std::string::npos)) {
        int index = dev == "cuda" ? 0 : std::stoi(dev.substr(5));
        if (!at::hasCUDA())
            return fail(PRIME_E_NOT_FOUND, "device " + dev + ": this libtorch (" TORCH_VERSION
                                           ") was built without CUDA; build libprime-torch "
                                           "against a CUDA libtorch, or use cpu");
        int64_t count = (int64_t)torch::cuda::device_count();
        if (count == 0)
            return fail(PRIME_E_NOT_FOUND, "device " + dev + ": no CUDA device is visible "
                                           "(driver, CUDA_VISIBLE_DEVICES?)");
        if (index >= count)
            return fail(PRIME_E_NOT_FOUND, "device " + dev + ": there are " +
                                               std::to_string(count) + " CUDA devices");
        run.device = c10::Device(c10::kCUDA, (c10::DeviceIndex)index);
    } else {
        return fail(PRIME_E_INVALID_ARG, "device \"" + dev.substr(0, 40) +
                                             "\": expected cpu, cuda or cuda:N");
    }
    switch (o->dtype) {
    case PRIME_TORCH_FLOAT32: run.dtype = c10::kFloat; break;
    case PRIME_TORCH_FLOAT16: run.dtype = c10::kHalf; break;
    case PRIME_TORCH_BFLOAT16: run.dtype = c10::kBFloat16; break;
    default:
        return fail(PRIME_E_INVALID_ARG, "prime_torch_options: unknown dtype " +
                                             std::to_string(o->dtype));
    }
    return guarded(run.path + ": cannot move the model to " + dev, PRIME_E_STATE,
                   [&]() -> prime_status {
                       run.module.to(run.device, run.dtype);
                       return PRIME_OK;
                   });
}

extern "C" {

PRIME_TORCH_API const char *prime_torch_version(void)
{
    return PRIME_TORCH_VERSION_STRING;
}

PRIME_TORCH_API const char *prime_torch_libtorch_version(void)
{
    return TORCH_VERSION;
}

PRIME_TORCH_API prime_status prime_torch_set_threads(uint32_t threads)
try {
    if (threads > 1024)
        return fail(PRIME_E_INVALID_ARG,
                    "prime_torch_set_threads: " + std::to_string(threads) +
                        " threads (at most 1024)");
    return guarded("prime_torch_set_threads", PRIME_E_STATE, [&]() -> prime_status {
        uint32_t t = threads;
        if (t == 0) {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            t = c > 0 ? (uint32_t)c : 1u;
        }
        at::set_num_threads((int)t);
        return PRIME_OK;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

PRIME_TORCH_API prime_status prime_torch_set_check_batch(uint32_t batch)
try {
    if (batch == 1 || batch > 4096)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_set_check_batch: a batch of " +
                                             std::to_string(batch) +
                                             " (0, or 2 to 4096)");
    g_check_batch.store(batch);
    return PRIME_OK;
} catch (...) {
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

PRIME_TORCH_API uint32_t prime_torch_check_batch(void)
{
    return g_check_batch.load();
}

PRIME_TORCH_API prime_status prime_torch_tagger_create(const char *model_path,
                                                       const char *vocab_path, int32_t scores,
                                                       const prime_image_spec *spec,
                                                       prime_tagger **out)
{
    return prime_torch_tagger_create_with(model_path, vocab_path, scores, spec, nullptr, out);
}

PRIME_TORCH_API prime_status prime_torch_tagger_create_with(const char *model_path,
                                                            const char *vocab_path,
                                                            int32_t scores,
                                                            const prime_image_spec *spec,
                                                            const prime_torch_options *options,
                                                            prime_tagger **out)
try {
    if (out == nullptr)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_tagger_create: NULL out");
    *out = nullptr;
    if (model_path == nullptr || vocab_path == nullptr)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_tagger_create: NULL path");
    if (scores != PRIME_TORCH_SCORES_LOGITS && scores != PRIME_TORCH_SCORES_PROBABILITIES)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_tagger_create: unknown scores mode " +
                                             std::to_string(scores));
    return guarded(model_path, PRIME_E_STATE, [&]() -> prime_status {
        std::unique_ptr<Tagger> t(new Tagger);
        t->scores = scores;
        t->vocab_path = vocab_path;
        prime_status st = read_names(vocab_path, false, t->vocab);
        if (st == PRIME_OK)
            st = t->run.init(model_path, spec, PRIME_IMAGE_PRESET_RAM);
        if (st == PRIME_OK)
            st = apply_options(t->run, options);
        torch::Tensor one;
        Runner &r = t->run;
        if (st == PRIME_OK)  // a model that fails alone is reported by its first call
            st = r.check_batches([&r](int64_t n) { return r.image_batch(n); }, true, &one);
        if (st != PRIME_OK)
            return st;
        prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
        b.self = t.get();
        b.name = "torch";
        b.destroy = tagger_destroy;
        b.tag_count = tagger_count;
        b.tag_name = tagger_name;
        b.score = tagger_score;
        st = prime_tagger_create_from(&b, out);
        if (st != PRIME_OK)
            return st;
        t.release();  // the handle owns it now
        // RAM's rule: sigmoid(logits) > threshold, in float32
        st = prime_tagger_set_rule(*out, PRIME_TAGGER_RULE_ABOVE);
        if (st != PRIME_OK) {
            prime_tagger_destroy(*out);
            *out = nullptr;
        }
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

PRIME_TORCH_API prime_status prime_torch_classifier_create(const char *model_path,
                                                           const char *class_names_path,
                                                           const prime_image_spec *spec,
                                                           prime_classifier **out)
{
    return prime_torch_classifier_create_with(model_path, class_names_path, spec, nullptr, out);
}

PRIME_TORCH_API prime_status prime_torch_classifier_create_with(
    const char *model_path, const char *class_names_path, const prime_image_spec *spec,
    const prime_torch_options *options, prime_classifier **out)
try {
    if (out == nullptr)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_classifier_create: NULL out");
    *out = nullptr;
    if (model_path == nullptr)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_classifier_create: NULL model path");
    return guarded(model_path, PRIME_E_STATE, [&]() -> prime_status {
        std::unique_ptr<Classifier> c(new Classifier);
        prime_status st = PRIME_OK;
        if (class_names_path != nullptr)
            st = read_names(class_names_path, true, c->names);
        if (st == PRIME_OK)
            st = c->run.init(model_path, spec, PRIME_IMAGE_PRESET_IMAGENET);
        if (st == PRIME_OK)
            st = apply_options(c->run, options);
        if (st == PRIME_OK)
            st = c->run.probe("classes", &c->classes);
        if (st != PRIME_OK)
            return st;
        if (c->classes > UINT32_MAX)
            return fail(PRIME_E_LIMIT, std::string(model_path) + ": " +
                                           std::to_string(c->classes) + " classes");
        if (class_names_path != nullptr && (int64_t)c->names.size() != c->classes)
            return fail(PRIME_E_MISMATCH,
                        std::string(class_names_path) + " has " +
                            std::to_string(c->names.size()) + " class names, but " +
                            model_path + " gives " + std::to_string(c->classes) + " scores");
        prime_classifier_backend b = PRIME_CLASSIFIER_BACKEND_INIT;
        b.self = c.get();
        b.name = "torch";
        b.destroy = classifier_destroy;
        b.class_count = classifier_count;
        b.class_name = class_names_path != nullptr ? classifier_name : nullptr;
        b.classify = classifier_classify;
        st = prime_classifier_create_from(&b, out);
        if (st == PRIME_OK)
            c.release();
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

PRIME_TORCH_API prime_status prime_torch_embedder_create(const char *image_model_path,
                                                         const char *text_model_path,
                                                         const char *bpe_path,
                                                         const prime_image_spec *spec,
                                                         prime_embedder **out)
{
    return prime_torch_embedder_create_with(image_model_path, text_model_path, bpe_path, spec,
                                            nullptr, out);
}

PRIME_TORCH_API prime_status prime_torch_embedder_create_with(
    const char *image_model_path, const char *text_model_path, const char *bpe_path,
    const prime_image_spec *spec, const prime_torch_options *options, prime_embedder **out)
try {
    if (out == nullptr)
        return fail(PRIME_E_INVALID_ARG, "prime_torch_embedder_create: NULL out");
    *out = nullptr;
    if (image_model_path == nullptr && text_model_path == nullptr)
        return fail(PRIME_E_INVALID_ARG,
                    "prime_torch_embedder_create: neither an image nor a text model");
    if (text_model_path != nullptr && bpe_path == nullptr)
        return fail(PRIME_E_INVALID_ARG,
                    "prime_torch_embedder_create: a text model needs the BPE vocabulary "
                    "(bpe_simple_vocab_16e6.txt.gz)");
    std::string ctx = image_model_path != nullptr ? image_model_path : text_model_path;
    return guarded(ctx, PRIME_E_STATE, [&]() -> prime_status {
        std::unique_ptr<Embedder> e(new Embedder);
        prime_status st = PRIME_OK;
        int64_t image_dim = 0, text_dim = 0;
        if (image_model_path != nullptr) {
            e->image.reset(new Runner);
            st = e->image->init(image_model_path, spec, PRIME_IMAGE_PRESET_CLIP);
            if (st == PRIME_OK)
                st = apply_options(*e->image, options);
            if (st == PRIME_OK)
                st = e->image->probe("image vectors", &image_dim);
            if (st != PRIME_OK)
                return st;
        }
        if (text_model_path != nullptr) {
            prime_tokenizer *tok = nullptr;
            st = prime_tokenizer_create(bpe_path, &tok);
            if (st != PRIME_OK)
                return st;
            e->tok.reset(tok);
            e->text.reset(new Runner);
            st = e->text->init(text_model_path, spec, PRIME_IMAGE_PRESET_CLIP);
            if (st == PRIME_OK)
                st = apply_options(*e->text, options);
            if (st != PRIME_OK)
                return st;
            const char *blank = "";
            torch::Tensor probe, one;
            st = e->run_texts(&blank, 1, 0, &probe);
            if (st != PRIME_OK)
                return st;
            text_dim = probe.size(1);
            Runner &r = *e->text;
            st = r.check_batches([](int64_t n) { return text_batch(n); }, false, &one);
            if (st != PRIME_OK)
                return st;
        }
        if (image_dim != 0 && text_dim != 0 && image_dim != text_dim)
            return fail(PRIME_E_MISMATCH,
                        std::string(image_model_path) + " gives vectors of " +
                            std::to_string(image_dim) + " values, " + text_model_path +
                            " of " + std::to_string(text_dim));
        e->dim = image_dim != 0 ? image_dim : text_dim;
        if (e->dim > UINT32_MAX)
            return fail(PRIME_E_LIMIT, ctx + ": vectors of " + std::to_string(e->dim) + " values");
        prime_embedder_backend b = PRIME_EMBEDDER_BACKEND_INIT;
        b.self = e.get();
        b.name = "torch";
        b.destroy = embedder_destroy;
        b.dimension = embedder_dimension;
        b.embed_images = e->image ? embedder_images : nullptr;
        b.embed_texts = e->text ? embedder_texts : nullptr;
        st = prime_embedder_create_from(&b, out);
        if (st == PRIME_OK)
            e.release();
        return st;
    });
} catch (...) {
    // the last resort: building an error message threw (out of memory)
    return prime_backend_error(PRIME_E_NOMEM, "libprime-torch: out of memory");
}

}  // extern "C"
