/* console.c - see console.h */
#include "bot/console.h"
#include "adapters/adapter.h"
#include "bot/dispatch.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static struct {
	const struct config *cfg;
	void (*quit)(void);
	pthread_t thread;
	bool started;
	atomic_bool stop;
	/* Guards stdout and everything below: the senders show messages
	 * (console_show) while the console thread prints replies. */
	pthread_mutex_t lock;
	struct reply_button choices[REPLY_MAX_BUTTONS];	/* the last reply's buttons */
	size_t nchoices;
	char user[33];		/* who is typing: console.user, or whom `/as` chose */
	char org_id[96];	/* the console org's id, "console:<org>" */
} con = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void clear_choices(void)
{
	for (size_t i = 0; i < con.nchoices; i++) {
		free(con.choices[i].action_id);
		free(con.choices[i].value);
		free(con.choices[i].label);
	}
	con.nchoices = 0;
}

/* Render r and make its buttons the numbered choices. Called with con.lock. */
static void print_reply_locked(const struct reply *r)
{
	struct buf out = BUF_INIT(256 * 1024);

	shell_adapter.render(r, &out);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	fflush(stdout);
	buf_free(&out);
	clear_choices();
	for (size_t i = 0; i < r->nbuttons; i++) {
		con.choices[i].action_id = xstrdup(r->buttons[i].action_id);
		con.choices[i].value = xstrdup(r->buttons[i].value);
		con.choices[i].label = xstrdup(r->buttons[i].label);
	}
	con.nchoices = r->nbuttons;
}

static void print_reply(const struct reply *r)
{
	pthread_mutex_lock(&con.lock);
	print_reply_locked(r);
	pthread_mutex_unlock(&con.lock);
}

void console_show(const struct outbox_preview *p)
{
	struct reply text;

	pthread_mutex_lock(&con.lock);
	if (p->address && p->address[0])
		printf("\n(would send by %s to %s:)\n", p->channel, p->address);
	else
		printf("\n(would send by %s to @%s:)\n", p->channel, p->member);
	/* Buttons become choices only for the person typing: a click acts as them. */
	if (strcmp(p->org, con.org_id) == 0 && strcmp(p->member, con.user) == 0) {
		print_reply_locked(p->reply);
	} else {
		reply_init(&text);
		buf_adds(&text.text, buf_cstr(&p->reply->text));
		for (size_t i = 0; i < p->reply->nbuttons; i++)
			buf_printf(&text.text, "%s[%s]", i ? " " : "\n", p->reply->buttons[i].label);
		if (p->reply->nbuttons)
			buf_printf(&text.text, " (for @%s: `/as %s` to choose)", p->member, p->member);
		struct buf out = BUF_INIT(256 * 1024);
		shell_adapter.render(&text, &out);
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
		buf_free(&out);
		reply_free(&text);
	}
	fflush(stdout);
	pthread_mutex_unlock(&con.lock);
}

static void prompt(void)
{
	if (isatty(STDIN_FILENO)) {
		fputs("watchkeeper> ", stdout);
		fflush(stdout);
	}
}

/* Returns false when the console should end. */
static bool handle_line(struct store *store, char *line)
{
	struct dispatch_env env = { .store = store, .cfg = con.cfg };
	struct request req;
	struct reply r;
	int64_t choice;
	char *p = line, *space;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return true;
	if (strcmp(p, "quit") == 0 || strcmp(p, "exit") == 0)
		return false;
	/* "/as bob": act as another local person, to try invites and roles alone. */
	if (strncmp(p, "/as ", 4) == 0 || strncmp(p, "as ", 3) == 0) {
		const char *name = strchr(p, ' ') + 1;
		pthread_mutex_lock(&con.lock);
		if (!org_member_id_valid(name) || strlen(name) >= sizeof(con.user)) {
			printf("A console user name is letters, digits, '.', '_' or '-'.\n");
		} else {
			wk_strlcpy(con.user, name, sizeof(con.user));
			clear_choices();	/* the last reply's buttons were someone else's */
			printf("You are now @%s.\n", con.user);
		}
		pthread_mutex_unlock(&con.lock);
		fflush(stdout);
		return true;
	}

	request_init(&req, PLATFORM_CONSOLE);
	wk_strlcpy(req.org_external, con.cfg->console_org, sizeof(req.org_external));
	wk_strlcpy(req.user_id, con.user, sizeof(req.user_id));
	wk_strlcpy(req.user_name, con.user, sizeof(req.user_name));
	wk_strlcpy(req.channel_id, "console", sizeof(req.channel_id));
	reply_init(&r);

	if (wk_parse_i64(p, 0, 1000000, &choice)) {
		pthread_mutex_lock(&con.lock);
		if (!con.nchoices || choice < 1 || (size_t)choice > con.nchoices) {
			if (!con.nchoices)
				printf("The last reply had nothing to choose from. Type a command, e.g. "
				       "`/oncall help`.\n");
			else
				printf("Choose a number from 1 to %zu.\n", con.nchoices);
			pthread_mutex_unlock(&con.lock);
			goto out;
		}
		const struct reply_button *b = &con.choices[choice - 1];
		const char *dot = strchr(b->action_id, '.');
		size_t n = dot ? (size_t)(dot - b->action_id) : 0;
		if (n >= sizeof(req.command))
			n = 0;
		memcpy(req.command, b->action_id, n);
		req.command[n] = '\0';
		wk_strlcpy(req.action_id, b->action_id, sizeof(req.action_id));
		wk_strlcpy(req.action_value, b->value, sizeof(req.action_value));
		pthread_mutex_unlock(&con.lock);
	} else {
		if (*p == '/')
			p++;
		space = strpbrk(p, " \t");
		size_t n = space ? (size_t)(space - p) : strlen(p);
		if (n >= sizeof(req.command)) {
			printf("That is not a command. Try `help` or `/oncall help`.\n");
			goto out;
		}
		memcpy(req.command, p, n);
		req.command[n] = '\0';
		free(req.text);
		req.text = xstrdup(space ? space + 1 : "");
	}
	dispatch_request(&env, &req, &r);
	print_reply(&r);
out:
	fflush(stdout);
	reply_free(&r);
	request_free(&req);
	return true;
}

static void *console_main(void *arg)
{
	struct store *store = store_open(con.cfg->redis_url, con.cfg->redis_timeout_ms);
	char buf[LINE_MAX_BYTES + 1];
	size_t len = 0;
	bool discard = false;	/* inside an over-long line */

	(void)arg;
	printf("Watchkeeper console: you are @%s in org \"%s\". Try `/oncall help`; `/as NAME` "
	       "switches person; Ctrl-D quits.\n", con.user, con.cfg->console_org);
	prompt();
	while (!atomic_load(&con.stop)) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		int n = poll(&pfd, 1, 200);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		ssize_t got = read(STDIN_FILENO, buf + len, LINE_MAX_BYTES - len);
		if (got <= 0)
			break;	/* end of input */
		len += (size_t)got;
		char *nl;
		bool go_on = true;
		while (go_on && (nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			if (!discard)
				go_on = handle_line(store, buf);
			else
				printf("That line was too long (over %d bytes).\n", LINE_MAX_BYTES);
			discard = false;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (go_on)
				prompt();
		}
		if (!go_on)
			break;
		if (len == LINE_MAX_BYTES) {	/* no newline in a full buffer */
			discard = true;
			len = 0;
		}
	}
	pthread_mutex_lock(&con.lock);
	clear_choices();
	pthread_mutex_unlock(&con.lock);
	store_close(store);
	if (!atomic_load(&con.stop))
		con.quit();	/* the user left: stop the daemon too */
	return NULL;
}

int console_start(const struct config *cfg, void (*quit)(void))
{
	con.cfg = cfg;
	con.quit = quit;
	snprintf(con.org_id, sizeof(con.org_id), "console:%s", cfg->console_org);
	wk_strlcpy(con.user, cfg->console_user, sizeof(con.user));
	if (pthread_create(&con.thread, NULL, console_main, NULL) != 0)
		return -1;
	con.started = true;
	return 0;
}

void console_stop(void)
{
	if (!con.started)
		return;
	atomic_store(&con.stop, true);
	pthread_join(con.thread, NULL);
	con.started = false;
}
