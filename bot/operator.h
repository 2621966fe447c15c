/* operator.h - command-line tools for the operator, run against the same Redis
 * as the daemon (config from -c FILE and the WK_* environment):
 *
 *   watchkeeper orgs list                 every org id with its mode and status
 *   watchkeeper orgs show ID              one org: owner, members by role, teams, status
 *   watchkeeper orgs suspend ID           members then only hear that it is suspended
 *   watchkeeper orgs activate ID
 *   watchkeeper audit verify --org ID     check the hash chain; name the first bad entry
 *   watchkeeper audit export --org ID     the audit log as CSV on stdout
 *   watchkeeper secrets rotate            re-seal every sealed value that opens under
 *                                         secrets.key_previous with secrets.key
 *   watchkeeper backup FILE               every org's state as JSON lines (bot/backup.h)
 *   watchkeeper restore FILE              ... and back, into an empty Redis
 *
 * Exit status: 0 success, 1 failure (a broken chain, an unknown org, Redis down,
 * sealed values that open under neither key),
 * 2 usage or configuration errors. Messages go to stderr, data to stdout. */
#ifndef WK_OPERATOR_H
#define WK_OPERATOR_H

#include <stdbool.h>

struct config;
struct store;

bool operator_is_command(const char *arg);	/* "orgs", "audit", "secrets", "backup" or "restore" */
int operator_main(int argc, char **argv);

/* For the tools in other files: load the config the daemon would use (config_path
 * from -c, or NULL: the WK_* environment), open its store, run fn, close
 * everything. Returns fn's exit status, or 2 for a configuration error. */
typedef int (*operator_fn)(const struct config *cfg, struct store *s, void *arg);
int operator_with_store(const char *config_path, operator_fn fn, void *arg);

/* operator_backup.c: `watchkeeper backup ...` and `watchkeeper restore ...`. */
bool operator_backup_is_command(const char *arg);
int operator_backup_main(int argc, char **argv);

#endif
