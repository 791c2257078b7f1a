/* HTML report of failure modes (`prime report`), built on the public API. */
#ifndef PRIME_TOOLS_REPORT_H
#define PRIME_TOOLS_REPORT_H

#include <stdint.h>

#include "prime/prime.h"

/** Default number of sample images shown per mode. */
#define REPORT_DEFAULT_PER_MODE 8

/** Write one self-contained HTML file: the modes of the result JSON
 *  `result_path` measured on store/outcomes (prime_eval_load), grouped by
 *  class and sorted by drop, each with a seeded random sample of at most
 *  per_mode of its images (read from images_dir/<image name>) as embedded
 *  PNG thumbnails. Errors are printed to stderr prefixed with the program's
 *  name (cli.h's prog);
 *  returns 0 on success, 1 on failure (then no output file is left). */
int report_write_html(const char *result_path, const char *tags_path,
                      const prime_tagstore *store, const prime_outcomes *outcomes,
                      const char *images_dir, uint32_t per_mode, uint64_t seed,
                      const char *output);

#endif
