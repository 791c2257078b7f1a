/* Interned name tables: NUL-terminated names packed one after another, with
 * an open-addressing hash index over the ids. */
#include <string.h>

#include "common/common.h"

void prime__names_free(prime__names *t)
{
    if (!t->borrowed) {
        prime__free(t->off);
        prime__free(t->bytes);
    }
    prime__free(t->slots);
    memset(t, 0, sizeof *t);
}

const char *prime__names_get(const prime__names *t, uint32_t id)
{
    if (id >= t->count)
        return NULL;
    return t->bytes + t->off[id];
}

size_t prime__names_len(const prime__names *t, uint32_t id)
{
    return (size_t)(t->off[id + 1] - t->off[id] - 1);
}

/* A slot holds (low 32 bits of the name's hash) << 32 | (id + 1); 0 is
 * empty. The position of a name is hash & mask (mask < 2^32), so the stored
 * bits are enough to rehash, and they filter out almost every memcmp. */
static inline uint64_t slot_of(uint64_t h, uint32_t id)
{
    return (h << 32) | ((uint64_t)id + 1);
}

uint32_t prime__names_find_hashed(const prime__names *t, const char *s, size_t n, uint64_t h)
{
    if (t->slots == NULL || n == 0)
        return PRIME_NONE;
    uint32_t tag = (uint32_t)h;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slots[i];
        if (v == 0)
            return PRIME_NONE;
        if ((uint32_t)(v >> 32) != tag)
            continue;
        uint32_t id = (uint32_t)v - 1;
        if (prime__names_len(t, id) == n && memcmp(t->bytes + t->off[id], s, n) == 0)
            return id;
    }
}

uint32_t prime__names_find(const prime__names *t, const char *s, size_t n)
{
    if (t->slots == NULL || n == 0)
        return PRIME_NONE;
    return prime__names_find_hashed(t, s, n, prime__hash_bytes(s, n));
}

static void slot_insert(uint64_t *slots, uint64_t mask, uint64_t slot)
{
    uint64_t i = (uint32_t)(slot >> 32) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = slot;
}

/* Make room in the index for `count` entries (load factor <= 3/4: the 32
 * hash bits in each slot keep long probe runs cheap). */
static prime_status index_reserve(prime__names *t, uint64_t count)
{
    uint64_t want = 16;
    while (want / 4 * 3 < count + 1)
        want *= 2;
    if (t->slots != NULL && t->mask + 1 >= want)
        return PRIME_OK;
    if (want > ((uint64_t)1 << 32) || want > SIZE_MAX / sizeof(uint64_t))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint64_t *slots = prime__calloc((size_t)want, sizeof(uint64_t));
    if (slots == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint64_t mask = want - 1;
    if (t->slots != NULL) {
        for (uint64_t i = 0; i <= t->mask; i++)
            if (t->slots[i] != 0)
                slot_insert(slots, mask, t->slots[i]);
        prime__free(t->slots);
    }
    t->slots = slots;
    t->mask = mask;
    return PRIME_OK;
}

prime_status prime__names_push(prime__names *t, const char *s, size_t n, bool index_it,
                               uint32_t *id_out)
{
    return prime__names_push_hashed(t, s, n, index_it && n > 0 ? prime__hash_bytes(s, n) : 0,
                                    index_it, id_out);
}

prime_status prime__names_push_hashed(prime__names *t, const char *s, size_t n, uint64_t h,
                                      bool index_it, uint32_t *id_out)
{
    if (t->count >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "too many names (the limit is 2^32-2)");
    if (t->off == NULL) {
        if (!prime__grow((void **)&t->off, &t->off_cap, 1, sizeof(uint64_t)))
            return prime__error(PRIME_E_NOMEM, "out of memory");
        t->off[0] = 0;
    }
    if (!prime__grow((void **)&t->off, &t->off_cap, (size_t)t->count + 2, sizeof(uint64_t)) ||
        !prime__grow((void **)&t->bytes, &t->bytes_cap, t->bytes_len + n + 1, 1))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    if (index_it && n > 0) {
        prime_status st = index_reserve(t, (uint64_t)t->count + 1);
        if (st != PRIME_OK)
            return st;
    }
    memcpy(t->bytes + t->bytes_len, s, n);
    t->bytes[t->bytes_len + n] = '\0';
    t->bytes_len += n + 1;
    uint32_t id = t->count++;
    t->off[t->count] = t->bytes_len;
    if (index_it && n > 0)
        slot_insert(t->slots, t->mask, slot_of(h, id));
    *id_out = id;
    return PRIME_OK;
}

prime_status prime__names_intern(prime__names *t, const char *s, size_t n, uint32_t *id_out)
{
    uint64_t h = prime__hash_bytes(s, n);
    uint32_t id = n > 0 ? prime__names_find_hashed(t, s, n, h) : PRIME_NONE;
    if (id != PRIME_NONE) {
        *id_out = id;
        return PRIME_OK;
    }
    return prime__names_push_hashed(t, s, n, h, true, id_out);
}

/* Probe distance of the batched build: names whose hash is computed (and
 * whose slot is prefetched) this many ids ahead of the insertion, so that
 * the cache misses of a large table overlap instead of queueing up. */
#define BUILD_AHEAD 16

prime_status prime__names_build_index(prime__names *t, uint32_t *dup_out)
{
    prime__free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    prime_status st = index_reserve(t, t->count);
    if (st != PRIME_OK)
        return st;
    uint64_t ring[BUILD_AHEAD];
    uint32_t count = t->count;
    for (uint32_t id = 0; id < count && id < BUILD_AHEAD; id++) {
        size_t n = prime__names_len(t, id);
        ring[id] = n > 0 ? prime__hash_bytes(t->bytes + t->off[id], n) : 0;
        __builtin_prefetch(&t->slots[ring[id] & t->mask], 1);
    }
    for (uint32_t id = 0; id < count; id++) {
        uint64_t h = ring[id % BUILD_AHEAD];
        if (id + BUILD_AHEAD < count) {
            uint32_t ahead = id + BUILD_AHEAD;
            size_t an = prime__names_len(t, ahead);
            uint64_t ah = an > 0 ? prime__hash_bytes(t->bytes + t->off[ahead], an) : 0;
            ring[ahead % BUILD_AHEAD] = ah;
            __builtin_prefetch(&t->slots[ah & t->mask], 1);
        }
        size_t n = prime__names_len(t, id);
        if (n == 0)
            continue;
        const char *s = t->bytes + t->off[id];
        uint32_t tag = (uint32_t)h;
        uint64_t i = h & t->mask;
        for (;; i = (i + 1) & t->mask) {
            uint64_t v = t->slots[i];
            if (v == 0)
                break;
            if ((uint32_t)(v >> 32) != tag)
                continue;
            uint32_t other = (uint32_t)v - 1;
            if (prime__names_len(t, other) == n && memcmp(t->bytes + t->off[other], s, n) == 0) {
                if (dup_out != NULL)
                    *dup_out = id;
                return PRIME_E_DUPLICATE;
            }
        }
        t->slots[i] = slot_of(h, id);
    }
    return PRIME_OK;
}
