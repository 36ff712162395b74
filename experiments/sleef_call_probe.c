/* Is the compiled GELU's slow state in Python, in inductor, or in the call into libtorch's
 * Sleef? This loop calls Sleef_expf16_u10 of libtorch_cpu.so once per 16 floats, as
 * inductor's compiled exp (and GELU, through the erf it inlines) does, beside loops that differ
 * from it in one way each, every row within the same second, on one core, with no Python:
 *
 *   gcc -O2 -mavx512f -mavx512dq -o /tmp/sleef_call_probe experiments/sleef_call_probe.c -ldl -lm
 *   LIB=$(ENV/bin/python -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib
 *   LD_LIBRARY_PATH=$LIB taskset -c 0 /tmp/sleef_call_probe $LIB/libtorch_cpu.so 120
 *
 * Columns (microseconds per 262,144 floats, best of 3 x 20 passes): seconds, inline (13
 * multiply-adds in the loop), direct (the same in a function called per 16 floats), indirect
 * (called through a pointer, as a PLT call is), many pages (its 13 constants on 13 pages of
 * the heap), sleef (Sleef_expf16_u10 through a pointer), sleef constants (the multiply-adds
 * reading the 13 constants Sleef_expf16_u10 reads, where it reads them: libtorch's .rodata;
 * their offsets are torch 2.13.0's, checked against log2(e) at start), then one function per
 * kind of instruction Sleef_expf16_u10 uses beyond multiply-adds: float<->int conversions,
 * a compare into a mask register and a masked move, a broadcast from a general register,
 * integer shifts.
 */
#include <immintrin.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 262144
#define K 13
typedef __m512 (*vf)(__m512);

/* Sleef_expf16_u10 at 0x116c3da0 in torch 2.13.0's libtorch_cpu.so, and the addresses of
 * the constants its broadcasts read (objdump -d --start-address=0x116c3da0) */
static const long SLEEF_AT = 0x116c3da0;
static const long CONSTANTS_AT[K] = {0x12116478, 0x12b3a044, 0x129665d8, 0x129665dc,
    0x12b3a048, 0x12b3a04c, 0x12b3a050, 0x11e584a8, 0x11ad7dbc, 0x12b3a054, 0x11abad2c,
    0x11b0b3dc, 0x11afbc28};
static const float *heap_c[K], *lib_c[K];
static float near_c[K];
static float *in, *out;

#define POLY(C) { __m512 y = x; \
    for (int k = 0; k < K; k++) { y = _mm512_fmadd_ps(y, _mm512_set1_ps(0.5f), _mm512_set1_ps(C)); } \
    return y; }
__attribute__((noinline)) static __m512 near(__m512 x) POLY(near_c[k])
__attribute__((noinline)) static __m512 many_pages(__m512 x) POLY(*heap_c[k])
__attribute__((noinline)) static __m512 sleef_constants(__m512 x) POLY(*lib_c[k])

__attribute__((noinline)) static __m512 convert(__m512 x) {
    __m512i i = _mm512_cvtps_epi32(_mm512_mul_ps(x, _mm512_set1_ps(1.4427f)));
    return _mm512_add_ps(_mm512_cvtepi32_ps(i), x);
}
__attribute__((noinline)) static __m512 mask(__m512 x) {
    __mmask16 m = _mm512_cmp_ps_mask(x, _mm512_set1_ps(0.1f), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(x, m, _mm512_set1_ps(2.0f));
}
__attribute__((noinline)) static __m512 from_register(__m512 x) {
    int v;
    __asm__ volatile("mov $0x7f, %0" : "=r"(v));
    return _mm512_add_ps(x, _mm512_castsi512_ps(_mm512_set1_epi32(v)));
}
__attribute__((noinline)) static __m512 shifts(__m512 x) {
    __m512i i = _mm512_castps_si512(x);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_srai_epi32(i, 1), 23));
}

#define POINTERS 8
static volatile vf through_pointer[POINTERS];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void inline_loop(void) {
    for (int i = 0; i < N; i += 16) {
        __m512 x = _mm512_loadu_ps(in + i), y = x;
        for (int k = 0; k < K; k++)
            y = _mm512_fmadd_ps(y, _mm512_set1_ps(0.5f), _mm512_set1_ps(near_c[k]));
        _mm512_storeu_ps(out + i, y);
    }
}

static void direct_loop(void) {
    for (int i = 0; i < N; i += 16) _mm512_storeu_ps(out + i, near(_mm512_loadu_ps(in + i)));
}

static int which;
static void pointer_loop(void) {
    vf f = through_pointer[which];
    for (int i = 0; i < N; i += 16) _mm512_storeu_ps(out + i, f(_mm512_loadu_ps(in + i)));
}

static double best(void (*loop)(void)) {
    double b = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        for (int j = 0; j < 20; j++) loop();
        double t = (now() - t0) / 20;
        if (t < b) b = t;
    }
    return b * 1e6;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s LIBTORCH_CPU SECONDS\n", argv[0]); return 2; }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    char *sleef = (char *)dlsym(lib, "Sleef_expf16_u10");
    float *heap = aligned_alloc(4096, K * 4096);
    for (int k = 0; k < K; k++) {
        lib_c[k] = (const float *)(sleef - SLEEF_AT + CONSTANTS_AT[k]);
        heap[k * 1024 + 3 * k] = *lib_c[k];
        heap_c[k] = heap + k * 1024 + 3 * k;
        near_c[k] = *lib_c[k];
    }
    if (fabsf(*lib_c[0] - 1.442695f) > 1e-5f) {
        fprintf(stderr, "not torch 2.13.0's libtorch_cpu: its first constant reads %g\n", *lib_c[0]);
        return 1;
    }
    through_pointer[0] = near;
    through_pointer[1] = many_pages;
    through_pointer[2] = (vf)sleef;
    through_pointer[3] = sleef_constants;
    through_pointer[4] = convert;
    through_pointer[5] = mask;
    through_pointer[6] = from_register;
    through_pointer[7] = shifts;
    in = aligned_alloc(64, N * 4);
    out = aligned_alloc(64, N * 4);
    for (int i = 0; i < N; i++) in[i] = (float)(i % 1000) / 1000.0f - 0.5f;
    printf("seconds inline direct indirect many_pages sleef sleef_constants convert mask "
           "from_register shifts\n");
    double start = now(), end = start + atof(argv[2]);
    while (now() < end) {
        printf("%.1f %.1f %.1f", now() - start, best(inline_loop), best(direct_loop));
        for (which = 0; which < POINTERS; which++) printf(" %.1f", best(pointer_loop));
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
