// The C example (examples/c/minimal.c) in C++: the same made-up data, the
// same search, the same output; handles held by std::unique_ptr with the
// library's destroy functions, errors turned into exceptions.
//
//   c++ -std=c++17 minimal.cpp $(pkg-config --cflags --libs prime) -o minimal-cpp && ./minimal-cpp
//
// libprime's headers are plain C with extern "C" guards: nothing else is needed.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <prime/prime.h>

namespace {

template <typename T, void (*Destroy)(T *)> struct deleter {
    void operator()(T *p) const { Destroy(p); }
};
using store_ptr = std::unique_ptr<prime_tagstore, deleter<prime_tagstore, prime_tagstore_destroy>>;
using outcomes_ptr = std::unique_ptr<prime_outcomes, deleter<prime_outcomes, prime_outcomes_destroy>>;
using config_ptr = std::unique_ptr<prime_config, deleter<prime_config, prime_config_destroy>>;
using result_ptr = std::unique_ptr<prime_result, deleter<prime_result, prime_result_destroy>>;

void check(prime_status st, const char *what)
{
    if (st != PRIME_OK)
        throw std::runtime_error(std::string(what) + ": " + prime_status_name(st) + ": " +
                                 prime_last_error());
}

} // namespace

int main()
try {
    prime_tagstore *s = nullptr;
    check(prime_tagstore_create(&s), "create");
    store_ptr store(s);
    for (int i = 0; i < 200; i++) {
        std::vector<const char *> tags;
        if (i % 2 == 0)
            tags.push_back("snow");
        if (i % 3 == 0)
            tags.push_back("night");
        if (i % 5 == 0)
            tags.push_back("grass");
        char name[32];
        std::snprintf(name, sizeof name, "fox_%03d.jpg", i);
        check(prime_tagstore_add_image_names(store.get(), name, "fox", tags.data(),
                                             static_cast<uint32_t>(tags.size()), nullptr),
              "add");
    }
    check(prime_tagstore_freeze(store.get()), "freeze");
    prime_outcomes *o = nullptr;
    check(prime_outcomes_create(200, &o), "outcomes");
    outcomes_ptr outcomes(o);
    for (uint32_t i = 0; i < 200; i++) {
        bool snow_at_night = i % 2 == 0 && i % 3 == 0;
        double correct = snow_at_night ? (i % 4 == 0 ? 1.0 : 0.0) : (i % 10 == 7 ? 0.0 : 1.0);
        check(prime_outcomes_set(outcomes.get(), i, correct), "outcome");
    }
    prime_config *c = nullptr;
    check(prime_config_create(&c), "config");
    config_ptr config(c);
    check(prime_config_set_int(config.get(), PRIME_PARAM_MIN_SIZE, 20), "min_size");
    prime_result *r = nullptr;
    check(prime_search(store.get(), outcomes.get(), config.get(), nullptr, nullptr, &r), "search");
    result_ptr result(r);
    uint64_t n = prime_result_mode_count(result.get());
    std::printf("%llu failure mode(s)\n", static_cast<unsigned long long>(n));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t size = 0;
        double accuracy = 0, class_accuracy = 0;
        check(prime_result_mode_info(result.get(), i, nullptr, nullptr, &size, nullptr, &accuracy,
                                     &class_accuracy, nullptr),
              "mode");
        std::printf("%-40s size %3llu  accuracy %.3f (class %.3f)\n",
                    prime_result_mode_description(result.get(), i),
                    static_cast<unsigned long long>(size), accuracy, class_accuracy);
    }
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
