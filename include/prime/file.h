/** \file prime/file.h
 * \brief Reading input files and writing output files (one reader, one writer).
 *
 *
 * Every file libprime reads goes through one reader, and every file it
 * writes through one writer; programs built on libprime (the `prime` tool
 * among them) use the same calls, so that they never lose data:
 *
 *  - An input must be a regular file no larger than PRIME_FILE_MAX_INPUT
 *    bytes: a directory, a FIFO, a device or a socket is refused with a
 *    message that says what it is (nothing is read from it, and opening a
 *    FIFO never blocks).
 *  - An output is written to a new temporary file beside it (created with
 *    O_CREAT | O_EXCL under a random name of its own, never derived from
 *    the output's name, so names of any length work and no other file is
 *    touched; mode 0666 less the process umask, as any new file), flushed
 *    to disk (fsync) and renamed over the output. A reader never sees a
 *    partial file and a failure leaves the old file as it was. An output
 *    that is a symbolic link is written to the file it points to.
 *  - An output that exists and is not a regular file (a device such as
 *    /dev/null, a FIFO, a terminal) and any path under /dev/ or /proc/
 *    (/dev/stdout, /dev/fd/N) is written in place, never replaced.
 *  - A writer (prime_writer) takes several outputs and writes them all or
 *    none: every temporary file is written before the first rename, and a
 *    failure removes the temporary files only, never a file that was there
 *    before. An output that is the same file (device and inode) as an input
 *    registered with prime_writer_add_input, or as another output of the
 *    writer, is refused before anything is written.
 *
 * Signals: libprime installs no signal handler. A program that wants no
 * temporary file left behind when it is interrupted calls
 * prime_writer_remove_temps() from its SIGINT/SIGTERM handler (the call is
 * async-signal-safe; tools/prime/main.c does). prime_writer_commit holds
 * SIGINT, SIGTERM and SIGHUP on the calling thread (pthread_sigmask) while
 * it renames, and only then, so that a signal does not cut the renames of a
 * several-output writer in half; one that comes meanwhile is delivered when
 * the renames are done. The program must not hold these signals around the
 * whole commit: writing an output in place may wait (a FIFO with no reader
 * yet, a pipe whose reader does not read), and only a signal stops that.
 *
 * Thread safety: the functions may be called from any thread; one writer
 * must not be used by two threads at once. */
#ifndef PRIME_FILE_H
#define PRIME_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest input file, in bytes, that the reader loads (1 TiB; on a host
 *  with 32-bit sizes the limit is the address space). A larger file is
 *  refused with PRIME_E_LIMIT before anything is read. */
#define PRIME_FILE_MAX_INPUT ((uint64_t)1 << 40)

/** Read the whole file `path` into a new buffer: *data_out gets max(size, 1)
 *  bytes plus a NUL (for convenience; the size excludes it), to be released
 *  with prime_file_free; *size_out its size. max_bytes is the largest size
 *  accepted (0: PRIME_FILE_MAX_INPUT). Errors: PRIME_E_IO (cannot open, not
 *  a regular file: "PATH: is a directory, not a file", "PATH: is a FIFO
 *  (named pipe), not a regular file", "PATH: is a device, not a regular
 *  file"; a read error), PRIME_E_LIMIT ("PATH: N bytes, more than the limit
 *  of M bytes"), PRIME_E_NOMEM. On failure *data_out is NULL and *size_out
 *  is 0. */
PRIME_API prime_status prime_file_read(const char *path, uint64_t max_bytes, void **data_out,
                                       uint64_t *size_out);

/** Release a buffer of prime_file_read; NULL is fine. */
PRIME_API void prime_file_free(void *data);

/** Write `size` bytes to `path` as one output of its own (a writer with one
 *  output, committed at once): atomically for a regular file, in place for a
 *  device or a pipe. */
PRIME_API prime_status prime_file_write(const char *path, const void *data, size_t size);

/* ---- text files of one item a line ------------------------------------ */

/** The lines of a text file of one item a line: a vocabulary (one tag or
 *  class name a line), a list of image files. The one line reader of
 *  libprime; it follows the rules of every other text reader: the whole
 *  text is checked first (no NUL byte, valid UTF-8), a UTF-8 BOM is
 *  skipped, a line ends at LF or CRLF (a carriage return elsewhere is an
 *  error), and blank lines (empty or only spaces and tabs) are skipped.
 *  An item is its line as written (no blank is trimmed). Read-only once
 *  loaded; may be shared by threads.
 *  @since 1.1 */
typedef struct prime_lines prime_lines;

/** Flags of prime_lines_load (bits; values never reused).
 *  @since 1.1 */
typedef enum prime_lines_flag {
    /** Skip lines whose first byte is '#' (comments). */
    PRIME_LINES_COMMENTS = 1,
    /** The items are names, counted by their place (a vocabulary, a list
     *  of class names): each at most 255 bytes (PRIME_E_LIMIT), all
     *  distinct (PRIME_E_DUPLICATE, "NAME:LINE: \"x\" is also line K"); a
     *  blank line is allowed only after the last name, as in a thresholds
     *  file (PRIME_E_PARSE, "NAME:LINE: a blank line ..."). */
    PRIME_LINES_NAMES = 2,
    /** No item holds '|' (tag names; PRIME_E_PARSE, "NAME:LINE: the name
     *  \"a|b\" holds '|'"). */
    PRIME_LINES_NO_BAR = 4
} prime_lines_flag;

/** Read the text file `path` (through prime_file_read: a regular file
 *  within PRIME_FILE_MAX_INPUT) into lines; `flags` is 0 or an OR of
 *  prime_lines_flag. Errors name the file and line: "PATH:LINE: invalid
 *  UTF-8 ...", "PATH:LINE: NUL byte ...", "PATH:LINE: a carriage return
 *  not followed by a line feed", those of PRIME_LINES_NAMES, and
 *  "PATH: no lines (the file is empty or blank)" (PRIME_E_PARSE); unknown
 *  flags are PRIME_E_INVALID_ARG; the errors of prime_file_read. *out is
 *  NULL on any failure.
 *  @since 1.1 */
PRIME_API prime_status prime_lines_load(const char *path, uint32_t flags, prime_lines **out);

/** The same from data[0..size); `name` is used in messages (may be NULL).
 *  @since 1.1 */
PRIME_API prime_status prime_lines_load_memory(const void *data, size_t size, const char *name,
                                               uint32_t flags, prime_lines **out);

/** Destroy lines; NULL is fine.
 *  @since 1.1 */
PRIME_API void prime_lines_destroy(prime_lines *lines);

/** Number of items (0 for NULL).
 *  @since 1.1 */
PRIME_API uint32_t prime_lines_count(const prime_lines *lines);

/** Item i (NUL-terminated, valid UTF-8), valid while the lines live; NULL
 *  when i is out of range.
 *  @since 1.1 */
PRIME_API const char *prime_lines_get(const prime_lines *lines, uint32_t i);

/* prime_writer (declared in prime/prime.h): a set of outputs written all
 * or none; see the top of this header. */

/** A new, empty writer. *out is NULL on failure. */
PRIME_API prime_status prime_writer_create(prime_writer **out);

/** Destroy a writer: the temporary files of outputs not committed are
 *  removed (the files they would have replaced are left alone). NULL is
 *  fine. */
PRIME_API void prime_writer_destroy(prime_writer *writer);

/** Name a file the program reads: no output of this writer may be that file
 *  (same device and inode, whatever the path: a symbolic or hard link
 *  counts). A path that does not exist is ignored (its reader reports it).
 *  Checked now against the outputs already added (PRIME_E_INVALID_ARG,
 *  "OUTPUT: is also the input INPUT; refusing to overwrite it") and later
 *  against each output added. */
PRIME_API prime_status prime_writer_add_input(prime_writer *writer, const char *path);

/** Add an output: for a regular file (or a path that does not exist yet)
 *  the bytes are written to a temporary file beside it and flushed now, and
 *  the file replaced by prime_writer_commit; for a device or pipe they are
 *  kept (copied) and written in place by prime_writer_commit. Refused
 *  before anything is written: an input of the writer
 *  (PRIME_E_INVALID_ARG), a path given twice (PRIME_E_INVALID_ARG), a
 *  directory (PRIME_E_IO). On failure nothing of this output is left; the
 *  writer's other outputs are kept (destroy it to drop them). */
PRIME_API prime_status prime_writer_add(prime_writer *writer, const char *path,
                                        const void *data, size_t size);

/** The checks of prime_writer_add for `path` without adding it (nothing is
 *  created): a program calls it before long work so that an output that
 *  would be refused is refused first. */
PRIME_API prime_status prime_writer_check(const prime_writer *writer, const char *path);

/** Write every output: first those written in place (opening a FIFO waits
 *  for its reader), then every temporary file renamed over its output
 *  (SIGINT, SIGTERM and SIGHUP held meanwhile: see Signals above), then the
 *  folders flushed. After an error
 *  the outputs not yet renamed keep their old content and their temporary
 *  files are removed. A writer is committed once; then it only needs
 *  destroying. */
PRIME_API prime_status prime_writer_commit(prime_writer *writer);

/** Remove the temporary file of every output of every writer (and of every
 *  single-file write of the library) in progress in this process; returns
 *  how many were removed. Async-signal-safe: meant for a SIGINT or SIGTERM
 *  handler, after which the program exits (the interrupted writes fail). */
PRIME_API uint32_t prime_writer_remove_temps(void);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_FILE_H */
