// The CPU meter both sides of bench-transcode run under (LD_PRELOAD), compiled here at run time:
// a C file in this Swift target would make SwiftPM refuse a mixed-language target.
//
// It attributes to x264 the CPU time of every thread whose start routine lies in libx264 (its
// frame and lookahead threads, summed at thread exit with CLOCK_THREAD_CPUTIME_ID) plus the CPU
// time other threads spend inside the x264 calls libavcodec makes (encoder open, headers, encode,
// close). At exit it writes "thread-ns call-ns threads" to $X264_METER_OUT.
let x264MeterSource = #"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_llong thread_ns, call_ns, threads_started;
static __thread int inside;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static long long cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void thread_ended(void *unused) { (void)unused; atomic_fetch_add(&thread_ns, cpu_now()); }
static void make_key(void) { pthread_key_create(&exit_key, thread_ended); }

struct start { void *(*body)(void *); void *argument; };

static void *x264_thread(void *opaque) {
    struct start start = *(struct start *)opaque;
    free(opaque);
    inside = 1;
    pthread_setspecific(exit_key, (void *)1);
    return start.body(start.argument);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*body)(void *), void *argument) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_create");
    Dl_info info;
    if (dladdr((void *)body, &info) && info.dli_fname && strstr(info.dli_fname, "libx264")) {
        pthread_once(&key_once, make_key);
        struct start *start = malloc(sizeof *start);
        if (start) {
            start->body = body;
            start->argument = argument;
            atomic_fetch_add(&threads_started, 1);
            int result = real(thread, attributes, x264_thread, start);
            if (result != 0) free(start);
            return result;
        }
    }
    return real(thread, attributes, body, argument);
}

#define TIMED(call) do { long long started = cpu_now(); inside = 1; call; inside = 0; atomic_fetch_add(&call_ns, cpu_now() - started); } while (0)

int x264_encoder_encode(void *h, void **nal, int *count, void *in, void *out) {
    static int (*real)(void *, void **, int *, void *, void *);
    if (!real) real = dlsym(RTLD_NEXT, "x264_encoder_encode");
    if (inside) return real(h, nal, count, in, out);
    int result; TIMED(result = real(h, nal, count, in, out)); return result;
}

void *x264_encoder_open_164(void *parameters) {
    static void *(*real)(void *);
    if (!real) real = dlsym(RTLD_NEXT, "x264_encoder_open_164");
    if (inside) return real(parameters);
    void *result; TIMED(result = real(parameters)); return result;
}

int x264_encoder_headers(void *h, void **nal, int *count) {
    static int (*real)(void *, void **, int *);
    if (!real) real = dlsym(RTLD_NEXT, "x264_encoder_headers");
    if (inside) return real(h, nal, count);
    int result; TIMED(result = real(h, nal, count)); return result;
}

void x264_encoder_close(void *h) {
    static void (*real)(void *);
    if (!real) real = dlsym(RTLD_NEXT, "x264_encoder_close");
    if (inside) { real(h); return; }
    TIMED(real(h));
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("X264_METER_OUT");
    if (!path) return;
    FILE *file = fopen(path, "w");
    if (!file) return;
    fprintf(file, "%lld %lld %lld\n", (long long)atomic_load(&thread_ns), (long long)atomic_load(&call_ns),
            (long long)atomic_load(&threads_started));
    fclose(file);
}
"""#
