package io.machxp.client;

import com.google.protobuf.ByteString;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.VmCompareAndSwapReply;
import io.machxp.proto.task.VmCompareAndSwapRequest;
import io.machxp.proto.task.VmFetchAddRequest;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.task.VmReadRequest;
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

    TaskClient(KernelClient kernel, long id) {
        this.kernel = kernel;
        this.id = id;
    }

    public long id() {
        return id;
    }

    public ThreadClient threadCreate() {
        return threadCreate(0);
    }

    /** thread_create with a priority, 1 (lowest) to 99 (highest); 0 for the default. */
    public ThreadClient threadCreate(int priority) {
        int tid = KernelClient.call(() -> kernel.stub.threadCreate(
                ThreadCreateRequest.newBuilder().setTask(id).setPriority(priority).build())).getTid();
        return new ThreadClient(kernel, id, tid);
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
        KernelClient.call(() -> kernel.stub.taskTerminate(TaskTerminateRequest.newBuilder().setTask(id).build()));
    }

    /** Maps the memory object the pager serves as {@code object}; returns its address here. */
    public long vmMap(String object) {
        return map(object).getAddress();
    }

    /** Maps an object and returns address and size. */
    public VmMapReply map(String object) {
        return KernelClient.call(() -> kernel.stub.vmMap(VmMapRequest.newBuilder().setTask(id).setObject(object).build()));
    }

    /** vm_read: {@code length} bytes at {@code address}. */
    public byte[] vmRead(long address, int length) {
        return KernelClient.call(() -> kernel.stub.vmRead(
                VmReadRequest.newBuilder().setTask(id).setAddress(address).setLength(length).build())).getData()
                .toByteArray();
    }

    /** vm_write: {@code data} at {@code address}. */
    public void vmWrite(long address, byte[] data) {
        KernelClient.call(() -> kernel.stub.vmWrite(
                VmWriteRequest.newBuilder().setTask(id).setAddress(address).setData(ByteString.copyFrom(data)).build()));
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
        return KernelClient.call(() -> kernel.stub.vmCompareAndSwap(VmCompareAndSwapRequest.newBuilder().setTask(id)
                .setAddress(address).setSize(size).setExpected(expected).setNewValue(newValue).build()));
    }

    /** vm_fetch_add on an aligned word; returns the value before. */
    public long fetchAdd(long address, WordSize size, long delta) {
        return KernelClient.call(() -> kernel.stub.vmFetchAdd(VmFetchAddRequest.newBuilder().setTask(id)
                .setAddress(address).setSize(size).setDelta(delta).build())).getOldValue();
    }
}
