/* The bare-metal run harness of tinycc's Cortex-M targets: what the
 * generated main.c uses (startup.c implements it).
 *
 * Files go through Arm semihosting, relative to the emulator's working
 * directory. main()'s return value becomes the emulator's exit status.
 */
#ifndef TINYCC_MCU_H
#define TINYCC_MCU_H

#include <stddef.h>

/* Fill `data` with the `size` bytes of the file `path`: 0, or -1. */
int tinycc_read(const char *path, void *data, size_t size);

/* Write `size` bytes to the file `path` (created or truncated): 0, or -1. */
int tinycc_write(const char *path, const void *data, size_t size);

/* Called around the one inference, for an instruction-counting plugin:
 * empty, never inlined, never removed. */
void tinycc_bench_start(void);
void tinycc_bench_stop(void);

#endif /* TINYCC_MCU_H */
