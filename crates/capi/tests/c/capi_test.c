/* The C API as a C program uses it, run by tests/c_api.rs plain, under AddressSanitizer and
 * UndefinedBehaviorSanitizer, under Valgrind, and linked statically. Every CHECK that fails
 * prints its line and makes the program exit 1.
 *
 *   capi_test basic OFFICE365 AD_DEFAULT ENTRA
 *   capi_test misuse OFFICE365 DAMAGED
 *   capi_test threads OFFICE365
 *   capi_test signed SIGNED PUBLIC_KEY OTHER_PUBLIC_KEY UNSIGNED
 *   capi_test gate SETTINGS        (prints one line per decision)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyc.h"

static int failures = 0;
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "capi_test.c:%d: CHECK failed: %s\n", __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static policyc_validator *open_or_die(const char *path) {
    policyc_error *error = NULL;
    policyc_validator *v = policyc_validator_open(path, &error);
    if (v == NULL) {
        fprintf(stderr, "open %s: %s\n", path, policyc_error_message(error));
        policyc_error_free(error);
        exit(2);
    }
    CHECK(error == NULL);
    return v;
}

static policyc_verdict *check(const policyc_validator *v, const char *password,
                              const policyc_user *user) {
    return policyc_check(v, password, strlen(password), user);
}

static int basic(const char *office365, const char *ad_default, const char *entra) {
    printf("%s\n", policyc_version());
    policyc_validator *v = open_or_die(office365);

    policyc_verdict *r = check(v, "Tr0ub4dor&3", NULL);
    CHECK(policyc_verdict_compliant(r));
    CHECK(policyc_verdict_violation_count(r) == 0);
    CHECK(policyc_verdict_error(r) == NULL);
    CHECK(policyc_verdict_violation_rule(r, 0) == NULL);
    policyc_verdict_free(r);

    r = check(v, "short", NULL);
    CHECK(!policyc_verdict_compliant(r));
    CHECK(policyc_verdict_violation_count(r) == 2);
    CHECK(strcmp(policyc_verdict_violation_rule(r, 0), "length") == 0);
    CHECK(strcmp(policyc_verdict_violation_rule(r, 1), "classes") == 0);
    CHECK(policyc_verdict_violation_severity(r, 0) == POLICYC_SEVERITY_ENFORCE);
    printf("short: %s | %s\n", policyc_verdict_violation_message(r, 0),
           policyc_verdict_violation_message(r, 1));
    CHECK(policyc_verdict_violation_message(r, 2) == NULL);
    policyc_verdict_free(r);

    /* A password is length-delimited: an embedded NUL is a character, not the end. */
    const char with_nul[] = "Tr0ub4dor&3\0xyz";
    r = policyc_check(v, with_nul, sizeof with_nul - 1, NULL);
    CHECK(!policyc_verdict_compliant(r));
    CHECK(strcmp(policyc_verdict_violation_rule(r, 0), "charset") == 0);
    policyc_verdict_free(r);

    policyc_error *error = (policyc_error *)1;
    char *json = policyc_explain_json(v, "short", 5, NULL, &error);
    CHECK(json != NULL && error == NULL);
    CHECK(strncmp(json, "{\"schema\":1,\"policy\":\"office365\",\"compliant\":false,", 51) == 0);
    CHECK(strstr(json, "short") == NULL); /* never the password */
    printf("explain: %.80s...\n", json);
    policyc_string_free(json);
    policyc_validator_free(v);

    /* User attributes: ad-default refuses a password holding the account name. */
    v = open_or_die(ad_default);
    policyc_user *user = policyc_user_new();
    CHECK(policyc_user_add(user, POLICYC_ATTRIBUTE_ACCOUNT_NAME, "jdoe", 4, NULL) == POLICYC_OK);
    CHECK(policyc_user_add(user, POLICYC_ATTRIBUTE_DISPLAY_NAME, "John Doe", 8, NULL) == POLICYC_OK);
    CHECK(policyc_user_add(user, POLICYC_ATTRIBUTE_MEMBER_OF, "CN=Staff,DC=example,DC=com", 26, NULL) == POLICYC_OK);
    r = check(v, "Xjdoe-2024!", user);
    CHECK(!policyc_verdict_compliant(r));
    int names = 0;
    for (size_t i = 0; i < policyc_verdict_violation_count(r); i++)
        names |= strcmp(policyc_verdict_violation_rule(r, i), "names") == 0;
    CHECK(names);
    printf("ad-default with a user: %s\n", policyc_verdict_violation_message(r, 0));
    policyc_verdict_free(r);
    r = check(v, "Xjdoe-2024!", NULL);
    CHECK(policyc_verdict_compliant(r));
    policyc_verdict_free(r);
    policyc_user_free(user);
    policyc_validator_free(v);

    /* Entra's banned-word scoring. */
    v = open_or_die(entra);
    r = check(v, "Password123!", NULL);
    CHECK(!policyc_verdict_compliant(r));
    printf("entra: %s: %s\n", policyc_verdict_violation_rule(r, 0),
           policyc_verdict_violation_message(r, 0));
    policyc_verdict_free(r);
    r = check(v, "correct-horse-battery-staple-9", NULL);
    CHECK(policyc_verdict_compliant(r));
    policyc_verdict_free(r);
    policyc_validator_free(v);
    return failures;
}

static int misuse(const char *office365, const char *damaged) {
    policyc_error *error = NULL;
    /* Files that cannot be used: each an error with a code and a message, never a crash. */
    CHECK(policyc_validator_open("/nonexistent/p.policyc", &error) == NULL);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_FILE);
    printf("missing: %s\n", policyc_error_message(error));
    policyc_error_free(error);
    CHECK(policyc_validator_open(damaged, &error) == NULL);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_POLICY);
    printf("damaged: %s\n", policyc_error_message(error));
    policyc_error_free(error);
    CHECK(policyc_validator_open(NULL, &error) == NULL);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_ARGUMENT);
    policyc_error_free(error);
    CHECK(policyc_validator_open(NULL, NULL) == NULL); /* no error wanted: none given */
    CHECK(policyc_validator_open_bytes((const uint8_t *)"POLICYC", 7, &error) == NULL);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_POLICY);
    policyc_error_free(error);
    CHECK(policyc_validator_open_bytes(NULL, 5, &error) == NULL);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_ARGUMENT);
    policyc_error_free(error);

    policyc_validator *v = open_or_die(office365);
    /* Invalid UTF-8, NULL with a length, a NULL validator: refused, with the reason. */
    policyc_verdict *r = policyc_check(v, "\xff\xfe" "abcdefgh", 10, NULL);
    CHECK(!policyc_verdict_compliant(r));
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_UTF8);
    CHECK(strcmp(policyc_verdict_violation_rule(r, 0), "input_invalid") == 0);
    printf("invalid utf-8: %s\n", policyc_verdict_violation_message(r, 0));
    policyc_verdict_free(r);
    r = policyc_check(v, NULL, 8, NULL);
    CHECK(!policyc_verdict_compliant(r));
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    policyc_verdict_free(r);
    r = policyc_check(NULL, "Tr0ub4dor&3", 11, NULL);
    CHECK(!policyc_verdict_compliant(r));
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    policyc_verdict_free(r);
    r = policyc_check(v, "Tr0ub4dor&3", SIZE_MAX, NULL); /* a length no buffer has */
    CHECK(!policyc_verdict_compliant(r));
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    policyc_verdict_free(r);
    r = policyc_check(v, NULL, 0, NULL); /* the empty password */
    CHECK(!policyc_verdict_compliant(r) && policyc_verdict_error(r) == NULL);
    policyc_verdict_free(r);
    /* A handle of another kind is refused as the kind asked for. */
    r = policyc_check((const policyc_validator *)r, "x", 1, NULL);
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    CHECK(policyc_verdict_compliant((const policyc_verdict *)v) == false);
    policyc_verdict_free(r);

    /* User attributes: an unknown attribute, invalid UTF-8, a NULL user. */
    policyc_user *user = policyc_user_new();
    CHECK(policyc_user_add(user, 99, "x", 1, &error) == POLICYC_ERROR_ARGUMENT);
    printf("attribute: %s\n", policyc_error_message(error));
    policyc_error_free(error);
    CHECK(policyc_user_add(user, POLICYC_ATTRIBUTE_MAIL, "\xc3", 1, &error) == POLICYC_ERROR_UTF8);
    CHECK(policyc_error_code(error) == POLICYC_ERROR_UTF8);
    policyc_error_free(error);
    CHECK(policyc_user_add(NULL, POLICYC_ATTRIBUTE_MAIL, "a", 1, NULL) == POLICYC_ERROR_ARGUMENT);
    policyc_user_free(user);
    r = policyc_check(v, "Tr0ub4dor&3", 11, user); /* freed: refused, not read */
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    policyc_verdict_free(r);

    /* Freed twice: refused (said on standard error), not undefined. */
    r = policyc_check(v, "Tr0ub4dor&3", 11, NULL);
    policyc_verdict_free(r);
    policyc_verdict_free(r);
    CHECK(policyc_verdict_violation_count(r) == 0);
    CHECK(policyc_verdict_violation_rule(r, 0) == NULL);
    policyc_validator_free(v);
    policyc_validator_free(v);
    r = policyc_check(v, "Tr0ub4dor&3", 11, NULL);
    CHECK(policyc_error_code(policyc_verdict_error(r)) == POLICYC_ERROR_ARGUMENT);
    policyc_verdict_free(r);
    char not_ours[] = "not a string of the library's";
    policyc_string_free(not_ours);
    policyc_error_free((policyc_error *)not_ours);
    policyc_verdict_free(NULL);
    policyc_validator_free(NULL);
    policyc_string_free(NULL);
    return failures;
}

/* A signed policy: used with its key and a serial it meets; refused with another key, a higher
 * minimum serial, or unsigned. */
static int signed_policy(const char *signed_path, const char *key, const char *other_key,
                         const char *unsigned_path) {
    policyc_error *error = NULL;
    policyc_validator *v = policyc_validator_open_signed(signed_path, key, 5, &error);
    CHECK(v != NULL && error == NULL);
    policyc_validator_free(v);
    struct {
        const char *path, *key;
        uint64_t min_serial;
    } refused[] = {{signed_path, key, 6}, {signed_path, other_key, 0}, {unsigned_path, key, 0}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        v = policyc_validator_open_signed(refused[i].path, refused[i].key, refused[i].min_serial, &error);
        CHECK(v == NULL);
        CHECK(policyc_error_code(error) == POLICYC_ERROR_TRUST);
        printf("refused: %s\n", policyc_error_message(error));
        policyc_error_free(error);
    }
    return failures;
}

struct job {
    const policyc_validator *v;
    int compliant;
};

static void *worker(void *arg) {
    struct job *job = arg;
    const char *passwords[] = {"Tr0ub4dor&3", "short", "password", "Correct-Horse-9"};
    for (int i = 0; i < 20000; i++) {
        const char *p = passwords[i % 4];
        policyc_verdict *r = policyc_check(job->v, p, strlen(p), NULL);
        job->compliant += policyc_verdict_compliant(r);
        policyc_verdict_free(r);
    }
    return NULL;
}

static int threads(const char *office365) {
    policyc_validator *v = open_or_die(office365);
    pthread_t t[4];
    struct job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){v, 0};
        CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].compliant == 10000);
    }
    policyc_validator_free(v);
    return failures;
}

/* One decision per line of standard input (`ACCOUNT PASSWORD`): prints the outcome, the rules
 * and the message. */
static int gate(const char *settings) {
    policyc_error *error = NULL;
    policyc_gate *g = policyc_gate_open(settings, &error);
    if (g == NULL) {
        printf("open: %d %s\n", (int)policyc_error_code(error), policyc_error_message(error));
        policyc_error_free(error);
        return failures;
    }
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "wait") == 0) { /* the gate looks at its policy file once a second */
            struct timespec second = {1, 100000000};
            nanosleep(&second, NULL);
            continue;
        }
        char *space = strchr(line, ' ');
        if (space == NULL)
            continue;
        *space = 0;
        const char *password = space + 1;
        policyc_user *user = policyc_user_new();
        policyc_user_add(user, POLICYC_ATTRIBUTE_ACCOUNT_NAME, line, strlen(line), NULL);
        policyc_decision *d = policyc_gate_check(g, password, strlen(password), user, line);
        printf("%s %s %s", line, policyc_decision_accepted(d) ? "yes" : "no",
               policyc_decision_outcome(d));
        for (size_t i = 0; i < policyc_decision_rule_count(d); i++)
            printf(" %s", policyc_decision_rule(d, i));
        printf(" | %s", policyc_decision_message(d));
        if (policyc_decision_problem(d))
            printf(" | problem: %s", policyc_decision_problem(d));
        printf("\n");
        policyc_decision_free(d);
        policyc_user_free(user);
    }
    policyc_gate_free(g);
    return failures;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "basic") == 0)
        return basic(argv[2], argv[3], argv[4]) != 0;
    if (argc == 4 && strcmp(argv[1], "misuse") == 0)
        return misuse(argv[2], argv[3]) != 0;
    if (argc == 6 && strcmp(argv[1], "signed") == 0)
        return signed_policy(argv[2], argv[3], argv[4], argv[5]) != 0;
    if (argc == 3 && strcmp(argv[1], "threads") == 0)
        return threads(argv[2]) != 0;
    if (argc == 3 && strcmp(argv[1], "gate") == 0)
        return gate(argv[2]) != 0;
    fprintf(stderr, "usage: capi_test basic|misuse|threads|gate ...\n");
    return 2;
}
