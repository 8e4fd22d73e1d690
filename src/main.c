/* main.c - command line: parse options, load config, run the broker.
 *
 * Owns argv handling and the mapping of failures to sysexits(3) codes. It
 * must not contain broker logic; everything past a loaded config belongs to
 * core/broker.c.
 */
#include "iotcored/broker.h"
#include "iotcored/buf.h"
#include "iotcored/config.h"
#include "iotcored/version.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#define DEFAULT_CONFIG "/etc/iotcored/iotcored.conf"

static void usage(FILE *f) {
    fprintf(f,
            "usage: iotcored [-c FILE] [-t] [--dump-config] [--version]\n"
            "  -c FILE        config file (default " DEFAULT_CONFIG ")\n"
            "  -t             check the config file and exit\n"
            "  --dump-config  print the effective config and exit\n"
            "  --version      print the version and exit\n");
}

int main(int argc, char **argv) {
    const char *path = DEFAULT_CONFIG;
    bool is_test = false, is_dump = false;
    char err[1024];
    ic_config_t cfg;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "-t") == 0) {
            is_test = true;
        } else if (strcmp(argv[i], "--dump-config") == 0) {
            is_dump = true;
        } else if (strcmp(argv[i], "--version") == 0 ||
                   strcmp(argv[i], "-v") == 0) {
            printf("iotcored %s\n", IC_VERSION);
            return EX_OK;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EX_OK;
        } else {
            fprintf(stderr, "iotcored: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return EX_USAGE;
        }
    }

    ic_config_init(&cfg);
    if (ic_config_load(&cfg, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "iotcored: %s\n", err);
        ic_config_free(&cfg);
        return EX_CONFIG;
    }
    if (is_test || is_dump) {
        if (is_dump) {
            ic_buf_t out;
            ic_buf_init(&out);
            ic_config_dump(&cfg, &out);
            fwrite(out.data, 1, out.len, stdout);
            ic_buf_free(&out);
        }
        if (is_test)
            fprintf(stderr, "iotcored: %s: configuration ok\n", path);
        ic_config_free(&cfg);
        return EX_OK;
    }
    signal(SIGPIPE, SIG_IGN);
    return ic_broker_run(&cfg);
}
