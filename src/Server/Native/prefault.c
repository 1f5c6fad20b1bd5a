// Linked into the Native AOT builds only (FactoryMcp.Server.csproj, target CompileNativePrefault).
//
// At every start the runtime rehydrates the image's data into the executable's zero-filled sections (.bss and
// .hydrated, about 9 MB in the agent build) before Main. Touched a page at a time, that is one page fault per
// 4 KiB, and on a virtual machine a fault is dear: tens of milliseconds per start. This constructor runs before
// the runtime (an ELF constructor of the executable) and asks the kernel to back that memory with huge pages
// where it can and to populate it in one call. Both are hints: on a kernel without them (MADV_POPULATE_WRITE is
// Linux 5.14+) or with transparent huge pages off, madvise fails and the start is as before.
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int factory_prefault_program(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++)
    {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_W) || segment->p_memsz <= segment->p_filesz)
            continue;
        // The zero-filled part of a writable segment, from the first page past its file-backed bytes.
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_memsz + page - 1) & ~(page - 1);
        if (end <= start)
            continue;
        madvise((void *)start, end - start, MADV_HUGEPAGE);
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
    return 1; // the first object listed is the executable itself: stop there
}

__attribute__((constructor)) static void factory_prefault(void)
{
    dl_iterate_phdr(factory_prefault_program, 0);
}
