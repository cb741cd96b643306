package io.machxp.client;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.ShmMapping;
import io.machxp.proto.task.TaskShmAttachReply;
import io.machxp.proto.task.TaskShmAttachRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * What a buggy or hostile task process sees of the memory its kernel shares (docs/shared-memory.md):
 * the files TaskShmAttach names, mapped read-write as the client maps them, for a test to write raw
 * words into without the client library's protocol.
 */
final class HostileShm {
    final TaskShmAttachReply attach;
    final ByteBuffer kernel;
    final ByteBuffer calls;
    private final ShmMapping mapping;

    HostileShm(KernelClient client, TaskClient task) {
        attach = client.call(() -> client.stub().taskShmAttach(TaskShmAttachRequest.newBuilder().setTask(task.id())
                .setBootId(ShmLayout.bootId()).setPid(ProcessHandle.current().pid()).setPidNamespace(ShmLayout.pidNamespace())
                .setTimeNamespace(ShmLayout.timeNamespace()).setMonotonicNanos(System.nanoTime()).build()));
        if (!attach.getAvailable()) {
            throw new IllegalStateException("the kernel shares no memory: " + attach.getReason());
        }
        mapping = attach.getMappingsCount() == 0 ? null : attach.getMappings(0);
        kernel = map(attach.getKernelFile());
        calls = attach.getCallFile().isEmpty() ? null : map(attach.getCallFile());
    }

    /** The object's futex table (the task's first mapping's). */
    ByteBuffer futexTable() {
        return map(mapping.getFutexFile());
    }

    /** The object's page slots (its first mapping's). */
    ByteBuffer pages() {
        return map(mapping.getPageFile());
    }

    /** Where the state of the futex at {@code offset} of the object is in its table; -1 if not there. */
    int futexState(long offset) {
        ByteBuffer t = futexTable();
        int capacity = (int) (long) ShmLayout.LONG.getVolatile(t, ShmLayout.TABLE_CAPACITY);
        int slot = ShmLayout.find(t, capacity, offset);
        return slot < 0 ? -1 : ShmLayout.futexSlot(slot) + ShmLayout.FUTEX_STATE;
    }

    /** Where the bytes at {@code offset} of the object are in the page file (in the slot its page is in now). */
    int pageByte(long offset) {
        ByteBuffer pages = pages();
        int pageSize = (int) ShmLayout.INT.get(pages, ShmLayout.PAGE_SIZE);
        int slot = ShmLayout.pageSlot(pages, (int) (offset / pageSize));
        return (int) ((long) ShmLayout.LONG.get(pages, ShmLayout.PAGE_DATA) + (long) slot * pageSize
                + offset % pageSize);
    }

    /** The ctl word of the slot the page at {@code offset} of the object is in now. */
    int pageCtl(long offset) {
        ByteBuffer pages = pages();
        int pageSize = (int) ShmLayout.INT.get(pages, ShmLayout.PAGE_SIZE);
        return ShmLayout.pageCtl(ShmLayout.pageSlot(pages, (int) (offset / pageSize)));
    }

    /** The task's own slot in the kernel file (its ctl word). */
    int taskCtl() {
        return ShmLayout.threadSlot(attach.getTaskSlot() - 1);
    }

    private static ByteBuffer map(String file) {
        try {
            return ShmLayout.map(Path.of(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
