/* adapter.c - see adapter.h: the table of chat platform adapters. */
#include "adapters/adapter.h"
#include "bot/util.h"

#include <string.h>

static const struct adapter_ops *const adapters[] = { &slack_adapter, &teams_adapter, &shell_adapter };

const struct adapter_ops *adapter_for(enum platform p)
{
	for (size_t i = 0; i < ARRAY_LEN(adapters); i++)
		if (adapters[i]->platform == p)
			return adapters[i];
	return NULL;
}

const struct adapter_ops *adapter_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(adapters); i++)
		if (strcmp(platform_name(adapters[i]->platform), name) == 0)
			return adapters[i];
	return NULL;
}

int adapter_post_late(enum platform p, const char *response_url, const struct reply *r)
{
	const struct adapter_ops *a = adapter_for(p);

	if (!a || !a->post_late || !response_url || !response_url[0])
		return -1;
	a->post_late(response_url, r);
	return 0;
}
