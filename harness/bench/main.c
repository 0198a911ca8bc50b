/*
 * harness/bench/main.c - vdcc-bench, `vdcc bench` as a program of its own
 * (bench.h): `vdcc-bench ARGS` is `vdcc bench ARGS`.  Exit statuses are the
 * command's (harness/cli.h).
 */
#include "bench.h"

int main(int argc, char **argv)
{
    static char name[] = "bench";
    if (argc > 0)
        argv[0] = name;
    return vdc_cmd_bench("vdcc-bench", argc, argv);
}
