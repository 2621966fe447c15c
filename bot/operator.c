/* operator.c - placeholder until the operator tools land (see operator.h). */
#include "bot/operator.h"

#include <stdio.h>
#include <string.h>

bool operator_is_command(const char *arg)
{
	return strcmp(arg, "orgs") == 0 || strcmp(arg, "audit") == 0;
}

int operator_main(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "watchkeeper: %s: not available in this build\n", argv[1]);
	return 2;
}
