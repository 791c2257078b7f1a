/* The images of `prime tag` and `prime classify`: the files of --images (a
 * folder or a list file), their names and their classes (--labels or the
 * parent folder). Files are read through the library's reader. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int strvec_push(strvec *s, char *x)
{
    if (x == NULL)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (nv == NULL) {
            free(x);
            return 0;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return 1;
}

void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    size_t k = la;
    if (la > 0 && a[la - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, b, lb + 1);
    return p;
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return 0;
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
        if (strcasecmp(dot, exts[k]) == 0)
            return 1;
    return 0;
}

/* Collect image files under root/rel (rel = "" at the top), names relative
 * to root. Hidden entries are skipped. */
static int walk_images(const char *root, const char *rel, strvec *out)
{
    char *dir = rel[0] ? join_path(root, rel) : strdup(root);
    if (dir == NULL)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, dir, strerror(errno));
        free(dir);
        return 0;
    }
    int ok = 1;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *r = rel[0] ? join_path(rel, e->d_name) : strdup(e->d_name);
        char *full = r ? join_path(root, r) : NULL;
        struct stat st;
        if (r == NULL || full == NULL) {
            ok = 0;
        } else if (stat(full, &st) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, full, strerror(errno));
            ok = 0;
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk_images(root, r, out);
        } else if (S_ISREG(st.st_mode) && has_image_ext(e->d_name)) {
            ok = strvec_push(out, r);
            r = NULL;
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Calls line(ctx, text) for each line of data (LF or CRLF ends it; a last
 * line without one counts). Stops at the first 0. */
static int each_line(char *data, size_t size, int (*line)(void *, char *), void *ctx)
{
    char *p = data, *end = data + size;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl != NULL ? nl : end;
        char *e = stop;
        while (e > p && e[-1] == '\r')
            e--;
        *e = '\0';
        if (!line(ctx, p))
            return 0;
        p = stop + 1;
    }
    return 1;
}

static int read_text(const char *path, char **data, size_t *size)
{
    void *d = NULL;
    uint64_t n = 0;
    prime_status st = prime_file_read(path, 0, &d, &n);
    if (st != PRIME_OK)
        return lib_error(st), 0;
    if (memchr(d, '\0', (size_t)n) != NULL) {
        prime_file_free(d);
        return fail("%s: a NUL byte: not a text file", path), 0;
    }
    *data = d;
    *size = (size_t)n;
    return 1;
}

static int push_name(void *ctx, char *line)
{
    return line[0] == '\0' || strvec_push(ctx, strdup(line));
}

int read_lines(const char *path, strvec *out)
{
    char *data;
    size_t size;
    if (!read_text(path, &data, &size))
        return 0;
    size_t bom = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    int ok = each_line(data + bom, size - bom, push_name, out);
    prime_file_free(data);
    if (!ok)
        return fail("%s: out of memory", path), 0;
    if (out->n == 0)
        return fail("%s: no names in the file", path), 0;
    if (out->n >= UINT32_MAX)
        return fail("%s: too many lines", path), 0;
    return 1;
}

typedef struct {
    const char *base;
    strvec *paths, *names;
} list_ctx;

/* A list line: one path; relative paths are relative to the list's folder;
 * blank lines and lines starting with # are skipped. */
static int push_listed(void *arg, char *line)
{
    list_ctx *c = arg;
    if (line[0] == '\0' || line[0] == '#')
        return 1;
    return strvec_push(c->names, strdup(line)) &&
           strvec_push(c->paths, line[0] == '/' || c->base[0] == '\0' ? strdup(line)
                                                                       : join_path(c->base, line));
}

/* The class from the parent folder's name of path; NULL after a message. */
static char *folder_class(const char *path)
{
    char *p = strdup(path);
    if (p == NULL)
        return NULL;
    char *s = strrchr(p, '/');
    if (s != NULL)
        *s = '\0';
    while ((s = strrchr(p, '/')) != NULL && s[1] == '\0')
        *s = '\0';
    const char *folder = s != NULL ? s + 1 : (strrchr(path, '/') ? p : ".");
    char cwd[4096];
    if (folder[0] == '\0' || strcmp(folder, ".") == 0 || strcmp(folder, "..") == 0) {
        folder = getcwd(cwd, sizeof cwd) && strrchr(cwd, '/') ? strrchr(cwd, '/') + 1 : "";
        if (folder[0] == '\0') {
            fail("%s: no parent folder to take a class from; give --labels", path);
            free(p);
            return NULL;
        }
    }
    char *r = strdup(folder);
    free(p);
    return r;
}

int collect_images(const char *images, const char *labels_path, strvec *paths, strvec *names,
                   strvec *classes)
{
    int ok = 1;
    struct stat st_in;
    if (stat(images, &st_in) != 0)
        return fail("%s: %s", images, strerror(errno)), 0;
    if (S_ISDIR(st_in.st_mode)) {
        ok = walk_images(images, "", names);
        if (ok && names->n > 1)
            qsort(names->v, names->n, sizeof *names->v, cmp_str);
        for (size_t i = 0; ok && i < names->n; i++)
            ok = strvec_push(paths, join_path(images, names->v[i]));
    } else {
        char *data, *base = strdup(images), *slash = base ? strrchr(base, '/') : NULL;
        size_t size;
        if (base == NULL || !read_text(images, &data, &size)) {
            free(base);
            return 0;
        }
        if (slash != NULL)
            slash[1] = '\0';
        else
            base[0] = '\0';
        list_ctx c = {base, paths, names};
        size_t bom = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        ok = each_line(data + bom, size - bom, push_listed, &c);
        prime_file_free(data);
        free(base);
        if (!ok)
            fail("%s: out of memory", images);
    }
    if (!ok)
        return 0;
    if (names->n == 0)
        return fail("%s: no images (JPEG, PNG, BMP, TGA, GIF) found", images), 0;
    if (names->n > UINT32_MAX - 1)
        return fail("too many images"), 0;
    prime_labels *labels = NULL;
    if (labels_path != NULL) {
        prime_status st = prime_labels_load(labels_path, &labels);
        if (st != PRIME_OK)
            return lib_error(st), 0;
    }
    for (size_t i = 0; ok && i < names->n; i++) {
        if (labels != NULL) {
            const char *cls = prime_labels_find(labels, names->v[i]);
            if (cls == NULL) {
                fail("%s: image %s has no label", labels_path, names->v[i]);
                ok = 0;
            } else {
                ok = strvec_push(classes, strdup(cls));
            }
        } else {
            char *cls = folder_class(paths->v[i]);
            ok = cls != NULL && strvec_push(classes, cls);
        }
    }
    prime_labels_destroy(labels);
    return ok;
}
