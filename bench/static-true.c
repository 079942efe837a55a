/* SPDX-License-Identifier: MIT */
/* The smallest useful payload for start-latency benchmarks: a statically
 * linked program that exits 0.  Being static, it needs no dynamic loader
 * and no shared library inside the jail, so its run time is almost only
 * execve() and exit, and a sandbox's own cost stands out. */
int main(void) {
        return 0;
}
