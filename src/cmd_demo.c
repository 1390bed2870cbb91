/* placeholder until the demo command lands */
#include <stdio.h>
#include "commands.h"
int cmd_demo(const cs_config *cfg, int argc, char **argv)
{
    (void)cfg; (void)argc;
    fprintf(stderr, "clawsweep %s: not implemented yet\n", argv[0]);
    return EXIT_FAILURE_RUNTIME;
}
