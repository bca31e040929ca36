/* Bare-metal start-up and I/O for tinycc's Cortex-M targets under QEMU.
 *
 * - The vector table: the linker script (link.ld) writes the initial stack
 *   pointer, `tinycc_vectors` the handlers after it.
 * - Reset: enable the FPU (and MVE, on the same coprocessor bits) when the
 *   code is built for one, copy .data, zero .bss, paint the stack, run
 *   main(), print the stack high-water mark, exit with main's status.
 * - Every other exception is a fault: print its name, the faulting pc and
 *   the fault status registers, exit with status 128 + exception number.
 * - Arm semihosting (`bkpt 0xab`) for files, console and exit; QEMU runs it
 *   with `-semihosting-config enable=on,target=native`.
 *
 * On v8-M (Cortex-M33, M55) the stack limit register makes a stack
 * overflow fault instead of overwriting .bss.
 */
#include <stdint.h>
#include <string.h>

#include "tinycc_mcu.h"

int main(void);

/* From the linker script. */
extern uint32_t __data_start[], __data_end[], __bss_start[], __bss_end[];
extern const uint32_t __data_load[];
extern uint32_t __stack_limit[], __stack_top[];

#define REGISTER(address) (*(volatile uint32_t *)(address))
#define CPACR REGISTER(0xE000ED88u)
#define CFSR REGISTER(0xE000ED28u)
#define HFSR REGISTER(0xE000ED2Cu)
#define CPACR_CP10_CP11 (0xFu << 20)
#define STACK_PAINT 0xA5A5A5A5u

/* Semihosting ----------------------------------------------------------- */

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    OPEN_RB = 1,
    OPEN_WB = 5
};

static uint32_t semihost(uint32_t operation, const void *arguments) {
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = arguments;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void put(const char *text) { semihost(SYS_WRITE0, text); }

static void put_number(uint32_t value, int hex) {
    char text[12];
    char *digit = &text[sizeof text - 1];
    uint32_t base = hex ? 16u : 10u;
    *digit = '\0';
    do {
        *--digit = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    if (hex) put("0x");
    put(digit);
}

__attribute__((noreturn)) static void exit_with(uint32_t status) {
    uint32_t arguments[2];
    arguments[0] = ADP_STOPPED_APPLICATION_EXIT;
    arguments[1] = status;
    for (;;) semihost(SYS_EXIT_EXTENDED, arguments);
}

static int transfer(const char *path, void *data, size_t size, int out) {
    uint32_t arguments[3];
    uint32_t handle, left;
    arguments[0] = (uint32_t)(uintptr_t)path;
    arguments[1] = out ? OPEN_WB : OPEN_RB;
    arguments[2] = (uint32_t)strlen(path);
    handle = semihost(SYS_OPEN, arguments);
    if (handle == (uint32_t)-1) return -1;
    arguments[0] = handle;
    arguments[1] = (uint32_t)(uintptr_t)data;
    arguments[2] = (uint32_t)size;
    left = semihost(out ? SYS_WRITE : SYS_READ, arguments);
    if (semihost(SYS_CLOSE, arguments) != 0 || left != 0) return -1;
    return 0;
}

int tinycc_read(const char *path, void *data, size_t size) {
    return transfer(path, data, size, 0);
}

int tinycc_write(const char *path, const void *data, size_t size) {
    return transfer(path, (void *)(uintptr_t)data, size, 1);
}

/* The instruction-counting markers ------------------------------------- */

__attribute__((noinline)) void tinycc_bench_start(void) {
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void tinycc_bench_stop(void) {
    __asm__ volatile("" ::: "memory");
}

/* Faults -------------------------------------------------------------------- */

static const char *exception_name(uint32_t number) {
    switch (number) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage fault";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    default: return "unexpected exception";
    }
}

/* Reached from fault_entry with a fresh stack: never returns. */
__attribute__((noreturn, used)) void tinycc_fault(uint32_t pc, uint32_t ipsr);

void tinycc_fault(uint32_t pc, uint32_t ipsr) {
    uint32_t number = ipsr & 0x1FFu;
    put("tinycc: fault: ");
    put(exception_name(number));
    put(" (exception ");
    put_number(number, 0);
    put(") at pc ");
    put_number(pc, 1);
#if __ARM_ARCH >= 7 && !defined(__ARM_ARCH_8M_BASE__)
    put(", cfsr ");
    put_number(CFSR, 1);
    put(", hfsr ");
    put_number(HFSR, 1);
#endif
    put("\n");
    exit_with(128u + number);
}

/* Takes the stacked pc from the exception frame, then moves the stack
 * pointer back to the top of the stack so that a stack overflow can still
 * be reported. */
__attribute__((naked)) static void fault_entry(void) {
    __asm__ volatile(
        "mrs r0, msp\n"
        "ldr r0, [r0, #24]\n"
        "mrs r1, ipsr\n"
        "ldr r2, =__stack_top\n"
        "msr msp, r2\n"
        "bl tinycc_fault\n");
}

/* Reset ----------------------------------------------------------------- */

static uint32_t stack_pointer(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Fill the unused stack below the current frame with a pattern. */
static void paint_stack(void) {
    uint32_t *word = __stack_limit;
    uint32_t *below = (uint32_t *)(uintptr_t)(stack_pointer() - 128u);
    while (word < below) *word++ = STACK_PAINT;
}

/* The bytes of stack ever used: from the top to the lowest overwritten word. */
static uint32_t stack_high_water(void) {
    const uint32_t *word = __stack_limit;
    while (word < __stack_top && *word == STACK_PAINT) ++word;
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)word);
}

__attribute__((noreturn)) void Reset_Handler(void);

void Reset_Handler(void) {
    int status;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    CPACR |= CPACR_CP10_CP11;
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
    __asm__ volatile("msr msplim, %0" : : "r"(__stack_limit));
#endif
    memcpy(__data_start, __data_load,
           (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
    paint_stack();
    status = main();
    put("tinycc: stack high-water ");
    put_number(stack_high_water(), 0);
    put(" bytes\n");
    exit_with((uint32_t)status);
}

typedef void (*handler)(void);

/* Exceptions 1..15; the linker script puts the initial stack pointer first. */
__attribute__((section(".vectors"), used)) static const handler tinycc_vectors[15] = {
    Reset_Handler, fault_entry, fault_entry, fault_entry, fault_entry,
    fault_entry,   fault_entry, fault_entry, fault_entry, fault_entry,
    fault_entry,   fault_entry, fault_entry, fault_entry, fault_entry,
};
