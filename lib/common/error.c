/* Status names and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

static _Thread_local char last_error[1024];
static _Thread_local uint64_t error_count;

prime_status prime__error(prime_status status, const char *fmt, ...)
{
    /* formatted aside first: an argument may be the message itself
       (prime_backend_error(st, prime_last_error())) */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    error_count++;
    return status;
}

uint64_t prime__error_count(void)
{
    return error_count;
}

const char *prime_last_error(void)
{
    return last_error;
}

size_t prime_last_error_copy(char *buf, size_t cap)
{
    size_t n = strlen(last_error);
    if (buf != NULL && cap > 0) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(buf, last_error, k);
        buf[k] = '\0';
    }
    return n;
}

void prime_clear_error(void)
{
    last_error[0] = '\0';
}

static const struct {
    prime_status status;
    const char *name, *message;
} statuses[] = {
    {PRIME_OK, "PRIME_OK", "success"},
    {PRIME_E_INVALID_ARG, "PRIME_E_INVALID_ARG", "invalid argument"},
    {PRIME_E_NOMEM, "PRIME_E_NOMEM", "out of memory"},
    {PRIME_E_IO, "PRIME_E_IO", "input/output error"},
    {PRIME_E_PARSE, "PRIME_E_PARSE", "malformed input"},
    {PRIME_E_FORMAT, "PRIME_E_FORMAT", "invalid binary data (store, image or archive)"},
    {PRIME_E_DUPLICATE, "PRIME_E_DUPLICATE", "duplicate name"},
    {PRIME_E_NOT_FOUND, "PRIME_E_NOT_FOUND", "not found"},
    {PRIME_E_STATE, "PRIME_E_STATE", "handle in the wrong state"},
    {PRIME_E_MISMATCH, "PRIME_E_MISMATCH", "outcomes do not match the tag store"},
    {PRIME_E_RANGE, "PRIME_E_RANGE", "value out of range"},
    {PRIME_E_CANCELLED, "PRIME_E_CANCELLED", "cancelled"},
    {PRIME_E_BUFFER_TOO_SMALL, "PRIME_E_BUFFER_TOO_SMALL", "buffer too small"},
    {PRIME_E_LIMIT, "PRIME_E_LIMIT", "limit exceeded"},
    {PRIME_E_THREAD, "PRIME_E_THREAD", "cannot start a thread"},
};

const char *prime_status_name(prime_status status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].name;
    return "PRIME_E_UNKNOWN";
}

bool prime__status_known(prime_status status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return true;
    return false;
}

const char *prime_status_message(prime_status status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].message;
    return "unknown status";
}
