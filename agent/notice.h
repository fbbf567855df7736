/*
 * notice.h — the volunteer notice `zond-agent --enroll` shows before it
 * asks for consent (what the agent sends, what the operator sees, what is
 * published, the risks, how to stop; docs/VOLUNTEERS.md has the same in
 * full).  Plain UTF-8 text ending in a newline.
 */
#ifndef AGENT_NOTICE_H
#define AGENT_NOTICE_H

const char *volunteer_notice(void);

#endif
