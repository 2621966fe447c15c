/* console.h - `watchkeeper --console`: type commands as a local user of a local
 * org and read the rendered replies, like Hubot's shell adapter. Buttons show as
 * numbered choices; typing the number clicks it.
 *
 * Runs on its own thread with its own store connection, next to the HTTP
 * server. End of input (Ctrl-D) or `quit` stops the whole daemon. */
#ifndef WK_CONSOLE_H
#define WK_CONSOLE_H

#include "bot/config.h"
#include "bot/outbox.h"

/* quit runs on the console thread when the user leaves (Ctrl-D, `quit`): it
 * begins the same drain as SIGTERM. */
int console_start(const struct config *cfg, void (*quit)(void));
void console_stop(void);
/* The outbox's preview (outbox_set_preview): prints what a person would have
 * received, marked "(would send by SMS to +1…:)"; a chat message to the person
 * typing brings its buttons as numbered choices. Any thread. */
void console_show(const struct outbox_preview *p);	/* after http_server_run() returned */

#endif
