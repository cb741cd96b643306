package io.machxp.kernel;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcResult;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.KernReturnException;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortNames;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.ReceiveStatus;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import java.util.function.BooleanSupplier;

/**
 * A task used from the kernel's own JVM, without gRPC: what a benchmark or an embedded program
 * holds. Its threads lock futexes on the caller's thread when the futex is cached and free, and
 * it reads and writes a page the core has mapped on the caller's thread too
 * ({@link io.machxp.kernel.vm.PageMapping}); everything else is a call to the core.
 *
 * <p>Mach IPC: the mach_port_* routines on this task's name space, each a call to the core;
 * a routine that does not return KERN_SUCCESS throws {@link KernReturnException} with Mach's
 * code (docs/mach-ipc.md lists them). mach_msg is on {@link LocalThread}.
 */
public final class LocalTask {
    private final Kernel kernel;
    private final MachTask task;
    /**
     * Checked by every copy of a mapped page while it holds the mapping, after a read's copy and
     * before a write's CAS: the task lives (see {@link MachTask#removeMappings}) and the kernel's
     * lease runs ({@link io.machxp.kernel.futex.LeaseGate}: the core takes its pages back only when
     * it runs, and a core stalled past its lease must not serve a page the pager gave away).
     */
    private final BooleanSupplier valid;

    /** The core of the session the task was created in: a later session's core does not know it. */
    private final io.machxp.kernel.core.KernelCore core;

    LocalTask(Kernel kernel, io.machxp.kernel.core.KernelCore core, MachTask task) {
        this.kernel = kernel;
        this.core = core;
        this.task = task;
        io.machxp.kernel.futex.LeaseGate lease = core.leaseGate();
        this.valid = () -> task.alive() && lease.openNow();
    }

    public long id() {
        return task.id;
    }

    public Kernel kernel() {
        return kernel;
    }

    public LocalThread threadCreate() {
        MachThread thread = kernel.call(r -> core.threadCreate(task.id, r));
        return new LocalThread(kernel, core, task, thread);
    }

    /**
     * vm_read: {@code length} bytes at {@code address}, coherent across kernels. Within one page
     * the core has mapped (and away from futex words), a copy on the caller's thread.
     */
    public byte[] vmRead(long address, int length) {
        byte[] out = tryVmRead(address, length);
        return out != null ? out : kernel.call(r -> core.vmRead(task.id, address, length, r));
    }

    /** vm_write; within one mapped page, a copy on the caller's thread (see {@link #vmRead}). */
    public void vmWrite(long address, byte[] data) {
        if (!tryVmWrite(address, data)) {
            kernel.<Void>call(r -> core.vmWrite(task.id, address, data.clone(), r));
        }
    }

    /**
     * vm_read on the caller's thread alone, through the page's mapping: the bytes, or null where
     * {@link #vmRead} would call the core (not mapped, a futex word, the lease ran out).
     */
    public byte[] tryVmRead(long address, int length) {
        MachTask.MappedBytes at = task.mappedBytes(address, length);
        if (at == null) {
            return null;
        }
        byte[] out = new byte[length];
        return at.page().readMapped(at.offsetInPage(), out, 0, length, valid) ? out : null;
    }

    /** vm_write on the caller's thread alone (see {@link #tryVmRead}); false: nothing written. */
    public boolean tryVmWrite(long address, byte[] data) {
        MachTask.MappedBytes at = task.mappedBytes(address, data.length);
        return at != null && at.page().writeMapped(at.offsetInPage(), data, 0, data.length, valid);
    }

    /** vm_fetch_add on the 8-byte word at {@code address}; returns the value before. */
    public long vmFetchAdd64(long address, long delta) {
        return kernel.call(r -> core.vmFetchAdd(task.id, address, 8, delta, r));
    }

    /** task_terminate: its threads end (futexes they hold pass on with OWNER_DIED), then its address space. */
    public void terminate() {
        kernel.<Void>call(r -> core.taskTerminate(task.id, "task_terminate", r));
    }

    /** Maps a memory object the pager serves; returns its address in this task. */
    public long vmMap(String object) {
        return kernel.<io.machxp.kernel.vm.VmMapping>call(r -> core.vmMap(task.id, object, r)).start();
    }

    // ---- Mach IPC: mach_port_* ------------------------------------------------------------------

    /** mach_port_allocate: a new receive right, port set or dead name; its name. */
    public int machPortAllocate(PortRight right) {
        return port("mach_port_allocate", ipc -> ipc.machPortAllocate(task.id, right.value));
    }

    /** mach_port_allocate_name: as {@link #machPortAllocate}, under {@code name}. */
    public void machPortAllocateName(PortRight right, int name) {
        port("mach_port_allocate_name", ipc -> ipc.machPortAllocateName(task.id, right.value, name));
    }

    /** mach_port_deallocate: one user reference of a send right or dead name, or a send-once right. */
    public void machPortDeallocate(int name) {
        code("mach_port_deallocate", ipc -> ipc.machPortDeallocate(task.id, name));
    }

    /** mach_port_destroy: every right under the name. */
    public void machPortDestroy(int name) {
        code("mach_port_destroy", ipc -> ipc.machPortDestroy(task.id, name));
    }

    /** mach_port_mod_refs. */
    public void machPortModRefs(int name, PortRight right, int delta) {
        code("mach_port_mod_refs", ipc -> ipc.machPortModRefs(task.id, name, right.value, delta));
    }

    /** mach_port_get_refs. */
    public int machPortGetRefs(int name, PortRight right) {
        return port("mach_port_get_refs", ipc -> ipc.machPortGetRefs(task.id, name, right.value));
    }

    /** mach_port_type: the MACH_PORT_TYPE_* bits of the name. */
    public int machPortType(int name) {
        return port("mach_port_type", ipc -> ipc.machPortType(task.id, name));
    }

    /** mach_port_insert_right into this task under {@code name}, of the right {@code from} names {@code fromName}. */
    public void machPortInsertRight(int name, LocalTask from, int fromName, MsgType disposition) {
        code("mach_port_insert_right", ipc -> ipc.machPortInsertRight(task.id, name, from.id(), fromName, disposition));
    }

    /** mach_port_extract_right from this task into {@code caller}: the right's name there and its type. */
    public MsgItem.Port machPortExtractRight(int name, MsgType disposition, LocalTask caller) {
        return port("mach_port_extract_right", ipc -> ipc.machPortExtractRight(task.id, name, disposition, caller.id()));
    }

    /** mach_port_move_member: into set {@code after}, or out of its set with MACH_PORT_NULL. */
    public void machPortMoveMember(int member, int after) {
        code("mach_port_move_member", ipc -> ipc.machPortMoveMember(task.id, member, after));
    }

    /** mach_port_set_qlimit (0..MACH_PORT_QLIMIT_MAX). */
    public void machPortSetQlimit(int name, int qlimit) {
        code("mach_port_set_qlimit", ipc -> ipc.machPortSetQlimit(task.id, name, qlimit));
    }

    /** mach_port_rename: the rights under {@code oname} move to the unused name {@code nname}. */
    public void machPortRename(int oname, int nname) {
        code("mach_port_rename", ipc -> ipc.machPortRename(task.id, oname, nname));
    }

    /** mach_port_names: this task's names and their types. */
    public PortNames machPortNames() {
        return port("mach_port_names", ipc -> ipc.machPortNames(task.id));
    }

    /** mach_port_get_set_status: the names of a port set's members. */
    public int[] machPortGetSetStatus(int name) {
        return port("mach_port_get_set_status", ipc -> ipc.machPortGetSetStatus(task.id, name));
    }

    /** mach_port_set_seqno: the sequence number of the next message received through the port. */
    public void machPortSetSeqno(int name, int seqno) {
        code("mach_port_set_seqno", ipc -> ipc.machPortSetSeqno(task.id, name, seqno));
    }

    /** mach_port_set_mscount: the port's make-send count. */
    public void machPortSetMscount(int name, int mscount) {
        code("mach_port_set_mscount", ipc -> ipc.machPortSetMscount(task.id, name, mscount));
    }

    /** mach_port_get_receive_status. */
    public ReceiveStatus machPortGetReceiveStatus(int name) {
        return port("mach_port_get_receive_status", ipc -> ipc.machPortGetReceiveStatus(task.id, name));
    }

    /** mach_port_get_attributes (MACH_PORT_LIMITS_INFO, MACH_PORT_RECEIVE_STATUS). */
    public int[] machPortGetAttributes(int name, int flavor) {
        return port("mach_port_get_attributes", ipc -> ipc.machPortGetAttributes(task.id, name, flavor));
    }

    /** mach_port_set_attributes (MACH_PORT_LIMITS_INFO). */
    public void machPortSetAttributes(int name, int flavor, int[] info) {
        code("mach_port_set_attributes", ipc -> ipc.machPortSetAttributes(task.id, name, flavor, info.clone()));
    }

    /** mach_port_request_notification: the previous request's send-once right, or MACH_PORT_NULL. */
    public int machPortRequestNotification(int name, int variant, int sync, int notify, MsgType disposition) {
        return port("mach_port_request_notification",
                ipc -> ipc.machPortRequestNotification(task.id, name, variant, sync, notify, disposition));
    }

    private <T> T port(String call, java.util.function.Function<IpcCore, IpcResult<T>> routine) {
        return kernel.<IpcResult<T>>call(r -> core.ipc().port(task.id, routine, r)).orThrow(call);
    }

    private void code(String call, java.util.function.Function<IpcCore, KernReturn> routine) {
        KernReturn k = kernel.<KernReturn>call(r -> core.ipc().port(task.id, routine, r));
        if (!k.ok()) {
            throw new KernReturnException(k, call);
        }
    }
}
