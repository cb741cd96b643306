package io.machxp.client;

import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;

/** A task on a kernel, as a client sees it. */
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
        int tid = KernelClient.call(() -> kernel.stub.threadCreate(
                ThreadCreateRequest.newBuilder().setTask(id).build())).getTid();
        return new ThreadClient(kernel, id, tid);
    }

    /** Maps the memory object the pager serves as {@code object}; returns its address here. */
    public long vmMap(String object) {
        return map(object).getAddress();
    }

    /** Maps an object and returns address and size. */
    public VmMapReply map(String object) {
        return KernelClient.call(() -> kernel.stub.vmMap(VmMapRequest.newBuilder().setTask(id).setObject(object).build()));
    }
}
