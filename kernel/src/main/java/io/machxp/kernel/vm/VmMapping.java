package io.machxp.kernel.vm;

/** A memory object mapped whole into a task's address space at [start, start + size). */
public record VmMapping(long start, long size, VmObject object) {
    public long end() {
        return start + size;
    }
}
