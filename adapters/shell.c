/* shell.c - plain-text rendering for the local console (and later SMS):
 * mentions become @id, buttons become numbered choices. */
#include "adapters/adapter.h"

#include <string.h>

/* Copy neutral markup as plain text: <@ID> -> @ID; *bold* and `code` stay, they
 * read fine in a terminal. */
static int plain(struct buf *out, const char *s)
{
	while (*s) {
		if (s[0] == '<' && s[1] == '@') {
			const char *end = strchr(s, '>');
			if (end) {
				if (buf_addc(out, '@') < 0 || buf_add(out, s + 2, (size_t)(end - s - 2)) < 0)
					return -1;
				s = end + 1;
				continue;
			}
		}
		if (buf_addc(out, *s++) < 0)
			return -1;
	}
	return 0;
}

static int shell_render(const struct reply *r, struct buf *out)
{
	int rc = 0;

	if (r->text.len)
		rc |= plain(out, buf_cstr(&r->text)) | buf_addc(out, '\n');
	for (size_t i = 0; i < r->nsections; i++) {
		const struct reply_section *s = &r->sections[i];
		if (s->text[0]) {
			rc |= plain(out, s->text);
			if (s->text[strlen(s->text) - 1] != '\n')
				rc |= buf_addc(out, '\n');
		}
		for (size_t f = 0; f < s->nfields; f++) {
			rc |= buf_printf(out, "  %s: ", s->fields[f].label);
			rc |= plain(out, s->fields[f].value) | buf_addc(out, '\n');
		}
	}
	for (size_t i = 0; i < r->nbuttons; i++)
		rc |= buf_printf(out, "  [%zu] %s\n", i + 1, r->buttons[i].label);
	if (r->nbuttons)
		rc |= buf_adds(out, "  (type a number to choose)\n");
	return rc ? -1 : 0;
}

const struct adapter_ops shell_adapter = {
	.name = "console",
	.platform = PLATFORM_CONSOLE,
	.render = shell_render,
};
