/* make_shards STORE K DIR.prmd: write the store (anything
 * prime_tagstore_load reads) as a sharded-store folder of K shards, as K
 * taggers with the store's tag table would (prime_sharded_store_write; every
 * shard has the whole tag table, in the store's order). `prime merge` of the
 * folder gives the store back. A helper of the mpi suite (public API only). */
#include <stdio.h>
#include <stdlib.h>

#include "prime/prime.h"

static int die(const char *what)
{
    fprintf(stderr, "make_shards: %s: %s\n", what, prime_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: make_shards STORE K DIR.prmd\n");
        return 2;
    }
    prime_tagstore *store = NULL;
    if (prime_tagstore_load(argv[1], &store, NULL) != PRIME_OK)
        return die(argv[1]);
    uint32_t k = (uint32_t)strtoul(argv[2], NULL, 10);
    uint32_t n = prime_tagstore_image_count(store);
    const char **names = malloc(sizeof *names * (n > 0 ? n : 1));
    for (uint32_t i = 0; i < n; i++)
        names[i] = prime_tagstore_image_name(store, i);
    uint64_t list_id = 0;
    if (prime_shard_list_id(names, n, &list_id) != PRIME_OK)
        return die("list id");
    uint32_t ids[1024];
    for (uint32_t s = 0; s < k; s++) {
        uint64_t first = 0, end = 0;
        if (prime_shard_range(n, s, k, &first, &end) != PRIME_OK)
            return die("range");
        prime_tagstore *part = NULL;
        if (prime_tagstore_create(&part) != PRIME_OK)
            return die("create");
        for (uint32_t t = 0; t < prime_tagstore_tag_count(store); t++) {
            uint32_t id = 0;
            if (prime_tagstore_intern_tag(part, prime_tagstore_tag_name(store, t), &id) !=
                    PRIME_OK ||
                id != t)
                return die("tag");
        }
        for (uint64_t i = first; i < end; i++) {
            uint32_t m = 0, c = 0;
            if (prime_tagstore_image_tags(store, (uint32_t)i, ids, 1024, &m) != PRIME_OK)
                return die("image tags");
            const char *cls = prime_tagstore_class_name(store, prime_tagstore_image_class(store, (uint32_t)i));
            if (prime_tagstore_intern_class(part, cls, &c) != PRIME_OK ||
                prime_tagstore_add_image(part, names[i], c, ids, m, NULL) != PRIME_OK)
                return die("image");
        }
        if (prime_tagstore_freeze(part) != PRIME_OK ||
            prime_sharded_store_write(argv[3], part, s, k, first, end, n, list_id) != PRIME_OK)
            return die(argv[3]);
        prime_tagstore_destroy(part);
    }
    free(names);
    prime_tagstore_destroy(store);
    return 0;
}
