/* Is compiled GELU's slow state in the pages of libtorch_cpu's Sleef_expf16_u10 or in its
 * instructions? Section 7 of report/mechanisms.md found the calls into it 3-15x slower in some
 * periods, about one DRAM load more per call with everything in L1. Each row times, back to
 * back and several times over: the library's function; exp_copy, its instructions one for one
 * in this file, reading a copy of its 13 constants from this file's pages (checked to give the
 * same bits); and Sleef_sqrtf16_u35, which sits on the same 4 KiB code page and reads no
 * memory. Then the row's page faults, involuntary context switches and the TLB shootdowns cpu0
 * received, and for the code page and each page the function reads a constant from, one chain
 * of dependent loads and the page's physical frame (/proc/self/pagemap, as root):
 *
 *   gcc -O2 -mavx512f -o /tmp/sleef_page_probe experiments/sleef_page_probe.c -ldl
 *   LIB=$(ENV/bin/python -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib
 *   LD_LIBRARY_PATH=$LIB taskset -c 0 /tmp/sleef_page_probe $LIB/libtorch_cpu.so 2
 *
 * The slow moments come mostly in a process's first seconds, so many short processes see
 * more of them than a long one; evicting the library from the page cache before a process
 * (posix_fadvise DONTNEED) gives its pages new frames:
 *
 *   for i in $(seq 100); do for arm in evict keep; do
 *     [ $arm = evict ] && python3 -c "import os; os.posix_fadvise(os.open('$LIB/libtorch_cpu.so',
 *       os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)"
 *     LD_LIBRARY_PATH=$LIB taskset -c 0 /tmp/sleef_page_probe $LIB/libtorch_cpu.so 2 |
 *       tail -n +2 | sed "s/^/$i $arm /"
 *   done; done > trials.txt
 *
 * Columns: seconds; ALTERNATIONS triples "exp,copy,sqrt" (us per 262,144 floats, one call per
 * 16 floats, best of 3 x PASSES passes); minor and major faults, involuntary context switches,
 * TLB shootdowns; then "ns-per-load@frame" for the code page and each constant page (frame in
 * hex, 0 when unreadable). PAUSE_MS (default 200) between rows. The addresses are torch
 * 2.13.0's (objdump -d --start-address=0x116c3da0), checked at start.
 */
#include <immintrin.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define N 262144
#define ALTERNATIONS 6
#define PASSES 5
typedef __m512 (*vf)(__m512);

static const long EXP_AT = 0x116c3da0, SQRT_AT = 0x116c3ea0;
/* one address per page that Sleef_expf16_u10 reads a constant from (first constant first) */
#define PAGES 8
static const long READS_AT[PAGES] = {0x12116478, 0x12b3a044, 0x129665d8, 0x11e584a8,
    0x11ad7dbc, 0x11abad2c, 0x11b0b3dc, 0x11afbc28};

/* Sleef_expf16_u10's instructions, one for one, in this file, reading its 13 constants from
 * this file's own table (filled from the library's at start): the same work on other pages */
#define K 13
static const long CONSTANTS_AT[K] = {0x12116478, 0x12b3a044, 0x129665d8, 0x129665dc,
    0x12b3a048, 0x12b3a04c, 0x12b3a050, 0x11e584a8, 0x11ad7dbc, 0x12b3a054, 0x11abad2c,
    0x11b0b3dc, 0x11afbc28};
float exp_copy_c[K] __attribute__((aligned(64)));
__m512 exp_copy(__m512);
__asm__(".text\n.p2align 6\nexp_copy:\n"
    "vmulps exp_copy_c+0(%rip){1to16}, %zmm0, %zmm1\n"
    "vmovaps %zmm0, %zmm4\n"
    "mov $0x7f, %eax\n"
    "vbroadcastss exp_copy_c+4(%rip), %zmm3\n"
    "vcvtps2dq %zmm1, %zmm1\n"
    "vcvtdq2ps %zmm1, %zmm2\n"
    "vmovaps %zmm2, %zmm0\n"
    "vfmadd132ps exp_copy_c+8(%rip){1to16}, %zmm4, %zmm0\n"
    "vfmadd132ps exp_copy_c+12(%rip){1to16}, %zmm0, %zmm2\n"
    "vmulps %zmm2, %zmm2, %zmm0\n"
    "vfmadd213ps exp_copy_c+16(%rip){1to16}, %zmm2, %zmm3\n"
    "vfmadd213ps exp_copy_c+20(%rip){1to16}, %zmm2, %zmm3\n"
    "vfmadd213ps exp_copy_c+24(%rip){1to16}, %zmm2, %zmm3\n"
    "vfmadd213ps exp_copy_c+28(%rip){1to16}, %zmm2, %zmm3\n"
    "vfmadd213ps exp_copy_c+32(%rip){1to16}, %zmm2, %zmm3\n"
    "vfmadd132ps %zmm3, %zmm2, %zmm0\n"
    "vpbroadcastd %eax, %zmm3\n"
    "vpsrad $1, %zmm1, %zmm2\n"
    "vpaddd %zmm3, %zmm1, %zmm1\n"
    "vpsubd %zmm2, %zmm1, %zmm1\n"
    "vpaddd %zmm3, %zmm2, %zmm2\n"
    "vbroadcastss exp_copy_c+36(%rip), %zmm3\n"
    "vpslld $23, %zmm2, %zmm2\n"
    "vpslld $23, %zmm1, %zmm1\n"
    "vcmpltps %zmm3, %zmm4, %k1\n"
    "vpxor %xmm3, %xmm3, %xmm3\n"
    "vaddps exp_copy_c+40(%rip){1to16}, %zmm0, %zmm0\n"
    "vmulps %zmm2, %zmm0, %zmm0\n"
    "vmulps %zmm1, %zmm0, %zmm0\n"
    "vbroadcastss exp_copy_c+44(%rip), %zmm1\n"
    "vpandd %zmm3, %zmm3, %zmm0{%k1}\n"
    "vcmpltps %zmm4, %zmm1, %k1\n"
    "vbroadcastss exp_copy_c+48(%rip), %zmm0{%k1}\n"
    "ret\n");

static float *in, *out;
static volatile vf fn;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void loop(void) {
    vf f = fn;
    for (int i = 0; i < N; i += 16) _mm512_storeu_ps(out + i, f(_mm512_loadu_ps(in + i)));
}

static double best_call(vf f) {
    fn = f;
    double b = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        for (int j = 0; j < PASSES; j++) loop();
        double t = (now() - t0) / PASSES;
        if (t < b) b = t;
    }
    return b * 1e6;
}

/* ns per load of a chain in which each load's address depends on the one before */
static double load_ns(const char *p) {
    double b = 1e9;
    for (int r = 0; r < 3; r++) {
        uintptr_t v = 0;
        double t0 = now();
        for (int i = 0; i < 4096; i++) {
            uintptr_t z = v;
            __asm__("and $0, %0" : "+r"(z));  /* 0, but the compiler cannot know: a chain */
            v = *(volatile const uint32_t *)(p + z);
        }
        double t = (now() - t0) / 4096;
        if (t < b) b = t;
        if (v == 0x12345678) puts("");
    }
    return b * 1e9;
}

/* TLB shootdowns received by cpu0 so far (/proc/interrupts), -1 when unreadable */
static long tlb_shootdowns(void) {
    char line[512];
    long n = -1;
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "TLB shootdowns")) { sscanf(strchr(line, ':') + 1, "%ld", &n); break; }
    fclose(f);
    return n;
}

static int pagemap = -1;
static unsigned long frame(const void *p) {
    uint64_t e = 0;
    long page = (long)((uintptr_t)p / 4096);
    if (pread(pagemap, &e, 8, page * 8) != 8) return 0;
    return (e >> 63) ? (unsigned long)(e & ((1ULL << 55) - 1)) : 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s LIBTORCH_CPU SECONDS [PAUSE_MS]\n", argv[0]); return 2; }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    char *exp_fn = (char *)dlsym(lib, "Sleef_expf16_u10");
    char *base = exp_fn - EXP_AT;
    if ((char *)dlsym(lib, "Sleef_sqrtf16_u35") != base + SQRT_AT
        || fabsf(*(const float *)(base + READS_AT[0]) - 1.442695f) > 1e-5f) {
        fprintf(stderr, "not torch 2.13.0's libtorch_cpu.so\n");
        return 1;
    }
    pagemap = open("/proc/self/pagemap", O_RDONLY);
    in = aligned_alloc(64, N * 4);
    out = aligned_alloc(64, N * 4);
    for (int i = 0; i < N; i++) in[i] = (float)(i % 1000) / 1000.0f - 0.5f;
    for (int k = 0; k < K; k++) exp_copy_c[k] = *(const float *)(base + CONSTANTS_AT[k]);
    for (int i = 0; i < N; i += 16) {  /* the copy computes what the library's function does */
        __m512 x = _mm512_loadu_ps(in + i);
        if (_mm512_cmpneq_ps_mask(((vf)exp_fn)(x), exp_copy(x))) {
            fprintf(stderr, "exp_copy differs from Sleef_expf16_u10\n");
            return 1;
        }
    }
    printf("seconds exp,copy,sqrt x %d minflt majflt nivcsw tlb code", ALTERNATIONS);
    for (int k = 0; k < PAGES; k++) printf(" c%d", k);
    printf("\n");
    long pause = argc > 3 ? atol(argv[3]) : 200;
    double start = now(), end = start + atof(argv[2]);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    long tlb0 = tlb_shootdowns();
    do {
        printf("%.1f", now() - start);
        /* the library's exp, its copy and sqrt back to back, a few ms each, several times:
         * a slow moment of 100 ms covers all three */
        for (int a = 0; a < ALTERNATIONS; a++)
            printf(" %.0f,%.0f,%.0f", best_call((vf)exp_fn), best_call(exp_copy),
                   best_call((vf)(base + SQRT_AT)));
        getrusage(RUSAGE_SELF, &r1);
        long tlb1 = tlb_shootdowns();
        printf(" %ld %ld %ld %ld", r1.ru_minflt - r0.ru_minflt, r1.ru_majflt - r0.ru_majflt,
               r1.ru_nivcsw - r0.ru_nivcsw, tlb1 - tlb0);
        r0 = r1;
        tlb0 = tlb1;
        printf(" %.1f@%lx", load_ns(exp_fn), frame(exp_fn));
        for (int k = 0; k < PAGES; k++)
            printf(" %.1f@%lx", load_ns(base + READS_AT[k]), frame(base + READS_AT[k]));
        printf("\n");
        fflush(stdout);
        if (pause) usleep(pause * 1000);
    } while (now() < end);
    return 0;
}
