package io.machxp.kernel;

import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import java.util.function.BooleanSupplier;

/**
 * A task used from the kernel's own JVM, without gRPC: what a benchmark or an embedded program
 * holds. Its threads lock futexes on the caller's thread when the futex is cached and free, and
 * it reads and writes a page the core has mapped on the caller's thread too
 * ({@link io.machxp.kernel.vm.PageMapping}); everything else is a call to the core.
 */
public final class LocalTask {
    private final Kernel kernel;
    private final MachTask task;
    /** Checked by every copy to a mapped page while it holds the mapping: see {@link MachTask#removeMappings}. */
    private final BooleanSupplier alive;

    LocalTask(Kernel kernel, MachTask task) {
        this.kernel = kernel;
        this.task = task;
        this.alive = task::alive;
    }

    public long id() {
        return task.id;
    }

    public Kernel kernel() {
        return kernel;
    }

    public LocalThread threadCreate() {
        MachThread thread = kernel.call(r -> kernel.core().threadCreate(task.id, r));
        return new LocalThread(kernel, task, thread);
    }

    /**
     * vm_read: {@code length} bytes at {@code address}, coherent across kernels. Within one page
     * the core has mapped (and away from futex words), a copy on the caller's thread.
     */
    public byte[] vmRead(long address, int length) {
        MachTask.MappedBytes at = task.mappedBytes(address, length);
        if (at != null) {
            byte[] out = new byte[length];
            if (at.page().readMapped(at.offsetInPage(), out, 0, length, alive)) {
                return out;
            }
        }
        return kernel.call(r -> kernel.core().vmRead(task.id, address, length, r));
    }

    /** vm_write; within one mapped page, a copy on the caller's thread (see {@link #vmRead}). */
    public void vmWrite(long address, byte[] data) {
        MachTask.MappedBytes at = task.mappedBytes(address, data.length);
        if (at != null && at.page().writeMapped(at.offsetInPage(), data, 0, data.length, alive)) {
            return;
        }
        kernel.<Void>call(r -> kernel.core().vmWrite(task.id, address, data.clone(), r));
    }


    /** vm_fetch_add on the 8-byte word at {@code address}; returns the value before. */
    public long vmFetchAdd64(long address, long delta) {
        return kernel.call(r -> kernel.core().vmFetchAdd(task.id, address, 8, delta, r));
    }

    /** task_terminate: its threads end (futexes they hold pass on with OWNER_DIED), then its address space. */
    public void terminate() {
        kernel.<Void>call(r -> kernel.core().taskTerminate(task.id, "task_terminate", r));
    }

    /** Maps a memory object the pager serves; returns its address in this task. */
    public long vmMap(String object) {
        return kernel.<io.machxp.kernel.vm.VmMapping>call(r -> kernel.core().vmMap(task.id, object, r)).start();
    }
}
