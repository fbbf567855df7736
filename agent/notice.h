/*
 * notice.h — the short notice a volunteer reads before enrolling: what
 * the agent sends, what the operator sees and publishes, that records
 * can be tied to the device, that there is legal risk, and how to stop
 * and wipe.  English first, then Russian; each part at most 15 lines of
 * at most 72 characters.  docs/VOLUNTEERS.md is the long form; the two
 * must say the same thing (tests/cli/test_notice.sh checks the essentials).
 *
 * Shown by `zond-agent --notice` and by `zond-agent --enroll` before it
 * asks for an explicit yes.
 */
#ifndef AGENT_NOTICE_H
#define AGENT_NOTICE_H

/*
 * The notice as one UTF-8 string ending in a newline.  Static storage:
 * never free it.  Thread-safe (constant).
 */
const char *volunteer_notice(void);

#endif
