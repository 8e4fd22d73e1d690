/* runner.c - runs every unit suite. Select with CK_RUN_SUITE/CK_RUN_CASE,
 * debug with CK_FORK=no; CK_TAP_LOG_FILE_NAME/CK_XML_LOG_FILE_NAME for CI. */
#include "suites.h"

#include <stdlib.h>

int main(void) {
    SRunner *sr = srunner_create(ic_buf_suite());
    int failed;
    srunner_add_suite(sr, ic_error_suite());
    srunner_add_suite(sr, ic_config_suite());
    srunner_add_suite(sr, ic_db_suite());
    srunner_add_suite(sr, ic_log_suite());
    srunner_add_suite(sr, ic_router_suite());
    srunner_add_suite(sr, ic_codec_suite());
    srunner_add_suite(sr, ic_topic_suite());
    srunner_add_suite(sr, ic_trie_suite());
    srunner_add_suite(sr, ic_registry_suite());
    srunner_add_suite(sr, ic_things_suite());
    srunner_add_suite(sr, ic_http_parse_suite());
    srunner_add_suite(sr, ic_sigv4_suite());
    srunner_add_suite(sr, ic_policies_suite());
    srunner_add_suite(sr, ic_policy_suite());
    srunner_add_suite(sr, ic_shadow_doc_suite());
    srunner_add_suite(sr, ic_sql_suite());
    srunner_add_suite(sr, ic_aws_call_suite());
    srunner_add_suite(sr, ic_http_client_suite());
    srunner_add_suite(sr, ic_ws_frame_suite());
    srunner_add_suite(sr, ic_custom_auth_suite());
    srunner_add_suite(sr, ic_str_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
