/*
 * test_enroll_conf — what `zond-agent --enroll` writes into a config
 * (enroll_conf_merge): [uplink] endpoint, server_key and operator_key set
 * in place, added where missing, every other line kept; and the result
 * loads with the agent's own option table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config.h"
#include "enroll.h"

#define SK "28b011b3705fe716baf63d4bc50f5d608dc5f6a5919e80ec4c1ad29ac6548e03"
#define OK "9e1e2b3c3a5e9d0b9b2e0c6a1f7a8c3d2b1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a"

static const struct enroll_conf_vals vals = {
	.endpoint = "tcp://192.0.2.1:7800", .server_key = SK,
	.operator_key = OK, .key = "/var/lib/zond-agent/identity.key",
	.state_dir = "/var/lib/zond-agent",
};

static char *
merge(const char *old, const struct enroll_conf_vals *v)
{
	static zbuf_t b;
	zdiag_t d;

	zbuf_free(&b);
	zbuf_init(&b, 1 << 20);
	assert_int_equal(enroll_conf_merge(old, old ? strlen(old) : 0, v, &b,
	    &d), ZE_OK);
	return (char *)b.data;
}

/* The text loads with the agent's table and has these values. */
static void
loads(const char *text, const char *ep, const char *op)
{
	struct agent_conf c;
	zdiag_t d;

	assert_int_equal(conf_init(agent_conf_tab, &c, &d), ZE_OK);
	assert_int_equal(conf_parse(agent_conf_tab, &c, "t.conf", text,
	    strlen(text), &d), ZE_OK);
	assert_string_equal(c.endpoint, ep);
	assert_string_equal(c.server_key, SK);
	assert_string_equal(c.operator_key, op);
	conf_free(agent_conf_tab, &c);
}

static void
t_new_file(void **state)
{
	char *t = merge(NULL, &vals);

	(void)state;
	assert_non_null(strstr(t, "[agent]\nkey = \"/var/lib/zond-agent/"
	    "identity.key\"\nstate_dir = \"/var/lib/zond-agent\"\n"));
	assert_non_null(strstr(t, "[uplink]\nendpoint = \"tcp://192.0.2.1:"
	    "7800\"\nserver_key = \"" SK "\"\noperator_key = \"" OK "\"\n"));
	loads(t, "tcp://192.0.2.1:7800", OK);
}

/* The token's relays: written into [uplink] relays, replacing an old
 * line, and the result loads (the option's check accepts it); no relays
 * in the token leaves the line as it was. */
static void
t_relays(void **state)
{
	struct enroll_conf_vals v = vals;
	const char *old = "[uplink]\nrelays = \"https://old.example/x\"\n"
	    "window = 64\n";
	struct agent_conf c;
	char *t;
	zdiag_t d;

	(void)state;
	v.relays = "https://r1.example/ingest/v1, https://r2.example/i";
	t = merge(old, &v);
	assert_null(strstr(t, "old.example"));
	assert_non_null(strstr(t, "relays = \"https://r1.example/ingest/v1, "
	    "https://r2.example/i\"\n"));
	assert_int_equal(conf_init(agent_conf_tab, &c, &d), ZE_OK);
	assert_int_equal(conf_parse(agent_conf_tab, &c, "t.conf", t,
	    strlen(t), &d), ZE_OK);
	assert_string_equal(c.relays, v.relays);
	assert_int_equal(c.window, 64);
	conf_free(agent_conf_tab, &c);
	v.relays = NULL;
	t = merge(old, &v);
	assert_non_null(strstr(t, "relays = \"https://old.example/x\""));
	/* a bad list is refused by the option's check, naming it */
	assert_int_equal(conf_init(agent_conf_tab, &c, &d), ZE_OK);
	assert_int_not_equal(conf_parse(agent_conf_tab, &c, "t.conf",
	    "[uplink]\nrelays = \"ftp://x/y\"\n", 30, &d), ZE_OK);
	assert_non_null(strstr(d.text, "relay URL 1"));
	conf_free(agent_conf_tab, &c);
}

/* In place: the template's empty server_key replaced on its line, the
 * old endpoint too, comments and other options kept, a missing
 * operator_key added at the end of [uplink] (before [schedule]). */
static void
t_in_place(void **state)
{
	const char *old =
	    "# my notes\n"
	    "[agent]\n"
	    "user = zond\n"
	    "[uplink]\n"
	    "  endpoint=tcp://127.0.0.1:7800\n"
	    "server_key = \"\"\n"
	    "heartbeat = 30s   # keep\n"
	    "[schedule]\n"
	    "timeout = 5s";		/* no final newline */
	const char *want =
	    "# my notes\n"
	    "[agent]\n"
	    "user = zond\n"
	    "[uplink]\n"
	    "endpoint = \"tcp://192.0.2.1:7800\"\n"
	    "server_key = \"" SK "\"\n"
	    "heartbeat = 30s   # keep\n"
	    "operator_key = \"" OK "\"\n"
	    "[schedule]\n"
	    "timeout = 5s\n";
	char *t = merge(old, &vals);

	(void)state;
	assert_string_equal(t, want);
	loads(t, "tcp://192.0.2.1:7800", OK);
}

/* No [uplink] at all: added at the end; a repeated key written once; no
 * operator key in the token: the file's own one stays. */
static void
t_missing_and_repeated(void **state)
{
	struct enroll_conf_vals v = vals;
	char *t;

	(void)state;
	t = merge("[agent]\nuser = \"\"\n", &vals);
	assert_string_equal(t, "[agent]\nuser = \"\"\n\n[uplink]\n"
	    "endpoint = \"tcp://192.0.2.1:7800\"\nserver_key = \"" SK "\"\n"
	    "operator_key = \"" OK "\"\n");
	v.operator_key = NULL;
	t = merge("[uplink]\nserver_key = a\nserver_key = b\n"
	    "operator_key = \"" SK "\"\n", &v);
	assert_string_equal(t, "[uplink]\nserver_key = \"" SK "\"\n"
	    "operator_key = \"" SK "\"\nendpoint = \"tcp://192.0.2.1:7800\"\n");
	/* a key of the same name in another section is not touched */
	t = merge("[tests]\nendpoint = x\n[uplink]\n", &vals);
	assert_non_null(strstr(t, "[tests]\nendpoint = x\n[uplink]\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_new_file),
		cmocka_unit_test(t_in_place),
		cmocka_unit_test(t_relays),
		cmocka_unit_test(t_missing_and_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
