/*
 * harness/bench/bench.h - `vdcc bench`: a backend's speed and memory against
 * raw file I/O on this machine.  Design and findings: spec/performance.md.
 *
 *   vdcc bench [--backend SPEC] [--name NAME] [--json] [--quick] [--dir DIR]
 *              [--reps N] [--size MIB] [--extents N] [--calls N] [--only IDS]
 *              [--config KEY=VALUE]...
 *
 * Each workload runs in a forked child (so a crash, a hang or the memory of
 * one workload cannot touch the others), and its peak RSS is read from
 * wait4's ru_maxrss.  Backend figures go through the host library (harness/
 * host) over POSIX files in DIR, as VD would call the backend; raw figures
 * move the same byte ranges with pread/pwrite on a file of the same size, in
 * the same child, one raw repetition after each backend repetition.  Every
 * figure is the min / median / max over N repetitions (--reps, default 5).
 * Workloads (spec/performance.md section 1 defines each precisely):
 *
 *   read_seq_64k, read_rand_4k    read hits over a warm cache (filled first)
 *   write_seq_64k, write_rand_4k  cache fill, a flush every 64 MiB (raw:
 *                                 fdatasync at the same points)
 *   miss_lookup                   random misses in a cache of 1,000,000
 *                                 extents (built once, kept in DIR)
 *   open_small, open_big          time to open 1,000 / 1,000,000 extents
 *   replay                        vdcc's own replay speed on calls that move
 *                                 no data (getters), in calls per second
 *
 * Output: a table on stdout (or with --json one JSON object), progress on
 * stderr.  Targets are reported, never asserted: timings belong to the
 * machine.  Images built for the miss and open workloads are kept in DIR
 * when --dir is given and reused by later runs; a default DIR is a new
 * mkdtemp under $TMPDIR (else /tmp) and is removed at the end.
 *
 * Exit status (harness/cli.h): 0 every workload ran, 1 a workload failed
 * (backend error, crash, timeout: the table says which and the others still
 * run), 2 usage error, unusable directory or a backend that cannot be loaded.
 * The backend is linted first and refused on lint errors (exit 1).
 */
#ifndef VDCC_HARNESS_BENCH_BENCH_H
#define VDCC_HARNESS_BENCH_BENCH_H

/* argv[0] is the command name ("bench"); see harness/commands.h. */
int vdc_cmd_bench(const char *prog, int argc, char **argv);

#endif /* VDCC_HARNESS_BENCH_BENCH_H */
