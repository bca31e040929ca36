/*
 * icount: a QEMU TCG plugin counting the instructions a guest executes
 * between two marker functions, exactly and run after run the same.
 *
 *   qemu-system-arm ... -plugin libicount.so,start=ADDR,stop=ADDR,out=FILE
 *
 * start and stop are the entry addresses of tinycc_bench_start() and
 * tinycc_bench_stop() (a Thumb symbol's odd address is accepted). A region
 * opens when the guest executes start's first instruction and closes when it
 * executes stop's first instruction; its count is every instruction executed
 * in between, in any function or exception handler: start's own body (a
 * lone `bx lr` for an empty function) is included, stop's body is not, so a
 * region holding nothing but the call to stop counts 2 (`bx lr`, `bl`).
 * An instruction skipped by its IT condition still counts, as a core issues it.
 * At exit the plugin writes one line to FILE (stderr without out=):
 *
 *   instructions=N regions=R open=O unmatched=U
 *
 * N sums the closed regions, R counts them, O is 1 if a region was still open
 * and U counts starts inside a region and stops outside one.
 *
 * Speed: every translation block adds its instruction count to one counter
 * with an inline TCG op when it starts (no call into the plugin), and only
 * the two marker instructions get a callback, which reads that counter. So
 * the count is exact as long as no block is left halfway by a synchronous
 * exception (a fault), which only a crashing program does: interrupts are
 * taken between blocks. One vCPU is assumed (the Cortex-M machines have one).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Instructions of every block entered so far, whole blocks at a time. */
static uint64_t entered;

static uint64_t start_pc, stop_pc;
static const char *out_path;

static uint64_t region_begin; /* instructions executed before the open region */
static int in_region;
static uint64_t instructions;
static unsigned regions, unmatched;

/* `entered` less the instructions of the current block from the marker on
   (passed as the callback's userdata): what was executed before it. */
static uint64_t executed_before(void *rest_of_block)
{
    return entered - (uint64_t)(uintptr_t)rest_of_block;
}

static void on_start(unsigned int vcpu_index, void *rest_of_block)
{
    (void)vcpu_index;
    if (in_region) {
        unmatched++;
        return;
    }
    region_begin = executed_before(rest_of_block);
    in_region = 1;
}

static void on_stop(unsigned int vcpu_index, void *rest_of_block)
{
    (void)vcpu_index;
    if (!in_region) {
        unmatched++;
        return;
    }
    instructions += executed_before(rest_of_block) - region_begin;
    regions++;
    in_region = 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                             &entered, n);
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        void *rest = (void *)(uintptr_t)(n - i);
        if (pc == start_pc) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
                                                   QEMU_PLUGIN_CB_NO_REGS, rest);
        } else if (pc == stop_pc) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
                                                   QEMU_PLUGIN_CB_NO_REGS, rest);
        }
    }
}

static void report(qemu_plugin_id_t id, void *userdata)
{
    FILE *out = out_path ? fopen(out_path, "w") : stderr;
    (void)id;
    (void)userdata;
    if (out == NULL) {
        fprintf(stderr, "icount: cannot write %s\n", out_path);
        return;
    }
    fprintf(out, "instructions=%" PRIu64 " regions=%u open=%d unmatched=%u\n",
            instructions, regions, in_region, unmatched);
    if (out != stderr) {
        fclose(out);
    }
}

/* Parses "start=", "stop=" (numbers in C notation) or "out=" into place. */
static int parse_option(const char *option)
{
    const char *value = strchr(option, '=');
    char *end;
    uint64_t number;
    if (value == NULL) {
        return -1;
    }
    value++;
    if (strncmp(option, "out=", 4) == 0) {
        out_path = value;
        return 0;
    }
    number = strtoull(value, &end, 0);
    if (*value == '\0' || *end != '\0') {
        return -1;
    }
    number &= ~(uint64_t)1; /* the Thumb bit of a function symbol */
    if (strncmp(option, "start=", 6) == 0) {
        start_pc = number;
    } else if (strncmp(option, "stop=", 5) == 0) {
        stop_pc = number;
    } else {
        return -1;
    }
    return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    int i;
    int have_start = 0, have_stop = 0;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (parse_option(argv[i]) != 0) {
            fprintf(stderr, "icount: bad option '%s' (start=, stop=, out=)\n",
                    argv[i]);
            return -1;
        }
        have_start |= strncmp(argv[i], "start=", 6) == 0;
        have_stop |= strncmp(argv[i], "stop=", 5) == 0;
    }
    if (!have_start || !have_stop || start_pc == stop_pc) {
        fprintf(stderr, "icount: needs distinct start= and stop= addresses\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report, NULL);
    return 0;
}
