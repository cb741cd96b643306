package io.machxp.client;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.KernReturnException;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.proto.task.MachPortAllocateRequest;
import io.machxp.proto.task.MachPortExtractRightRequest;
import io.machxp.proto.task.MachPortInsertRemoteRequest;
import io.machxp.proto.task.MachPortInsertRightRequest;
import io.machxp.proto.task.MachPortModRefsRequest;
import io.machxp.proto.task.MachPortMoveMemberRequest;
import io.machxp.proto.task.MachPortNameRequest;
import io.machxp.proto.task.MachPortNamesReply;
import io.machxp.proto.task.MachPortReceiveStatusReply;
import io.machxp.proto.task.MachPortReply;
import io.machxp.proto.task.MachPortRequestNotificationRequest;
import io.machxp.proto.task.MachPortSetQlimitRequest;
import io.machxp.proto.task.MachPortSetValueRequest;

import com.google.protobuf.ByteString;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.ThreadCreateReply;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.VmCompareAndSwapReply;
import io.machxp.proto.task.VmCompareAndSwapRequest;
import io.machxp.proto.task.VmFetchAddReply;
import io.machxp.proto.task.VmFetchAddRequest;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.task.VmReadReply;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmWriteReply;
import io.machxp.proto.task.VmWriteRequest;
import io.machxp.proto.task.WordSize;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A task on a kernel, as a client sees it: threads, mappings, and its memory, which is coherent
 * across kernels (a read that starts after a write returned, on any kernel, sees it). Words are
 * little-endian.
 */
public final class TaskClient {
    private final KernelClient kernel;
    private final long id;
    /** The memory the kernel shares with this process for the task, or null: gRPC only. */
    private final SharedTaskMemory shared;

    /** A task reached over gRPC only. */
    TaskClient(KernelClient kernel, long id) {
        this(kernel, id, null);
    }

    TaskClient(KernelClient kernel, long id, SharedTaskMemory shared) {
        this.kernel = kernel;
        this.id = id;
        this.shared = shared;
        this.words = shared == null ? null : new SharedWords(shared);
    }

    /** Word loads and stores in pages the kernel maps to this process, or null. */
    private final SharedWords words;

    public long id() {
        return id;
    }

    /** How many vm_read / vm_write calls of this task were loads and stores in shared memory, without a call. */
    public long sharedAccesses() {
        return words == null ? 0 : words.served.sum();
    }

    /** The loads and stores of mapped page words in shared memory alone (tests), or null. */
    SharedWords sharedWords() {
        return words;
    }

    /** Whether the task's threads lock and unlock cached futexes in memory shared with the kernel. */
    public boolean sharesMemory() {
        return shared != null;
    }

    public ThreadClient threadCreate() {
        return threadCreate(0);
    }

    /** thread_create with a priority, 1 (lowest) to 99 (highest); 0 for the default. */
    public ThreadClient threadCreate(int priority) {
        long token = KernelClient.createToken();
        ThreadCreateReply r = kernel.create(() -> kernel.stub().threadCreate(
                ThreadCreateRequest.newBuilder().setTask(id).setPriority(priority).setCreateToken(token).build()),
                () -> kernel.undoStub().threadTerminate(io.machxp.proto.task.ThreadTerminateRequest.newBuilder()
                        .setTask(id).setAbandonedCreateToken(token).build()));
        SharedThread fast = shared == null || r.getShmSlot() == 0 ? null
                : new SharedThread(shared, r.getShmSlot() - 1, r.getTid());
        return shared == null ? new ThreadClient(kernel, id, r.getTid(), r.getUndoesAbandonedLocks())
                : new ThreadClient(kernel, id, r.getTid(), fast, shared, shared.threadCalls(r.getShmSlot()),
                        r.getUndoesAbandonedLocks());
    }

    /**
     * Ties the task's life to this client: the kernel terminates the task when the returned
     * watch is closed or this client's connection is lost (robust futexes: a futex a thread of
     * the task held passes on with OWNER_DIED). Returns once the kernel has the watch in place.
     */
    public TaskWatch watch() {
        return new TaskWatch(kernel, id);
    }

    /** task_terminate: every thread ends; futexes they held pass on with OWNER_DIED. */
    public void terminate() {
        kernel.call(() -> kernel.stub().taskTerminate(TaskTerminateRequest.newBuilder().setTask(id).build()));
    }

    /** Maps the memory object the pager serves as {@code object}; returns its address here. */
    public long vmMap(String object) {
        return map(object).getAddress();
    }

    /**
     * Maps an object and returns address and size. Sent with a create_token, abandoned when the
     * client gives up without an answer: the kernel then undoes the mapping it may have made
     * (task.proto VmMapRequest; review rv59 LOW-1).
     */
    public VmMapReply map(String object) {
        long token = KernelClient.createToken();
        VmMapReply r = kernel.create(() -> kernel.stub().vmMap(VmMapRequest.newBuilder().setTask(id).setObject(object)
                .setCreateToken(token).build()), () -> kernel.undoStub().vmMap(VmMapRequest.newBuilder().setTask(id)
                        .setAbandonedCreateToken(token).build()));
        if (shared != null) {
            shared.refresh(kernel, id);
        }
        return r;
    }

    /** {@link SharedWords#read}, a fault of the shared memory a {@link MachxpException} (EIO). */
    /**
     * A read in shared memory; false: ask the kernel. A fault switches the task to gRPC (review
     * F8), and this read too: it wrote nothing.
     */
    private boolean sharedRead(long address, int length, long[] v) {
        if (!shared.usable()) {
            return false;
        }
        try {
            return words.read(address, length, v);
        } catch (InternalError fault) {
            shared.fault(kernel.target(), fault);
            return false;
        }
    }

    /**
     * A write in shared memory; false: ask the kernel. A fault switches the task to gRPC, and this
     * write fails with EIO: it may have landed (the JVM raises a fault after the access).
     */
    private boolean sharedWrite(long address, int length, long value) {
        if (!shared.usable()) {
            return false;
        }
        try {
            return words.write(address, length, value);
        } catch (InternalError fault) {
            throw shared.fault(kernel.target(), fault);
        }
    }

    /** vm_read: {@code length} bytes at {@code address}. */
    public byte[] vmRead(long address, int length) {
        if (words != null && (length == 4 || length == 8)) {
            long[] v = new long[1];
            if (sharedRead(address, length, v)) {
                ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
                return (length == 8 ? b.putLong(v[0]) : b.putInt((int) v[0])).array();
            }
        }
        VmReadRequest r = VmReadRequest.newBuilder().setTask(id).setAddress(address).setLength(length).build();
        return kernel.call(length <= CallLayout.PAYLOAD - 8 ? shared : null, taskCalls(), CallLayout.VM_READ, r,
                VmReadReply.parser(), q -> kernel.stub().vmRead(q)).getData().toByteArray();
    }

    /** vm_write: {@code data} at {@code address}. */
    public void vmWrite(long address, byte[] data) {
        if (words != null && (data.length == 4 || data.length == 8)) {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            if (sharedWrite(address, data.length, data.length == 8 ? b.getLong() : b.getInt())) {
                return;
            }
        }
        kernel.call(shared, taskCalls(), CallLayout.VM_WRITE,
                VmWriteRequest.newBuilder().setTask(id).setAddress(address).setData(ByteString.copyFrom(data)).build(),
                VmWriteReply.parser(), q -> kernel.stub().vmWrite(q));
    }

    /** The 8-byte little-endian word at {@code address}, read with vm_read. */
    public long readLong(long address) {
        return ByteBuffer.wrap(vmRead(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The 4-byte little-endian word at {@code address} (a futex word, for instance), read with vm_read. */
    public int readInt(long address) {
        return ByteBuffer.wrap(vmRead(address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** Writes an 8-byte little-endian word with vm_write. */
    public void writeLong(long address, long value) {
        vmWrite(address, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /** vm_compare_and_swap on an aligned word; returns the value before, and whether it was swapped. */
    public VmCompareAndSwapReply compareAndSwap(long address, WordSize size, long expected, long newValue) {
        return kernel.call(shared, taskCalls(), CallLayout.VM_COMPARE_AND_SWAP, VmCompareAndSwapRequest.newBuilder()
                .setTask(id).setAddress(address).setSize(size).setExpected(expected).setNewValue(newValue).build(),
                VmCompareAndSwapReply.parser(), q -> kernel.stub().vmCompareAndSwap(q));
    }

    /** vm_fetch_add on an aligned word; returns the value before. */
    public long fetchAdd(long address, WordSize size, long delta) {
        return kernel.call(shared, taskCalls(), CallLayout.VM_FETCH_ADD, VmFetchAddRequest.newBuilder().setTask(id)
                .setAddress(address).setSize(size).setDelta(delta).build(),
                VmFetchAddReply.parser(), q -> kernel.stub().vmFetchAdd(q)).getOldValue();
    }

    private CallChannel.Slot taskCalls() {
        return shared == null ? null : shared.taskCalls;
    }

    // ---- Mach IPC: mach_port_* (docs/mach-ipc.md); a result other than KERN_SUCCESS throws KernReturnException

    /** mach_port_allocate: a new receive right, port set or dead name; its name. */
    public int machPortAllocate(PortRight right) {
        return checked("mach_port_allocate", kernel.call(() -> kernel.ipc.machPortAllocate(
                MachPortAllocateRequest.newBuilder().setTask(id).setRight(right.value).build()))).getName();
    }

    /** mach_port_deallocate. */
    public void machPortDeallocate(int name) {
        checked("mach_port_deallocate", kernel.call(() -> kernel.ipc.machPortDeallocate(nameRequest(name))));
    }

    /** mach_port_destroy. */
    public void machPortDestroy(int name) {
        checked("mach_port_destroy", kernel.call(() -> kernel.ipc.machPortDestroy(nameRequest(name))));
    }

    /** mach_port_mod_refs. */
    public void machPortModRefs(int name, PortRight right, int delta) {
        checked("mach_port_mod_refs", kernel.call(() -> kernel.ipc.machPortModRefs(MachPortModRefsRequest
                .newBuilder().setTask(id).setName(name).setRight(right.value).setDelta(delta).build())));
    }

    /** mach_port_get_refs. */
    public int machPortGetRefs(int name, PortRight right) {
        return checked("mach_port_get_refs", kernel.call(() -> kernel.ipc.machPortGetRefs(MachPortModRefsRequest
                .newBuilder().setTask(id).setName(name).setRight(right.value).build()))).getValue();
    }

    /** mach_port_type: the MACH_PORT_TYPE_* bits. */
    public int machPortType(int name) {
        return checked("mach_port_type", kernel.call(() -> kernel.ipc.machPortType(nameRequest(name)))).getValue();
    }

    /** mach_port_insert_right into this task under {@code name}: the right {@code from} names {@code fromName}. */
    public void machPortInsertRight(int name, TaskClient from, int fromName, MsgType disposition) {
        checked("mach_port_insert_right", kernel.call(() -> kernel.ipc.machPortInsertRight(
                MachPortInsertRightRequest.newBuilder().setTask(id).setName(name).setFromTask(from.id)
                        .setFromName(fromName).setDisposition(disposition.value).build())));
    }

    /**
     * mach_port_insert_right across kernels: the right this task names {@code name}, with
     * {@code disposition}, into task {@code to} of another kernel (linked to this one for IPC)
     * under {@code toName}. The right is there once the other kernel took the link's frame
     * (watch for it with {@code to.machPortType(toName)}); a name taken there ends it.
     */
    public void machPortInsertRemote(int name, MsgType disposition, TaskClient to, int toName) {
        int toKernel = to.kernel.statistics().getIpcKernel();
        checked("mach_port_insert_right", kernel.call(() -> kernel.ipc.machPortInsertRemote(
                MachPortInsertRemoteRequest.newBuilder().setTask(id).setName(name).setDisposition(disposition.value)
                        .setKernel(toKernel).setToTask(to.id).setToName(toName).build())));
    }

    /** mach_port_extract_right from this task into {@code to} (a task of the same kernel): the new name there and its type. */
    public MsgItem.Port machPortExtractRight(int name, MsgType disposition, TaskClient to) {
        MachPortReply r = checked("mach_port_extract_right", kernel.call(() -> kernel.ipc.machPortExtractRight(
                MachPortExtractRightRequest.newBuilder().setTask(id).setName(name).setDisposition(disposition.value)
                        .setToTask(to.id).build())));
        return new MsgItem.Port(r.getName(), MsgType.of(r.getMsgType()));
    }

    /** mach_port_move_member (after 0: out of its set). */
    public void machPortMoveMember(int member, int after) {
        checked("mach_port_move_member", kernel.call(() -> kernel.ipc.machPortMoveMember(
                MachPortMoveMemberRequest.newBuilder().setTask(id).setMember(member).setAfter(after).build())));
    }

    /** mach_port_set_qlimit. */
    public void machPortSetQlimit(int name, int qlimit) {
        checked("mach_port_set_qlimit", kernel.call(() -> kernel.ipc.machPortSetQlimit(
                MachPortSetQlimitRequest.newBuilder().setTask(id).setName(name).setQlimit(qlimit).build())));
    }

    /** mach_port_set_seqno: the sequence number of the next message received through the port. */
    public void machPortSetSeqno(int name, int seqno) {
        checked("mach_port_set_seqno", kernel.call(() -> kernel.ipc.machPortSetSeqno(valueRequest(name, seqno))));
    }

    /** mach_port_set_mscount: the port's make-send count. */
    public void machPortSetMscount(int name, int mscount) {
        checked("mach_port_set_mscount", kernel.call(() -> kernel.ipc.machPortSetMscount(valueRequest(name, mscount))));
    }

    /** mach_port_rename: the rights under {@code oname} move to the unused name {@code nname}. */
    public void machPortRename(int oname, int nname) {
        checked("mach_port_rename", kernel.call(() -> kernel.ipc.machPortRename(valueRequest(oname, nname))));
    }

    /** mach_port_names: this task's names (increasing) and, at the same index, their types. */
    public MachPortNamesReply machPortNames() {
        return checkedNames("mach_port_names", kernel.call(() -> kernel.ipc.machPortNames(nameRequest(0))));
    }

    /** mach_port_get_set_status: the names of the set's members, in increasing order. */
    public int[] machPortGetSetStatus(int name) {
        return checkedNames("mach_port_get_set_status", kernel.call(() -> kernel.ipc.machPortGetSetStatus(nameRequest(name))))
                .getNamesList().stream().mapToInt(Integer::intValue).toArray();
    }

    private MachPortSetValueRequest valueRequest(int name, int value) {
        return MachPortSetValueRequest.newBuilder().setTask(id).setName(name).setValue(value).build();
    }

    private static MachPortNamesReply checkedNames(String call, MachPortNamesReply r) {
        KernReturn k = KernReturn.of(r.getKernReturn());
        if (!k.ok()) {
            throw new KernReturnException(k, call);
        }
        return r;
    }

    /** mach_port_get_receive_status. */
    public MachPortReceiveStatusReply machPortGetReceiveStatus(int name) {
        MachPortReceiveStatusReply r = kernel.call(() -> kernel.ipc.machPortGetReceiveStatus(nameRequest(name)));
        KernReturn k = KernReturn.of(r.getKernReturn());
        if (!k.ok()) {
            throw new KernReturnException(k, "mach_port_get_receive_status");
        }
        return r;
    }

    /** mach_port_request_notification: the previous request's send-once right, or 0. */
    public int machPortRequestNotification(int name, int variant, int sync, int notify, MsgType disposition) {
        return checked("mach_port_request_notification", kernel.call(() -> kernel.ipc.machPortRequestNotification(
                MachPortRequestNotificationRequest.newBuilder().setTask(id).setName(name).setVariant(variant)
                        .setSync(sync).setNotify(notify).setDisposition(disposition == null ? 0 : disposition.value)
                        .build()))).getName();
    }

    private MachPortNameRequest nameRequest(int name) {
        return MachPortNameRequest.newBuilder().setTask(id).setName(name).build();
    }

    private static MachPortReply checked(String call, MachPortReply r) {
        KernReturn k = KernReturn.of(r.getKernReturn());
        if (!k.ok()) {
            throw new KernReturnException(k, call);
        }
        return r;
    }
}
