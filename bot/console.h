/* console.h - `watchkeeper --console`: type commands as a local user of a local
 * org and read the rendered replies, like Hubot's shell adapter. Buttons show as
 * numbered choices; typing the number clicks it.
 *
 * Runs on its own thread with its own store connection, next to the HTTP
 * server. End of input (Ctrl-D) or `quit` stops the whole daemon. */
#ifndef WK_CONSOLE_H
#define WK_CONSOLE_H

#include "bot/config.h"

int console_start(const struct config *cfg);
void console_stop(void);	/* after http_server_run() returned */

#endif
