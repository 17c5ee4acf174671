/* Latency of one check through the C API, per call: open the policy, then for each password
 * of the input (one per line on standard input) time policyc_check + policyc_verdict_compliant
 * + policyc_verdict_free, ROUNDS times over the input, and print p50 and p99 in nanoseconds.
 *
 *   capi_bench POLICY ROUNDS < PASSWORDS
 *   capi_bench --gate SETTINGS ROUNDS < PASSWORDS      (policyc_gate_check, audit=none)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policyc.h"

static int by_value(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(int argc, char **argv) {
    int gate = argc == 4 && strcmp(argv[1], "--gate") == 0;
    if (argc != 3 && !gate) {
        fprintf(stderr, "usage: capi_bench [--gate] POLICY|SETTINGS ROUNDS < PASSWORDS\n");
        return 2;
    }
    const char *target = argv[gate ? 2 : 1];
    long rounds = atol(argv[gate ? 3 : 2]);
    size_t cap = 1024, n = 0;
    char **pw = malloc(cap * sizeof *pw);
    size_t *len = malloc(cap * sizeof *len);
    char *line = NULL;
    size_t size = 0;
    ssize_t got;
    while ((got = getline(&line, &size, stdin)) > 0) {
        if (line[got - 1] == '\n')
            line[--got] = 0;
        if (n == cap) {
            cap *= 2;
            pw = realloc(pw, cap * sizeof *pw);
            len = realloc(len, cap * sizeof *len);
        }
        pw[n] = strdup(line);
        len[n++] = (size_t)got;
    }
    free(line);
    policyc_error *error = NULL;
    policyc_validator *v = NULL;
    policyc_gate *g = NULL;
    if (gate)
        g = policyc_gate_open(target, &error);
    else
        v = policyc_validator_open(target, &error);
    if (error) {
        fprintf(stderr, "%s\n", policyc_error_message(error));
        return 2;
    }
    long total = rounds * (long)n, k = 0, accepted = 0;
    long *ns = malloc((size_t)total * sizeof *ns);
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            long t0 = now_ns();
            if (gate) {
                policyc_decision *d = policyc_gate_check(g, pw[i], len[i], NULL, "bench");
                accepted += policyc_decision_accepted(d);
                policyc_decision_free(d);
            } else {
                policyc_verdict *x = policyc_check(v, pw[i], len[i], NULL);
                accepted += policyc_verdict_compliant(x);
                policyc_verdict_free(x);
            }
            ns[k++] = now_ns() - t0;
        }
    }
    qsort(ns, (size_t)total, sizeof *ns, by_value);
    printf("checks %ld p50_ns %ld p99_ns %ld accepted %ld\n", total, ns[total / 2],
           ns[total * 99 / 100], accepted);
    for (size_t i = 0; i < n; i++)
        free(pw[i]);
    free(pw);
    free(len);
    free(ns);
    policyc_validator_free(v);
    policyc_gate_free(g);
    return 0;
}
