/* mail.c - see mail.h */
#include "bot/mail.h"
#include "bot/courier.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/utf8.h"
#include "bot/util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* RFC 5322 2.1.1: a line is at most 998 bytes plus CRLF. */
#define MAX_LINE 998
/* Quoted-printable lines stay at 76 (RFC 2045 6.7). */
#define QP_LINE 76
/* An RFC 2047 encoded-word is at most 75 bytes: "=?UTF-8?B?" + 60 base64 + "?=" = 72. */
#define EW_RAW 45
#define MAX_MESSAGE (4 * 1024 * 1024)

bool mail_configured(const struct config *cfg)
{
	return cfg && cfg->smtp_url && cfg->smtp_url[0];
}

static bool is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool mail_address_valid(const char *addr)
{
	const char *at, *p, *label;
	size_t len, labels = 0;

	if (!addr)
		return false;
	len = strnlen(addr, 255);
	at = strchr(addr, '@');
	if (len == 0 || len > 254 || !at || strchr(at + 1, '@'))
		return false;
	if (at == addr || at - addr > 64 || addr[0] == '.' || at[-1] == '.')
		return false;
	for (p = addr; p < at; p++)
		if (!(is_atext(*p) || (*p == '.' && p[1] != '.')))
			return false;
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t)(p - label);

			if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
				return false;
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!is_ldh(*p)) {
			return false;
		}
	}
	return labels >= 2;
}

static bool ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* No CR, LF or other C0/DEL bytes (tab allowed): such a byte in a header
 * would end it and start another. */
static bool header_safe(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* RFC 2047 encoded-words for UTF-8 text, split on character boundaries and
 * folded (CRLF SP) between words. */
static void add_encoded_words(struct buf *out, const char *s)
{
	size_t len = strlen(s), i = 0;
	bool first = true;

	while (i < len) {
		unsigned char b64[4 * (EW_RAW / 3) + 1];
		size_t n = len - i < EW_RAW ? len - i : EW_RAW;

		/* Back off to the start of a character: never split a UTF-8 sequence. */
		while (i + n < len && n > 1 && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n--;
		EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)n);
		buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", (const char *)b64);
		first = false;
		i += n;
	}
}

/* The address inside <...>, or the whole (trimmed) value. */
static int from_address(const char *from, char *addr, size_t size, const char **name_end)
{
	const char *lt = strrchr(from, '<'), *s, *e;

	if (lt) {
		s = lt + 1;
		e = strchr(s, '>');
		if (!e || e[1 + strspn(e + 1, " ")] != '\0')
			return -1;
		*name_end = lt;
	} else {
		s = from;
		while (*s == ' ')
			s++;
		e = s + strlen(s);
		while (e > s && e[-1] == ' ')
			e--;
		*name_end = NULL;
	}
	if ((size_t)(e - s) >= size)
		return -1;
	memcpy(addr, s, (size_t)(e - s));
	addr[e - s] = '\0';
	return mail_address_valid(addr) ? 0 : -1;
}

static int add_from(struct buf *out, const char *from, char *domain, size_t dsize)
{
	char addr[256], name[256];
	const char *name_end, *s;
	size_t n;

	if (!header_safe(from) || !utf8_valid(from, strlen(from)) ||
	    from_address(from, addr, sizeof(addr), &name_end) < 0)
		return -1;
	wk_strlcpy(domain, strchr(addr, '@') + 1, dsize);
	if (!name_end) {
		buf_printf(out, "From: %s\r\n", addr);
		return 0;
	}
	s = from;
	while (*s == ' ')
		s++;
	n = (size_t)(name_end - s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(name))
		n = 0;
	memcpy(name, s, n);
	name[n] = '\0';
	if (!name[0]) {
		buf_printf(out, "From: <%s>\r\n", addr);
	} else if (ascii_printable(name)) {
		/* A quoted-string keeps commas, dots and parentheses in a name harmless. */
		buf_adds(out, "From: \"");
		for (s = name; *s; s++) {
			if (*s == '"' || *s == '\\')
				buf_addc(out, '\\');
			buf_addc(out, *s);
		}
		buf_printf(out, "\" <%s>\r\n", addr);
	} else {
		buf_adds(out, "From: ");
		add_encoded_words(out, name);
		buf_printf(out, " <%s>\r\n", addr);
	}
	return 0;
}

static void add_date(struct buf *out, int64_t now_ms)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	/* By hand rather than strftime(): %a and %b follow the locale, RFC 5322 doesn't. */
	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7],
		   tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		   tm.tm_sec);
}

/* Text with any line ending (LF, CRLF, lone CR) rewritten to CRLF. */
static void normalize_crlf(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\r') {
			if (s[1] == '\n')
				s++;
			buf_adds(out, "\r\n");
		} else if (*s == '\n') {
			buf_adds(out, "\r\n");
		} else {
			buf_addc(out, *s);
		}
	}
}

static void html_from_text(struct buf *out, const char *text)
{
	buf_adds(out, "<!DOCTYPE html>\n<html><body>\n");
	for (const char *s = text; *s; s++) {
		switch (*s) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		case '\r':
			if (s[1] == '\n')
				s++;
			/* fall through */
		case '\n': buf_adds(out, "<br>\n"); break;
		default: buf_addc(out, *s);
		}
	}
	buf_adds(out, "\n</body></html>\n");
}

/* RFC 2045 6.7 quoted-printable of CRLF text: hard breaks stay, soft breaks
 * ("=" CRLF) keep every line at most 76 bytes, trailing blanks are encoded. */
static void add_qp(struct buf *out, const char *s, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[4];
		size_t w;

		if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
			buf_adds(out, "\r\n");
			col = 0;
			i++;
			continue;
		}
		bool at_eol = i + 1 == len || (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol)) {
			enc[0] = (char)c;
			enc[1] = '\0';
			w = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", c);
			w = 3;
		}
		if (col + w > QP_LINE - 1) {
			buf_adds(out, "=\r\n");
			col = 0;
		}
		buf_add(out, enc, w);
		col += w;
	}
}

static void add_part(struct buf *out, const char *boundary, const char *type, const char *body,
		     size_t len)
{
	size_t line = 0, longest = 0;
	bool ascii = true;

	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n') {
			line = 0;
			i++;
			continue;
		}
		if (++line > longest)
			longest = line;
		if ((unsigned char)body[i] >= 0x80)
			ascii = false;
	}
	buf_printf(out, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n", boundary, type);
	if (longest > MAX_LINE) {
		buf_adds(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		add_qp(out, body, len);
	} else {
		buf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n", ascii ? "7bit" : "8bit");
		buf_add(out, body, len);
	}
	/* The CRLF before the next delimiter belongs to the delimiter (RFC 2046 5.1.1). */
	buf_adds(out, "\r\n");
}

static int fail(char *err, size_t errsz, const char *why)
{
	snprintf(err, errsz, "%s", why);
	return -1;
}

int mail_build(const char *from, const char *to, const char *subject, const char *text,
	       const char *html, int64_t now_ms, struct buf *out, char *err, size_t errsz)
{
	unsigned char rnd[28];
	char id[33], boundary[32], domain[256];
	/* Built here, then appended to out in one step: the input caps keep the
	 * worst case (all quoted-printable) far below MAX_MESSAGE, so no add into
	 * msg can fail half-way, and out either gets the whole mail or nothing. */
	struct buf msg = BUF_INIT(MAX_MESSAGE), body = BUF_INIT(MAX_MESSAGE);
	size_t slen;
	int rc = -1;

	if (!to || !mail_address_valid(to))
		return fail(err, errsz, "the recipient must be one plain email address like name@example.com");
	if (!subject)
		subject = "";
	slen = strlen(subject);
	if (slen > MAIL_MAX_SUBJECT || !header_safe(subject) || !utf8_valid(subject, slen))
		return fail(err, errsz, "the subject must be one line of UTF-8 text, at most 400 bytes");
	if (!text || strlen(text) > MAIL_MAX_TEXT || !utf8_valid(text, strlen(text)))
		return fail(err, errsz, "the mail text must be UTF-8, at most 64 KiB");
	if (html && (strlen(html) > MAIL_MAX_HTML || !utf8_valid(html, strlen(html))))
		return fail(err, errsz, "the mail HTML must be UTF-8, at most 256 KiB");
	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return fail(err, errsz, "no random bytes for the Message-ID (the system's entropy source failed)");
	crypto_hex(rnd, 16, id);
	memcpy(boundary, "=_wk_", 5);	/* "=_" can never appear in quoted-printable output */
	crypto_hex(rnd + 16, 12, boundary + 5);

	add_date(&msg, now_ms);
	if (add_from(&msg, from ? from : "", domain, sizeof(domain)) < 0) {
		fail(err, errsz, "smtp.from is not a usable sender (\"Name <address@domain>\" or address@domain)");
		goto out;
	}
	buf_printf(&msg, "To: %s\r\n", to);
	if (ascii_printable(subject) && slen > 0) {
		buf_printf(&msg, "Subject: %s\r\n", subject);
	} else if (slen > 0) {
		/* Tabs or non-ASCII: encoded, so nothing reaches the header raw. */
		buf_adds(&msg, "Subject: ");
		add_encoded_words(&msg, subject);
		buf_adds(&msg, "\r\n");
	}
	buf_printf(&msg, "Message-ID: <%s@%s>\r\n", id, domain);
	buf_adds(&msg, "MIME-Version: 1.0\r\n");
	/* RFC 3834: keeps vacation auto-replies from answering the bot. */
	buf_adds(&msg, "Auto-Submitted: auto-generated\r\n");
	buf_printf(&msg, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);

	normalize_crlf(&body, text);
	add_part(&msg, boundary, "text/plain", buf_cstr(&body), body.len);
	buf_reset(&body);
	if (html) {
		normalize_crlf(&body, html);
	} else {
		struct buf h = BUF_INIT(MAX_MESSAGE);

		html_from_text(&h, text);
		normalize_crlf(&body, buf_cstr(&h));
		buf_free(&h);
	}
	add_part(&msg, boundary, "text/html", buf_cstr(&body), body.len);
	buf_printf(&msg, "--%s--\r\n", boundary);
	if (buf_add(out, msg.data, msg.len) < 0) {
		fail(err, errsz, "the mail is too large");
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	buf_free(&msg);
	return rc;
}

/* The full message for to, from cfg->smtp_from, dated now: 0, or -1 with err. */
static int build_for(const struct config *cfg, const char *to, const char *subject, const char *text,
		     const char *html, struct buf *msg, struct courier_mail *m, char *err, size_t errsz)
{
	if (!mail_configured(cfg))
		return fail(err, errsz, "email is not configured (smtp.url / WK_SMTP_URL is empty)");
	if (mail_build(cfg->smtp_from, to, subject, text, html, wk_now_ms(), msg, err, errsz) < 0)
		return -1;
	m->rcpt = to;
	m->message = buf_cstr(msg);
	m->len = msg->len;
	return 0;
}

int mail_send(const struct config *cfg, const char *to, const char *subject, const char *text,
	      const char *html, char *err, size_t errsz)
{
	struct buf msg = BUF_INIT(MAX_MESSAGE);
	struct courier_mail m;
	int rc = build_for(cfg, to, subject, text, html, &msg, &m, err, errsz);

	if (rc == 0)
		rc = courier_send_mail(cfg, &m, err, errsz);
	buf_free(&msg);
	return rc;
}

int mail_send_async(const struct config *cfg, const char *to, const char *subject, const char *text,
		    const char *html, courier_done_fn done, void *arg, char *err, size_t errsz)
{
	struct buf msg = BUF_INIT(MAX_MESSAGE);
	struct courier_mail m;
	int rc = build_for(cfg, to, subject, text, html, &msg, &m, err, errsz);

	if (rc == 0)
		courier_send_mail_async(cfg, &m, done, arg);	/* copies the message */
	buf_free(&msg);
	return rc;
}
