/* The one input reader and the one output writer of libprime
 * (include/prime/file.h says what they promise). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "prime/file.h"

/* ---- input --------------------------------------------------------------- */

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "is a directory, not a file";
    if (S_ISFIFO(m))
        return "is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "is a device, not a regular file";
    if (S_ISSOCK(m))
        return "is a socket, not a regular file";
    return "is not a regular file";
}

static uint64_t input_limit(uint64_t max_bytes)
{
    uint64_t lim = max_bytes != 0 ? max_bytes : PRIME_FILE_MAX_INPUT;
    if (lim > (uint64_t)(SIZE_MAX / 2))
        lim = (uint64_t)(SIZE_MAX / 2);
    return lim;
}

prime_status prime__open_input(const char *path, uint64_t max_bytes, int *fd_out,
                               uint64_t *size_out)
{
    *fd_out = -1;
    *size_out = 0;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "no input path given");
    if (path[0] == '\0')
        return prime__error(PRIME_E_INVALID_ARG, "an input path is empty");
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return prime__error(PRIME_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return prime__error(PRIME_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return prime__error(PRIME_E_IO, "%s: %s", path, kind_of(sb.st_mode));
    }
    uint64_t lim = input_limit(max_bytes);
    if (sb.st_size < 0 || (uint64_t)sb.st_size > lim) {
        close(fd);
        return prime__error(PRIME_E_LIMIT, "%s: %llu bytes, more than the limit of %llu bytes",
                            path, (unsigned long long)sb.st_size, (unsigned long long)lim);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    *size_out = (uint64_t)sb.st_size;
    return PRIME_OK;
}

prime_status prime__read_file_max(const char *path, uint64_t max_bytes, char **data_out,
                                  size_t *size_out)
{
    *data_out = NULL;
    *size_out = 0;
    int fd;
    uint64_t size;
    prime_status st = prime__open_input(path, max_bytes, &fd, &size);
    if (st != PRIME_OK)
        return st;
    uint64_t lim = input_limit(max_bytes);
    /* + 2: room for the NUL, and one byte to see the end */
    size_t cap = (size_t)size + 2, len = 0;
    char *data = prime__malloc(cap);
    for (;;) {
        if (data == NULL) {
            close(fd);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory reading the file", path);
        }
        ssize_t r = read(fd, data + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            prime__free(data);
            return prime__error(PRIME_E_IO, "%s: cannot read: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > lim) { /* the file grew while it was read */
            close(fd);
            prime__free(data);
            return prime__error(PRIME_E_LIMIT, "%s: more than the limit of %llu bytes", path,
                                (unsigned long long)lim);
        }
        if (len + 1 == cap) {
            char *bigger = cap <= SIZE_MAX / 2 ? prime__realloc(data, cap * 2) : NULL;
            if (bigger == NULL)
                prime__free(data);
            data = bigger;
            cap *= 2;
        }
    }
    close(fd);
    data[len] = '\0';
    *data_out = data;
    *size_out = len;
    return PRIME_OK;
}

prime_status prime__read_file(const char *path, char **data_out, size_t *size_out)
{
    return prime__read_file_max(path, 0, data_out, size_out);
}

prime_status prime__parse_file(const char *path, prime__parse_fn parse, void *ctx)
{
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    if (st == PRIME_OK)
        st = parse(data, size, path, ctx);
    prime__free(data);
    return st;
}

prime_status prime_file_read(const char *path, uint64_t max_bytes, void **data_out,
                             uint64_t *size_out)
{
    if (data_out != NULL)
        *data_out = NULL;
    if (size_out != NULL)
        *size_out = 0;
    if (data_out == NULL || size_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_file_read: %s is NULL",
                            data_out == NULL ? "data_out" : "size_out");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file_max(path, max_bytes, &data, &size);
    if (st != PRIME_OK)
        return st;
    *data_out = data;
    *size_out = size;
    return PRIME_OK;
}

void prime_file_free(void *data)
{
    prime__free(data);
}

/* ---- temporary files in flight, for prime_writer_remove_temps -------------
 *
 * A slot holds the path of a temporary file being written, or NULL, or
 * SLOT_BUSY while a signal handler unlinks it. The owner releases a slot
 * with a compare-and-swap from its own pointer to NULL; when a handler on
 * another thread holds it (SLOT_BUSY) the owner waits, so the path is never
 * freed under the handler. With no free slot a write goes on unregistered. */

enum { SLOTS = 256 };
static char *_Atomic temp_slots[SLOTS];
static char slot_busy_marker;
#define SLOT_BUSY (&slot_busy_marker)

static int slot_take(char *path)
{
    for (int k = 0; k < SLOTS; k++) {
        char *expected = NULL;
        if (atomic_compare_exchange_strong(&temp_slots[k], &expected, path))
            return k;
    }
    return -1;
}

static void slot_release(int k, char *path)
{
    if (k < 0)
        return;
    for (;;) {
        char *expected = path;
        if (atomic_compare_exchange_strong(&temp_slots[k], &expected, NULL))
            return;
        if (expected != SLOT_BUSY) /* a handler removed it and let go */
            return;
        sched_yield();
    }
}

uint32_t prime_writer_remove_temps(void)
{
    uint32_t n = 0;
    int saved = errno;
    for (int k = 0; k < SLOTS; k++) {
        char *p = atomic_load(&temp_slots[k]);
        if (p == NULL || p == SLOT_BUSY)
            continue;
        if (!atomic_compare_exchange_strong(&temp_slots[k], &p, SLOT_BUSY))
            continue;
        if (unlink(p) == 0)
            n++;
        atomic_store(&temp_slots[k], NULL);
    }
    errno = saved;
    return n;
}

/* ---- the writer ------------------------------------------------------------ */

typedef struct {
    char *path;      /* as the caller gave it (messages) */
    char *target;    /* the file replaced: path, or what its symbolic link names */
    char *temp;      /* temporary file beside target; NULL when in place */
    char *dir;       /* target's folder (flushed after the rename); NULL in place */
    int slot;        /* temp_slots index, -1 if none */
    bool exists;     /* target existed when added: dev/ino are its */
    dev_t dev;
    ino_t ino;
    dev_t dir_dev;   /* the folder of target, for outputs that do not exist yet */
    ino_t dir_ino;
    const char *base;/* target's last component (points into target) */
    bool in_place;
    bool is_reg;     /* in place on a regular file (under /dev or /proc): truncate */
    char *data;      /* in place: the bytes, written at commit */
    size_t size;
    bool done;
} output;

typedef struct {
    char *path;
    dev_t dev;
    ino_t ino;
} input;

struct prime_writer {
    output *out;
    size_t nout, out_cap;
    input *in;
    size_t nin, in_cap;
    bool committed;
};

prime_status prime_writer_create(prime_writer **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_writer_create: out is NULL");
    *out = prime__calloc(1, sizeof **out);
    if (*out == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    return PRIME_OK;
}

static void output_drop(output *o)
{
    if (o->temp != NULL) {
        slot_release(o->slot, o->temp);
        if (!o->done)
            unlink(o->temp);
    }
    prime__free(o->temp);
    prime__free(o->dir);
    prime__free(o->target);
    prime__free(o->path);
    prime__free(o->data);
    memset(o, 0, sizeof *o);
}

void prime_writer_destroy(prime_writer *w)
{
    if (w == NULL)
        return;
    for (size_t k = 0; k < w->nout; k++)
        output_drop(&w->out[k]);
    for (size_t k = 0; k < w->nin; k++)
        prime__free(w->in[k].path);
    prime__free(w->out);
    prime__free(w->in);
    prime__free(w);
}

static prime_status refuse_input(const output *o, const input *in)
{
    return prime__error(PRIME_E_INVALID_ARG,
                        "%s: is also the input %s; refusing to overwrite it", o->path,
                        in->path);
}

prime_status prime_writer_add_input(prime_writer *w, const char *path)
{
    if (w == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_writer_add_input: %s is NULL",
                            w == NULL ? "writer" : "path");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return PRIME_OK; /* its reader says what is wrong */
    if (!prime__grow((void **)&w->in, &w->in_cap, w->nin + 1, sizeof *w->in))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    input *in = &w->in[w->nin];
    in->path = prime__strndup(path, strlen(path));
    if (in->path == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    in->dev = sb.st_dev;
    in->ino = sb.st_ino;
    w->nin++;
    for (size_t k = 0; k < w->nout; k++)
        if (w->out[k].exists && w->out[k].dev == in->dev && w->out[k].ino == in->ino)
            return refuse_input(&w->out[k], in);
    return PRIME_OK;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A random name for a temporary file, 16 letters: getrandom, else the
 * clock, the process id, a counter and an address mixed. */
static void random_name(char name[17])
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[16];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        static _Atomic uint64_t counter;
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t x = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^
                     ((uint64_t)getpid() << 16) ^ (atomic_fetch_add(&counter, 1) << 48) ^
                     (uint64_t)(uintptr_t)name;
        for (int k = 0; k < 16; k++) {
            x ^= x >> 33;
            x *= 0xff51afd7ed558ccdULL;
            x ^= x >> 29;
            r[k] = (unsigned char)(x >> 24);
            x += 0x9e3779b97f4a7c15ULL;
        }
    }
    for (int k = 0; k < 16; k++)
        name[k] = abc[r[k] % (sizeof abc - 1)];
    name[16] = '\0';
}

static prime_status write_all(int fd, const char *p, size_t left, const char *path)
{
    while (left > 0) {
        size_t chunk = left < ((size_t)1 << 30) ? left : ((size_t)1 << 30);
        ssize_t k = write(fd, p, chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return prime__error(PRIME_E_IO, "%s: cannot write: %s", path,
                                k < 0 ? strerror(errno) : "no progress");
        p += k;
        left -= (size_t)k;
    }
    return PRIME_OK;
}

/* fsync; file systems that cannot (EINVAL, EROFS for special files) are
 * taken as done. */
static bool sync_ok(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS;
}

/* The folder of a path ("." for a bare name), new memory. */
static char *dir_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (slash == NULL)
        return prime__strndup(".", 1);
    if (slash == p)
        return prime__strndup("/", 1);
    return prime__strndup(p, (size_t)(slash - p));
}

/* Everything of an output but its bytes: where it goes and whether it may
 * go there (an input, another output, a directory are refused). On failure
 * o holds what output_drop frees. */
static prime_status prepare(const prime_writer *w, const char *path, output *o)
{
    memset(o, 0, sizeof *o);
    o->slot = -1;
    if (path[0] == '\0')
        return prime__error(PRIME_E_INVALID_ARG, "an output path is empty");
    o->path = prime__strndup(path, strlen(path));
    if (o->path == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists && errno != ENOENT)
        return prime__error(PRIME_E_IO, "%s: cannot write: %s", path, strerror(errno));
    if (exists && S_ISDIR(sb.st_mode))
        return prime__error(PRIME_E_IO, "%s: is a directory; an output must be a file", path);
    o->in_place = (exists && !S_ISREG(sb.st_mode)) || has_prefix(path, "/dev/") ||
                  has_prefix(path, "/proc/");
    o->is_reg = exists && S_ISREG(sb.st_mode);
    o->exists = exists;
    if (exists) {
        o->dev = sb.st_dev;
        o->ino = sb.st_ino;
    }
    /* a symbolic link: replace the file it names, not the link */
    struct stat lsb;
    char *resolved = NULL;
    if (!o->in_place && exists && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
        resolved = realpath(path, NULL);
    o->target = resolved != NULL ? prime__strndup(resolved, strlen(resolved))
                                 : prime__strndup(path, strlen(path));
    free(resolved);
    if (o->target == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    const char *slash = strrchr(o->target, '/');
    o->base = slash != NULL ? slash + 1 : o->target;
    if (o->base[0] == '\0' || strcmp(o->base, ".") == 0 || strcmp(o->base, "..") == 0)
        return prime__error(PRIME_E_IO, "%s: is a directory; an output must be a file", path);
    char *dir = dir_of(o->target);
    if (dir == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    struct stat dsb;
    if (stat(dir, &dsb) != 0) {
        prime_status st = prime__error(PRIME_E_IO, "%s: cannot write: %s (the folder %s)", path,
                                       strerror(errno), dir);
        prime__free(dir);
        return st;
    }
    prime__free(dir);
    o->dir_dev = dsb.st_dev;
    o->dir_ino = dsb.st_ino;
    for (size_t k = 0; k < w->nin; k++)
        if (exists && w->in[k].dev == o->dev && w->in[k].ino == o->ino)
            return refuse_input(o, &w->in[k]);
    for (size_t k = 0; k < w->nout; k++) {
        const output *p = &w->out[k];
        bool same = exists ? (p->exists && p->dev == o->dev && p->ino == o->ino)
                           : (!p->exists && p->dir_dev == o->dir_dev &&
                              p->dir_ino == o->dir_ino && strcmp(p->base, o->base) == 0);
        if (same)
            return prime__error(PRIME_E_INVALID_ARG, "%s: is also the output %s; each output "
                                "must be a file of its own", path, p->path);
    }
    return PRIME_OK;
}

prime_status prime_writer_check(const prime_writer *w, const char *path)
{
    if (w == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_writer_check: %s is NULL",
                            w == NULL ? "writer" : "path");
    output o;
    prime_status st = prepare(w, path, &o);
    output_drop(&o);
    return st;
}

prime_status prime_writer_add(prime_writer *w, const char *path, const void *data, size_t size)
{
    if (w == NULL || path == NULL || (data == NULL && size > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_writer_add: %s is NULL",
                            w == NULL ? "writer" : path == NULL ? "path" : "data");
    if (w->committed)
        return prime__error(PRIME_E_STATE, "prime_writer_add: the writer is committed");
    if (!prime__grow((void **)&w->out, &w->out_cap, w->nout + 1, sizeof *w->out))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    output o;
    prime_status st = prepare(w, path, &o);
    if (st != PRIME_OK)
        goto fail;
    char *dir = dir_of(o.target);
    if (dir == NULL)
        goto oom;

    if (o.in_place) {
        prime__free(dir);
        o.data = prime__malloc(size ? size : 1);
        if (o.data == NULL)
            goto oom;
        if (size > 0)
            memcpy(o.data, data, size);
        o.size = size;
        w->out[w->nout++] = o;
        return PRIME_OK;
    }

    /* the temporary file: DIR/.prime-RANDOM.tmp */
    size_t dl = strlen(dir);
    o.temp = prime__malloc(dl + 32);
    if (o.temp == NULL) {
        prime__free(dir);
        goto oom;
    }
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        char name[17];
        random_name(name);
        snprintf(o.temp, dl + 32, "%s/.prime-%s.tmp", dir, name);
        o.slot = slot_take(o.temp);
        fd = open(o.temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0666);
        if (fd < 0) {
            int e = errno;
            slot_release(o.slot, o.temp);
            o.slot = -1;
            if (e != EEXIST) {
                st = prime__error(PRIME_E_IO, "%s: cannot create a file in %s: %s", path, dir,
                                  strerror(e));
                break;
            }
        }
    }
    o.dir = dir; /* freed with the output */
    if (fd < 0) {
        if (st == PRIME_OK)
            st = prime__error(PRIME_E_IO, "%s: cannot create a temporary file", path);
        prime__free(o.temp);
        o.temp = NULL;
        goto fail;
    }
    st = write_all(fd, data, size, path);
    if (st == PRIME_OK && !sync_ok(fd))
        st = prime__error(PRIME_E_IO, "%s: cannot write: %s", path, strerror(errno));
    if (close(fd) != 0 && st == PRIME_OK)
        st = prime__error(PRIME_E_IO, "%s: cannot write: %s", path, strerror(errno));
    if (st != PRIME_OK)
        goto fail; /* output_drop unlinks the temporary file */
    w->out[w->nout++] = o;
    return PRIME_OK;
oom:
    st = prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
fail:
    output_drop(&o);
    return st;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

prime_status prime_writer_commit(prime_writer *w)
{
    if (w == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_writer_commit: writer is NULL");
    if (w->committed)
        return prime__error(PRIME_E_STATE, "prime_writer_commit: the writer is committed");
    w->committed = true;
    prime_status st = PRIME_OK;
    /* in place first: a device that fails (a full disk, a closed pipe)
       leaves every file as it was */
    for (size_t k = 0; k < w->nout && st == PRIME_OK; k++) {
        output *o = &w->out[k];
        if (!o->in_place)
            continue;
        int fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY | (o->is_reg ? O_TRUNC : 0) |
                                     (o->exists ? 0 : O_CREAT),
                      0666);
        if (fd < 0) {
            st = prime__error(PRIME_E_IO, "%s: cannot open: %s", o->path, strerror(errno));
            break;
        }
        st = write_all(fd, o->data, o->size, o->path);
        if (close(fd) != 0 && st == PRIME_OK)
            st = prime__error(PRIME_E_IO, "%s: cannot write: %s", o->path, strerror(errno));
        o->done = true;
    }
    /* the renames, and only they, with SIGINT, SIGTERM and SIGHUP held on
       this thread: a signal cannot cut a several-output commit in half, and
       one that comes while an in-place output waits (a FIFO without a
       reader, a full pipe) still stops the program */
    sigset_t hold, old;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    bool held = st == PRIME_OK && pthread_sigmask(SIG_BLOCK, &hold, &old) == 0;
    for (size_t k = 0; k < w->nout && st == PRIME_OK; k++) {
        output *o = &w->out[k];
        if (o->in_place)
            continue;
        if (rename(o->temp, o->target) != 0) {
            st = prime__error(PRIME_E_IO, "%s: cannot write: %s", o->path, strerror(errno));
            break;
        }
        o->done = true;
        slot_release(o->slot, o->temp);
        o->slot = -1;
    }
    if (held) /* a signal that came meanwhile is delivered here */
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st == PRIME_OK)
        for (size_t k = 0; k < w->nout; k++)
            if (!w->out[k].in_place)
                sync_dir(w->out[k].dir);
    /* on failure the temporary files left are removed */
    for (size_t k = 0; k < w->nout; k++) {
        output *o = &w->out[k];
        if (o->temp != NULL && !o->done) {
            slot_release(o->slot, o->temp);
            o->slot = -1;
            unlink(o->temp);
            o->done = true;
        }
    }
    return st;
}

prime_status prime_file_write(const char *path, const void *data, size_t size)
{
    prime_writer *w = NULL;
    prime_status st = prime_writer_create(&w);
    if (st == PRIME_OK)
        st = prime_writer_add(w, path, data, size);
    if (st == PRIME_OK)
        st = prime_writer_commit(w);
    prime_writer_destroy(w);
    return st;
}

prime_status prime__write_file_atomic(const char *path, const void *data, size_t len)
{
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "no output path given");
    return prime_file_write(path, data, len);
}
