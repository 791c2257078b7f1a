// The forward pass alone, as `prime tag --backend torch` / `prime classify`
// run it (bench/torch/e2e_real.py compares the two): in one process, load
// the TorchScript module, run libprime-torch's batch guard passes (a batch
// of 1, 2 and the batch size, as prime_torch_set_check_batch sets it), then
// the forward passes of n images in batches of `batch` (the last one
// shorter) on input tensors made before the clock starts, under
// c10::InferenceMode on `threads` intra-op threads (at::set_num_threads, as
// prime_torch_set_threads does). Nothing is decoded or preprocessed.
//
// Usage: forward_only MODEL.pt SIDE N BATCH THREADS
// Prints one line: load_s guard_s forward_s total_s cpu_s (wall seconds of
// each part, the whole, and the process's user + system CPU seconds).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/script.h>

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

static double cpu_seconds()
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv)
try {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s MODEL.pt SIDE N BATCH THREADS\n", argv[0]);
        return 2;
    }
    int64_t side = std::atoll(argv[2]), n = std::atoll(argv[3]), batch = std::atoll(argv[4]);
    int threads = std::atoi(argv[5]);
    if (side < 1 || n < 1 || batch < 1 || threads < 1) {
        std::fprintf(stderr, "forward_only: SIDE, N, BATCH and THREADS must be >= 1\n");
        return 2;
    }
    at::set_num_threads(threads);
    // the inputs: one full batch (the shorter last batch is a view of it)
    torch::manual_seed(0);
    torch::Tensor x = torch::rand({batch, 3, side, side}) * 4 - 2;
    double t0 = now(), c0 = cpu_seconds();
    torch::jit::Module m = torch::jit::load(argv[1], c10::Device(c10::kCPU));
    m.eval();
    double t1 = now();
    c10::InferenceMode guard;
    // the batch guard of libprime-torch: batches of 1, 2 and the batch size
    std::vector<int64_t> guard_sizes{1, 2};
    if (std::max<int64_t>(batch, 2) > 2)
        guard_sizes.push_back(batch);
    for (int64_t g : guard_sizes) {
        torch::Tensor in = g <= batch ? x.narrow(0, 0, g) : torch::rand({g, 3, side, side});
        m.forward({in});
    }
    double t2 = now();
    for (int64_t f = 0; f < n; f += batch) {
        torch::jit::IValue out = m.forward({x.narrow(0, 0, std::min(batch, n - f))});
        (void)out;
    }
    double t3 = now(), c3 = cpu_seconds();
    std::printf("%.4f %.4f %.4f %.4f %.4f\n", t1 - t0, t2 - t1, t3 - t2, t3 - t0, c3 - c0);
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "forward_only: %s\n", e.what());
    return 1;
}
