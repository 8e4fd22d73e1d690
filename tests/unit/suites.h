/* suites.h - every unit suite, one per module (STYLE 3.11). */
#ifndef IOTCORED_TEST_SUITES_H
#define IOTCORED_TEST_SUITES_H

#include <check.h>

Suite *ic_buf_suite(void);
Suite *ic_error_suite(void);
Suite *ic_config_suite(void);
Suite *ic_db_suite(void);
Suite *ic_log_suite(void);
Suite *ic_router_suite(void);
Suite *ic_codec_suite(void);
Suite *ic_topic_suite(void);
Suite *ic_trie_suite(void);
Suite *ic_registry_suite(void);
Suite *ic_things_suite(void);
Suite *ic_http_parse_suite(void);
Suite *ic_sigv4_suite(void);
Suite *ic_policies_suite(void);
Suite *ic_policy_suite(void);
Suite *ic_shadow_doc_suite(void);
Suite *ic_sql_suite(void);
Suite *ic_aws_call_suite(void);
Suite *ic_http_client_suite(void);
Suite *ic_ws_frame_suite(void);
Suite *ic_custom_auth_suite(void);
Suite *ic_str_suite(void);

#endif
