/* Every private layer header of libprime, for the white-box tests and the
 * fuzz targets that link the static library (tests/, fuzz/). Not installed,
 * and never included by the library itself: a file in lib/ includes only the
 * header of its own layer and of the layers below it:
 *
 *   common/common.h   errors, allocation, buffer, files, numbers, UTF-8,
 *                     hashing, interned names (depends on libc only)
 *   io/io.h           text checks and the CSV tokenizer (on common)
 *   store/store.h     tag store layout, binary file, readers, outcomes (on common)
 *   search/search.h   configuration and result layouts (on store)
 *   image/image_private.h image, spec and batch layouts, decoding, resampling
 *                     (on common)
 *
 * The text, eval and backend layers keep no private declarations:
 * they use the public headers and the layers above (text/text_clean.h is
 * shared by the two files of the text layer only). */
#ifndef PRIME_INTERNAL_H
#define PRIME_INTERNAL_H

#include "common/common.h"
#include "image/image_private.h"
#include "io/io.h"
#include "search/search.h"
#include "store/store.h"

#endif /* PRIME_INTERNAL_H */
