/* main.c - command line: parse options, load config, run the broker.
 *
 * Owns argv handling and the mapping of failures to sysexits(3) codes. It
 * must not contain broker logic; everything past a loaded config belongs to
 * core/broker.c.
 */
#include "iotcored/admin.h"
#include "iotcored/broker.h"
#include "iotcored/buf.h"
#include "iotcored/config.h"
#include "iotcored/control.h"
#include "iotcored/dataplane.h"
#include "iotcored/pki.h"
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
            "  --make-ca      create the local CA and server certificate in\n"
            "                 data_dir if missing, print their paths, exit\n"
            "  --register-cert PEM [STATUS]  register a device certificate\n"
            "                 (ACTIVE unless STATUS), print its ID, exit\n"
            "  --register-ca PEM [VERIFICATION_PEM]  register an ACTIVE CA\n"
            "                 certificate with auto-registration (JITR), print\n"
            "                 its ID, exit\n"
            "  --registration-code  print the CA registration code, exit\n"
            "  --create-thing NAME [CERT_PEM]  create a thing, attach the\n"
            "                 certificate to it, exit\n"
            "  --routes       print the control-plane routes and exit\n"
            "  --data-routes  print the data-plane routes and exit\n"
            "  --version      print the version and exit\n");
}

int main(int argc, char **argv) {
    const char *path = DEFAULT_CONFIG;
    bool is_test = false, is_dump = false, is_make_ca = false, is_ca = false;
    bool is_reg_code = false;
    const char *reg = NULL, *status = NULL, *thing = NULL;
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
        } else if (strcmp(argv[i], "--routes") == 0) {
            ic_control_print_routes();
            return 0;
        } else if (strcmp(argv[i], "--data-routes") == 0) {
            ic_dataplane_print_routes();
            return 0;
        } else if (strcmp(argv[i], "--make-ca") == 0) {
            is_make_ca = true;
        } else if (strcmp(argv[i], "--create-thing") == 0 && i + 1 < argc) {
            thing = argv[++i];
            if (i + 1 < argc && argv[i + 1][0] != '-')
                status = argv[++i]; /* the certificate to attach */
        } else if ((strcmp(argv[i], "--register-cert") == 0 ||
                    strcmp(argv[i], "--register-ca") == 0) &&
                   i + 1 < argc) {
            is_ca = strcmp(argv[i], "--register-ca") == 0;
            reg = argv[++i];
            if (i + 1 < argc && argv[i + 1][0] != '-')
                status = argv[++i]; /* status, or the verification cert */
        } else if (strcmp(argv[i], "--registration-code") == 0) {
            is_reg_code = true;
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
    if (thing != NULL || is_reg_code) {
        int code = thing ? ic_admin_create_thing(&cfg, thing, status)
                         : ic_admin_registration_code(&cfg);
        ic_config_free(&cfg);
        return code;
    }
    if (reg != NULL) {
        int code = ic_admin_register(&cfg, reg, is_ca, status);
        ic_config_free(&cfg);
        return code;
    }
    if (is_make_ca) {
        char endpoint[512];
        ic_pki_paths_t p;
        int rc;
        ic_config_endpoint(&cfg, endpoint, sizeof(endpoint));
        rc = ic_pki_ensure(cfg.data_dir, endpoint, cfg.ca_key_type == IC_KEY_RSA, err,
                           sizeof(err));
        if (rc != 0)
            fprintf(stderr, "iotcored: %s\n", err);
        ic_pki_paths(cfg.data_dir, &p);
        if (rc == 0)
            printf("ca %s\nca_key %s\ncert %s\nkey %s\n", p.ca_cert, p.ca_key,
                   p.cert, p.key);
        ic_config_free(&cfg);
        return rc == 0 ? EX_OK : EX_CANTCREAT;
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
