/*
 * notice.c — see notice.h.  A short placeholder: the bilingual text
 * (English and Russian) is written with docs/VOLUNTEERS.md (issue 19,
 * part "docs") and replaces this one.
 */
#include "notice.h"

const char *
volunteer_notice(void)
{
	return
	    "Zond volunteer notice (placeholder; the full text is in\n"
	    "docs/VOLUNTEERS.md)\n"
	    "\n"
	    "This device will run reachability tests and send signed results\n"
	    "to the aggregator named in the token. Its operator sees this\n"
	    "device's IP address when it connects. What is published is the\n"
	    "region, the network's ASN and its type (fixed or mobile), never\n"
	    "the IP address. A signed result can be tied to this device.\n"
	    "Running measurement software can carry legal risk in some\n"
	    "countries. To stop and wipe everything: apt purge zond-agent.\n";
}
