/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON plumbing for the config loader: error messages that start with the JSON path, reading the
 * file, the field-table driver that rejects unknown keys, and the scalar parsers every field uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cfg_priv.h"

/* A config file is a few KiB; refuse anything that is clearly not one (or /dev/zero). */
#define CFG_FILE_MAX (4u << 20)
#define CFG_SHOW_MAX 48 /* characters of a bad string value quoted back in a message */

void
cfg_ctx_init(struct cfg_ctx *ctx, char *err, size_t errlen)
{
	ctx->err = err;
	ctx->errlen = err != NULL ? errlen : 0;
	if (ctx->errlen > 0)
		err[0] = '\0';
}

static void __attribute__((format(printf, 3, 0)))
vset_message(struct cfg_ctx *ctx, size_t off, const char *fmt, va_list ap)
{
	if (off < ctx->errlen)
		vsnprintf(ctx->err + off, ctx->errlen - off, fmt, ap);
}

static void __attribute__((format(printf, 2, 3)))
set_message(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_message(ctx, 0, fmt, ap);
	va_end(ap);
}

int
cfg_fail(struct cfg_ctx *ctx, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->errlen == 0)
		return -EINVAL;
	n = snprintf(ctx->err, ctx->errlen, "%s: ", path[0] != '\0' ? path : "top level");
	va_start(ap, fmt);
	vset_message(ctx, n > 0 ? (size_t)n : 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
cfg_fail_nomem(struct cfg_ctx *ctx, const char *path)
{
	cfg_fail(ctx, path, "out of memory");
	return -ENOMEM;
}

int
cfg_missing(struct cfg_ctx *ctx, const char *path)
{
	return cfg_fail(ctx, path, "required key is missing");
}

/* Copy s for quoting in a message: printable ASCII only, at most CFG_SHOW_MAX characters. */
static void
copy_printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < CFG_SHOW_MAX; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
}

const char *
cfg_describe(const json_t *v, char *buf, size_t len)
{
	char shown[CFG_SHOW_MAX + 1];

	switch (json_typeof(v)) {
	case JSON_STRING:
		copy_printable(shown, sizeof(shown), json_string_value(v));
		snprintf(buf, len, "\"%s\"%s", shown,
			 json_string_length(v) > CFG_SHOW_MAX ? "..." : "");
		return buf;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	default:
		return cfg_type_name(v);
	}
}

const char *
cfg_type_name(const json_t *v)
{
	if (v == NULL)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

const char *
cfg_path_key(char *buf, const char *parent, const char *key)
{
	char shown[CFG_SHOW_MAX + 1];

	copy_printable(shown, sizeof(shown), key);
	if (parent[0] != '\0')
		snprintf(buf, CFG_PATH_MAX, "%s.%s", parent, shown);
	else
		snprintf(buf, CFG_PATH_MAX, "%s", shown);
	return buf;
}

const char *
cfg_path_index(char *buf, const char *parent, size_t i)
{
	snprintf(buf, CFG_PATH_MAX, "%s[%zu]", parent, i);
	return buf;
}

static int
finish_load(struct cfg_ctx *ctx, json_t *root, const json_error_t *jerr, json_t **out)
{
	char got[64];

	*out = NULL;
	if (root == NULL) {
		set_message(ctx, "line %d, column %d: %s", jerr->line, jerr->column, jerr->text);
		return json_error_code(jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
	}
	if (!json_is_object(root)) {
		cfg_fail(ctx, "", "expected an object, got %s",
			 cfg_describe(root, got, sizeof(got)));
		json_decref(root);
		return -EINVAL;
	}
	*out = root;
	return 0;
}

static int
read_file(struct cfg_ctx *ctx, const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t off = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		set_message(ctx, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		set_message(ctx, "%s: expected a regular file of at most %u bytes", path,
			    CFG_FILE_MAX);
		rc = -EINVAL;
		goto close_fd;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len + 1);
	if (*buf == NULL) {
		set_message(ctx, "%s: out of memory", path);
		rc = -ENOMEM;
		goto close_fd;
	}
	while (off < *len) {
		ssize_t n = read(fd, *buf + off, *len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			set_message(ctx, "%s: %s", path, n < 0 ? strerror(-rc) : "file shrank");
			goto free_buf;
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;

free_buf:
	free(*buf);
	*buf = NULL;
close_fd:
	close(fd);
	return rc;
}

int
cfg_json_load(struct cfg_ctx *ctx, const char *path, const char *text, json_t **root)
{
	json_error_t jerr;
	json_t *doc;
	size_t len = 0;
	char *buf;
	int rc;

	*root = NULL;
	if (path == NULL) {
		if (text == NULL) {
			set_message(ctx, "no configuration given");
			return -EINVAL;
		}
		doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		return finish_load(ctx, doc, &jerr, root);
	}
	rc = read_file(ctx, path, &buf, &len);
	if (rc < 0)
		return rc;
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	/* The text holds keys: wipe our copy (jansson's token buffers are beyond reach). */
	sodium_memzero(buf, len);
	free(buf);
	return finish_load(ctx, doc, &jerr, root);
}

static const struct cfg_field *
find_field(const struct cfg_field *fields, const char *key)
{
	for (; fields->key != NULL; fields++)
		if (strcmp(fields->key, key) == 0)
			return fields;
	return NULL;
}

static int
fail_unknown_key(struct cfg_ctx *ctx, const char *parent, const char *key,
		 const struct cfg_field *fields)
{
	char path[CFG_PATH_MAX], known[512];
	size_t off = 0;

	known[0] = '\0';
	for (; fields->key != NULL && off < sizeof(known); fields++) {
		int n = snprintf(known + off, sizeof(known) - off, "%s%s", off > 0 ? ", " : "",
				 fields->key);
		off += n > 0 ? (size_t)n : 0;
	}
	return cfg_fail(ctx, cfg_path_key(path, parent, key), "unknown key (expected one of: %s)",
			known);
}

int
cfg_parse_fields(struct cfg_ctx *ctx, const char *path, const json_t *v,
		 const struct cfg_field *fields, void *obj)
{
	char sub[CFG_PATH_MAX], got[64];
	const struct cfg_field *f;
	void *it;
	int rc;

	if (!json_is_object(v))
		return cfg_fail(ctx, path, "expected an object, got %s",
				cfg_describe(v, got, sizeof(got)));
	/* jansson's iterator API wants a mutable object; nothing here writes to it. */
	for (it = json_object_iter((json_t *)v); it != NULL;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *key = json_object_iter_key(it);

		if (find_field(fields, key) == NULL)
			return fail_unknown_key(ctx, path, key, fields);
	}
	for (f = fields; f->key != NULL; f++) {
		if (f->parse == NULL)
			continue;
		rc = f->parse(ctx, cfg_path_key(sub, path, f->key), json_object_get(v, f->key),
			      obj);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
cfg_expect_array(struct cfg_ctx *ctx, const char *path, const json_t *v, size_t min, size_t max,
		 const char *what)
{
	char got[64];

	if (!json_is_array(v))
		return cfg_fail(ctx, path, "expected an array of %zu..%zu %s, got %s", min, max,
				what, cfg_describe(v, got, sizeof(got)));
	if (json_array_size(v) < min || json_array_size(v) > max)
		return cfg_fail(ctx, path, "expected an array of %zu..%zu %s, got %zu", min, max,
				what, json_array_size(v));
	return 0;
}

int
cfg_parse_int(struct cfg_ctx *ctx, const char *path, const json_t *v, int64_t lo, int64_t hi,
	      int64_t *out)
{
	char got[64];

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cfg_fail(ctx, path, "expected integer %" PRId64 "..%" PRId64 ", got %s", lo,
				hi, cfg_describe(v, got, sizeof(got)));
	*out = json_integer_value(v);
	return 0;
}

int
cfg_parse_bool(struct cfg_ctx *ctx, const char *path, const json_t *v, bool *out)
{
	char got[64];

	if (!json_is_boolean(v))
		return cfg_fail(ctx, path, "expected true or false, got %s",
				cfg_describe(v, got, sizeof(got)));
	*out = json_is_true(v);
	return 0;
}

int
cfg_parse_enum(struct cfg_ctx *ctx, const char *path, const json_t *v, const struct cfg_name *names,
	       int *out)
{
	char known[256], got[64];
	const struct cfg_name *n;
	size_t off = 0;

	if (json_is_string(v)) {
		for (n = names; n->name != NULL; n++) {
			if (strcmp(n->name, json_string_value(v)) == 0) {
				*out = n->value;
				return 0;
			}
		}
	}
	known[0] = '\0';
	for (n = names; n->name != NULL && off < sizeof(known); n++) {
		int len = snprintf(known + off, sizeof(known) - off, "%s\"%s\"",
				   off > 0 ? ", " : "", n->name);
		off += len > 0 ? (size_t)len : 0;
	}
	return cfg_fail(ctx, path, "expected one of %s, got %s", known,
			cfg_describe(v, got, sizeof(got)));
}

bool
cfg_is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int
cfg_parse_string(struct cfg_ctx *ctx, const char *path, const json_t *v, char *out, size_t size)
{
	char got[64];

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size ||
	    !cfg_is_printable(json_string_value(v)))
		return cfg_fail(ctx, path,
				"expected a string of 1..%zu printable characters, got %s",
				size - 1, cfg_describe(v, got, sizeof(got)));
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int
cfg_parse_name(struct cfg_ctx *ctx, const char *path, const json_t *v, char *out, size_t size)
{
	static const char ok[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	char got[64];
	const char *s = json_string_value(v);

	if (s == NULL || s[0] == '\0' || json_string_length(v) >= size ||
	    strspn(s, ok) != json_string_length(v))
		return cfg_fail(ctx, path,
				"expected a name of 1..%zu characters [A-Za-z0-9_.-], got %s",
				size - 1, cfg_describe(v, got, sizeof(got)));
	memcpy(out, s, json_string_length(v) + 1);
	return 0;
}
